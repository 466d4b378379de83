//! Destroy events (`-E`, as ss -E): a NETLINK_SOCK_DIAG socket bound to
//! the sock_diag multicast groups that announce every TCP or UDP socket the
//! kernel frees (include/uapi/linux/sock_diag.h: SKNLGRP_INET_TCP_DESTROY,
//! SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_TCP_DESTROY,
//! SKNLGRP_INET6_UDP_DESTROY), and the parser of what it receives: one
//! struct inet_diag_msg per socket, its protocol in INET_DIAG_PROTOCOL.
//! The kernel announces destroys only (nothing announces new sockets).
//!
//! [`Subscription::receive`] takes one datagram; the loop around it (and
//! the poll over several namespaces' subscriptions) is the caller's, so a
//! live view can drive it its own way. A subscription hears the network
//! namespace it was opened in: open it on a thread inside that namespace.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NetlinkBuffer, NlasIterator};
use netlink_packet_sock_diag::SOCK_DIAG_BY_FAMILY;

use crate::model::{Family, Protocol, Socket};

/// include/uapi/linux/sock_diag.h: enum sknetlink_groups.
const SKNLGRP_INET_TCP_DESTROY: u32 = 1;
const SKNLGRP_INET_UDP_DESTROY: u32 = 2;
const SKNLGRP_INET6_TCP_DESTROY: u32 = 3;
const SKNLGRP_INET6_UDP_DESTROY: u32 = 4;

/// include/uapi/linux/inet_diag.h: INET_DIAG_PROTOCOL.
const INET_DIAG_PROTOCOL: u16 = 10;

/// include/uapi/linux/netlink.h: NLMSG_HDRLEN.
const NLMSG_HDRLEN: usize = 16;

/// include/uapi/linux/inet_diag.h: sizeof(struct inet_diag_msg).
const INET_DIAG_MSG_LEN: usize = 72;

/// The bind mask (nl_groups) of the groups for these protocols and
/// families: bit `group - 1` for each.
pub fn groups(protocols: &[Protocol], families: &[Family]) -> u32 {
    let mut mask = 0;
    for &proto in protocols {
        for &family in families {
            let group = match (family, proto) {
                (Family::Inet, Protocol::Tcp) => SKNLGRP_INET_TCP_DESTROY,
                (Family::Inet, Protocol::Udp) => SKNLGRP_INET_UDP_DESTROY,
                (Family::Inet6, Protocol::Tcp) => SKNLGRP_INET6_TCP_DESTROY,
                (Family::Inet6, Protocol::Udp) => SKNLGRP_INET6_UDP_DESTROY,
                // No destroy group (include/uapi/linux/sock_diag.h).
                (_, Protocol::Raw | Protocol::Mptcp) => continue,
            };
            mask |= 1 << (group - 1);
        }
    }
    mask
}

/// A failure of the subscription.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot subscribe to the sock_diag destroy events (the kernel refused: run as root)")]
    NotPermitted(#[source] io::Error),
    #[error("cannot subscribe to the sock_diag destroy events")]
    Open(#[source] io::Error),
    #[error("cannot receive sock_diag destroy events")]
    Receive(#[source] io::Error),
    #[error("malformed destroy event: {0}")]
    Malformed(String),
}

/// What one receive brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Datagrams parsed; this many sockets handed over.
    Sockets(usize),
    /// ENOBUFS: the socket's buffer overflowed and events were lost.
    Overrun,
}

/// A socket bound to destroy groups.
pub struct Subscription {
    sock: netlink_sys::Socket,
    buf: Vec<u8>,
}

/// Socket receive buffer, as for dumps: a burst of closes must not overrun.
const SOCKET_RCVBUF: usize = 1 << 20;

impl Subscription {
    /// Opens a subscription to `groups` ([`groups`]) in the calling
    /// thread's network namespace.
    pub fn open(groups: u32) -> Result<Subscription, EventsError> {
        let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_SOCK_DIAG)
            .map_err(EventsError::Open)?;
        let _ = sock.set_rx_buf_sz(SOCKET_RCVBUF);
        sock.bind(&netlink_sys::SocketAddr::new(0, groups))
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::EPERM) {
                    EventsError::NotPermitted(e)
                } else {
                    EventsError::Open(e)
                }
            })?;
        Ok(Subscription {
            sock,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Waits for one datagram and hands every TCP and UDP socket in it to
    /// `each` (an error of `each`, a closed output, ends it).
    pub fn receive(
        &mut self,
        each: &mut dyn FnMut(Socket) -> io::Result<()>,
    ) -> Result<Received, ReceiveError> {
        let n = match super::netlink::recv(&self.sock, &mut self.buf) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(Received::Overrun),
            Err(e) => return Err(ReceiveError::Events(EventsError::Receive(e))),
        };
        let datagram = &self.buf[..n.min(self.buf.len())];
        let mut count = 0;
        let mut output = None;
        parse_events(datagram, &mut |s| {
            count += 1;
            if let Err(e) = each(s) {
                output = Some(e);
                return Err("output closed".into());
            }
            Ok(())
        })
        .map_err(|reason| match output.take() {
            Some(e) => ReceiveError::Output(e),
            None => ReceiveError::Events(EventsError::Malformed(reason)),
        })?;
        Ok(Received::Sockets(count))
    }
}

