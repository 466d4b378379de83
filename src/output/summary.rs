//! `-s`: ss's summary, then the per-state counts ss -s does not give.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Protocol, SockStat, TcpState};
use crate::pipeline::Summary;

/// ss -s's text, then one line per protocol with its states.
pub fn write_text(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    write_totals(out, &s.stat)?;
    write_states(out, &s.states)
}

/// The part `ss -s` prints, from the kernel's counters alone.
pub fn write_totals(out: &mut dyn Write, stat: &SockStat) -> io::Result<()> {
    out.write_all(ss_summary_text(stat).as_bytes())
}

/// The per-state counts (from a dump, so they come later on a big host).
pub fn write_states(out: &mut dyn Write, states: &[(Protocol, TcpState, usize)]) -> io::Result<()> {
    let mut text = String::from("States (counted from the kernel dump):\n");
    let mut current = None;
    for (proto, state, n) in states {
        if current != Some(*proto) {
            if current.is_some() {
                text.push('\n');
            }
            let _ = write!(text, "{}:", proto.name().to_uppercase());
            current = Some(*proto);
        }
        let _ = write!(text, " {} {n}", state.name_for(*proto));
    }
    if current.is_some() {
        text.push('\n');
    }
    out.write_all(text.as_bytes())
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    /// The /proc/net/sockstat(6) and snmp numbers, as read.
    sockstat: &'a SockStat,
    /// `{"tcp": {"ESTABLISHED": 10, ...}, "udp": {...}}`, from the dump.
    states:
        std::collections::BTreeMap<&'static str, std::collections::BTreeMap<&'static str, usize>>,
}

/// One JSON object.
pub fn write_json(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let mut states: std::collections::BTreeMap<_, std::collections::BTreeMap<_, _>> =
        std::collections::BTreeMap::new();
    for (proto, state, n) in &s.states {
        states
            .entry(proto.name())
            .or_default()
            .insert(state.name_for(*proto), *n);
    }
    super::json::to_writer(
        &mut *out,
        &JsonSummary {
            sockstat: &s.stat,
            states,
        },
    )?;
    out.write_all(b"\n")
}

