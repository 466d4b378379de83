//! Probes for the socket kinds sockscope does not read as rows (SCTP, DCCP,
//! vsock, TIPC, XDP): one SOCK_DIAG_BY_FAMILY dump request each, to tell a
//! kernel without the diagnostics module (ss then lists nothing, and so
//! does sockscope, saying why) from one that has it. This module builds the
//! requests; [`super::netlink::Session::probe`] sends them.

use crate::model::SocketKind;

/// include/uapi/linux/netlink.h: NLMSG_HDRLEN.
const NLMSG_HDRLEN: usize = 16;
/// include/uapi/linux/sock_diag.h: SOCK_DIAG_BY_FAMILY.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// include/linux/socket.h: AF_VSOCK, AF_TIPC, AF_XDP.
const AF_VSOCK: u8 = 40;
const AF_TIPC: u8 = 30;
const AF_XDP: u8 = 44;
/// include/uapi/linux/in.h: IPPROTO_DCCP, IPPROTO_SCTP.
const IPPROTO_DCCP: u8 = 33;
const IPPROTO_SCTP: u8 = 132;
/// The longest request struct among the probed families
/// (include/uapi/linux/vsock_diag.h: sizeof(struct vsock_diag_req) = 28;
/// inet_diag_req_v2 is 56): the request carries this many bytes, zero but
/// for the family, the protocol and an all-states mask.
const REQUEST_LEN: usize = 56;

/// The kinds that are probed, one per kernel module (vsock's two types
/// share one); packet and netlink sockets are read (source::linklayer),
/// not probed.
pub fn probed(kind: SocketKind) -> bool {
    matches!(
        kind,
        SocketKind::Sctp
            | SocketKind::Dccp
            | SocketKind::VsockStream
            | SocketKind::VsockDgram
            | SocketKind::Tipc
            | SocketKind::Xdp
    )
}

/// (sdiag_family, sdiag_protocol) of the kind's request.
pub fn keys(kind: SocketKind) -> (u8, u8) {
    match kind {
        SocketKind::Sctp => (libc::AF_INET as u8, IPPROTO_SCTP),
        SocketKind::Dccp => (libc::AF_INET as u8, IPPROTO_DCCP),
        SocketKind::VsockStream | SocketKind::VsockDgram => (AF_VSOCK, 0),
        SocketKind::Tipc => (AF_TIPC, 0),
        SocketKind::Xdp => (AF_XDP, 0),
        SocketKind::PacketRaw | SocketKind::PacketDgram => (libc::AF_PACKET as u8, 0),
        SocketKind::Netlink => (libc::AF_NETLINK as u8, 0),
        SocketKind::UnixDgram | SocketKind::UnixStream | SocketKind::UnixSeqpacket => {
            (libc::AF_UNIX as u8, 0)
        }
        SocketKind::Tcp => (libc::AF_INET as u8, libc::IPPROTO_TCP as u8),
        SocketKind::Mptcp => (libc::AF_INET as u8, libc::IPPROTO_TCP as u8),
        SocketKind::Udp => (libc::AF_INET as u8, libc::IPPROTO_UDP as u8),
        SocketKind::Raw => (libc::AF_INET as u8, libc::IPPROTO_RAW as u8),
    }
}

/// The kernel module that answers sock_diag for the kind.
pub fn module(kind: SocketKind) -> &'static str {
    match kind {
        SocketKind::Sctp => "sctp_diag",
        SocketKind::Dccp => "dccp_diag",
        SocketKind::VsockStream | SocketKind::VsockDgram => "vsock_diag",
        SocketKind::Tipc => "tipc_diag",
        SocketKind::Xdp => "xsk_diag",
        SocketKind::PacketRaw | SocketKind::PacketDgram => "packet_diag",
        SocketKind::Netlink => "netlink_diag",
        SocketKind::Mptcp => "mptcp_diag",
        SocketKind::Raw => "raw_diag",
        SocketKind::Tcp | SocketKind::Udp => "inet_diag",
        SocketKind::UnixDgram | SocketKind::UnixStream | SocketKind::UnixSeqpacket => "unix_diag",
    }
}

/// The dump request of a probe: a netlink header (SOCK_DIAG_BY_FAMILY,
/// NLM_F_REQUEST|NLM_F_DUMP) and a zeroed request struct holding the
/// family, the protocol and every state (inet_diag_req_v2.idiag_states and
/// vsock_diag_req.vdiag_states are both at byte 4).
pub fn request(kind: SocketKind, seq: u32) -> Vec<u8> {
    let (family, protocol) = keys(kind);
    let len = NLMSG_HDRLEN + REQUEST_LEN;
    let mut v = Vec::with_capacity(len);
    // struct nlmsghdr: nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    let mut body = [0u8; REQUEST_LEN];
    body[0] = family;
    body[1] = protocol;
    body[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    // TIPC's request is 8 bytes: its mask is the same field.
    v.extend_from_slice(&body);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_one_message() {
        let r = request(SocketKind::Sctp, 7);
        assert_eq!(r.len(), 72);
        assert_eq!(u32::from_ne_bytes(r[..4].try_into().unwrap()), 72);
        assert_eq!((r[16], r[17]), (2, 132));
        assert!(probed(SocketKind::Xdp) && !probed(SocketKind::PacketRaw));
    }
}
