//! The explain views: listener queue health, why a bind() would fail, and
//! ephemeral port pressure. Pure computations over records and knobs; the
//! renderers print them.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::filter::LocalPort;
use crate::model::{Protocol, QueueKind, Socket, TcpState};
use crate::source::sysctl::NetKnobs;

/// How full a listener's accept queue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    /// At least 80 % (listeners) or 50 % (ports).
    Warn,
    /// Full (listeners), at least 90 % (ports).
    Critical,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Critical => "critical",
        }
    }
}

/// One LISTEN socket and its two queues.
#[derive(Debug, Clone)]
pub struct ListenerHealth<'a> {
    pub socket: &'a Socket,
    /// Connections completed and waiting for accept() (Recv-Q).
    pub accept_queue: u32,
    /// The backlog (Send-Q); `None` from /proc.
    pub backlog: Option<u32>,
    /// accept_queue / backlog, in percent.
    pub percent: Option<u32>,
    /// sk_acceptq_is_full(): more waiting than the backlog; new handshakes
    /// are then dropped (ListenOverflows).
    pub full: bool,
    pub level: Level,
    /// SYN_RECV request sockets for this address and port.
    pub half_open: usize,
    /// Completed connections nobody accept()ed: the accept queue's length
    /// (the kernel keeps them as ESTABLISHED sockets without a descriptor).
    pub waiting: usize,
    /// The backlog equals net.core.somaxconn: listen() asked for at least
    /// that and the kernel clamped it.
    pub at_somaxconn: bool,
}

/// Queue health of every LISTEN socket (TCP) in `sockets`, whose queued
/// connections must already be attributed (owners::attribute_queues).
pub fn listeners<'a>(sockets: &'a [Socket], knobs: &NetKnobs) -> Vec<ListenerHealth<'a>> {
    let mut half: HashMap<SocketAddr, usize> = HashMap::new();
    let mut waiting: HashMap<SocketAddr, usize> = HashMap::new();
    for s in sockets {
        if let Some(q) = &s.queue {
            let map = match q.kind {
                QueueKind::Syn => &mut half,
                QueueKind::Accept => &mut waiting,
            };
            *map.entry(q.listener).or_default() += 1;
        }
    }
    sockets
        .iter()
        .filter(|s| s.proto == Protocol::Tcp && s.state == TcpState::Listen)
        .map(|s| {
            let key = SocketAddr::new(s.local.ip(), s.local.port());
            let accept_queue = s.recv_q;
            let backlog = s.send_q;
            let percent = backlog.map(|b| {
                if b == 0 {
                    if accept_queue > 0 { 100 } else { 0 }
                } else {
                    ((u64::from(accept_queue) * 100) / u64::from(b)) as u32
                }
            });
            let full = backlog.is_some_and(|b| accept_queue > b);
            let level = if full {
                Level::Critical
            } else if percent.is_some_and(|p| p >= 80) {
                Level::Warn
            } else {
                Level::Ok
            };
            ListenerHealth {
                socket: s,
                accept_queue,
                backlog,
                percent,
                full,
                level,
                half_open: half.get(&key).copied().unwrap_or(0),
                waiting: waiting
                    .get(&key)
                    .copied()
                    .unwrap_or(accept_queue as usize)
                    .max(accept_queue as usize),
                at_somaxconn: backlog.is_some() && backlog == knobs.somaxconn,
            }
        })
        .collect()
}

/// A bind() target: address (None: the wildcard) and port.
pub fn bind_target(t: LocalPort) -> LocalPort {
    // Binding 0.0.0.0 or :: conflicts with every address of the port.
    LocalPort {
        addr: t.addr.filter(|a| !a.is_unspecified()),
        port: t.port,
    }
}

/// What why-bind found.
#[derive(Debug, Clone)]
pub struct BindVerdict<'a> {
    pub target: LocalPort,
    pub proto: Protocol,
    /// Sockets that hold the port for bind().
    pub holders: Vec<&'a Socket>,
    /// The explanation, one sentence each, most important first.
    pub reasons: Vec<String>,
    /// Facts about the port itself (ephemeral range, reserved, privilege).
    pub notes: Vec<String>,
    pub busy: bool,
    /// The real bind() results, with --try.
    pub tried: Option<TryResult>,
}

/// Results of a real bind() (closed at once, never listened on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryResult {
    pub addr: SocketAddr,
    /// Plain bind(): `Ok` or the error text.
    pub plain: Result<(), String>,
    /// With SO_REUSEADDR set first.
    pub reuseaddr: Result<(), String>,
}

