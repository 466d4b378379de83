//! The canonical row both sides are compared in: [`Row`], the `ADDR:PORT`
//! text of an endpoint ([`canonical_endpoint`] and friends), and a readable
//! diff of two row multisets.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// One socket as a table row, in the canonical form both sides are converted to.
///
/// * `proto`: `"tcp"` or `"udp"`.
/// * `state`: kernel spelling: `ESTABLISHED`, `LISTEN`, `SYN_SENT`, `SYN_RECV`,
///   `FIN_WAIT1`, `FIN_WAIT2`, `TIME_WAIT`, `CLOSE_WAIT`, `LAST_ACK`, `CLOSING`,
///   `CLOSE` (tcp) and `UNCONN` (udp socket in kernel state CLOSE).
/// * `local`/`remote`: see [`canonical_endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// `"tcp"` or `"udp"`.
    pub proto: String,
    /// Kernel state name (see the type docs).
    pub state: String,
    /// Local endpoint, canonical form.
    pub local: String,
    /// Remote endpoint, canonical form.
    pub remote: String,
}

impl Row {
    /// Builds a row from its four parts (taken as given: no normalisation).
    pub fn new(proto: &str, state: &str, local: &str, remote: &str) -> Row {
        Row {
            proto: proto.to_string(),
            state: state.to_string(),
            local: local.to_string(),
            remote: remote.to_string(),
        }
    }

    /// Builds a row from socket addresses, formatting them canonically.
    pub fn from_addrs(proto: &str, state: &str, local: SocketAddr, remote: SocketAddr) -> Row {
        Row::new(
            proto,
            state,
            &canonical_addr(local),
            &canonical_addr(remote),
        )
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} -> {}",
            self.proto, self.state, self.local, self.remote
        )
    }
}

/// Canonical `ADDR:PORT` text: IPv4 plain (`127.0.0.1:80`), IPv6 in brackets with
/// `Ipv6Addr`'s Display (`[::1]:80`, `[::ffff:127.0.0.1]:80`), port 0 as `0`.
pub fn canonical_ip(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// [`canonical_ip`] for a `SocketAddr` (scope id and flow info are dropped).
pub fn canonical_addr(addr: SocketAddr) -> String {
    canonical_ip(addr.ip(), addr.port())
}

/// Canonical endpoint from an address text and a port.
///
/// `addr` may be `127.0.0.1`, `::1`, `[::1]`, `::ffff:127.0.0.1`, ss's `*`
/// (meaning the IPv6 wildcard, canonicalised to `[::]`), and may carry a
/// `%ifname`/`%scope` suffix, which is dropped. Panics on anything else.
pub fn canonical_endpoint(addr: &str, port: u16) -> String {
    match parse_host(addr) {
        Ok(ip) => canonical_ip(ip, port),
        Err(e) => panic!("canonical_endpoint: {e}"),
    }
}

pub(super) fn parse_host(host: &str) -> Result<IpAddr, String> {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unbalanced '[' in address {host:?}"))?;
        if !after.is_empty() && !after.starts_with('%') {
            return Err(format!("junk after ']' in address {host:?}"));
        }
        inner
    } else {
        host
    };
    let bare = bare.split_once('%').map_or(bare, |(h, _)| h);
    if bare == "*" {
        return Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    bare.parse::<IpAddr>()
        .map_err(|e| format!("bad address {host:?}: {e}"))
}

/// A human-readable diff of two row multisets (empty string when equal).
pub fn diff_rows(expected: &[Row], actual: &[Row]) -> String {
    let mut exp: Vec<&Row> = expected.iter().collect();
    let mut act: Vec<&Row> = actual.iter().collect();
    exp.sort();
    act.sort();
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < exp.len() || j < act.len() {
        match (exp.get(i), act.get(j)) {
            (Some(e), Some(a)) if e == a => {
                i += 1;
                j += 1;
            }
            (Some(e), Some(a)) if e < a => {
                out.push_str(&format!("  missing: {e}\n"));
                i += 1;
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                out.push_str(&format!("  extra:   {a}\n"));
                j += 1;
            }
            (Some(e), None) => {
                out.push_str(&format!("  missing: {e}\n"));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Port of a canonical endpoint (`127.0.0.1:80`, `[::1]:80`).
pub fn endpoint_port(ep: &str) -> Option<u16> {
    ep.rsplit_once(':')?.1.parse().ok()
}

/// Address of a canonical endpoint.
pub fn endpoint_ip(ep: &str) -> Option<IpAddr> {
    let host = ep.rsplit_once(':')?.0;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}
