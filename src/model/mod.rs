//! The socket record every reader produces and every later layer consumes.
//!
//! Nothing here knows where a record came from (netlink or /proc) or how it
//! will be shown: it only says what the kernel said, with `None` wherever the
//! source could not tell (never a made-up zero).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

mod knobs;
mod sockstat;
mod tcpinfo;

pub use knobs::{DEFAULT_PORT_RANGE, NetKnobs, TcpExtCounters};
pub use sockstat::{FragCounts, SockStat, TcpCounts, UdpCounts};
pub use tcpinfo::{SkMemInfo, TcpInfo, TcpOptions};

/// Transport protocol of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// All protocols sockscope reads, in the order ss lists them.
    pub const ALL: [Protocol; 2] = [Protocol::Tcp, Protocol::Udp];

    /// Lower-case name, as in ss's Netid column and the JSON `proto` field.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// The IPPROTO_* number (include/uapi/linux/in.h).
    pub fn ipproto(self) -> u8 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u8,
            Protocol::Udp => libc::IPPROTO_UDP as u8,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Address family of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Inet, Family::Inet6];

    /// Name used in JSON (`inet`, `inet6`), as `ip` and ss's `-f` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }

    /// The AF_* number (include/linux/socket.h).
    pub fn af(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A socket state as the kernel numbers it (include/net/tcp_states.h).
///
/// UDP reuses two of them: `Established` for a connected socket and `Close`
/// for an unconnected one (shown as `UNCONN`, as ss does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
}

/// include/net/tcp_states.h: TCP_NEW_SYN_RECV, the kernel's request socket.
const TCP_NEW_SYN_RECV: u8 = 12;

impl TcpState {
    /// Every state, in kernel order.
    pub const ALL: [TcpState; 11] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
    ];

    /// Maps the kernel's state number; NEW_SYN_RECV (a request socket) is
    /// SYN_RECV to the user, as in /proc/net/tcp and ss.
    pub fn from_kernel(n: u8) -> Option<TcpState> {
        if n == TCP_NEW_SYN_RECV {
            return Some(TcpState::SynRecv);
        }
        TcpState::ALL.iter().copied().find(|s| *s as u8 == n)
    }

    /// The kernel/netstat spelling for TCP (`ESTABLISHED`, `TIME_WAIT`, ...).
    pub fn kernel_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// The name shown for a socket of `proto`: an unconnected UDP socket is
    /// `UNCONN` (ss's word), everything else the kernel spelling.
    pub fn name_for(self, proto: Protocol) -> &'static str {
        match (proto, self) {
            (Protocol::Udp, TcpState::Close) => "UNCONN",
            _ => self.kernel_name(),
        }
    }

    /// This state's bit in an inet_diag states mask (1 << state).
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of states, stored as the kernel's inet_diag states bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateSet(u32);

impl StateSet {
    pub const EMPTY: StateSet = StateSet(0);

    /// Every state (ss `-a`).
    pub fn all() -> StateSet {
        TcpState::ALL.iter().copied().collect()
    }

    /// ss's default: every state but LISTEN, CLOSE, TIME_WAIT and SYN_RECV
    /// (ss.c's SS_CONN).
    pub fn connected() -> StateSet {
        StateSet::all().without(&[
            TcpState::Listen,
            TcpState::Close,
            TcpState::TimeWait,
            TcpState::SynRecv,
        ])
    }

    /// What ss `-l` shows: LISTEN, and CLOSE (an unconnected UDP socket).
    pub fn listening() -> StateSet {
        [TcpState::Listen, TcpState::Close].into_iter().collect()
    }

    pub fn union(self, other: StateSet) -> StateSet {
        StateSet(self.0 | other.0)
    }

    pub fn minus(self, other: StateSet) -> StateSet {
        StateSet(self.0 & !other.0)
    }

    pub fn with(self, state: TcpState) -> StateSet {
        StateSet(self.0 | state.bit())
    }

    pub fn without(self, states: &[TcpState]) -> StateSet {
        StateSet(states.iter().fold(self.0, |m, s| m & !s.bit()))
    }