/// The text of `ss -s` for these numbers, byte for byte as iproute2 6.1
/// prints it. A missing number counts as 0, as in ss.
///
/// * `Total`: `sockets: used`.
/// * `TCP:` total: TCP `alloc` + `tw` (iproute2 6.1 reads only these
///   three files, no /proc/slabinfo: checked with strace).
/// * `estab`: snmp `Tcp: CurrEstab`.
/// * `closed`: `alloc` - (`TCP: inuse` + `TCP6: inuse` - `tw`); `alloc` is
///   machine-wide, so in a namespace this counts other namespaces' sockets
///   too, and it can be negative.
/// * `orphaned`: TCP `orphan`; `timewait`: TCP `tw`.
/// * The table rows give Total, IP and IPv6 as v4 + v6, v4, v6 of:
///   RAW `inuse`, UDP `inuse`, TCP `inuse`, INET = RAW + UDP + TCP (UDPLITE
///   is not counted), FRAG `inuse` (datagrams, not memory).
///
/// Columns are `%-9d`: left-aligned, padded to 9, trailing spaces kept.
/// ss keeps each number in a C `int`, so a value beyond its range would wrap
/// there; this function prints the true value instead (no real count gets
/// near 2^31).
pub fn ss_summary_text(s: &SockStat) -> String {
    // i128: sums and differences of i64 values cannot overflow.
    let n = |v: Option<i64>| i128::from(v.unwrap_or(0));
    let tcp = s.tcp.unwrap_or_default();
    let (alloc, tw, orphan) = (n(Some(tcp.alloc)), n(Some(tcp.tw)), n(Some(tcp.orphan)));
    let tcp4 = n(s.tcp.map(|t| t.inuse));
    let tcp6 = n(s.tcp6_inuse);
    let udp4 = n(s.udp.map(|u| u.inuse));
    let udp6 = n(s.udp6_inuse);
    let raw4 = n(s.raw_inuse);
    let raw6 = n(s.raw6_inuse);
    let frag4 = n(s.frag.map(|f| f.inuse));
    let frag6 = n(s.frag6.map(|f| f.inuse));
    let inet4 = raw4 + udp4 + tcp4;
    let inet6 = raw6 + udp6 + tcp6;

    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "Total: {}", s.sockets_used.unwrap_or(0));
    let _ = writeln!(
        out,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        alloc + tw,
        n(s.tcp_curr_estab),
        alloc - (tcp4 + tcp6 - tw),
        orphan,
        tw,
    );
    out.push('\n');
    out.push_str("Transport Total     IP        IPv6\n");
    for (name, v4, v6) in [
        ("RAW", raw4, raw6),
        ("UDP", udp4, udp6),
        ("TCP", tcp4, tcp6),
        ("INET", inet4, inet6),
        ("FRAG", frag4, frag6),
    ] {
        let _ = writeln!(out, "{name}\t  {:<9} {v4:<9} {v6:<9}", v4 + v6);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpCounts;
    use crate::source::sockstat::tests::{SNMP_TCP, SOCKSTAT, SOCKSTAT6, parse_all};
    use crate::source::sockstat::{parse_snmp, parse_sockstat};

    #[test]
    fn the_three_files_print_as_ss() {
        let s = parse_all(SOCKSTAT, Some(SOCKSTAT6), SNMP_TCP);
        // Captured together with these files (host namespace, Linux 6.18).
        assert_eq!(
            ss_summary_text(&s),
            "Total: 15\n\
             TCP:   1 (estab 0, closed 0, orphaned 0, timewait 0)\n\
             \n\
             Transport Total     IP        IPv6\n\
             RAW\t  0         0         0        \n\
             UDP\t  0         0         0        \n\
             TCP\t  1         1         0        \n\
             INET\t  1         1         0        \n\
             FRAG\t  0         0         0        \n\
             \n"
        );
    }

    /// Captured on Linux 6.18 in a private namespace (`unshare -n`) holding
    /// IPv4 and IPv6 listeners, established pairs, time-wait and
    /// close-wait connections, a FIN-WAIT-1 orphan, a pending connection,
    /// UDP and raw sockets and an incomplete IPv4 and IPv6 fragment; `ss -s`
    /// was run while these files were unchanged.
    const NS_SOCKSTAT: &str = "\
sockets: used 24
TCP: inuse 10 orphan 1 tw 5 alloc 16 mem 1016
UDP: inuse 2 mem 0
UDPLITE: inuse 0
RAW: inuse 2
FRAG: inuse 1 memory 1032
";
    const NS_SOCKSTAT6: &str = "\
TCP6: inuse 3
UDP6: inuse 1
UDPLITE6: inuse 0
RAW6: inuse 3
FRAG6: inuse 1 memory 1016
";
    const NS_SNMP: &str = "\
Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
Ip: 2 64 46 0 0 0 0 0 45 45 0 0 0 1 0 0 0 0 0 46
Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps
Icmp: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 10 10 0 0 10 55 54 1 0 0 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 0 0 0 0 0 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
";
    const NS_SS_S: &str = "\
Total: 24\n\
TCP:   21 (estab 10, closed 8, orphaned 1, timewait 5)\n\
\n\
Transport Total     IP        IPv6\n\
RAW\t  5         2         3        \n\
UDP\t  3         2         1        \n\
TCP\t  13        10        3        \n\
INET\t  21        14        7        \n\
FRAG\t  2         1         1        \n\
\n";

    #[test]
    fn namespace_capture_matches_real_ss() {
        let s = parse_all(NS_SOCKSTAT, Some(NS_SOCKSTAT6), NS_SNMP);
        assert_eq!(s.tcp_curr_estab, Some(10));
        assert_eq!(s.frag6.map(|f| f.memory_bytes), Some(1016));
        assert_eq!(ss_summary_text(&s), NS_SS_S);
    }

    #[test]
    fn no_sockstat6_matches_real_ss() {
        // `PROC_ROOT=dir ss -s` with these files and no net/sockstat6; the
        // closed count goes negative (alloc < inuse - tw) as in ss.
        let s = parse_all(
            "sockets: used 9\nTCP: inuse 7 orphan 3 tw 2 alloc 4 mem 9\nUDP: inuse 5 mem 1\n\
             UDPLITE: inuse 4\nRAW: inuse 1\nFRAG: inuse 6 memory 100\n",
            None,
            "Ip: A\nIp: 1\nTcp: RtoAlgorithm CurrEstab MaxConn\nTcp: 1 42 -1\nUdp: InDatagrams\nUdp: 5\n",
        );
        assert_eq!(
            ss_summary_text(&s),
            "\
Total: 9\n\
TCP:   6 (estab 42, closed -1, orphaned 3, timewait 2)\n\
\n\
Transport Total     IP        IPv6\n\
RAW\t  1         1         0        \n\
UDP\t  5         5         0        \n\
TCP\t  7         7         0        \n\
INET\t  13        13        0        \n\
FRAG\t  6         6         0        \n\
\n"
        );
    }

    #[test]
    fn missing_sockstat6_is_none_and_prints_zero() {
        let s = parse_all(SOCKSTAT, None, SNMP_TCP);
        assert_eq!(s.tcp6_inuse, None);
        assert_eq!(s.frag6, None);
        assert!(ss_summary_text(&s).contains("TCP\t  1         1         0        \n"));
        let empty = ss_summary_text(&SockStat::default());
        assert!(
            empty.starts_with("Total: 0\nTCP:   0 (estab 0, closed 0, orphaned 0, timewait 0)\n")
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut s = SockStat::default();
            let _ = parse_sockstat(&bytes[..], &mut s);
            let _ = parse_snmp(&bytes[..], &mut s);
            let _ = ss_summary_text(&s);
        }

        #[test]
        fn extreme_numbers_never_panic(v in proptest::prelude::any::<[i64; 8]>()) {
            let s = SockStat {
                sockets_used: Some(v[0]),
                tcp: Some(TcpCounts { inuse: v[1], orphan: v[2], tw: v[3], alloc: v[4], mem_pages: 0 }),
                tcp6_inuse: Some(v[5]),
                raw_inuse: Some(v[6]),
                raw6_inuse: Some(v[7]),
                tcp_curr_estab: Some(i64::MIN),
                ..SockStat::default()
            };
            let text = ss_summary_text(&s);
            proptest::prop_assert!(text.starts_with("Total: "));
        }
    }
}
