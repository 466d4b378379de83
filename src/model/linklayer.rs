//! The records of the sockets that are neither internet nor UNIX ones:
//! packet sockets ([`PacketSocket`], ss's `p_raw`/`p_dgr`, with the classic
//! BPF program attached to them, [`BpfInsn`]) and netlink sockets
//! ([`NetlinkSocket`], ss's `nl`), both as [`OtherSocket`].

use super::Owner;

/// The type of a packet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// SOCK_RAW: frames with their link-layer header.
    Raw,
    /// SOCK_DGRAM: frames without it.
    Dgram,
}

impl PacketKind {
    /// SOCK_RAW (3), SOCK_DGRAM (2).
    pub fn from_kernel(t: u8) -> Option<PacketKind> {
        match t {
            3 => Some(PacketKind::Raw),
            2 => Some(PacketKind::Dgram),
            _ => None,
        }
    }

    /// ss's Netid: p_raw, p_dgr.
    pub fn netid(self) -> &'static str {
        match self {
            PacketKind::Raw => "p_raw",
            PacketKind::Dgram => "p_dgr",
        }
    }
}

/// What struct packet_diag_info (include/uapi/linux/packet_diag.h) says
/// besides the interface: ss -e's `ver:N cpy_thresh:N flags( ... )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// pdi_version: TPACKET_V1..V3.
    pub version: u32,
    /// pdi_copy_thresh.
    pub copy_thresh: u32,
    /// pdi_flags: PDI_RUNNING, PDI_AUXDATA, PDI_ORIGDEV, PDI_VNETHDR,
    /// PDI_LOSS.
    pub flags: u32,
}

impl PacketInfo {
    /// The flags' names, in bit order (PDI_RUNNING = 0x1 ... PDI_LOSS =
    /// 0x10), as ss prints them.
    pub const FLAG_NAMES: [&'static str; 5] = ["running", "auxdata", "origdev", "vnethdr", "loss"];

    /// The names of the flags that are set.
    pub fn flag_names(self) -> impl Iterator<Item = &'static str> {
        Self::FLAG_NAMES
            .into_iter()
            .enumerate()
            .filter(move |(bit, _)| self.flags & (1 << bit) != 0)
            .map(|(_, name)| name)
    }
}

/// One instruction of a classic BPF program (include/uapi/linux/filter.h:
/// struct sock_filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// include/uapi/linux/if_ether.h: ETH_P_ALL, every protocol.
pub const ETH_P_ALL: u16 = 0x0003;

/// One packet socket, as one row of `ss -0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSocket {
    pub kind: PacketKind,
    /// The link-layer protocol it receives (an ETH_P_* number, host
    /// order); [`ETH_P_ALL`] for every one.
    pub protocol: u16,
    /// The interface it is bound to, 0 for every one; `None` when the
    /// kernel did not say.
    pub ifindex: Option<u32>,
    /// Bytes queued for reading (sk_rmem_alloc).
    pub recv_q: Option<u32>,
    /// Bytes queued for sending (sk_wmem_alloc).
    pub send_q: Option<u32>,
    pub uid: Option<u32>,
    pub inode: u64,
    pub cookie: Option<u64>,
    /// The classic BPF program attached (SO_ATTACH_FILTER), when the kernel
    /// sent it (it does to a caller with CAP_NET_ADMIN); `None` when none
    /// or not told.
    pub filter: Option<Vec<BpfInsn>>,
    /// PACKET_DIAG_INFO's version, copy threshold and flags (ss -e).
    pub info: Option<PacketInfo>,
    pub owners: Option<Vec<Owner>>,
}

/// One netlink socket, as one row of `ss -A netlink`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkSocket {
    /// The netlink family (NETLINK_ROUTE 0, NETLINK_SOCK_DIAG 4, ...).
    pub protocol: u8,
    /// Its port id: 0 for the kernel's socket, often a process id.
    pub portid: u32,
    /// Connected (NETLINK_CONNECTED) to `dst_portid` / `dst_group`.
    pub connected: bool,
    pub dst_portid: u32,
    pub dst_group: u32,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
    pub inode: u64,
    pub cookie: Option<u64>,
    pub owners: Option<Vec<Owner>>,
}

/// A socket of a kind with its own record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherSocket {
    Packet(PacketSocket),
    Netlink(NetlinkSocket),
}

impl OtherSocket {
    /// ss's Netid word.
    pub fn netid(&self) -> &'static str {
        match self {
            OtherSocket::Packet(p) => p.kind.netid(),
            OtherSocket::Netlink(_) => "nl",
        }
    }

    pub fn inode(&self) -> u64 {
        match self {
            OtherSocket::Packet(p) => p.inode,
            OtherSocket::Netlink(n) => n.inode,
        }
    }

    pub fn owners(&self) -> Option<&[Owner]> {
        match self {
            OtherSocket::Packet(p) => p.owners.as_deref(),
            OtherSocket::Netlink(n) => n.owners.as_deref(),
        }
    }

    pub fn set_owners(&mut self, owners: Vec<Owner>) {
        match self {
            OtherSocket::Packet(p) => p.owners = Some(owners),
            OtherSocket::Netlink(n) => n.owners = Some(owners),
        }
    }
}
