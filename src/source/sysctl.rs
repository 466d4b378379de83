//! The readers of the kernel knobs and counters the explain views quote:
//! sysctls under /proc/sys (per network namespace, of the reading thread)
//! into [`NetKnobs`], and the TcpExt counters of /proc/net/netstat.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::ops::RangeInclusive;
use std::path::Path;

use crate::model::{NetKnobs, TcpExtCounters};

/// The network sysctls under `proc_root`/sys; `None` where unreadable.
pub fn read_knobs(proc_root: &Path) -> NetKnobs {
    let sys = proc_root.join("sys/net");
    let text = |p: &str| super::input::read_to_string(&sys.join(p)).ok();
    let num = |p: &str| text(p).and_then(|t| t.trim().parse::<u32>().ok());
    NetKnobs {
        somaxconn: num("core/somaxconn"),
        tcp_max_syn_backlog: num("ipv4/tcp_max_syn_backlog"),
        tcp_syncookies: num("ipv4/tcp_syncookies"),
        ip_local_port_range: text("ipv4/ip_local_port_range").and_then(|t| parse_range(&t)),
        ip_local_reserved_ports: text("ipv4/ip_local_reserved_ports")
            .map(|t| parse_port_list(&t))
            .unwrap_or_default(),
        ip_unprivileged_port_start: num("ipv4/ip_unprivileged_port_start")
            .map(|n| u16::try_from(n).unwrap_or(u16::MAX)),
    }
}

/// "32768\t60999" → (32768, 60999).
pub fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_whitespace().map(|w| w.parse::<u16>());
    let lo = it.next()?.ok()?;
    let hi = it.next()?.ok()?;
    Some((lo, hi))
}

/// "8080,9000-9010" → [8080..=8080, 9000..=9010]; bad items are skipped.
pub fn parse_port_list(text: &str) -> Vec<RangeInclusive<u16>> {
    text.trim()
        .split(',')
        .filter_map(|item| {
            let item = item.trim();
            match item.split_once('-') {
                Some((a, b)) => Some(a.parse().ok()?..=b.parse().ok()?),
                None => {
                    let p = item.parse().ok()?;
                    Some(p..=p)
                }
            }
        })
        .collect()
}

/// The counters of one section of /proc/net/netstat or /proc/net/snmp:
/// a line of names after `PREFIX:`, then a line of values (net/ipv4/proc.c:
/// netstat_seq_show()). Sections not found give an empty map.
pub fn parse_counters<R: BufRead>(
    reader: R,
    prefix: &str,
) -> std::io::Result<BTreeMap<String, i64>> {
    let tag = format!("{prefix}:");
    let mut names: Option<Vec<String>> = None;
    let mut out = BTreeMap::new();
    for line in reader.lines() {
        let line = line?;
        let Some(rest) = line.strip_prefix(&tag) else {
            continue;
        };
        match names.take() {
            None => names = Some(rest.split_whitespace().map(str::to_owned).collect()),
            Some(keys) => {
                for (k, v) in keys.into_iter().zip(rest.split_whitespace()) {
                    if let Ok(v) = v.parse() {
                        out.insert(k, v);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// TcpExt counters of `<proc_net>/netstat`; empty when unreadable.
pub fn read_tcpext(proc_net: &Path) -> TcpExtCounters {
    super::input::open(&proc_net.join("netstat"))
        .ok()
        .and_then(|f| parse_counters(f, "TcpExt").ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("x"), None);
        assert_eq!(
            parse_port_list("8080,9000-9010\n"),
            vec![8080..=8080, 9000..=9010]
        );
        assert!(parse_port_list("\n").is_empty());
    }

    #[test]
    fn counters_by_name() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 1 22 23\nIpExt: A\nIpExt: 5\n";
        let m = parse_counters(text.as_bytes(), "TcpExt").unwrap();
        assert_eq!(m["ListenOverflows"], 22);
        assert_eq!(m["SyncookiesSent"], 1);
        assert!(!m.contains_key("A"));
    }
}
