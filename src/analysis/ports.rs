//! `ports`: ephemeral port use per (local address, destination address,
//! destination port), counted one socket at a time ([`PortCounter`]) so a
//! streamed dump keeps only the counts, and each destination's [`Level`].

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use super::Level;
use crate::model::NetKnobs;
use crate::model::{Protocol, Socket, TcpState};

/// A destination's share of the range, in percent, from which it is
/// marked [`Level::Warn`] (over half the range).
pub const WARN_PERCENT: f64 = 50.0;
/// ... and [`Level::Critical`] (new connections will soon fail).
pub const CRITICAL_PERCENT: f64 = 90.0;

/// Outgoing connections to one destination from one local address.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub local: IpAddr,
    pub remote: SocketAddr,
    pub count: usize,
    pub time_wait: usize,
    /// count / size of ip_local_port_range, in percent.
    pub percent: f64,
    pub level: Level,
}

/// Ephemeral port use per (local address, remote address, remote port).
#[derive(Debug, Clone, PartialEq)]
pub struct PortPressure {
    pub range: (u16, u16),
    pub range_size: usize,
    /// Busiest first.
    pub destinations: Vec<Destination>,
    pub outgoing: usize,
}

/// Counts outgoing TCP connections: sockets whose local port lies in the
/// ephemeral range and is not a listening port.
pub fn ports(sockets: &[Socket], knobs: &NetKnobs) -> PortPressure {
    let listening: HashSet<u16> = sockets
        .iter()
        .filter(|s| s.state == TcpState::Listen)
        .map(|s| s.local.port())
        .collect();
    let mut counter = PortCounter::new(knobs.port_range(), listening);
    for s in sockets {
        counter.add(s);
    }
    counter.finish()
}

/// [`ports`] one socket at a time, keeping only the counts per
/// destination: the listening ports must be known first.
#[derive(Debug)]
pub struct PortCounter {
    range: (u16, u16),
    listening: HashSet<u16>,
    /// (local address, destination address, destination port) → (count,
    /// TIME_WAIT count): one entry per destination, kept small (44 bytes,
    /// against 72 with a SocketAddr key and usize counts) because a host
    /// with many local addresses has as many entries as connections.
    groups: HashMap<(IpAddr, IpAddr, u16), (u32, u32)>,
    outgoing: usize,
}

impl PortCounter {
    /// `range`: ip_local_port_range; `listening`: the local ports of the
    /// LISTEN sockets (their accepted connections are not outgoing).
    pub fn new(range: (u16, u16), listening: HashSet<u16>) -> PortCounter {
        PortCounter {
            range,
            listening,
            groups: HashMap::new(),
            outgoing: 0,
        }
    }

    /// Counts `s` when it is an outgoing TCP connection.
    pub fn add(&mut self, s: &Socket) {
        let port = s.local.port();
        if s.proto != Protocol::Tcp
            || s.state == TcpState::Listen
            || s.remote.port() == 0
            || !(self.range.0..=self.range.1).contains(&port)
            || self.listening.contains(&port)
        {
            return;
        }
        self.outgoing += 1;
        let local = match s.local.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let e = self
            .groups
            .entry((local, s.remote.ip(), s.remote.port()))
            .or_default();
        e.0 = e.0.saturating_add(1);
        if s.state == TcpState::TimeWait {
            e.1 = e.1.saturating_add(1);
        }
    }

    /// The destinations, busiest first.
    pub fn finish(self) -> PortPressure {
        let PortCounter {
            range,
            groups,
            outgoing,
            ..
        } = self;
        let range_size = usize::from(range.1.saturating_sub(range.0)) + 1;
        let mut destinations: Vec<Destination> = groups
            .into_iter()
            .map(|((local, remote_ip, remote_port), (count, time_wait))| {
                let (count, time_wait) = (count as usize, time_wait as usize);
                let remote = SocketAddr::new(remote_ip, remote_port);
                let percent = count as f64 * 100.0 / range_size as f64;
                let level = if percent >= CRITICAL_PERCENT {
                    Level::Critical
                } else if percent >= WARN_PERCENT {
                    Level::Warn
                } else {
                    Level::Ok
                };
                Destination {
                    local,
                    remote,
                    count,
                    time_wait,
                    percent,
                    level,
                }
            })
            .collect();
        destinations.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.remote.cmp(&b.remote))
                .then_with(|| a.local.cmp(&b.local))
        });
        PortPressure {
            range,
            range_size,
            destinations,
            outgoing,
        }
    }
}

impl Destination {
    /// The TIME_WAIT share of its connections, in percent.
    pub fn time_wait_percent(&self) -> f64 {
        self.time_wait as f64 * 100.0 / self.count.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(state: TcpState, local: &str, remote: &str) -> Socket {
        Socket::test_tcp(state, local, remote)
    }

    fn knobs() -> NetKnobs {
        NetKnobs {
            ip_local_port_range: Some((40000, 40099)),
            ..Default::default()
        }
    }

    #[test]
    fn port_pressure_per_destination() {
        let mut socks = vec![tcp(TcpState::Listen, "0.0.0.0:40001", "0.0.0.0:0")];
        for i in 0..95u16 {
            let mut s = tcp(
                TcpState::Established,
                &format!("127.0.0.1:{}", 40002 + i),
                "127.0.0.2:80",
            );
            if i % 5 == 0 {
                s.state = TcpState::TimeWait;
            }
            socks.push(s);
        }
        socks.push(tcp(TcpState::Established, "127.0.0.1:40001", "127.0.0.9:5"));
        let p = ports(&socks, &knobs());
        assert_eq!(p.range_size, 100);
        assert_eq!(p.outgoing, 95, "the listener's port is not outgoing");
        let d = &p.destinations[0];
        assert_eq!((d.count, d.time_wait, d.level), (95, 19, Level::Critical));
    }
}
