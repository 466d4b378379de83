//! The readers of the kernel knobs and counters the explain views quote:
//! sysctls under /proc/sys (per network namespace, of the reading thread)
//! into [`NetKnobs`], and the TcpExt counters of /proc/net/netstat.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::ops::RangeInclusive;
use std::path::Path;

use super::sections::{SectionError, Sections};
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

/// The counters of one section of /proc/net/netstat or /proc/net/snmp
/// ([`super::sections`]: a line of names after `PREFIX:`, then a line of
/// values). Sections not found give an empty map, values that are not
/// numbers are left out; lines that do not pair up (which the kernel does
/// not write) are an error.
pub fn parse_counters<R: BufRead>(
    reader: R,
    prefix: &str,
) -> Result<TcpExtCounters, CountersError> {
    let mut section = Sections::new(prefix);
    let mut out = BTreeMap::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        let Some(pairs) = section.feed(i + 1, &line)? else {
            continue;
        };
        for (k, v) in pairs {
            if let Ok(v) = v.parse() {
                out.insert(k, v);
            }
        }
    }
    section.finish().map_err(|(_, e)| e)?;
    Ok(out)
}

/// Why [`parse_counters`] could not read a section.
#[derive(Debug, thiserror::Error)]
pub enum CountersError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Section(#[from] SectionError),
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