/// Why bind() to `target` would fail now, from the sockets of `proto`
/// (all states, owners attached) and the knobs.
pub fn why_bind<'a>(
    target: LocalPort,
    proto: Protocol,
    sockets: &'a [Socket],
    knobs: &NetKnobs,
    euid: u32,
) -> BindVerdict<'a> {
    let target = bind_target(target);
    // Request sockets (SYN_RECV) are not in the bind table; their listener is.
    let holders: Vec<&Socket> = sockets
        .iter()
        .filter(|s| s.proto == proto && s.state != TcpState::SynRecv && target.matches(s))
        .collect();
    let mut reasons = Vec::new();
    let owners_text = |s: &Socket| -> String {
        let names: Vec<String> = s
            .owners
            .iter()
            .flatten()
            .map(|o| format!("{}/{}", o.comm, o.pid))
            .collect();
        if names.is_empty() {
            "no visible owner".to_owned()
        } else {
            names.join(", ")
        }
    };
    let addr_text = |s: &Socket| match s.local {
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => a.to_string(),
    };
    for s in holders.iter().filter(|s| s.state == TcpState::Listen) {
        reasons.push(format!(
            "{} is listening on {} ({}); a second listener can share the port only with \
             SO_REUSEPORT set on both sockets, by the same user",
            proto.name().to_uppercase(),
            addr_text(s),
            owners_text(s)
        ));
    }
    if proto == Protocol::Udp {
        for s in holders.iter().filter(|s| s.state != TcpState::Listen) {
            reasons.push(format!(
                "a UDP socket is bound to {} ({})",
                addr_text(s),
                owners_text(s)
            ));
        }
    }
    let tw: Vec<&&Socket> = holders
        .iter()
        .filter(|s| proto == Protocol::Tcp && s.state == TcpState::TimeWait)
        .collect();
    let only_tw = !tw.is_empty() && tw.len() == holders.len();
    if !tw.is_empty() {
        let last = tw
            .iter()
            .filter_map(|s| s.timer.map(|t| t.expires_ms))
            .max()
            .unwrap_or(0);
        let mut r = format!(
            "held by {} TIME_WAIT socket{} (left by an active close); the last expires in {} s",
            tw.len(),
            if tw.len() == 1 { "" } else { "s" },
            last.div_ceil(1000)
        );
        if only_tw {
            r.push_str(
                "; if they were connections of a server whose listener set SO_REUSEADDR (most \
                 servers do), a new server that sets SO_REUSEADDR can bind now, otherwise only \
                 when they expire (--try tells for sure)",
            );
        }
        reasons.push(r);
    }
    if proto == Protocol::Tcp {
        let mut others: Vec<(TcpState, usize)> = Vec::new();
        let mut queued = 0;
        for s in holders
            .iter()
            .filter(|s| !matches!(s.state, TcpState::Listen | TcpState::TimeWait))
        {
            if s.queue.is_some() {
                queued += 1;
            }
            match others.iter_mut().find(|(st, _)| *st == s.state) {
                Some((_, n)) => *n += 1,
                None => others.push((s.state, 1)),
            }
        }
        for (state, n) in others {
            let why = match state {
                TcpState::CloseWait => {
                    "; the peer closed and the application has not closed its end yet".to_owned()
                }
                TcpState::FinWait2 => {
                    "; waiting for the peer's FIN (an orphan times out)".to_owned()
                }
                TcpState::Established if queued > 0 => {
                    format!(", {queued} of them waiting to be accepted")
                }
                _ => String::new(),
            };
            reasons.push(format!(
                "{n} {} socket{} on this local port{why}",
                state.kernel_name(),
                if n == 1 { "" } else { "s" },
            ));
        }
    }
    // Wildcard versus specific addresses.
    match target.addr {
        Some(a) => {
            if holders.iter().any(|s| s.local.ip().is_unspecified()) {
                reasons.push(format!(
                    "a socket bound to the wildcard address covers {a} too"
                ));
            }
        }
        None => {
            if holders.iter().any(|s| !s.local.ip().is_unspecified()) {
                reasons.push(
                    "binding the wildcard address conflicts with sockets bound to a specific \
                     address on this port"
                        .to_owned(),
                );
            }
        }
    }
    let mut notes = Vec::new();
    if let Some((lo, hi)) = knobs.ip_local_port_range
        && (lo..=hi).contains(&target.port)
    {
        notes.push(format!(
            "{} is inside net.ipv4.ip_local_port_range ({lo}-{hi}): outgoing connections may \
             take it as their local port at any time",
            target.port
        ));
    }
    if knobs.reserved(target.port) {
        notes.push(format!(
            "{} is in net.ipv4.ip_local_reserved_ports: the kernel never hands it out as an \
             ephemeral port",
            target.port
        ));
    }
    if let Some(start) = knobs.ip_unprivileged_port_start
        && target.port < start
        && euid != 0
    {
        notes.push(format!(
            "{} is below net.ipv4.ip_unprivileged_port_start ({start}): binding it needs root \
             or CAP_NET_BIND_SERVICE",
            target.port
        ));
    }
    let busy = !holders.is_empty();
    if !busy {
        reasons.push(format!(
            "nothing holds {} port {}: bind() should succeed",
            proto.name().to_uppercase(),
            target.port
        ));
    }
    BindVerdict {
        target,
        proto,
        holders,
        reasons,
        notes,
        busy,
        tried: None,
    }
}

