//! State names and groups, as ss spells them and as the kernel and netstat
//! do (`established`, `syn-recv`, `ESTABLISHED`, `SYN_RECV`, ...), any case.

use crate::model::{StateSet, TcpState};

/// The states a name stands for, or `None` for an unknown name.
pub fn parse(name: &str) -> Option<StateSet> {
    // Case and separators do not matter: syn-recv, SYN_RECV, synrecv.
    let key: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let one = |s: TcpState| Some([s].into_iter().collect::<StateSet>());
    match key.as_str() {
        "established" | "estab" => one(TcpState::Established),
        "synsent" => one(TcpState::SynSent),
        // ss also takes syn-rcv (ss.c: scan_state)
        "synrecv" | "synreceived" | "synrcv" => one(TcpState::SynRecv),
        "finwait1" => one(TcpState::FinWait1),
        "finwait2" => one(TcpState::FinWait2),
        "timewait" => one(TcpState::TimeWait),
        // ss: closed, close, unconnected; netstat/kernel: CLOSE; ss's UNCONN.
        "closed" | "close" | "unconnected" | "unconn" => one(TcpState::Close),
        "closewait" => one(TcpState::CloseWait),
        "lastack" => one(TcpState::LastAck),
        "listening" | "listen" => one(TcpState::Listen),
        "closing" => one(TcpState::Closing),
        // ss -B's state (iproute2 6.8+): bound, neither listening nor
        // connected; the kernel's TCP_BOUND_INACTIVE.
        "boundinactive" => one(TcpState::BoundInactive),
        // ss's groups (ss.c: SS_ALL, SS_CONN, ...).
        "all" => Some(StateSet::all()),
        // A bound-inactive socket is not connected (iproute2 7.1 keeps its
        // bit in these groups: README, "Differences from ss").
        "connected" => Some(StateSet::all().without(&[
            TcpState::Listen,
            TcpState::Close,
            TcpState::BoundInactive,
        ])),
        "synchronized" => Some(StateSet::all().without(&[
            TcpState::Listen,
            TcpState::Close,
            TcpState::SynSent,
            TcpState::BoundInactive,
        ])),
        "bucket" => Some(
            [TcpState::SynRecv, TcpState::TimeWait]
                .into_iter()
                .collect(),
        ),
        "big" => Some(StateSet::all().without(&[TcpState::SynRecv, TcpState::TimeWait])),
        _ => None,
    }
}

/// Every accepted name, for error messages.
pub const NAMES: &str = "established, syn-sent, syn-recv (syn-rcv), fin-wait-1, fin-wait-2, time-wait, \
closed, close-wait, last-ack, listening, closing, bound-inactive (or ESTABLISHED, SYN_RECV, ... \
any case), \
and the groups all, connected, synchronized, bucket, big";

/// The names as ss spells them, and the groups: what shell completion
/// offers after `state` and `exclude` (issue 18, install).
pub const COMPLETIONS: &[&str] = &[
    "established",
    "syn-sent",
    "syn-recv",
    "fin-wait-1",
    "fin-wait-2",
    "time-wait",
    "closed",
    "close-wait",
    "last-ack",
    "listening",
    "closing",
    "bound-inactive",
    "all",
    "connected",
    "synchronized",
    "bucket",
    "big",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss_and_kernel_spellings() {
        for (name, state) in [
            ("established", TcpState::Established),
            ("ESTABLISHED", TcpState::Established),
            ("syn-recv", TcpState::SynRecv),
            ("syn-rcv", TcpState::SynRecv),
            ("SYN-RCV", TcpState::SynRecv),
            ("SYN_RECV", TcpState::SynRecv),
            ("fin-wait-1", TcpState::FinWait1),
            ("FIN_WAIT1", TcpState::FinWait1),
            ("time-wait", TcpState::TimeWait),
            ("TIME_WAIT", TcpState::TimeWait),
            ("closed", TcpState::Close),
            ("UNCONN", TcpState::Close),
            ("listening", TcpState::Listen),
            ("LISTEN", TcpState::Listen),
            ("Close-Wait", TcpState::CloseWait),
            ("bound-inactive", TcpState::BoundInactive),
            ("BOUND_INACTIVE", TcpState::BoundInactive),
        ] {
            let s = parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(s.iter().collect::<Vec<_>>(), vec![state], "{name}");
        }
        assert!(parse("listenning").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn groups() {
        let c = parse("connected").unwrap();
        assert!(c.contains(TcpState::TimeWait) && c.contains(TcpState::SynSent));
        assert!(!c.contains(TcpState::Listen) && !c.contains(TcpState::Close));
        let s = parse("synchronized").unwrap();
        assert!(!s.contains(TcpState::SynSent) && s.contains(TcpState::Established));
        let b = parse("bucket").unwrap();
        assert_eq!(b.iter().count(), 2);
        let big = parse("big").unwrap();
        assert!(!big.contains(TcpState::TimeWait) && big.contains(TcpState::Listen));
        assert_eq!(parse("all").unwrap(), StateSet::all());
    }

    /// Every word completion offers is one the parser takes.
    #[test]
    fn completion_words_parse() {
        for word in COMPLETIONS {
            assert!(parse(word).is_some(), "{word}");
        }
    }
}
