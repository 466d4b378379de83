//! The explain views: listener queue health, why a bind() would fail, and
//! ephemeral port pressure. Pure computations over records and knobs; the
//! renderers print them.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::filter::LocalPort;
use crate::model::{NetKnobs, Protocol, QueueKind, Socket, TcpState};
use crate::text::{host_port, plural};

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
    /// SYN_RECV request sockets in this listener's queue (in an
    /// SO_REUSEPORT group, those that may be in it: the kernel does not say
    /// which member a request socket belongs to).
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
    // Request sockets per listener (by inode); one an SO_REUSEPORT group
    // holds counts for each member that may hold it.
    let mut half: HashMap<u64, usize> = HashMap::new();
    for s in sockets {
        if let Some(q) = &s.queue
            && q.kind == QueueKind::Syn
        {
            for inode in &q.listener_inodes {
                *half.entry(*inode).or_default() += 1;
            }
        }
    }
    sockets
        .iter()
        .filter(|s| s.proto == Protocol::Tcp && s.state == TcpState::Listen)
        .map(|s| {
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
                half_open: half.get(&s.inode).copied().unwrap_or(0),
                // The connections attributed to it agree with this count
                // (owners::Listeners::resolve checks them against it).
                waiting: accept_queue as usize,
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
    /// The address and port asked for (`::` and `0.0.0.0` kept as asked).
    pub target: LocalPort,
    /// The IPv6 scope asked for (`%eth0`, `%2`), 0 for none.
    pub scope: u32,
    pub proto: Protocol,
    /// Sockets that hold the port for bind().
    pub holders: Vec<&'a Socket>,
    /// The explanation, one sentence each, most important first.
    pub reasons: Vec<String>,
    /// Facts about the port itself (ephemeral range, reserved, privilege).
    pub notes: Vec<String>,
    /// bind() would fail: the dump shows a holder, or with --try the real
    /// bind() failed (for any reason: see `tried`).
    pub busy: bool,
    /// The real bind() results, with --try.
    pub tried: Option<TryResult>,
}

/// Why bind() to `target` would fail now, from the sockets of `proto`
/// (all states, owners attached) and the knobs.
pub fn why_bind<'a>(
    asked: LocalPort,
    scope: u32,
    proto: Protocol,
    sockets: &'a [Socket],
    knobs: &NetKnobs,
    euid: u32,
) -> BindVerdict<'a> {
    let target = bind_target(asked);
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
    let addr_text = |s: &Socket| host_port(s.local.ip(), 0, s.local.port());
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
            plural(tw.len(), "", "s"),
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
        // Connections in an accept queue: no process has them yet, whatever
        // their state (CLOSE_WAIT when the client closed meanwhile).
        let queued: Vec<&&Socket> = holders
            .iter()
            .filter(|s| {
                s.queue
                    .as_ref()
                    .is_some_and(|q| q.kind == QueueKind::Accept)
            })
            .collect();
        if !queued.is_empty() {
            let closed = queued
                .iter()
                .filter(|s| s.state == TcpState::CloseWait)
                .count();
            let mut r = format!(
                "{} connection{} completed by the kernel and waiting in an accept queue \
                 (no process has accept()ed {})",
                queued.len(),
                plural(queued.len(), "", "s"),
                plural(queued.len(), "it", "them"),
            );
            if closed > 0 {
                r.push_str(&format!(
                    "; the client already closed {closed} of them (CLOSE_WAIT)"
                ));
            }
            reasons.push(r);
        }
        let mut others: Vec<(TcpState, usize)> = Vec::new();
        for s in holders.iter().filter(|s| {
            !matches!(s.state, TcpState::Listen | TcpState::TimeWait) && s.queue.is_none()
        }) {
            match others.iter_mut().find(|(st, _)| *st == s.state) {
                Some((_, n)) => *n += 1,
                None => others.push((s.state, 1)),
            }
        }
        for (state, n) in others {
            let why = match state {
                TcpState::CloseWait => {
                    "; the peer closed and the application has not closed its end yet"
                }
                TcpState::FinWait2 => "; waiting for the peer's FIN (an orphan times out)",
                _ => "",
            };
            reasons.push(format!(
                "{n} {} socket{} on this local port{why}",
                state.kernel_name(),
                plural(n, "", "s"),
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
        target: asked,
        scope,
        proto,
        holders,
        reasons,
        notes,
        busy,
        tried: None,
    }
}

/// Why a real bind() failed: its errno, as the kernel's inet_bind() /
/// inet6_bind() and the port lookup (inet_csk_get_port) return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindFailure {
    /// EADDRINUSE: a socket holds the address and port.
    InUse,
    /// EADDRNOTAVAIL: the address is not one of this host's (in this
    /// network namespace), or not on the interface of its scope.
    NotAvailable,
    /// EACCES: a port below ip_unprivileged_port_start without
    /// CAP_NET_BIND_SERVICE.
    Permission,
    /// EINVAL: the kernel refused the address itself, e.g. a link-local
    /// IPv6 address without a scope.
    Invalid,
    /// Any other errno.
    Other,
}

