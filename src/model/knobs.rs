//! The kernel's network knobs and counters the explain views quote: the
//! sysctls of [`NetKnobs`] and the TcpExt counters of /proc/net/netstat,
//! as `source::sysctl` reads them.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Network sysctls; `None` where unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetKnobs {
    /// net.core.somaxconn: the ceiling of every listen() backlog.
    pub somaxconn: Option<u32>,
    /// net.ipv4.tcp_max_syn_backlog: half-open connections per listener.
    pub tcp_max_syn_backlog: Option<u32>,
    /// net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue overflows, 2 always.
    pub tcp_syncookies: Option<u32>,
    /// net.ipv4.ip_local_port_range: the ephemeral ports.
    pub ip_local_port_range: Option<(u16, u16)>,
    /// net.ipv4.ip_local_reserved_ports: never handed out as ephemeral.
    pub ip_local_reserved_ports: Vec<RangeInclusive<u16>>,
    /// net.ipv4.ip_unprivileged_port_start: lower ports need privilege.
    pub ip_unprivileged_port_start: Option<u16>,
}

impl NetKnobs {
    /// ip_local_port_range, or the kernel's default when it could not be
    /// read: the one range `autobound`, `ports` and its kernel request use.
    pub fn port_range(&self) -> (u16, u16) {
        self.ip_local_port_range.unwrap_or(DEFAULT_PORT_RANGE)
    }

    /// True when `port` is in ip_local_reserved_ports.
    pub fn reserved(&self, port: u16) -> bool {
        self.ip_local_reserved_ports
            .iter()
            .any(|r| r.contains(&port))
    }
}

/// net.ipv4.ip_local_port_range's default (net/ipv4/af_inet.c:
/// inet_init_net()).
pub const DEFAULT_PORT_RANGE: (u16, u16) = (32768, 60999);

/// The TcpExt counters of /proc/net/netstat, by the kernel's names
/// (net/ipv4/proc.c: netstat_seq_show(), snmp4_net_list[]); empty when
/// unreadable.
pub type TcpExtCounters = BTreeMap<String, i64>;