    pub fn contains(self, state: TcpState) -> bool {
        self.0 & state.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The mask for inet_diag_req_v2.idiag_states
    /// (include/uapi/linux/inet_diag.h). SYN_RECV also sets the
    /// NEW_SYN_RECV bit so request sockets are dumped on every kernel.
    pub fn kernel_mask(self) -> u32 {
        let mut mask = self.0;
        if self.contains(TcpState::SynRecv) {
            mask |= 1 << TCP_NEW_SYN_RECV;
        }
        mask
    }

    pub fn iter(self) -> impl Iterator<Item = TcpState> {
        TcpState::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<TcpState> for StateSet {
    fn from_iter<I: IntoIterator<Item = TcpState>>(iter: I) -> Self {
        StateSet(iter.into_iter().fold(0, |m, s| m | s.bit()))
    }
}

/// One internet socket, as one row of `ss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub proto: Protocol,
    pub family: Family,
    pub state: TcpState,
    /// Local address and port; an IPv6 link-local address keeps its scope.
    pub local: SocketAddr,
    /// Remote address and port; `0.0.0.0:0` / `[::]:0` when unconnected.
    pub remote: SocketAddr,
    /// LISTEN: connections waiting in the accept queue. Others: bytes not
    /// yet read by the application (UDP: receive memory in use).
    pub recv_q: u32,
    /// LISTEN: the backlog, `None` where the source cannot tell (/proc).
    /// Others: bytes not yet acknowledged by the peer (UDP: send memory).
    pub send_q: Option<u32>,
    /// Owner uid. `None` where the kernel does not say: a request socket
    /// (SYN_RECV) over netlink is reported with uid 0 (inet_req_diag_fill),
    /// while /proc shows the listener's uid for it.
    pub uid: Option<u32>,
    /// The socket's inode; 0 for sockets no file refers to (TIME_WAIT,
    /// SYN_RECV, orphans, connections not yet accept()ed).
    pub inode: u64,
    /// The kernel's socket cookie (netlink only).
    pub cookie: Option<u64>,
    /// Interface the socket is bound to (SO_BINDTODEVICE or a link-local
    /// scope), 0 for none; `None` where the source cannot tell (/proc).
    pub ifindex: Option<u32>,
    /// IPV6_V6ONLY of an AF_INET6 LISTEN or unconnected socket; `None` where
    /// unknown (IPv4 sockets, other states, /proc).
    pub v6only: Option<bool>,
    /// The processes holding the socket through a file descriptor; `None`
    /// when nobody looked (no `-p`), empty when none is visible.
    pub owners: Option<Vec<Owner>>,
    /// Set when the socket waits in a listener's queue: a connection the
    /// kernel completed (or half-opened) that no process has accept()ed yet.
    pub queue: Option<Box<Queued>>,
    /// The TCP timer running on the socket, if any.
    pub timer: Option<Timer>,
    /// tcp_info, congestion control and socket memory, when asked for
    /// (-i, -m) and the source has them (netlink only).
    pub extras: Option<Box<Extras>>,
}

/// What -i and -m add to a socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub tcp_info: Option<TcpInfo>,
    /// INET_DIAG_CONG: the congestion control algorithm.
    pub congestion: Option<String>,
    /// INET_DIAG_SKMEMINFO.
    pub mem: Option<SkMemInfo>,
}

/// The type of a UNIX socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnixKind {
    Stream,
    Dgram,
    SeqPacket,
}

impl UnixKind {
    /// SOCK_STREAM (1), SOCK_DGRAM (2), SOCK_SEQPACKET (5).
    pub fn from_kernel(t: u32) -> Option<UnixKind> {
        match t {
            1 => Some(UnixKind::Stream),
            2 => Some(UnixKind::Dgram),
            5 => Some(UnixKind::SeqPacket),
            _ => None,
        }
    }

    /// ss's Netid: u_str, u_dgr, u_seq.
    pub fn netid(self) -> &'static str {
        match self {
            UnixKind::Stream => "u_str",
            UnixKind::Dgram => "u_dgr",
            UnixKind::SeqPacket => "u_seq",
        }
    }
}

