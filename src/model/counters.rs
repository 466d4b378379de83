//! The kernel's protocol counters of one network namespace, named as nstat
//! names them: the section and the field joined (`TcpExtListenOverflows`,
//! `IpInReceives`, `Icmp6InMsgs`).

/// One counter and its value when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// nstat's name: `Tcp` + `RetransSegs` = `TcpRetransSegs`.
    pub name: String,
    pub value: u64,
}

/// Every counter of a namespace, in the order of the files (snmp, netstat,
/// snmp6) and of their lines.
pub type Counters = Vec<Counter>;
