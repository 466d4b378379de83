//! The UNIX domain socket record, one row of `ss -x`: [`UnixSocket`] and
//! its type, [`UnixKind`].

use super::{Owner, SkMemInfo, TcpState};

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
    /// What ss -e and -m print for it, when asked for (netlink only).
    pub extras: Option<Box<UnixExtras>>,
}

/// The unix_diag attributes ss -e and -m print
/// (include/uapi/linux/unix_diag.h).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnixExtras {
    /// UNIX_DIAG_MEMINFO.
    pub mem: Option<SkMemInfo>,
    /// UNIX_DIAG_SHUTDOWN: the shutdown mask.
    pub shutdown: Option<u8>,
    /// UNIX_DIAG_VFS: the bound file's inode and device (new_encode_dev).
    pub vfs: Option<(u32, u32)>,
    /// UNIX_DIAG_ICONS: the inodes of a listener's pending connections.
    pub pending: Option<Vec<u32>>,
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
