//! NETLINK_SOCK_DIAG reader: one inet_diag_req_v2 dump per table.
//!
//! The socket I/O and the reply parser are separate: [`DumpParser`] takes the
//! bytes of any datagram, so recorded replies (`--replay`) and the kernel go
//! through the same code. A recording (`--record`) holds, for every dump, the
//! request message followed by every reply datagram, byte for byte; netlink
//! messages carry their own length, so the file needs no other framing.

use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NetlinkBuffer,
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, Parseable,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags as InetStateFlags,
};
use netlink_packet_sock_diag::message::SockDiagMessage;
use netlink_packet_sock_diag::unix::{
    ShowFlags as UnixShowFlags, StateFlags as UnixStateFlags, UnixRequest,
};
use netlink_packet_sock_diag::{
    INET_DIAG_CONG, INET_DIAG_INFO, INET_DIAG_SKMEMINFO, INET_DIAG_SKV6ONLY, SOCK_DIAG_BY_FAMILY,
    UNIX_DIAG_NAME, UNIX_DIAG_PEER, UNIX_DIAG_RQLEN,
};

use super::tcpinfo::{parse_skmeminfo, parse_tcp_info};
use super::{
    DumpId, Query, RecordRefusal, Sink, Snapshot, SourceError, SourceOptions, Table, Warning,
};
use crate::model::{
    CcInfo, Extras, Family, InetSockopt, Protocol, Socket, StateSet, TcpState, Timer, TimerKind,
    UnixKind, UnixSocket,
};

/// How often a dump flagged NLM_F_DUMP_INTR is tried in all.
pub const MAX_DUMP_ATTEMPTS: u32 = 4;

/// Receive buffer: the kernel's dump skbs are at most 32 KiB; twice that
/// leaves room, and MSG_TRUNC tells if it ever is not enough.
const RECV_BUFFER: usize = 64 * 1024;

/// Socket receive buffer, as ss asks for.
const SOCKET_RCVBUF: usize = 1 << 20;

/// include/uapi/linux/netlink.h: NLMSG_HDRLEN.
const NLMSG_HDRLEN: usize = 16;

/// include/uapi/linux/inet_diag.h: enum { INET_DIAG_NONE, ... }: the
/// attributes ss -e, --tos and --cgroup print.
const INET_DIAG_VEGASINFO: u16 = 3;
const INET_DIAG_TOS: u16 = 5;
const INET_DIAG_DCTCPINFO: u16 = 9;
const INET_DIAG_BBRINFO: u16 = 16;
const INET_DIAG_TCLASS: u16 = 6;
const INET_DIAG_SHUTDOWN: u16 = 8;
const INET_DIAG_MARK: u16 = 15;
const INET_DIAG_CLASS_ID: u16 = 17;
const INET_DIAG_CGROUP_ID: u16 = 21;
const INET_DIAG_SOCKOPT: u16 = 22;

/// include/uapi/linux/inet_diag.h: sizeof(struct inet_diag_msg).
const INET_DIAG_MSG_LEN: usize = 72;

/// A netlink conversation: the kernel, or a recording played back.
pub struct Session {
    transport: Transport,
    recorder: Option<Recorder>,
    seq: u32,
}

enum Transport {
    Kernel(netlink_sys::Socket),
    Replay(Replay),
}