impl BindFailure {
    fn of(e: &std::io::Error) -> BindFailure {
        match e.raw_os_error() {
            Some(libc::EADDRINUSE) => BindFailure::InUse,
            Some(libc::EADDRNOTAVAIL) => BindFailure::NotAvailable,
            Some(libc::EACCES) | Some(libc::EPERM) => BindFailure::Permission,
            Some(libc::EINVAL) => BindFailure::Invalid,
            _ => BindFailure::Other,
        }
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            BindFailure::InUse => "in_use",
            BindFailure::NotAvailable => "address_not_available",
            BindFailure::Permission => "permission",
            BindFailure::Invalid => "invalid",
            BindFailure::Other => "other",
        }
    }

    /// A word or two for the verdict line.
    pub fn headline(self) -> &'static str {
        match self {
            BindFailure::InUse => "busy",
            BindFailure::NotAvailable => "address not available",
            BindFailure::Permission => "permission denied",
            BindFailure::Invalid => "invalid address",
            BindFailure::Other => "error",
        }
    }
}

/// A failed bind(): why, and the system's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindFailed {
    pub reason: BindFailure,
    pub message: String,
}

/// One real bind() attempt (closed at once, never listened on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The address bound, an IPv6 scope included.
    pub addr: SocketAddr,
    /// IPv6 wildcard bound with IPV6_V6ONLY off: it also takes IPv4, as
    /// servers bind `[::]` by default.
    pub dual_stack: bool,
    /// Plain bind().
    pub plain: Result<(), BindFailed>,
    /// With SO_REUSEADDR set first, as servers do.
    pub reuseaddr: Result<(), BindFailed>,
}

/// Results of the real bind()s of `--try`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryResult {
    /// The address asked for, or for a bare port `0.0.0.0` then `[::]`
    /// (dual-stack), what servers bind.
    pub attempts: Vec<Attempt>,
}

impl TryResult {
    /// The first plain bind() that failed: the verdict.
    pub fn failure(&self) -> Option<(&Attempt, &BindFailed)> {
        self.attempts
            .iter()
            .find_map(|a| a.plain.as_ref().err().map(|f| (a, f)))
    }
}

/// The socket for a bind() could not even be set up (not a verdict on the
/// address: socket() or setsockopt() failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot {step} for a bind() to {addr}")]
pub struct TryError {
    pub step: &'static str,
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// What `--try` binds for a target: the address asked for with its scope
/// (an IPv6 wildcard dual-stack), or for a bare port `0.0.0.0` and `[::]`
/// dual-stack.
pub fn try_addresses(target: LocalPort, scope: u32) -> Vec<(SocketAddr, bool)> {
    let v6 = |ip: Ipv6Addr| {
        (
            SocketAddr::V6(SocketAddrV6::new(ip, target.port, 0, scope)),
            ip.is_unspecified(),
        )
    };
    match target.addr {
        Some(IpAddr::V4(ip)) => vec![(SocketAddr::new(IpAddr::V4(ip), target.port), false)],
        Some(IpAddr::V6(ip)) => vec![v6(ip)],
        None => vec![
            (
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), target.port),
                false,
            ),
            v6(Ipv6Addr::UNSPECIFIED),
        ],
    }
}

/// Binds a socket of `proto` to each address of [`try_addresses`] (plain,
/// then with SO_REUSEADDR) and closes it: never listens, sends nothing.
pub fn try_bind(target: LocalPort, scope: u32, proto: Protocol) -> Result<TryResult, TryError> {
    let mut attempts = Vec::new();
    for (addr, dual_stack) in try_addresses(target, scope) {
        attempts.push(Attempt {
            addr,
            dual_stack,
            plain: bind_once(addr, dual_stack, proto, false)?,
            reuseaddr: bind_once(addr, dual_stack, proto, true)?,
        });
    }
    Ok(TryResult { attempts })
}