/// One UNIX domain socket, as one row of `ss -x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    pub kind: UnixKind,
    /// ESTABLISHED (connected), LISTEN, CLOSE (unconnected: UNCONN),
    /// SYN_SENT (connecting).
    pub state: TcpState,
    /// The bound name, byte for byte; an abstract name starts with `@` (its
    /// NUL bytes shown as `@`, as /proc/net/unix does); `None` if unbound.
    pub path: Option<Vec<u8>>,
    pub inode: u64,
    /// The peer's inode (netlink only; 0 when connected to nothing).
    pub peer_inode: Option<u64>,
    /// The peer's name, when the peer is in the same dump and bound.
    pub peer_path: Option<Vec<u8>>,
    /// LISTEN: connections waiting; others: bytes (or datagrams) queued.
    /// `None` from /proc.
    pub recv_q: Option<u32>,
    /// LISTEN: the backlog; others: bytes being sent. `None` from /proc.
    pub send_q: Option<u32>,
    pub uid: Option<u32>,
    pub cookie: Option<u64>,
    pub owners: Option<Vec<Owner>>,
}

impl UnixSocket {
    /// The state as ss shows it for UNIX sockets.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            TcpState::Close => "UNCONN",
            s => s.kernel_name(),
        }
    }
}

/// Which TCP timer runs (idiag_timer, /proc's `tr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// Retransmission (also the SYN-ACK timer of a request socket).
    On,
    KeepAlive,
    /// TIME_WAIT, or the FIN_WAIT2 timeout of an orphan.
    TimeWait,
    /// Zero-window probe.
    Persist,
}

impl TimerKind {
    /// The kernel's timer number (1-4), as in idiag_timer and /proc.
    pub fn from_kernel(n: u8) -> Option<TimerKind> {
        match n {
            1 => Some(TimerKind::On),
            2 => Some(TimerKind::KeepAlive),
            3 => Some(TimerKind::TimeWait),
            4 => Some(TimerKind::Persist),
            _ => None,
        }
    }

    /// ss's name: on, keepalive, timewait, persist.
    pub fn name(self) -> &'static str {
        match self {
            TimerKind::On => "on",
            TimerKind::KeepAlive => "keepalive",
            TimerKind::TimeWait => "timewait",
            TimerKind::Persist => "persist",
        }
    }
}

/// A running timer: which, when it fires, and how often it already did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub kind: TimerKind,
    /// Milliseconds until it fires (0 when overdue).
    pub expires_ms: u64,
    /// Retransmissions for `On`; keepalive or zero-window probes sent for
    /// the others.
    pub retrans: u32,
}

/// A process holding a socket through one of its file descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub fd: u32,
    /// /proc/PID/comm: the thread-group leader's name (at most 15 bytes).
    pub comm: Arc<str>,
    /// /proc/PID/cmdline with its NULs as spaces, when asked for.
    pub cmdline: Option<Arc<str>>,
    /// The exact bytes of `comm` and `cmdline` when either is not UTF-8
    /// (the text then carries U+FFFD for the bad bytes); `None` otherwise.
    pub raw: Option<Arc<RawNames>>,
}

/// A process's names as bytes, kept only when they are not UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawNames {
    pub comm: Option<Box<[u8]>>,
    pub cmdline: Option<Box<[u8]>>,
}

/// Which queue of a listener a not-yet-accepted connection waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    /// Handshake complete, waiting for accept(): ESTABLISHED, or
    /// CLOSE_WAIT when the client already closed (still queued, and still
    /// counted in the listener's Recv-Q).
    Accept,
    /// Half-open: SYN_RECV, waiting for the client's ACK (or, with
    /// TCP_DEFER_ACCEPT, for its first data).
    Syn,
}

impl QueueKind {
    pub fn name(self) -> &'static str {
        match self {
            QueueKind::Accept => "accept",
            QueueKind::Syn => "syn",
        }
    }
}

/// How sure the tie between a queued connection and its listener is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// One listener: the kernel's lookup and the listeners' Recv-Q agree.
    Sure,
    /// One of several listeners (an SO_REUSEPORT group, or listeners whose
    /// Recv-Q cannot tell which holds it); `listener_owners` lists them all.
    OneOf,
}

