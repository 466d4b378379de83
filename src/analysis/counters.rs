//! `sockscope counters`: which counters to show, what changed since a
//! reading before, and the one sentence that says what a counter of
//! connection trouble counts.

use crate::filter::glob;
use crate::model::Counter;

/// One sentence per counter (or family of counters, a glob as nstat's
/// patterns) that explains connection trouble. Sources: the kernel's
/// Documentation/networking/snmp_counter.rst and the code that counts
/// them (include/uapi/linux/snmp.h names each one).
pub const EXPLANATIONS: &[(&str, &str)] = &[
    (
        "TcpExtListenOverflows",
        "connections dropped because an accept queue was full",
    ),
    (
        "TcpExtListenDrops",
        "connections dropped at a listener (a full accept queue, and other reasons)",
    ),
    (
        "TcpExtTCPTimeouts",
        "retransmission timeouts: a peer or the path stopped answering",
    ),
    (
        "TcpRetransSegs",
        "segments sent again (loss, or a slow peer)",
    ),
    (
        "TcpExtTCPSynRetrans",
        "SYNs sent again: a connect() got no answer in time",
    ),
    (
        "TcpExtTCPFastRetrans",
        "segments sent again after duplicate ACKs told of a loss",
    ),
    (
        "TcpOutRsts",
        "resets sent (a connect to a closed port, an aborted connection)",
    ),
    (
        "TcpEstabResets",
        "established connections ended by a reset (sent or received)",
    ),
    (
        "TcpAttemptFails",
        "connection attempts that failed (refused, or reset in the handshake)",
    ),
    (
        "TcpExtEmbryonicRsts",
        "resets received for half-open (SYN_RECV) connections",
    ),
    (
        "TcpExtTCPAbortOnData",
        "connections reset because data arrived after the application closed",
    ),
    (
        "TcpExtTCPAbortOnClose",
        "connections reset because they were closed with unread data",
    ),
    (
        "TcpExtTCPAbortOnMemory",
        "connections reset for lack of memory (too many orphans, tcp_mem)",
    ),
    (
        "TcpExtTCPAbortOnTimeout",
        "connections given up after too many retransmissions or probes",
    ),
    (
        "TcpExtTCPAbortOnLinger",
        "connections reset when closed with a zero SO_LINGER",
    ),
    ("TcpExtTCPAbortFailed", "resets that could not be sent"),
    (
        "TcpExtSyncookiesSent",
        "SYN cookies sent: a SYN queue was full (or cookies are forced)",
    ),
    (
        "TcpExtSyncookiesRecv",
        "SYN cookies that came back valid and made a connection",
    ),
    (
        "TcpExtSyncookiesFailed",
        "ACKs with an invalid SYN cookie (dropped)",
    ),
    (
        "TcpExtTCPReqQFullDrop",
        "SYNs dropped because a SYN queue was full and cookies are off",
    ),
    (
        "TcpExtTCPReqQFullDoCookies",
        "SYN cookies sent because a SYN queue was full",
    ),
    (
        "TcpExtTCPBacklogDrop",
        "segments dropped because a busy socket's backlog was full",
    ),
    (
        "TcpExtTCPRcvQDrop",
        "segments dropped because a receive buffer was full",
    ),
    (
        "TcpExtTCPZeroWindowDrop",
        "segments dropped because the receive window was zero",
    ),
    (
        "TcpExtTCPOFODrop",
        "out-of-order segments dropped for lack of receive buffer",
    ),
    (
        "TcpExtPruneCalled",
        "receive queues squeezed for lack of buffer memory",
    ),
    (
        "TcpExtRcvPruned",
        "segments dropped from a receive queue that could not be squeezed",
    ),
    (
        "TcpExtOfoPruned",
        "out-of-order segments dropped to free buffer memory",
    ),
    (
        "TcpExtTCPMemoryPressures",
        "times TCP entered memory pressure (tcp_mem)",
    ),
    (
        "TcpExtTW",
        "TIME_WAIT sockets that ended when their timer ran out",
    ),
    (
        "TcpExtTWRecycled",
        "TIME_WAIT sockets reused early by a new connection (tcp_tw_reuse)",
    ),
    ("TcpExtTWKilled", "TIME_WAIT sockets ended early"),
    (
        "TcpExtTCPTimeWaitOverflow",
        "connections closed without TIME_WAIT: tcp_max_tw_buckets was reached",
    ),
    (
        "TcpExtTCPRetransFail",
        "retransmissions that could not be sent (a local queue was full)",
    ),
    (
        "TcpInErrs",
        "segments received with errors (bad checksum or header)",
    ),
    ("*InCsumErrors", "packets received with a bad checksum"),
    (
        "Udp*RcvbufErrors",
        "datagrams dropped because a socket's receive buffer was full",
    ),
    (
        "Udp*SndbufErrors",
        "datagrams not sent because a socket's send buffer was full",
    ),
    ("Udp*NoPorts", "datagrams to a port nothing listens on"),
    (
        "Udp*InErrors",
        "datagrams dropped on receipt (full buffer, bad checksum)",
    ),
    (
        "TcpActiveOpens",
        "connections this namespace opened (connect)",
    ),
    (
        "TcpPassiveOpens",
        "connections listeners accepted (handshakes completed)",
    ),
];

