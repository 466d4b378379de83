//! SOCK_DESTROY (`-K`): the request that asks the kernel to close one
//! socket, named by its family, protocol, four-tuple, interface and cookie
//! (include/uapi/linux/sock_diag.h: SOCK_DESTROY, with a struct
//! inet_diag_req_v2 as payload), and the kernel's answer to it. The socket
//! is looked up in the network namespace the netlink socket was made in:
//! open a [`Destroyer`] on a thread inside the namespace of the sockets.
//!
//! Which kinds of socket can be destroyed is the kernel's call: TCP and UDP
//! here ([`Target::of`]); other families added later get their request
//! built in [`build_destroy`] (their `sdiag_protocol`).

use std::io;
use std::net::{IpAddr, SocketAddr};

use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, NetlinkBuffer};

use crate::model::{Family, Protocol, Socket};

/// include/uapi/linux/sock_diag.h: SOCK_DESTROY.
pub const SOCK_DESTROY: u16 = 21;

/// include/uapi/linux/netlink.h: NLMSG_HDRLEN.
const NLMSG_HDRLEN: usize = 16;

/// include/uapi/linux/inet_diag.h: sizeof(struct inet_diag_req_v2).
const INET_DIAG_REQ_V2_LEN: usize = 56;

/// include/uapi/linux/inet_diag.h: INET_DIAG_NOCOOKIE (both halves).
const INET_DIAG_NOCOOKIE: u32 = !0;

/// One socket to destroy, as the kernel looks it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub family: Family,
    pub proto: Protocol,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The bound interface (idiag_if); 0 for none.
    pub ifindex: u32,
    /// The socket cookie; `None` (a record read from /proc) matches any.
    pub cookie: Option<u64>,
}

impl Target {
    /// The request's key for a record read from the kernel. Every protocol
    /// sockscope reads today (TCP, UDP) has a SOCK_DESTROY handler; a
    /// protocol added later that has none returns `None` here.
    pub fn of(s: &Socket) -> Option<Target> {
        match s.proto {
            Protocol::Tcp | Protocol::Udp => Some(Target {
                family: s.family,
                proto: s.proto,
                local: s.local,
                remote: s.remote,
                ifindex: s.ifindex.unwrap_or(0),
                cookie: s.cookie,
            }),
            // No SOCK_DESTROY here: raw_diag (which has one) is not in
            // this kernel, mptcp_diag has none; -K reads TCP and UDP only.
            Protocol::Raw | Protocol::Mptcp => None,
        }
    }
}

/// What the kernel answered to one SOCK_DESTROY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Destroyed.
    Killed,
    /// ENOENT: the socket went away before the request (its peer was
    /// killed first, it closed): not an error.
    Gone,
    /// Refused, with the errno.
    Refused(Refusal),
}

/// Why the kernel refused to destroy a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// EOPNOTSUPP: the kernel was built without CONFIG_INET_DIAG_DESTROY
    /// (or the protocol has no destroy handler).
    NotSupported,
    /// EPERM: CAP_NET_ADMIN (in the socket's network namespace) is needed.
    NotPermitted,
    /// Any other errno.
    Errno(i32),
}

impl Refusal {
    fn from_errno(errno: i32) -> Refusal {
        match errno {
            libc::EOPNOTSUPP => Refusal::NotSupported,
            libc::EPERM => Refusal::NotPermitted,
            e => Refusal::Errno(e),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotSupported => f.write_str(
                "EOPNOTSUPP: this kernel cannot destroy sockets \
                 (built without CONFIG_INET_DIAG_DESTROY)",
            ),
            Refusal::NotPermitted => f.write_str(
                "EPERM: destroying a socket needs CAP_NET_ADMIN in its network namespace \
                 (run as root)",
            ),
            Refusal::Errno(e) => write!(f, "{}", io::Error::from_raw_os_error(*e)),
        }
    }
}

/// A failure to talk to the kernel at all (not a refusal of one socket).
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    #[error("cannot open a NETLINK_SOCK_DIAG socket to destroy sockets")]
    Open(#[source] io::Error),
    #[error("netlink {op} failed for SOCK_DESTROY")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("malformed answer to SOCK_DESTROY: {0}")]
    Malformed(String),
}

/// A NETLINK_SOCK_DIAG socket that sends SOCK_DESTROY requests, one at a
/// time, each answered by an ack.
pub struct Destroyer {
    sock: netlink_sys::Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Destroyer {
    /// Opens the socket in the calling thread's network namespace.
    pub fn open() -> Result<Destroyer, DestroyError> {
        let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_SOCK_DIAG)
            .map_err(DestroyError::Open)?;
        sock.bind_auto().map_err(DestroyError::Open)?;
        sock.connect(&netlink_sys::SocketAddr::new(0, 0))
            .map_err(DestroyError::Open)?;
        Ok(Destroyer {
            sock,
            seq: 0,
            buf: vec![0; 8192],
        })
    }

    /// Asks the kernel to destroy `target` and returns its answer.
    pub fn destroy(&mut self, target: &Target) -> Result<Answer, DestroyError> {
        self.seq = self.seq.wrapping_add(1);
        let request = build_destroy(target, self.seq);
        loop {
            match self.sock.send(&request, 0) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(DestroyError::Io { op: "send", source }),
            }
        }
        loop {
            let n = super::netlink::recv(&self.sock, &mut self.buf).map_err(|source| {
                DestroyError::Io {
                    op: "receive",
                    source,
                }
            })?;
            if n > self.buf.len() {
                return Err(DestroyError::Malformed(format!(
                    "a reply of {n} bytes (buffer {})",
                    self.buf.len()
                )));
            }
            if let Some(code) =
                ack_code(&self.buf[..n], self.seq).map_err(DestroyError::Malformed)?
            {
                return Ok(match code {
                    0 => Answer::Killed,
                    libc::ENOENT => Answer::Gone,
                    e => Answer::Refused(Refusal::from_errno(e)),
                });
            }
        }
    }
}