impl AsFd for Subscription {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// Why a receive stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Events(EventsError),
    /// `each` failed: the output.
    #[error("cannot write the output")]
    Output(#[source] io::Error),
}

/// Hands every TCP and UDP socket announced in `datagram` to `each`;
/// messages of other protocols are skipped. Public for the fuzz target.
pub fn parse_events(
    datagram: &[u8],
    each: &mut dyn FnMut(Socket) -> Result<(), String>,
) -> Result<(), String> {
    let mut pos = 0;
    while pos < datagram.len() {
        let msg = NetlinkBuffer::new_checked(&datagram[pos..])
            .map_err(|e| format!("at byte {pos}: {e}"))?;
        let len = msg.length() as usize;
        let payload = &datagram[pos + NLMSG_HDRLEN..pos + len];
        match msg.message_type() {
            SOCK_DIAG_BY_FAMILY => {
                if let Some(s) = parse_event(payload)? {
                    each(s)?;
                }
            }
            NLMSG_NOOP | NLMSG_DONE | NLMSG_ERROR => {}
            other => return Err(format!("unexpected message type {other}")),
        }
        // include/uapi/linux/netlink.h: NLMSG_ALIGN
        pos += (len + 3) & !3;
    }
    Ok(())
}

/// One announced socket: `None` for a protocol sockscope does not read.
pub fn parse_event(payload: &[u8]) -> Result<Option<Socket>, String> {
    if payload.len() < INET_DIAG_MSG_LEN {
        return Err(format!(
            "inet_diag_msg of {} bytes, expected at least {INET_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    // INET_DIAG_PROTOCOL: u8, the socket's sk_protocol
    let mut protocol = None;
    for nla in NlasIterator::new(&payload[INET_DIAG_MSG_LEN..]) {
        let nla = nla.map_err(|e| format!("bad attribute: {e}"))?;
        if nla.kind() == INET_DIAG_PROTOCOL {
            protocol = nla.value().first().copied();
        }
    }
    let proto = match protocol.map(i32::from) {
        Some(libc::IPPROTO_TCP) => Protocol::Tcp,
        Some(libc::IPPROTO_UDP) => Protocol::Udp,
        Some(_) => return Ok(None),
        None => return Err("destroy event without INET_DIAG_PROTOCOL".into()),
    };
    super::netlink::parse_socket(payload, proto).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_protocols_and_families() {
        assert_eq!(groups(&Protocol::ALL, &Family::ALL), 0b1111);
        assert_eq!(groups(&[Protocol::Tcp], &[Family::Inet]), 0b0001);
        assert_eq!(groups(&[Protocol::Udp], &Family::ALL), 0b1010);
        assert_eq!(groups(&[Protocol::Tcp], &[Family::Inet6]), 0b0100);
        assert_eq!(groups(&[], &Family::ALL), 0);
    }

    /// A SOCK_DIAG_BY_FAMILY message for 127.0.0.1:80 -> 127.0.0.1:4000,
    /// state `state`, protocol `proto` (`None`: no attribute).
    fn message(state: u8, proto: Option<u8>) -> Vec<u8> {
        let mut p = vec![0u8; INET_DIAG_MSG_LEN];
        p[0] = libc::AF_INET as u8;
        p[1] = state;
        p[4..6].copy_from_slice(&80u16.to_be_bytes());
        p[6..8].copy_from_slice(&4000u16.to_be_bytes());
        p[8..12].copy_from_slice(&[127, 0, 0, 1]);
        p[24..28].copy_from_slice(&[127, 0, 0, 1]);
        if let Some(proto) = proto {
            p.extend_from_slice(&5u16.to_ne_bytes());
            p.extend_from_slice(&INET_DIAG_PROTOCOL.to_ne_bytes());
            p.extend_from_slice(&[proto, 0, 0, 0]);
        }
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + p.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&p);
        m
    }

    #[test]
    fn events_are_parsed_by_their_protocol() {
        let mut d = message(7, Some(libc::IPPROTO_TCP as u8));
        d.extend(message(7, Some(libc::IPPROTO_UDP as u8)));
        d.extend(message(7, Some(136)));
        let mut got = Vec::new();
        parse_events(&d, &mut |s| {
            got.push((s.proto, s.local.port(), s.remote.port()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            vec![(Protocol::Tcp, 80, 4000), (Protocol::Udp, 80, 4000)]
        );
        assert!(parse_events(&message(7, None), &mut |_| Ok(())).is_err());
        assert!(parse_events(&d[..20], &mut |_| Ok(())).is_err());
    }
}