impl Attribution {
    /// The JSON name: `sure`, `one_of`.
    pub fn name(self) -> &'static str {
        match self {
            Attribution::Sure => "sure",
            Attribution::OneOf => "one_of",
        }
    }
}

/// A connection waiting in a listener's queue, and who owns that listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub kind: QueueKind,
    /// The listener's local address (may be a wildcard); with
    /// [`Attribution::OneOf`], that of the first candidate.
    pub listener: SocketAddr,
    /// The owners of the listener, or of every candidate listener.
    pub listener_owners: Vec<Owner>,
    pub attribution: Attribution,
    /// The inode of the listener, or of every candidate listener.
    pub listener_inodes: Vec<u64>,
}

/// Whether an IPv6 socket is dual-stack (IPV6_V6ONLY off), so that its
/// wildcard address `[::]` stands for IPv4 too: ss prints such a wildcard
/// as `*`. /proc does not show IPV6_V6ONLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DualStack {
    /// An IPv4 socket, or an IPv6 one known to be v6only.
    No,
    /// An IPv6 socket known not to be v6only.
    Yes,
    /// An IPv6 socket whose v6only the source does not report (/proc, and
    /// netlink for TIME_WAIT and SYN_RECV): it may or may not take IPv4.
    Unknown,
}

impl Socket {
    /// Whether this socket's IPv6 wildcard also takes IPv4 (see
    /// [`DualStack`]). The one place the dual-stack rule lives; callers
    /// decide what [`DualStack::Unknown`] means for them: the table prints
    /// `*` only for `Yes`, `who` counts `Unknown` as possibly holding IPv4.
    pub fn dual_stack(&self) -> DualStack {
        match (self.family, self.v6only) {
            (Family::Inet, _) | (Family::Inet6, Some(true)) => DualStack::No,
            (Family::Inet6, Some(false)) => DualStack::Yes,
            (Family::Inet6, None) => DualStack::Unknown,
        }
    }
}

#[cfg(test)]
impl Socket {
    /// A TCP record for unit tests: idle queues, uid 0, inode 1, nothing
    /// else known; tests change the fields they care about.
    pub fn test_tcp(state: TcpState, local: &str, remote: &str) -> Socket {
        let local: SocketAddr = local.parse().expect("test address");
        Socket {
            proto: Protocol::Tcp,
            family: if local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            },
            state,
            local,
            remote: remote.parse().expect("test address"),
            recv_q: 0,
            send_q: Some(0),
            uid: Some(0),
            inode: 1,
            cookie: None,
            ifindex: None,
            v6only: None,
            owners: None,
            queue: None,
            timer: None,
            extras: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_syn_recv_reads_as_syn_recv() {
        assert_eq!(TcpState::from_kernel(12), Some(TcpState::SynRecv));
        assert_eq!(TcpState::from_kernel(3), Some(TcpState::SynRecv));
        assert_eq!(TcpState::from_kernel(0), None);
        assert_eq!(TcpState::from_kernel(13), None);
    }

    #[test]
    fn default_states_match_ss() {
        let s = StateSet::connected();
        assert!(s.contains(TcpState::Established));
        assert!(s.contains(TcpState::CloseWait));
        assert!(!s.contains(TcpState::Listen));
        assert!(!s.contains(TcpState::TimeWait));
        assert!(!s.contains(TcpState::SynRecv));
        assert!(!s.contains(TcpState::Close));
    }

    #[test]
    fn kernel_mask_adds_new_syn_recv() {
        let s: StateSet = [TcpState::SynRecv].into_iter().collect();
        assert_eq!(s.kernel_mask(), (1 << 3) | (1 << 12));
        assert_eq!(StateSet::all().kernel_mask(), 0xffe | (1 << 12));
    }

    #[test]
    fn udp_close_is_unconn() {
        assert_eq!(TcpState::Close.name_for(Protocol::Udp), "UNCONN");
        assert_eq!(TcpState::Close.name_for(Protocol::Tcp), "CLOSE");
        assert_eq!(TcpState::SynRecv.name_for(Protocol::Tcp), "SYN_RECV");
    }
}