/// One bind(): `Ok(Err(_))` is the kernel's answer, `Err(_)` a socket
/// that could not be set up.
fn bind_once(
    addr: SocketAddr,
    dual_stack: bool,
    proto: Protocol,
    reuse: bool,
) -> Result<Result<(), BindFailed>, TryError> {
    use socket2::{Domain, Socket, Type};
    let err = |step: &'static str| move |source| TryError { step, addr, source };
    let ty = match proto {
        Protocol::Tcp => Type::STREAM,
        Protocol::Udp => Type::DGRAM,
    };
    let socket = Socket::new(Domain::for_address(addr), ty, None).map_err(err("open a socket"))?;
    if reuse {
        socket
            .set_reuse_address(true)
            .map_err(err("set SO_REUSEADDR"))?;
    }
    if dual_stack {
        socket
            .set_only_v6(false)
            .map_err(err("clear IPV6_V6ONLY"))?;
    }
    Ok(socket.bind(&addr.into()).map_err(|e| BindFailed {
        reason: BindFailure::of(&e),
        message: e.to_string(),
    }))
}

/// Takes the real bind()s as the final word: the verdict, and what each
/// failure means.
pub fn apply_try(v: &mut BindVerdict<'_>, tried: TryResult) {
    let failure = tried.failure().map(|(a, f)| (a.addr, f.reason));
    v.busy = failure.is_some();
    if let Some((addr, reason)) = failure {
        // The dump's "nothing holds it" does not stand against the kernel.
        v.reasons.retain(|r| !r.starts_with("nothing holds "));
        let addr = addr_text(addr);
        v.reasons.push(match reason {
            BindFailure::InUse => {
                format!("bind() to {addr} fails with EADDRINUSE: the port is in use")
            }
            BindFailure::NotAvailable => format!(
                "{addr}: the address is not one of this host's (EADDRNOTAVAIL; with a scope, not \
                 on that interface): bind() fails whatever holds the port"
            ),
            BindFailure::Permission => format!(
                "bind() to {addr} is not permitted (EACCES): the port is below \
                 net.ipv4.ip_unprivileged_port_start and this process lacks \
                 CAP_NET_BIND_SERVICE"
            ),
            BindFailure::Invalid => format!(
                "the kernel refuses {addr} as invalid (EINVAL): a link-local IPv6 address \
                 needs the scope of its interface, e.g. [fe80::1%eth0]:80"
            ),
            BindFailure::Other => format!("bind() to {addr} fails"),
        });
    }
    v.tried = Some(tried);
}

/// `1.2.3.4:80`, `[::1]:80`, `[fe80::1%2]:80`.
pub fn addr_text(a: SocketAddr) -> String {
    let scope = match a {
        SocketAddr::V6(a) => a.scope_id(),
        SocketAddr::V4(_) => 0,
    };
    host_port(a.ip(), scope, a.port())
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
    use crate::model::{Attribution, Owner, Queued, Timer, TimerKind};

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
            attribution: Attribution::Sure,
            listener_inodes: vec![1],
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
            0,
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
            0,
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
            0,
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
    fn try_addresses_and_errnos() {
        let port = |addr: Option<&str>| LocalPort {
            addr: addr.map(|a| a.parse().unwrap()),
            port: 9090,
        };
        assert_eq!(
            try_addresses(port(None), 0),
            vec![
                ("0.0.0.0:9090".parse().unwrap(), false),
                ("[::]:9090".parse().unwrap(), true),
            ],
            "a bare port: what servers bind"
        );
        assert_eq!(
            try_addresses(port(Some("::")), 0),
            vec![("[::]:9090".parse().unwrap(), true)]
        );
        assert_eq!(
            try_addresses(port(Some("fe80::1")), 3),
            vec![("[fe80::1%3]:9090".parse().unwrap(), false)],
            "the scope is kept"
        );
        let of = |n| BindFailure::of(&std::io::Error::from_raw_os_error(n));
        assert_eq!(of(libc::EADDRINUSE), BindFailure::InUse);
        assert_eq!(of(libc::EADDRNOTAVAIL), BindFailure::NotAvailable);
        assert_eq!(of(libc::EACCES), BindFailure::Permission);
        assert_eq!(of(libc::EINVAL), BindFailure::Invalid);
        assert_eq!(of(libc::ENOBUFS), BindFailure::Other);
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