/// Binds a socket of `proto` to the target once (plain, then with
/// SO_REUSEADDR) and closes it: never listens, sends nothing.
pub fn try_bind(target: LocalPort, proto: Protocol) -> TryResult {
    let ip = target.addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let addr = SocketAddr::new(ip, target.port);
    TryResult {
        addr,
        plain: bind_once(addr, proto, false),
        reuseaddr: bind_once(addr, proto, true),
    }
}

fn bind_once(addr: SocketAddr, proto: Protocol, reuse: bool) -> Result<(), String> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (family, ty) = (
        if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        },
        match proto {
            Protocol::Tcp => libc::SOCK_STREAM,
            Protocol::Udp => libc::SOCK_DGRAM,
        },
    );
    // SAFETY: plain socket(2); the fd is owned (and closed) below.
    let fd = unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    use std::os::fd::AsRawFd;
    if reuse {
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a c_int option value of the right size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    let rc = match addr {
        SocketAddr::V4(a) => {
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sa is a valid sockaddr_in of the given length.
            unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    &sa as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(a) => {
            let sa = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sa is a valid sockaddr_in6 of the given length.
            unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    &sa as *const libc::sockaddr_in6 as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

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
                let level = if percent >= 90.0 {
                    Level::Critical
                } else if percent >= 50.0 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Owner, Queued, Timer, TimerKind};

    fn tcp(state: TcpState, local: &str, remote: &str) -> Socket {
        Socket::test_tcp(state, local, remote)
    }

    fn knobs() -> NetKnobs {
        NetKnobs {
            somaxconn: Some(4096),
            ip_local_port_range: Some((40000, 40099)),
            ip_unprivileged_port_start: Some(1024),
            ip_local_reserved_ports: vec![40050..=40050],
            ..Default::default()
        }
    }

    #[test]
    fn full_listener_and_queues() {
        let mut l = tcp(TcpState::Listen, "127.0.0.1:80", "0.0.0.0:0");
        l.recv_q = 3;
        l.send_q = Some(2);
        let mut q = tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5000");
        q.inode = 0;
        q.queue = Some(Box::new(Queued {
            kind: QueueKind::Accept,
            listener: "127.0.0.1:80".parse().unwrap(),
            listener_owners: vec![],
        }));
        let mut h = q.clone();
        h.state = TcpState::SynRecv;
        h.queue.as_mut().unwrap().kind = QueueKind::Syn;
        let socks = vec![l, q, h];
        let v = listeners(&socks, &knobs());
        assert_eq!(v.len(), 1);
        assert!(v[0].full);
        assert_eq!(v[0].level, Level::Critical);
        assert_eq!(
            (v[0].percent, v[0].waiting, v[0].half_open),
            (Some(150), 3, 1),
            "unaccepted is the accept queue's length"
        );
        assert!(!v[0].at_somaxconn);
    }

    #[test]
    fn why_bind_time_wait_only() {
        let mut tw = tcp(TcpState::TimeWait, "127.0.0.1:8080", "127.0.0.1:5000");
        tw.inode = 0;
        tw.timer = Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 41_500,
            retrans: 0,
        });
        let socks = vec![
            tw,
            tcp(TcpState::Established, "127.0.0.1:9090", "127.0.0.1:1"),
        ];
        let v = why_bind(
            LocalPort {
                addr: None,
                port: 8080,
            },
            Protocol::Tcp,
            &socks,
            &knobs(),
            0,
        );
        assert!(v.busy);
        assert_eq!(v.holders.len(), 1);
        assert!(
            v.reasons[0].contains("TIME_WAIT") && v.reasons[0].contains("42 s"),
            "{:?}",
            v.reasons
        );
        assert!(v.reasons[0].contains("SO_REUSEADDR") && v.reasons[0].contains("--try"));
    }

    #[test]
    fn why_bind_listener_and_notes() {
        let mut l = tcp(TcpState::Listen, "0.0.0.0:40050", "0.0.0.0:0");
        l.owners = Some(vec![Owner {
            pid: 812,
            fd: 6,
            comm: "nginx".into(),
            cmdline: None,
            raw: None,
        }]);
        let socks = vec![l];
        let v = why_bind(
            LocalPort {
                addr: Some("127.0.0.1".parse().unwrap()),
                port: 40050,
            },
            Protocol::Tcp,
            &socks,
            &knobs(),
            1000,
        );
        assert!(v.busy);
        assert!(v.reasons[0].contains("nginx/812") && v.reasons[0].contains("SO_REUSEPORT"));
        assert!(v.reasons.iter().any(|r| r.contains("wildcard")));
        assert!(v.notes.iter().any(|n| n.contains("ip_local_port_range")));
        assert!(v.notes.iter().any(|n| n.contains("reserved")));
        let free = why_bind(
            LocalPort {
                addr: None,
                port: 80,
            },
            Protocol::Tcp,
            &socks,
            &knobs(),
            1000,
        );
        assert!(!free.busy);
        assert!(
            free.notes
                .iter()
                .any(|n| n.contains("CAP_NET_BIND_SERVICE"))
        );
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