impl Session {
    /// Opens the kernel socket, or loads the replay file when one is set.
    pub fn open(opts: &SourceOptions) -> Result<Session, SourceError> {
        let transport = match &opts.replay {
            Some(path) => Transport::Replay(Replay::load(path)?),
            None => {
                let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_SOCK_DIAG)
                    .map_err(SourceError::NetlinkOpen)?;
                // A bigger receive buffer only saves round trips; a refusal
                // (rmem_max) is harmless.
                let _ = sock.set_rx_buf_sz(SOCKET_RCVBUF);
                sock.bind_auto().map_err(SourceError::NetlinkOpen)?;
                sock.connect(&netlink_sys::SocketAddr::new(0, 0))
                    .map_err(SourceError::NetlinkOpen)?;
                Transport::Kernel(sock)
            }
        };
        let recorder = match &opts.record {
            Some(path) => Some(Recorder::create(path, opts.record_overwrite)?),
            None => None,
        };
        Ok(Session {
            transport,
            recorder,
            seq: 0,
        })
    }

    /// Dumps one table, retrying (bounded) when the kernel flags the dump as
    /// interrupted by concurrent changes.
    pub fn dump(
        &mut self,
        table: Table,
        query: &Query,
        snap: &mut Snapshot,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        // Rows go straight to the sink; a retried dump takes its own back.
        // Streamed rows cannot be taken back: then one attempt, and a warning.
        let start = sink.mark();
        let attempts = if start.is_some() {
            MAX_DUMP_ATTEMPTS
        } else {
            1
        };
        for attempt in 1..=attempts {
            if let Some(m) = start {
                sink.rollback(m);
            }
            self.seq = self.seq.wrapping_add(1);
            let request = build_request(table, query, self.seq);
            let mut output: Option<io::Error> = None;
            // A kernel filter leaves few rows: no receive thread for them.
            let pipelined = query.bytecode.is_none();
            let result = self.exchange(DumpId::Inet(table), &request, pipelined, &mut |payload| {
                let s = dumped(parse_socket_with(
                    payload,
                    table.proto,
                    query.attrs || query.tos || query.cc_info,
                )?);
                if query.matches(&s)
                    && let Err(e) = sink.push(s)
                {
                    output = Some(e);
                    return Err("output closed".into());
                }
                Ok(())
            });
            if let Some(e) = output {
                return Err(SourceError::Output(e));
            }
            let interrupted = match result {
                // A kernel that refuses the bytecode (EINVAL; EPERM for a
                // MARK_COND op without CAP_NET_ADMIN, inet_diag_bc_audit) is
                // asked again without it: user space filters anyway.
                Err(SourceError::KernelRefused { errno, .. })
                    if (errno == libc::EINVAL || errno == libc::EPERM)
                        && query.bytecode.is_some() =>
                {
                    if let Some(m) = start {
                        sink.rollback(m);
                    }
                    snap.bytecode_refused = true;
                    let plain = Query {
                        bytecode: None,
                        ..query.clone()
                    };
                    return self.dump(table, &plain, snap, sink);
                }
                other => other?,
            };
            if !interrupted {
                break;
            }
            if attempt == attempts {
                snap.warnings.push(Warning::DumpInterrupted {
                    table: DumpId::Inet(table),
                    attempts: attempt,
                });
            } else {
                snap.interrupted_retries += 1;
            }
        }
        Ok(())
    }

    /// Dumps the UNIX sockets in `states` (unix_diag), with their names,
    /// peers, queue lengths and uids.
    pub fn dump_unix(&mut self, query: &Query, snap: &mut Snapshot) -> Result<(), SourceError> {
        let start = snap.unix.len();
        for attempt in 1..=MAX_DUMP_ATTEMPTS {
            snap.unix.truncate(start);
            self.seq = self.seq.wrapping_add(1);
            let request = build_unix_request(query, self.seq);
            let rows = &mut snap.unix;
            let interrupted = self.exchange(DumpId::Unix, &request, true, &mut |payload| {
                let u = parse_unix_with(payload, query.attrs || query.memory)?;
                if query.matches_unix(&u) {
                    rows.push(u);
                }
                Ok(())
            })?;
            if !interrupted {
                break;
            }
            if attempt == MAX_DUMP_ATTEMPTS {
                snap.warnings.push(Warning::DumpInterrupted {
                    table: DumpId::Unix,
                    attempts: attempt,
                });
            } else {
                snap.interrupted_retries += 1;
            }
        }
        Ok(())
    }

    /// Asks the kernel for a dump of a kind sockscope does not read, to
    /// learn whether it has the diagnostics module: `Some(errno)` when it
    /// refused (no module), `None` when it answered. The rows are counted
    /// and dropped.
    pub fn probe(&mut self, kind: crate::model::SocketKind) -> Result<Option<i32>, SourceError> {
        self.seq = self.seq.wrapping_add(1);
        let request = super::probe::request(kind, self.seq);
        match self.exchange(DumpId::Probe(kind), &request, false, &mut |_| Ok(())) {
            Ok(_) => Ok(None),
            Err(SourceError::KernelRefused { errno, .. }) => Ok(Some(errno)),
            Err(e) => Err(e),
        }
    }

    /// Dumps every packet socket (`DumpId::Packet`) or netlink socket
    /// (`DumpId::Netlink`) into `snap.others`, retrying (bounded) an
    /// interrupted dump.
    pub fn dump_others(
        &mut self,
        dump: DumpId,
        bpf: bool,
        snap: &mut Snapshot,
    ) -> Result<(), SourceError> {
        let start = snap.others.len();
        for attempt in 1..=MAX_DUMP_ATTEMPTS {
            snap.others.truncate(start);
            self.seq = self.seq.wrapping_add(1);
            let request = match dump {
                DumpId::Packet => super::linklayer::packet_request(self.seq, bpf),
                _ => super::linklayer::netlink_request(self.seq),
            };
            let rows = &mut snap.others;
            let interrupted = self.exchange(dump, &request, false, &mut |payload| {
                rows.push(match dump {
                    DumpId::Packet => {
                        crate::model::OtherSocket::Packet(super::linklayer::parse_packet(payload)?)
                    }
                    _ => crate::model::OtherSocket::Netlink(super::linklayer::parse_netlink(
                        payload,
                    )?),
                });
                Ok(())
            })?;
            if !interrupted {
                break;
            }
            if attempt == MAX_DUMP_ATTEMPTS {
                snap.warnings.push(Warning::DumpInterrupted {
                    table: dump,
                    attempts: attempt,
                });
            } else {
                snap.interrupted_retries += 1;
            }
        }
        Ok(())
    }

    /// Whether this session replays a recording.
    pub fn is_replay(&self) -> bool {
        matches!(self.transport, Transport::Replay(_))
    }

    /// Sends one request and hands every reply payload to `each`, up to
    /// NLMSG_DONE. Returns whether the kernel flagged the dump interrupted.
    fn exchange(
        &mut self,
        dump: DumpId,
        request: &[u8],
        pipelined: bool,
        each: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<bool, SourceError> {
        if let Some(rec) = &mut self.recorder {
            rec.write(request)?;
        }
        let mut parser = DumpParser::new(dump);
        match &mut self.transport {
            Transport::Kernel(sock) => {
                send_all(sock, request).map_err(|source| SourceError::NetlinkIo {
                    op: "send",
                    table: dump,
                    source,
                })?;
                // Every dump is read to NLMSG_DONE (an abandoned one makes
                // the next request on the socket fail with EBUSY); a refused
                // one ends with its error message alone. The kernel does its
                // work inside recv(): when many rows are expected, a second
                // thread receives while this one parses and writes, so the
                // two overlap on two cores; a kernel-filtered dump (few rows)
                // is received here, without the handoffs.
                let sock: &netlink_sys::Socket = sock;
                let recorder = &mut self.recorder;
                // The first reply is received here either way: a dump that
                // fits in it (an empty or small namespace: `--all-netns`
                // makes hundreds of those) needs no thread.
                let mut buf = Vec::new();
                receive(sock, dump, &mut buf)?;
                if let Some(rec) = recorder.as_mut() {
                    rec.write(&buf)?;
                }
                parser.feed(&buf, each)?;
                if !pipelined || parser.done {
                    while !parser.done {
                        receive(sock, dump, &mut buf)?;
                        if let Some(rec) = recorder.as_mut() {
                            rec.write(&buf)?;
                        }
                        parser.feed(&buf, each)?;
                    }
                    return Ok(parser.interrupted);
                }
                std::thread::scope(|scope| -> Result<(), SourceError> {
                    let (tx, rx) = mpsc::sync_channel::<Result<Vec<u8>, SourceError>>(16);
                    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
                    scope.spawn(move || {
                        loop {
                            let mut buf = spare_rx.try_recv().unwrap_or_default();
                            let got = receive(sock, dump, &mut buf).map(|()| buf);
                            let last = got.as_ref().is_ok_and(|b| ends_dump(b)) || got.is_err();
                            // A consumer that stopped (error, closed output)
                            // has dropped the receiver: stop too.
                            if tx.send(got).is_err() || last {
                                break;
                            }
                        }
                    });
                    while !parser.done {
                        let Ok(datagram) = rx.recv() else {
                            return Err(SourceError::Unterminated);
                        };
                        let datagram = datagram?;
                        if let Some(rec) = recorder.as_mut() {
                            rec.write(&datagram)?;
                        }
                        parser.feed(&datagram, each)?;
                        let _ = spare_tx.send(datagram);
                    }
                    Ok(())
                })?;
            }
            Transport::Replay(replay) => {
                let bytes = replay.take(dump, request)?;
                if let Some(rec) = &mut self.recorder {
                    rec.write(bytes)?;
                }
                parser.feed(bytes, each)?;
                if !parser.done {
                    return Err(SourceError::Unterminated);
                }
            }
        }
        Ok(parser.interrupted)
    }
}

