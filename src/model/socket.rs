//! The internet socket record, one row of `ss`: [`Socket`], what -i and -m
//! add to it ([`Extras`]), its timer ([`Timer`]), its place in a listener's
//! queue ([`Queued`]) and the dual-stack rule ([`DualStack`]).

use std::net::SocketAddr;

use super::{Family, Owner, Protocol, SkMemInfo, TcpInfo, TcpState};

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

/// What -i and -m add to a socket, and the attributes ss -e, --cgroup
/// and --tos print (kept when the query asks for them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub tcp_info: Option<TcpInfo>,
    /// INET_DIAG_CONG: the congestion control algorithm.
    pub congestion: Option<String>,
    /// INET_DIAG_SKMEMINFO.
    pub mem: Option<SkMemInfo>,
    /// INET_DIAG_SHUTDOWN: the shutdown mask (bit 0: receiving shut down,
    /// bit 1: sending), sent for every full socket (ss -e's arrows).
    pub shutdown: Option<u8>,
    /// INET_DIAG_MARK: SO_MARK, sent to CAP_NET_ADMIN only.
    pub mark: Option<u32>,
    /// INET_DIAG_CGROUP_ID: the socket's cgroup v2 id.
    pub cgroup_id: Option<u64>,
    /// INET_DIAG_TOS: the IPv4 TOS byte (asked for by --tos).
    pub tos: Option<u8>,
    /// INET_DIAG_TCLASS: the IPv6 traffic class (--tos).
    pub tclass: Option<u8>,
    /// INET_DIAG_CLASS_ID: the net_cls class id, else the priority (--tos).
    pub class_id: Option<u32>,
    /// The congestion control's own data (INET_DIAG_BBRINFO,
    /// INET_DIAG_DCTCPINFO), asked for with -i in ss's format.
    pub cc: Option<CcInfo>,
    /// INET_DIAG_SOCKOPT: the socket's inet options (--inet-sockopt).
    pub sockopt: Option<InetSockopt>,
}

/// struct inet_diag_sockopt (include/uapi/linux/inet_diag.h): one bit per
/// option, the first byte's bits 0-7 then the second byte's bits 0-2, as
/// the kernel fills them in inet_diag_msg_attrs_fill().
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetSockopt(u16);

impl InetSockopt {
    /// The options' names, in bit order (ss --inet-sockopt prints them so).
    pub const NAMES: [&'static str; 11] = [
        "recverr",
        "is_icsk",
        "freebind",
        "hdrincl",
        "mc_loop",
        "transparent",
        "mc_all",
        "nodefrag",
        "bind_addr_no_port",
        "recverr_rfc4884",
        "defer_connect",
    ];

    /// The attribute's two bytes (little-endian bitfields on every
    /// architecture Linux's inet_diag runs on: the first field is bit 0).
    pub fn from_bytes(first: u8, second: u8) -> InetSockopt {
        InetSockopt(u16::from(first) | (u16::from(second & 0b111) << 8))
    }

    /// The names of the options that are on, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .enumerate()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| name)
    }
}

/// What a congestion control algorithm reports about a socket
/// (include/uapi/linux/inet_diag.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcInfo {
    /// struct tcp_bbr_info.
    Bbr {
        /// bbr_bw_hi:bbr_bw_lo, bytes per second.
        bw: u64,
        /// bbr_min_rtt, microseconds.
        min_rtt_us: u32,
        /// bbr_pacing_gain, bbr_cwnd_gain: fixed point, 8 fraction bits.
        pacing_gain: u32,
        cwnd_gain: u32,
    },
    /// struct tcp_dctcp_info.
    Dctcp {
        enabled: bool,
        ce_state: u16,
        alpha: u32,
        ab_ecn: u32,
        ab_tot: u32,
    },
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