/// The SOCK_DESTROY request for `target`: a netlink header (NLM_F_REQUEST
/// | NLM_F_ACK) and a struct inet_diag_req_v2 whose `id` names the socket.
pub fn build_destroy(target: &Target, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;
    let mut b = Vec::with_capacity(len);
    // struct nlmsghdr: nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&SOCK_DESTROY.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    // inet_diag_req_v2: sdiag_family, sdiag_protocol, idiag_ext, pad,
    // idiag_states (unused by SOCK_DESTROY)
    b.extend_from_slice(&[target.family.af(), target.proto.sdiag_protocol(), 0, 0]);
    b.extend_from_slice(&0u32.to_ne_bytes());
    // id.idiag_sport, id.idiag_dport: network order
    b.extend_from_slice(&target.local.port().to_be_bytes());
    b.extend_from_slice(&target.remote.port().to_be_bytes());
    // id.idiag_src[4], id.idiag_dst[4]: the address in network order,
    // an IPv4 one in the first word
    b.extend_from_slice(&address_words(target.local.ip()));
    b.extend_from_slice(&address_words(target.remote.ip()));
    // id.idiag_if
    b.extend_from_slice(&target.ifindex.to_ne_bytes());
    // id.idiag_cookie[2]: low word first, as the dump gave it
    let (lo, hi) = match target.cookie {
        Some(c) => (c as u32, (c >> 32) as u32),
        None => (INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE),
    };
    b.extend_from_slice(&lo.to_ne_bytes());
    b.extend_from_slice(&hi.to_ne_bytes());
    b
}

fn address_words(ip: IpAddr) -> [u8; 16] {
    let mut w = [0u8; 16];
    match ip {
        IpAddr::V4(a) => w[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => w.copy_from_slice(&a.octets()),
    }
    w
}

/// The error code of the NLMSG_ERROR answering request `seq` in one
/// datagram (0: the ack of success; else a positive errno), or `None` when
/// the datagram holds no answer to it. Public for the fuzz target.
pub fn ack_code(datagram: &[u8], seq: u32) -> Result<Option<i32>, String> {
    let mut pos = 0;
    while pos < datagram.len() {
        let msg = NetlinkBuffer::new_checked(&datagram[pos..]).map_err(|e| e.to_string())?;
        let len = msg.length() as usize;
        if msg.message_type() == NLMSG_ERROR && msg.sequence_number() == seq {
            // struct nlmsgerr: int error, then the request's header
            let payload = &datagram[pos + NLMSG_HDRLEN..pos + len];
            let code: [u8; 4] = payload
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or("NLMSG_ERROR without an error code")?;
            return Ok(Some(i32::from_ne_bytes(code).saturating_neg()));
        }
        // include/uapi/linux/netlink.h: NLMSG_ALIGN
        pos += (len + 3) & !3;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_names_the_socket() {
        let t = Target {
            family: Family::Inet,
            proto: Protocol::Tcp,
            local: "127.0.0.1:5000".parse().unwrap(),
            remote: "127.0.0.2:40000".parse().unwrap(),
            ifindex: 3,
            cookie: Some(0x1122_3344_5566_7788),
        };
        let b = build_destroy(&t, 9);
        assert_eq!(b.len(), 72);
        assert_eq!(u32::from_ne_bytes(b[..4].try_into().unwrap()), 72);
        assert_eq!(u16::from_ne_bytes(b[4..6].try_into().unwrap()), 21);
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 9);
        assert_eq!(&b[16..18], &[libc::AF_INET as u8, libc::IPPROTO_TCP as u8]);
        assert_eq!(&b[24..26], &5000u16.to_be_bytes());
        assert_eq!(&b[26..28], &40000u16.to_be_bytes());
        assert_eq!(&b[28..32], &[127, 0, 0, 1]);
        assert_eq!(&b[44..48], &[127, 0, 0, 2]);
        assert_eq!(u32::from_ne_bytes(b[60..64].try_into().unwrap()), 3);
        assert_eq!(
            u32::from_ne_bytes(b[64..68].try_into().unwrap()),
            0x5566_7788
        );
        assert_eq!(
            u32::from_ne_bytes(b[68..72].try_into().unwrap()),
            0x1122_3344
        );
        let b = build_destroy(&Target { cookie: None, ..t }, 1);
        assert_eq!(&b[64..72], &[0xff; 8]);
    }

    fn error_message(seq: u32, code: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&code.to_ne_bytes());
        m.extend_from_slice(&[0; 16]);
        m
    }

    #[test]
    fn acks_are_read_by_sequence() {
        assert_eq!(ack_code(&error_message(4, 0), 4), Ok(Some(0)));
        assert_eq!(
            ack_code(&error_message(4, -libc::EOPNOTSUPP), 4),
            Ok(Some(libc::EOPNOTSUPP))
        );
        assert_eq!(ack_code(&error_message(3, -2), 4), Ok(None));
        let mut two = error_message(3, -2);
        two.extend(error_message(4, -1));
        assert_eq!(ack_code(&two, 4), Ok(Some(1)));
        assert!(ack_code(&[1, 2, 3], 1).is_err());
        assert_eq!(ack_code(&error_message(1, i32::MIN), 1), Ok(Some(i32::MAX)));
    }
}