/// Receives one datagram into `buf` (resized to [`RECV_BUFFER`], then cut
/// to what arrived).
fn receive(sock: &netlink_sys::Socket, dump: DumpId, buf: &mut Vec<u8>) -> Result<(), SourceError> {
    buf.resize(RECV_BUFFER, 0);
    let n = recv(sock, buf).map_err(|source| SourceError::NetlinkIo {
        op: "receive",
        table: dump,
        source,
    })?;
    if n > RECV_BUFFER {
        return Err(SourceError::Truncated {
            table: dump,
            len: n,
            buffer: RECV_BUFFER,
        });
    }
    if n == 0 {
        return Err(SourceError::Unterminated);
    }
    buf.truncate(n);
    Ok(())
}

/// Serialises the SOCK_DIAG_BY_FAMILY dump request for `table`.
pub fn build_request(table: Table, query: &Query, seq: u32) -> Vec<u8> {
    let socket_id = match table.family {
        Family::Inet => SocketId::new_v4(),
        Family::Inet6 => SocketId::new_v6(),
    };
    let request = InetRequest {
        family: table.family.af(),
        // u8: MPTCP's 262 is also sent whole in INET_DIAG_REQ_PROTOCOL
        protocol: table.proto.sdiag_protocol(),
        // Only what the output needs (INET_DIAG_SKV6ONLY comes unasked for
        // LISTEN and CLOSE sockets): tcp_info and congestion for -i, socket
        // memory for -m.
        extensions: {
            let mut e = ExtensionFlags::empty();
            if query.info {
                e |= ExtensionFlags::INFO | ExtensionFlags::CONG;
            }
            if query.memory {
                e |= ExtensionFlags::SKMEMINFO;
            }
            if query.info && query.cc_info {
                // 1 << (INET_DIAG_VEGASINFO - 1): what ss asks for; BBR and
                // DCTCP answer it with their own attribute
                e |= ExtensionFlags::from_bits_retain(1 << (INET_DIAG_VEGASINFO - 1));
            }
            if query.tos {
                // include/uapi/linux/inet_diag.h: 1 << (INET_DIAG_TOS - 1),
                // 1 << (INET_DIAG_TCLASS - 1) (the class id comes with them)
                e |= ExtensionFlags::from_bits_retain(1 << (INET_DIAG_TOS - 1))
                    | ExtensionFlags::from_bits_retain(1 << (INET_DIAG_TCLASS - 1));
            }
            e
        },
        states: InetStateFlags::from_bits_retain(query.states.kernel_mask()),
        socket_id,
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(
        header,
        NetlinkPayload::InnerMessage(SockDiagMessage::InetRequest(request)),
    );
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    // The crate has no INET_DIAG_REQ_BYTECODE: append the attribute after
    // inet_diag_req_v2 and fix nlmsg_len.
    if let Some(code) = &query.bytecode {
        buf.extend_from_slice(&bytecode_attribute(code));
    }
    // A protocol past a byte (MPTCP) goes in INET_DIAG_REQ_PROTOCOL, as ss
    // sends it (misc/ss.c: sockdiag_send).
    if table.proto.needs_protocol_attribute() {
        buf.extend_from_slice(&protocol_attribute(table.proto.ipproto()));
    }
    let len = buf.len() as u32;
    buf[..4].copy_from_slice(&len.to_ne_bytes());
    buf
}

/// include/uapi/linux/inet_diag.h: INET_DIAG_REQ_PROTOCOL.
const INET_DIAG_REQ_PROTOCOL: u16 = 3;

/// The request attribute carrying a protocol number as a u32.
pub fn protocol_attribute(protocol: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(8);
    v.extend_from_slice(&8u16.to_ne_bytes());
    v.extend_from_slice(&INET_DIAG_REQ_PROTOCOL.to_ne_bytes());
    v.extend_from_slice(&protocol.to_ne_bytes());
    v
}

/// include/uapi/linux/inet_diag.h: INET_DIAG_REQ_BYTECODE.
const INET_DIAG_REQ_BYTECODE: u16 = 1;

/// The request attribute: struct nlattr { len, type } and the program
/// (compiled by `filter::bytecode`, carried as bytes in the [`Query`]),
/// padded to 4 bytes.
pub fn bytecode_attribute(code: &[u8]) -> Vec<u8> {
    let len = (4 + code.len()) as u16;
    let mut v = Vec::with_capacity(len as usize + 3);
    v.extend_from_slice(&len.to_ne_bytes());
    v.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    v.extend_from_slice(code);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn send_all(sock: &netlink_sys::Socket, bytes: &[u8]) -> io::Result<()> {
    loop {
        match sock.send(bytes, 0) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The unix_diag dump request: every socket in the query's states, with its
/// name, peer, queue lengths and uid.
pub fn build_unix_request(query: &Query, seq: u32) -> Vec<u8> {
    // include/uapi/linux/unix_diag.h: UDIAG_SHOW_UID is 0x40; the crate
    // lacks it, hence from_bits_retain.
    const UDIAG_SHOW_UID: u32 = 0x40;
    // UDIAG_SHOW_VFS, UDIAG_SHOW_ICONS (ss -e), UDIAG_SHOW_MEMINFO (-m)
    const UDIAG_SHOW_VFS: u32 = 0x02;
    const UDIAG_SHOW_ICONS: u32 = 0x08;
    const UDIAG_SHOW_MEMINFO: u32 = 0x20;
    let mut extra = 0;
    if query.attrs {
        extra |= UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS;
    }
    if query.memory {
        extra |= UDIAG_SHOW_MEMINFO;
    }
    let request = UnixRequest {
        state_flags: UnixStateFlags::from_bits_retain(query.states.kernel_mask()),
        inode: 0,
        show_flags: UnixShowFlags::from_bits_retain(
            (UnixShowFlags::NAME | UnixShowFlags::PEER | UnixShowFlags::RQLEN).bits()
                | UDIAG_SHOW_UID
                | extra,
        ),
        cookie: [0; 8],
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(
        header,
        NetlinkPayload::InnerMessage(SockDiagMessage::UnixRequest(request)),
    );
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// include/uapi/linux/unix_diag.h: sizeof(struct unix_diag_msg).
const UNIX_DIAG_MSG_LEN: usize = 16;
/// include/uapi/linux/unix_diag.h: UNIX_DIAG_UID.
const UNIX_DIAG_UID: u16 = 7;
/// include/uapi/linux/unix_diag.h: UNIX_DIAG_VFS, UNIX_DIAG_ICONS,
/// UNIX_DIAG_MEMINFO, UNIX_DIAG_SHUTDOWN.
const UNIX_DIAG_VFS: u16 = 1;
const UNIX_DIAG_ICONS: u16 = 3;
const UNIX_DIAG_MEMINFO: u16 = 5;
const UNIX_DIAG_SHUTDOWN: u16 = 6;

/// Turns one struct unix_diag_msg and its attributes into a record.
pub fn parse_unix(payload: &[u8]) -> Result<UnixSocket, String> {
    parse_unix_with(payload, false)
}

/// [`parse_unix`], also keeping what ss -e and -m print (shutdown mask,
/// VFS inode and device, pending connections, memory) when `extras`.
pub fn parse_unix_with(payload: &[u8], extras: bool) -> Result<UnixSocket, String> {
    if payload.len() < UNIX_DIAG_MSG_LEN {
        return Err(format!(
            "unix_diag_msg of {} bytes, expected at least {UNIX_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    // udiag_family
    if payload[0] as i32 != libc::AF_UNIX {
        return Err(format!("unexpected address family {}", payload[0]));
    }
    // udiag_type
    let kind = UnixKind::from_kernel(u32::from(payload[1]))
        .ok_or_else(|| format!("unknown UNIX socket type {}", payload[1]))?;
    // udiag_state
    let state = TcpState::from_kernel(payload[2])
        .ok_or_else(|| format!("unknown socket state {}", payload[2]))?;
    // udiag_ino, udiag_cookie[2]
    let inode = u64::from(u32_at(payload, 4));
    let cookie = u64::from(u32_at(payload, 8)) | (u64::from(u32_at(payload, 12)) << 32);
    let mut u = UnixSocket {
        kind,
        state,
        path: None,
        inode,
        peer_inode: Some(0),
        peer_path: None,
        recv_q: None,
        send_q: None,
        uid: None,
        cookie: Some(cookie),
        owners: None,
        extras: None,
    };
    for nla in NlasIterator::new(&payload[UNIX_DIAG_MSG_LEN..]) {
        let nla = nla.map_err(|e| format!("bad attribute: {e}"))?;
        let v = nla.value();
        match nla.kind() {
            // UNIX_DIAG_NAME: sun_path as bound (abstract: leading NUL)
            UNIX_DIAG_NAME => u.path = Some(unix_name(v)),
            // UNIX_DIAG_PEER: the peer's inode
            UNIX_DIAG_PEER if v.len() >= 4 => u.peer_inode = Some(u64::from(u32_at(v, 0))),
            // UNIX_DIAG_RQLEN: struct unix_diag_rqlen { rqueue, wqueue }
            UNIX_DIAG_RQLEN if v.len() >= 8 => {
                u.recv_q = Some(u32_at(v, 0));
                u.send_q = Some(u32_at(v, 4));
            }
            // UNIX_DIAG_UID
            UNIX_DIAG_UID if v.len() >= 4 => u.uid = Some(u32_at(v, 0)),
            // UNIX_DIAG_MEMINFO: u32 array of SK_MEMINFO_*
            UNIX_DIAG_MEMINFO if extras => {
                u.extras.get_or_insert_default().mem = parse_skmeminfo(v);
            }
            // UNIX_DIAG_SHUTDOWN: u8, sk->sk_shutdown
            UNIX_DIAG_SHUTDOWN if extras => {
                u.extras.get_or_insert_default().shutdown = v.first().copied();
            }
            // UNIX_DIAG_VFS: struct unix_diag_vfs { udiag_vfs_ino, udiag_vfs_dev }
            UNIX_DIAG_VFS if extras && v.len() >= 8 => {
                u.extras.get_or_insert_default().vfs = Some((u32_at(v, 0), u32_at(v, 4)));
            }
            // UNIX_DIAG_ICONS: u32 inodes of the connections waiting
            UNIX_DIAG_ICONS if extras => {
                u.extras.get_or_insert_default().pending =
                    Some(v.chunks_exact(4).map(|c| u32_at(c, 0)).collect());
            }
            _ => {}
        }
    }
    Ok(u)
}

/// A sun_path as /proc/net/unix shows it: an abstract name's NULs become
/// `@`; a filesystem path loses its trailing NULs.
pub fn unix_name(raw: &[u8]) -> Vec<u8> {
    if raw.first() == Some(&0) {
        raw.iter().map(|&b| if b == 0 { b'@' } else { b }).collect()
    } else {
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        raw[..end].to_vec()
    }
}

/// Receives one datagram; the returned length exceeds `buf` when it was
/// truncated (MSG_TRUNC).
pub(crate) fn recv(sock: &netlink_sys::Socket, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut slice = &mut buf[..];
        match sock.recv(&mut slice, libc::MSG_TRUNC) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// True when a datagram holds the end of a dump (NLMSG_DONE, or an
/// NLMSG_ERROR that is not an ack) or cannot be walked: the receiving thread
/// stops there. Public for the fuzz targets (fuzz/), which feed it raw bytes.
pub fn ends_dump(datagram: &[u8]) -> bool {
    let mut pos = 0;
    while pos + NLMSG_HDRLEN <= datagram.len() {
        let Ok(msg) = NetlinkBuffer::new_checked(&datagram[pos..]) else {
            return true;
        };
        let len = msg.length() as usize;
        match msg.message_type() {
            NLMSG_DONE => return true,
            NLMSG_ERROR => {
                let code = read_i32(&datagram[pos + NLMSG_HDRLEN..pos + len]);
                if code != Some(0) {
                    return true;
                }
            }
            _ => {}
        }
        pos += (len + 3) & !3;
    }
    pos < datagram.len()
}

/// Parses the reply messages of one dump, datagram by datagram.
#[derive(Debug)]
pub struct DumpParser {
    table: DumpId,
    /// NLMSG_DONE was seen.
    pub done: bool,
    /// A message carried NLM_F_DUMP_INTR.
    pub interrupted: bool,
    /// Bytes fed so far, for error offsets.
    offset: usize,
}

impl DumpParser {
    pub fn new(table: DumpId) -> DumpParser {
        DumpParser {
            table,
            done: false,
            interrupted: false,
            offset: 0,
        }
    }

    /// Parses every message in `datagram`, handing the payload of each
    /// SOCK_DIAG_BY_FAMILY reply to `each`.
    pub fn feed(
        &mut self,
        datagram: &[u8],
        each: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), SourceError> {
        let base = self.offset;
        self.offset += datagram.len();
        let mut pos = 0;
        while pos < datagram.len() {
            let at = base + pos;
            let malformed = |reason: String| SourceError::Malformed { offset: at, reason };
            if self.done {
                return Err(malformed("data after NLMSG_DONE".into()));
            }
            let msg = NetlinkBuffer::new_checked(&datagram[pos..])
                .map_err(|e| malformed(e.to_string()))?;
            let len = msg.length() as usize;
            if msg.flags() & NLM_F_DUMP_INTR != 0 {
                self.interrupted = true;
            }
            let payload = &datagram[pos + NLMSG_HDRLEN..pos + len];
            match msg.message_type() {
                NLMSG_NOOP => {}
                NLMSG_DONE => {
                    // The payload is an int: 0, or a negative errno when the
                    // dump failed (e.g. -ENOENT: no udp_diag). i32::MIN has
                    // no positive counterpart: saturate, as for NLMSG_ERROR.
                    let code = read_i32(payload).unwrap_or(0);
                    if code < 0 {
                        return Err(SourceError::KernelRefused {
                            table: self.table,
                            errno: code.saturating_neg(),
                        });
                    }
                    self.done = true;
                }
                NLMSG_ERROR => {
                    let code = read_i32(payload)
                        .ok_or_else(|| malformed("NLMSG_ERROR without an error code".into()))?;
                    if code != 0 {
                        return Err(SourceError::KernelRefused {
                            table: self.table,
                            errno: code.saturating_neg(),
                        });
                    }
                }
                SOCK_DIAG_BY_FAMILY => each(payload).map_err(malformed)?,
                other => return Err(malformed(format!("unexpected message type {other}"))),
            }
            // include/uapi/linux/netlink.h: NLMSG_ALIGN
            pos += (len + 3) & !3;
        }
        Ok(())
    }
}

/// The first four bytes, in host order.
fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

fn read_i32(payload: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = payload.get(..4)?.try_into().ok()?;
    Some(i32::from_ne_bytes(bytes))
}

/// A record of a dump as the dump means it: a TCP socket in CLOSE is in no
/// hash a dump walks but the bind hash, walked only for
/// TCPF_BOUND_INACTIVE (net/ipv4/inet_diag.c: inet_diag_dump_icsk), which
/// reports sk_state as is: it is a bound-inactive socket. (A destroy
/// event's CLOSE is a closed socket: [`parse_socket`] keeps it.)
pub fn dumped(mut s: Socket) -> Socket {
    if s.proto == Protocol::Tcp && s.state == TcpState::Close {
        s.state = TcpState::BoundInactive;
    }
    s
}

/// Turns one struct inet_diag_msg and its attributes into a record
/// (include/uapi/linux/inet_diag.h).
pub fn parse_socket(payload: &[u8], proto: Protocol) -> Result<Socket, String> {
    parse_socket_with(payload, proto, false)
}

/// [`parse_socket`], also keeping in the extras the attributes ss -e,
/// --cgroup and --tos print when `attrs` is set.
pub fn parse_socket_with(payload: &[u8], proto: Protocol, attrs: bool) -> Result<Socket, String> {
    if payload.len() < INET_DIAG_MSG_LEN {
        return Err(format!(
            "inet_diag_msg of {} bytes, expected at least {INET_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    // idiag_family
    let family = match payload[0] as i32 {
        libc::AF_INET => Family::Inet,
        libc::AF_INET6 => Family::Inet6,
        af => return Err(format!("unexpected address family {af}")),
    };
    // The fixed header through the crate; the attributes are only scanned
    // for the one needed (parsing them all allocates for each).
    let h = InetResponseHeader::parse(&payload[..INET_DIAG_MSG_LEN]).map_err(|e| e.to_string())?;
    // idiag_state
    let state = TcpState::from_kernel(h.state)
        .ok_or_else(|| format!("unknown socket state {}", h.state))?;
    // A SYN_RECV socket with no inode is a request socket (TCP_NEW_SYN_RECV
    // inside the kernel): inet_req_diag_fill() fills in no uid.
    let is_request_socket = state == TcpState::SynRecv && h.inode == 0;
    let id = &h.socket_id;
    // id.idiag_if: the bound device, also the scope of a link-local address
    let ifindex = id.interface_id;
    let endpoint = |ip, port| {
        let mut addr = SocketAddr::new(ip, port);
        if let SocketAddr::V6(a) = &mut addr
            && a.ip().is_unicast_link_local()
        {
            a.set_scope_id(ifindex);
        }
        addr
    };
    // id.idiag_cookie: two u32 halves, low word first (ss: sk:%llx)
    let c = id.cookie;
    let cookie = u64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        | (u64::from(u32::from_ne_bytes([c[4], c[5], c[6], c[7]])) << 32);
    // INET_DIAG_SKV6ONLY: sent for AF_INET6 LISTEN and CLOSE sockets
    let mut v6only = None;
    let mut extras: Option<Box<Extras>> = None;
    for nla in NlasIterator::new(&payload[INET_DIAG_MSG_LEN..]) {
        let nla = nla.map_err(|e| format!("bad attribute: {e}"))?;
        let v = nla.value();
        match nla.kind() {
            INET_DIAG_SKV6ONLY => v6only = Some(v.first().copied().unwrap_or(0) != 0),
            // struct tcp_info, as long as this kernel makes it
            INET_DIAG_INFO if proto == Protocol::Tcp => {
                extras.get_or_insert_default().tcp_info = Some(parse_tcp_info(v));
            }
            // the algorithm's name, NUL-terminated
            INET_DIAG_CONG => {
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                extras.get_or_insert_default().congestion =
                    Some(String::from_utf8_lossy(&v[..end]).into_owned());
            }
            // u32 array of SK_MEMINFO_*
            INET_DIAG_SKMEMINFO => extras.get_or_insert_default().mem = parse_skmeminfo(v),
            // u8: the shutdown mask (sk->sk_shutdown)
            INET_DIAG_SHUTDOWN if attrs => {
                extras.get_or_insert_default().shutdown = v.first().copied()
            }
            // u32: sk->sk_mark
            INET_DIAG_MARK if attrs => extras.get_or_insert_default().mark = u32_of(v),
            // u64: cgroup_id(sock_cgroup_ptr(&sk->sk_cgrp_data))
            INET_DIAG_CGROUP_ID if attrs => {
                extras.get_or_insert_default().cgroup_id = v
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_ne_bytes);
            }
            // u8: inet->tos
            INET_DIAG_TOS if attrs => extras.get_or_insert_default().tos = v.first().copied(),
            // u8: the IPv6 traffic class
            INET_DIAG_TCLASS if attrs => extras.get_or_insert_default().tclass = v.first().copied(),
            // struct tcp_bbr_info { bbr_bw_lo, bbr_bw_hi, bbr_min_rtt,
            // bbr_pacing_gain, bbr_cwnd_gain } (u32 each; zero-filled when
            // shorter, as ss reads it)
            INET_DIAG_BBRINFO if attrs => {
                let at = |i: usize| u32_of(v.get(i * 4..).unwrap_or_default()).unwrap_or(0);
                extras.get_or_insert_default().cc = Some(CcInfo::Bbr {
                    bw: (u64::from(at(1)) << 32) | u64::from(at(0)),
                    min_rtt_us: at(2),
                    pacing_gain: at(3),
                    cwnd_gain: at(4),
                });
            }
            // struct tcp_dctcp_info { u16 dctcp_enabled, u16 dctcp_ce_state,
            // u32 dctcp_alpha, dctcp_ab_ecn, dctcp_ab_tot }
            INET_DIAG_DCTCPINFO if attrs => {
                let u16_at = |i: usize| {
                    v.get(i..i + 2)
                        .map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]))
                };
                let at = |i: usize| u32_of(v.get(i..).unwrap_or_default()).unwrap_or(0);
                extras.get_or_insert_default().cc = Some(CcInfo::Dctcp {
                    enabled: u16_at(0) != 0,
                    ce_state: u16_at(2),
                    alpha: at(4),
                    ab_ecn: at(8),
                    ab_tot: at(12),
                });
            }
            // u32: the net_cls class id, else sk->sk_priority
            INET_DIAG_CLASS_ID if attrs => extras.get_or_insert_default().class_id = u32_of(v),
            // struct inet_diag_sockopt: two bytes of option bits (sent for
            // every full socket since Linux 5.10; ss prints nothing when it
            // is shorter)
            INET_DIAG_SOCKOPT if attrs && v.len() >= 2 => {
                extras.get_or_insert_default().sockopt = Some(InetSockopt::from_bytes(v[0], v[1]));
            }
            _ => {}
        }
    }
    Ok(Socket {
        proto,
        family,
        state,
        // id.idiag_src, id.idiag_sport / id.idiag_dst, id.idiag_dport
        local: endpoint(id.source_address, id.source_port),
        remote: endpoint(id.destination_address, id.destination_port),
        // idiag_rqueue: LISTEN: accept-queue length; else unread bytes
        recv_q: h.recv_queue,
        // idiag_wqueue: LISTEN: backlog; else unacknowledged bytes
        send_q: Some(h.send_queue),
        // idiag_uid: a request socket has none and reads 0
        uid: (!is_request_socket).then_some(h.uid),
        // idiag_inode
        inode: u64::from(h.inode),
        cookie: Some(cookie),
        ifindex: Some(ifindex),
        v6only,
        owners: None,
        queue: None,
        // idiag_timer, idiag_retrans (bytes 2, 3), idiag_expires (ms, bytes
        // 52..56): the crate's Timer drops the TIME_WAIT expiry, so read them
        // from the header here.
        extras,
        timer: TimerKind::from_kernel(payload[2]).map(|kind| Timer {
            kind,
            expires_ms: u64::from(u32::from_ne_bytes([
                payload[52],
                payload[53],
                payload[54],
                payload[55],
            ])),
            retrans: u32::from(payload[3]),
        }),
    })
}

/// Why [`create_private`] did not open a file.
#[derive(Debug)]
pub enum CreateFailure {
    Refused(RecordRefusal),
    Io(io::Error),
}

/// Creates `path` for writing with mode 0600, never through a symbolic
/// link (as root, a planted link must not truncate its target): a new file
/// (O_CREAT|O_EXCL), or with `overwrite` an existing regular file,
/// truncated once it is open and checked. `--record` and `-D` files.
pub fn create_private(path: &Path, overwrite: bool) -> Result<fs::File, CreateFailure> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut options = fs::OpenOptions::new();
    // O_NONBLOCK: opening an existing FIFO must not wait for a reader;
    // it changes nothing for a regular file.
    options
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    if overwrite {
        options.create(true);
    } else {
        options.create_new(true);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(CreateFailure::Refused(if link {
                RecordRefusal::Symlink
            } else {
                RecordRefusal::Exists
            }));
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(CreateFailure::Refused(RecordRefusal::Symlink));
        }
        Err(e) => return Err(CreateFailure::Io(e)),
    };
    if overwrite {
        let meta = file.metadata().map_err(CreateFailure::Io)?;
        if !meta.file_type().is_file() {
            return Err(CreateFailure::Refused(RecordRefusal::NotRegular));
        }
        file.set_len(0).map_err(CreateFailure::Io)?;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(CreateFailure::Io)?;
    }
    Ok(file)
}

/// Appends the bytes of every request and reply to a file.
struct Recorder {
    path: PathBuf,
    file: io::BufWriter<fs::File>,
}

impl Recorder {
    /// Creates `path` as [`create_private`] does.
    fn create(path: &Path, overwrite: bool) -> Result<Recorder, SourceError> {
        let file = create_private(path, overwrite).map_err(|e| match e {
            CreateFailure::Refused(reason) => SourceError::RecordRefused {
                path: path.to_owned(),
                reason,
            },
            CreateFailure::Io(source) => SourceError::RecordWrite {
                path: path.to_owned(),
                source,
            },
        })?;
        Ok(Recorder {
            path: path.to_owned(),
            file: io::BufWriter::new(file),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), SourceError> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|source| SourceError::RecordWrite {
                path: self.path.clone(),
                source,
            })
    }
}

/// A recording split into its dumps: each request and the replies after it.
struct Replay {
    path: PathBuf,
    dumps: Vec<RecordedDump>,
}

/// One dump of a recording: the request's keys and the reply bytes after
/// it. Public, with [`split_recording`], for the fuzz targets (fuzz/).
pub struct RecordedDump {
    /// sdiag_family of the request.
    pub family: u8,
    /// sdiag_protocol of the request (0 for unix_diag).
    pub protocol: u8,
    /// What the request asked for: a replayed request is served only by a
    /// recorded one that asked for at least as much.
    pub asked: RequestKeys,
    /// Every reply datagram recorded after the request, concatenated.
    pub replies: Vec<u8>,
    used: bool,
}

/// What a sock_diag dump request selects, read back from its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestKeys {
    /// idiag_states / udiag_states: the kernel state mask.
    pub states: u32,
    /// inet_diag_req_v2.idiag_ext (extension attributes asked for), or
    /// unix_diag_req.udiag_show (UDIAG_SHOW_* flags).
    pub extras: u32,
    /// The request's attributes after the fixed struct (for inet:
    /// INET_DIAG_REQ_BYTECODE), byte for byte, but for
    /// INET_DIAG_REQ_PROTOCOL; empty when none.
    pub filter: Vec<u8>,
    /// INET_DIAG_REQ_PROTOCOL: the protocol past a byte (MPTCP).
    pub protocol: Option<u32>,
}

/// include/uapi/linux/inet_diag.h: sizeof(struct inet_diag_req_v2).
const INET_DIAG_REQ_V2_LEN: usize = 56;
/// include/uapi/linux/packet_diag.h, netlink_diag.h: sizeof(struct
/// packet_diag_req) = sizeof(struct netlink_diag_req).
const LINKLAYER_DIAG_REQ_LEN: usize = 20;
/// include/uapi/linux/unix_diag.h: sizeof(struct unix_diag_req).
const UNIX_DIAG_REQ_LEN: usize = 24;

impl RequestKeys {
    /// Reads the keys of a request payload (family byte first); `None` when
    /// it is shorter than its fixed struct.
    pub fn parse(payload: &[u8]) -> Option<RequestKeys> {
        let u32_at = |i: usize| -> Option<u32> {
            Some(u32::from_ne_bytes(payload.get(i..i + 4)?.try_into().ok()?))
        };
        let family = i32::from(*payload.first()?);
        if family == libc::AF_PACKET || family == libc::AF_NETLINK {
            // packet_diag_req / netlink_diag_req: family, protocol, pad,
            // ino, show flags, cookie[2]; one state (CLOSE), no filter.
            return (payload.len() >= LINKLAYER_DIAG_REQ_LEN).then(|| RequestKeys {
                states: 0,
                extras: u32_at(8).unwrap_or(0),
                filter: payload[LINKLAYER_DIAG_REQ_LEN..].to_vec(),
                protocol: None,
            });
        }
        if family == libc::AF_UNIX {
            // unix_diag_req: sdiag_family, sdiag_protocol, pad (u16),
            // udiag_states, udiag_ino, udiag_show, udiag_cookie[2]
            (payload.len() >= UNIX_DIAG_REQ_LEN).then(|| RequestKeys {
                states: u32_at(4).unwrap_or(0),
                extras: u32_at(12).unwrap_or(0),
                filter: payload[UNIX_DIAG_REQ_LEN..].to_vec(),
                protocol: None,
            })
        } else {
            // inet_diag_req_v2: sdiag_family, sdiag_protocol, idiag_ext,
            // pad, idiag_states, id; then the attributes (bytecode)
            if payload.len() < INET_DIAG_REQ_V2_LEN {
                return None;
            }
            let (filter, protocol) = split_protocol(&payload[INET_DIAG_REQ_V2_LEN..]);
            Some(RequestKeys {
                states: u32_at(4).unwrap_or(0),
                extras: u32::from(payload[2]),
                filter,
                protocol,
            })
        }
    }

    /// Why replies recorded for `self` cannot answer `wanted`, or `None`
    /// when they can: every state, extension and show flag wanted was
    /// asked for, and the recorded request had no kernel filter or the same.
    /// BOUND_INACTIVE's bit is not required: recordings made before
    /// sockscope asked for it (`-a` does since issue 15) answer without
    /// those sockets, as a kernel before 6.8, which ignores the bit, would.
    pub fn lacks(&self, wanted: &RequestKeys) -> Option<ReplayGap> {
        let optional = TcpState::BoundInactive.bit();
        let states = wanted.states & !self.states & !optional;
        if states != 0 {
            // NEW_SYN_RECV's bit is SYN_RECV too: one name per state.
            let missing: StateSet = (0..32u8)
                .filter(|b| states & (1 << b) != 0)
                .filter_map(TcpState::from_kernel)
                .collect();
            let names: Vec<&str> = missing.iter().map(TcpState::kernel_name).collect();
            return Some(ReplayGap::States(names.join(", ")));
        }
        if wanted.extras & !self.extras != 0 {
            return Some(ReplayGap::Extras {
                recorded: self.extras,
                wanted: wanted.extras,
            });
        }
        if !self.filter.is_empty() && self.filter != wanted.filter {
            return Some(ReplayGap::Filter);
        }
        None
    }
}

/// Splits a request's attributes into INET_DIAG_REQ_PROTOCOL's value and
/// the bytes of the others (an attribute that does not parse ends the
/// walk: the rest is kept as bytes).
fn split_protocol(attrs: &[u8]) -> (Vec<u8>, Option<u32>) {
    let mut rest = Vec::new();
    let mut protocol = None;
    let mut pos = 0;
    while pos + 4 <= attrs.len() {
        let len = usize::from(u16::from_ne_bytes([attrs[pos], attrs[pos + 1]]));
        let kind = u16::from_ne_bytes([attrs[pos + 2], attrs[pos + 3]]);
        let end = (pos + len.div_ceil(4) * 4).min(attrs.len());
        if len < 4 || pos + len > attrs.len() {
            break;
        }
        if kind == INET_DIAG_REQ_PROTOCOL && len == 8 {
            protocol = attrs
                .get(pos + 4..pos + 8)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_ne_bytes);
        } else {
            rest.extend_from_slice(&attrs[pos..end]);
        }
        pos = end;
    }
    rest.extend_from_slice(&attrs[pos.min(attrs.len())..]);
    (rest, protocol)
}

/// What a recorded dump lacks for the request replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayGap {
    #[error("states {0} were not recorded")]
    States(String),
    #[error(
        "it was recorded without the extension attributes asked for now \
         (flags {recorded:#x}, now {wanted:#x}; -i and -m ask for them)"
    )]
    Extras { recorded: u32, wanted: u32 },
    #[error("it was recorded through another kernel filter, so it may lack rows this one selects")]
    Filter,
}

impl Replay {
    fn load(path: &Path) -> Result<Replay, SourceError> {
        let bytes = super::input::read_to_end(path).map_err(|source| SourceError::ReplayRead {
            path: path.to_owned(),
            source,
        })?;
        Ok(Replay {
            path: path.to_owned(),
            dumps: split_recording(&bytes)?,
        })
    }

    /// The replies of the first unused recorded dump for `table` whose
    /// request covers `request` (the request this run would send): a
    /// recording of `-tln` cannot answer `-tan`, and says so.
    fn take(&mut self, table: DumpId, request: &[u8]) -> Result<&[u8], SourceError> {
        let (family, protocol) = table.keys();
        let wanted = request
            .get(NLMSG_HDRLEN..)
            .and_then(RequestKeys::parse)
            .unwrap_or_default();
        let mut gap = None;
        let found = self.dumps.iter_mut().find(|d| {
            if d.used
                || d.family != family
                || d.protocol != protocol
                || d.asked.protocol != wanted.protocol
            {
                return false;
            }
            match d.asked.lacks(&wanted) {
                None => true,
                Some(g) => {
                    gap.get_or_insert(g);
                    false
                }
            }
        });
        match (found, gap) {
            (Some(d), _) => {
                d.used = true;
                Ok(&d.replies)
            }
            (None, Some(gap)) => Err(SourceError::ReplayUncovered {
                path: self.path.clone(),
                table,
                gap,
            }),
            (None, None) => Err(SourceError::ReplayMissing {
                path: self.path.clone(),
                table,
            }),
        }
    }
}

/// Splits a recording at its request messages (the ones with NLM_F_REQUEST).
/// This is what `--replay` does with the file's bytes before each dump's
/// replies go through [`DumpParser`]; public for the fuzz targets (fuzz/).
pub fn split_recording(bytes: &[u8]) -> Result<Vec<RecordedDump>, SourceError> {
    let mut dumps: Vec<RecordedDump> = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let malformed = |reason: String| SourceError::Malformed {
            offset: pos,
            reason: format!("in recording: {reason}"),
        };
        let msg =
            NetlinkBuffer::new_checked(&bytes[pos..]).map_err(|e| malformed(e.to_string()))?;
        let len = msg.length() as usize;
        let end = ((pos + len + 3) & !3).min(bytes.len());
        if msg.flags() & NLM_F_REQUEST != 0 {
            let payload = msg.payload();
            if payload.len() < 2 {
                return Err(malformed("request without family and protocol".into()));
            }
            // inet_diag_req_v2: sdiag_family, sdiag_protocol
            let asked = RequestKeys::parse(payload)
                .ok_or_else(|| malformed("request shorter than its struct".into()))?;
            dumps.push(RecordedDump {
                family: payload[0],
                protocol: payload[1],
                asked,
                replies: Vec::new(),
                used: false,
            });
        } else {
            let dump = dumps
                .last_mut()
                .ok_or_else(|| malformed("reply before any request".into()))?;
            dump.replies.extend_from_slice(&bytes[pos..end]);
        }
        pos = end;
    }
    Ok(dumps)
}

#[cfg(test)]
mod tests;
