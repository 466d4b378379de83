//! `why-bind`: why a bind() to an address and port would fail now, as a
//! [`BindVerdict`] of typed [`Reason`]s (the holders, TIME_WAIT and its
//! time left, queued connections, other states, wildcard overlaps) and
//! [`Note`]s on the port itself; and `--try`, the real bind() (socket2),
//! whose errno ([`BindFailure`]) is the final word.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::filter::LocalPort;
use crate::model::NetKnobs;
use crate::model::{Protocol, QueueKind, Socket, TcpState};

/// A bind() target: address (None: the wildcard) and port.
pub fn bind_target(t: LocalPort) -> LocalPort {
    // Binding 0.0.0.0 or :: conflicts with every address of the port.
    LocalPort {
        addr: t.addr.filter(|a| !a.is_unspecified()),
        port: t.port,
    }
}

/// One cause of the verdict, with what `output` needs to say it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason<'a> {
    /// A listener holds the port (its socket: address, protocol, owners);
    /// a second one needs SO_REUSEPORT on both, by the same user.
    Listening { socket: &'a Socket },
    /// A bound UDP socket holds the port.
    UdpBound { socket: &'a Socket },
    /// A TCP socket bound to the port but neither listening nor connected
    /// (TCP_BOUND_INACTIVE) holds it: bind() fails with EADDRINUSE unless
    /// both sockets set SO_REUSEADDR (or SO_REUSEPORT, by the same user).
    BoundInactive { socket: &'a Socket },
    /// TCP sockets in TIME_WAIT hold it.
    TimeWait {
        count: usize,
        /// When the last of them expires, in milliseconds from now.
        last_expires_ms: u64,
        /// They are all the holders: SO_REUSEADDR may bind now.
        only: bool,
    },
    /// Connections completed by the kernel and waiting in an accept queue
    /// (no process has them yet).
    Queued {
        count: usize,
        /// Those the client already closed (CLOSE_WAIT).
        close_wait: usize,
    },
    /// Other TCP sockets on the port (neither listening, nor TIME_WAIT,
    /// nor queued), counted per state, in the order first seen.
    InState { state: TcpState, count: usize },
    /// A socket bound to the wildcard address covers the address asked for.
    WildcardCovers { addr: IpAddr },
    /// The wildcard asked for conflicts with sockets bound to a specific
    /// address.
    SpecificConflicts,
    /// Nothing holds the port: bind() should succeed.
    Free { proto: Protocol, port: u16 },
    /// With `--try`, the real bind() to `addr` failed.
    BindFailed {
        addr: SocketAddr,
        failure: BindFailure,
    },
}

/// A fact about the port itself, whatever holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Inside net.ipv4.ip_local_port_range: outgoing connections may take it.
    Ephemeral { port: u16, range: (u16, u16) },
    /// In net.ipv4.ip_local_reserved_ports: never handed out as ephemeral.
    Reserved { port: u16 },
    /// Below net.ipv4.ip_unprivileged_port_start and not root.
    Privileged { port: u16, start: u16 },
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
    /// The explanation, most important first.
    pub reasons: Vec<Reason<'a>>,
    /// Facts about the port itself (ephemeral range, reserved, privilege).
    pub notes: Vec<Note>,
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
    for s in holders.iter().filter(|s| s.state == TcpState::Listen) {
        reasons.push(Reason::Listening { socket: s });
    }
    for s in holders
        .iter()
        .filter(|s| s.state == TcpState::BoundInactive)
    {
        reasons.push(Reason::BoundInactive { socket: s });
    }
    if proto == Protocol::Udp {
        for s in holders.iter().filter(|s| s.state != TcpState::Listen) {
            reasons.push(Reason::UdpBound { socket: s });
        }
    }
    let tw: Vec<&&Socket> = holders
        .iter()
        .filter(|s| proto == Protocol::Tcp && s.state == TcpState::TimeWait)
        .collect();
    if !tw.is_empty() {
        reasons.push(Reason::TimeWait {
            count: tw.len(),
            last_expires_ms: tw
                .iter()
                .filter_map(|s| s.timer.map(|t| t.expires_ms))
                .max()
                .unwrap_or(0),
            only: tw.len() == holders.len(),
        });
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
            reasons.push(Reason::Queued {
                count: queued.len(),
                close_wait: queued
                    .iter()
                    .filter(|s| s.state == TcpState::CloseWait)
                    .count(),
            });
        }
        let mut others: Vec<(TcpState, usize)> = Vec::new();
        for s in holders.iter().filter(|s| {
            !matches!(
                s.state,
                TcpState::Listen | TcpState::TimeWait | TcpState::BoundInactive
            ) && s.queue.is_none()
        }) {
            match others.iter_mut().find(|(st, _)| *st == s.state) {
                Some((_, n)) => *n += 1,
                None => others.push((s.state, 1)),
            }
        }
        reasons.extend(
            others
                .into_iter()
                .map(|(state, count)| Reason::InState { state, count }),
        );
    }
    // Wildcard versus specific addresses.
    match target.addr {
        Some(addr) => {
            if holders.iter().any(|s| s.local.ip().is_unspecified()) {
                reasons.push(Reason::WildcardCovers { addr });
            }
        }
        None => {
            if holders.iter().any(|s| !s.local.ip().is_unspecified()) {
                reasons.push(Reason::SpecificConflicts);
            }
        }
    }
    let port = target.port;
    let mut notes = Vec::new();
    if let Some((lo, hi)) = knobs.ip_local_port_range
        && (lo..=hi).contains(&port)
    {
        notes.push(Note::Ephemeral {
            port,
            range: (lo, hi),
        });
    }
    if knobs.reserved(port) {
        notes.push(Note::Reserved { port });
    }
    if let Some(start) = knobs.ip_unprivileged_port_start
        && port < start
        && euid != 0
    {
        notes.push(Note::Privileged { port, start });
    }
    let busy = !holders.is_empty();
    if !busy {
        reasons.push(Reason::Free { proto, port });
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
    // why-bind checks TCP or UDP ports (config); an MPTCP socket binds a
    // TCP port, and a raw socket has no port to try.
    let ty = match proto {
        Protocol::Tcp | Protocol::Mptcp => Type::STREAM,
        Protocol::Udp | Protocol::Raw => Type::DGRAM,
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

/// Takes the real bind()s as the final word: the verdict, and what the
/// failure means.
pub fn apply_try(v: &mut BindVerdict<'_>, tried: TryResult) {
    let failure = tried.failure().map(|(a, f)| (a.addr, f.reason));
    v.busy = failure.is_some();
    if let Some((addr, failure)) = failure {
        // The dump's "nothing holds it" does not stand against the kernel.
        v.reasons.retain(|r| !matches!(r, Reason::Free { .. }));
        v.reasons.push(Reason::BindFailed { addr, failure });
    }
    v.tried = Some(tried);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Owner, Timer, TimerKind};

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
        assert_eq!(
            v.reasons,
            [
                Reason::TimeWait {
                    count: 1,
                    last_expires_ms: 41_500,
                    only: true
                },
                Reason::SpecificConflicts
            ]
        );
    }

    /// A socket bound and never listened on holds the port: its own
    /// reason, not a state count.
    #[test]
    fn why_bind_bound_inactive() {
        let socks = vec![tcp(TcpState::BoundInactive, "127.0.0.1:7003", "0.0.0.0:0")];
        let v = why_bind(
            LocalPort {
                addr: Some("127.0.0.1".parse().unwrap()),
                port: 7003,
            },
            0,
            Protocol::Tcp,
            &socks,
            &knobs(),
            0,
        );
        assert!(v.busy);
        assert_eq!(v.reasons, [Reason::BoundInactive { socket: &socks[0] }]);
    }

    #[test]
    fn why_bind_listener_and_notes() {
        let mut l = tcp(TcpState::Listen, "0.0.0.0:40050", "0.0.0.0:0");
        l.owners = Some(vec![Owner {
            pid: 812,
            fd: 6,
            tid: None,
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
        assert_eq!(
            v.reasons,
            [
                Reason::Listening { socket: &socks[0] },
                Reason::WildcardCovers {
                    addr: "127.0.0.1".parse().unwrap()
                }
            ]
        );
        assert_eq!(
            v.notes,
            [
                Note::Ephemeral {
                    port: 40050,
                    range: (40000, 40099)
                },
                Note::Reserved { port: 40050 }
            ]
        );
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
        assert_eq!(
            free.reasons,
            [Reason::Free {
                proto: Protocol::Tcp,
                port: 80
            }]
        );
        assert_eq!(
            free.notes,
            [Note::Privileged {
                port: 80,
                start: 1024
            }]
        );
    }

    #[test]
    fn a_failed_try_replaces_free() {
        let mut v = why_bind(
            LocalPort {
                addr: None,
                port: 80,
            },
            0,
            Protocol::Tcp,
            &[],
            &knobs(),
            0,
        );
        let addr: SocketAddr = "0.0.0.0:80".parse().unwrap();
        let failed = BindFailed {
            reason: BindFailure::InUse,
            message: "Address in use".into(),
        };
        apply_try(
            &mut v,
            TryResult {
                attempts: vec![Attempt {
                    addr,
                    dual_stack: false,
                    plain: Err(failed.clone()),
                    reuseaddr: Err(failed),
                }],
            },
        );
        assert!(v.busy);
        assert_eq!(
            v.reasons,
            [Reason::BindFailed {
                addr,
                failure: BindFailure::InUse
            }]
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
}