/// The sentence for `name`, if it is a counter of connection trouble.
pub fn explain(name: &str) -> Option<&'static str> {
    EXPLANATIONS
        .iter()
        .find(|(pattern, _)| glob::matches(pattern.as_bytes(), name.as_bytes()))
        .map(|(_, text)| *text)
}

/// What a row's number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The value itself (no reading before).
    Absolute,
    /// The increase since the reading before.
    Delta(u64),
    /// The counter went down (reboot, namespace made again, a wrap): it
    /// restarted, and holds what it counted since.
    Reset,
}

impl Change {
    /// The number shown: the increase, or the value when absolute or reset.
    pub fn shown(self, value: u64) -> u64 {
        match self {
            Change::Delta(d) => d,
            Change::Absolute | Change::Reset => value,
        }
    }
}

/// One counter as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterRow {
    pub name: String,
    /// The value now.
    pub value: u64,
    pub change: Change,
    pub explain: Option<&'static str>,
}

impl CounterRow {
    /// The number the row shows ([`Change::shown`]).
    pub fn shown(&self) -> u64 {
        self.change.shown(self.value)
    }
}

/// Which counters to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Select {
    /// nstat's patterns (fnmatch, case folded); none: every counter.
    pub patterns: Vec<String>,
    /// Show the counters whose shown number is 0 too (nstat -z).
    pub zeros: bool,
}

impl Select {
    fn wants(&self, name: &str) -> bool {
        self.patterns.is_empty()
            || self
                .patterns
                .iter()
                .any(|p| glob::matches(p.as_bytes(), name.as_bytes()))
    }
}

/// The rows of `now`, against `before` when there is a reading before (a
/// counter missing from it, new since, counts from 0), in `now`'s order.
pub fn rows(now: &[Counter], before: Option<&[Counter]>, select: &Select) -> Vec<CounterRow> {
    let before: Option<std::collections::HashMap<&str, u64>> =
        before.map(|b| b.iter().map(|c| (c.name.as_str(), c.value)).collect());
    now.iter()
        .filter(|c| select.wants(&c.name))
        .map(|c| {
            let change = match &before {
                None => Change::Absolute,
                Some(b) => {
                    let old = b.get(c.name.as_str()).copied().unwrap_or(0);
                    match c.value.checked_sub(old) {
                        Some(d) => Change::Delta(d),
                        None => Change::Reset,
                    }
                }
            };
            CounterRow {
                name: c.name.clone(),
                value: c.value,
                change,
                explain: explain(&c.name),
            }
        })
        .filter(|r| select.zeros || r.shown() != 0 || r.change == Change::Reset)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, value: u64) -> Counter {
        Counter {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn trouble_counters_are_explained() {
        assert_eq!(
            explain("TcpExtListenOverflows"),
            Some("connections dropped because an accept queue was full")
        );
        for name in [
            "TcpExtListenDrops",
            "TcpExtTCPTimeouts",
            "TcpRetransSegs",
            "TcpExtTCPSynRetrans",
            "TcpOutRsts",
            "TcpEstabResets",
            "TcpExtTCPAbortOnData",
            "TcpExtSyncookiesSent",
            "TcpExtSyncookiesRecv",
            "TcpExtSyncookiesFailed",
            "TcpExtTCPReqQFullDrop",
            "TcpExtTCPReqQFullDoCookies",
            "TcpExtTCPBacklogDrop",
            "TcpInErrs",
            "TcpInCsumErrors",
            "Udp6InCsumErrors",
            "TcpExtTCPMemoryPressures",
            "TcpExtTCPOFODrop",
            "TcpExtTW",
            "TcpExtPruneCalled",
            "TcpExtRcvPruned",
            "UdpRcvbufErrors",
            "Udp6SndbufErrors",
            "UdpLiteNoPorts",
        ] {
            assert!(explain(name).is_some(), "{name}");
        }
        assert_eq!(explain("IpInReceives"), None);
        // Every sentence fits an 80-column line under its counter.
        for (_, text) in EXPLANATIONS {
            assert!(text.len() <= 76, "{text}");
        }
    }

    #[test]
    fn deltas_resets_zeros_and_patterns() {
        let before = [c("TcpOutRsts", 5), c("TcpExtTW", 9), c("IpInReceives", 1)];
        let now = [
            c("TcpOutRsts", 7),
            c("TcpExtTW", 2),
            c("IpInReceives", 1),
            c("TcpExtNew", 4),
        ];
        let all = Select::default();
        let r = rows(&now, Some(&before), &all);
        let got: Vec<_> = r.iter().map(|r| (r.name.as_str(), r.change)).collect();
        assert_eq!(
            got,
            [
                ("TcpOutRsts", Change::Delta(2)),
                ("TcpExtTW", Change::Reset),
                ("TcpExtNew", Change::Delta(4))
            ]
        );
        assert_eq!(r[1].shown(), 2);
        let zeros = Select {
            zeros: true,
            ..all.clone()
        };
        assert_eq!(rows(&now, Some(&before), &zeros).len(), 4);
        let tcp = Select {
            patterns: vec!["tcpext*".into()],
            zeros: false,
        };
        let r = rows(&now, None, &tcp);
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|r| r.change == Change::Absolute));
    }
}
