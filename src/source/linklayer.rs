//! packet_diag and netlink_diag: the dump requests for packet sockets
//! (AF_PACKET) and netlink sockets (AF_NETLINK), and the parsers of their
//! replies into [`PacketSocket`] and [`NetlinkSocket`] records. The dumps
//! themselves run through [`super::netlink::Session`].

use crate::model::{BpfInsn, NetlinkSocket, PacketInfo, PacketKind, PacketSocket};

/// include/uapi/linux/netlink.h: NLMSG_HDRLEN.
const NLMSG_HDRLEN: usize = 16;
/// include/uapi/linux/sock_diag.h: SOCK_DIAG_BY_FAMILY.
const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// include/uapi/linux/packet_diag.h: PACKET_SHOW_INFO, _MEMINFO, _FILTER.
const PACKET_SHOW_INFO: u32 = 0x01;
const PACKET_SHOW_MEMINFO: u32 = 0x10;
const PACKET_SHOW_FILTER: u32 = 0x20;
/// include/uapi/linux/packet_diag.h: PACKET_DIAG_INFO, _UID, _MEMINFO,
/// _FILTER.
const PACKET_DIAG_INFO: u16 = 0;
const PACKET_DIAG_UID: u16 = 5;
const PACKET_DIAG_MEMINFO: u16 = 6;
const PACKET_DIAG_FILTER: u16 = 7;
/// sizeof(struct packet_diag_msg).
const PACKET_DIAG_MSG_LEN: usize = 16;

/// include/uapi/linux/netlink_diag.h: NDIAG_PROTO_ALL, NDIAG_SHOW_MEMINFO.
const NDIAG_PROTO_ALL: u8 = 255;
const NDIAG_SHOW_MEMINFO: u32 = 0x01;
/// include/uapi/linux/netlink_diag.h: NETLINK_DIAG_MEMINFO.
const NETLINK_DIAG_MEMINFO: u16 = 0;
/// sizeof(struct netlink_diag_msg).
const NETLINK_DIAG_MSG_LEN: usize = 28;
/// include/uapi/linux/netlink.h: NETLINK_CONNECTED.
const NETLINK_CONNECTED: u8 = 1;

/// include/uapi/linux/sock_diag.h: SK_MEMINFO_RMEM_ALLOC, _WMEM_ALLOC
/// (u32 indexes of the meminfo array).
const SK_MEMINFO_RMEM_ALLOC: usize = 0;
const SK_MEMINFO_WMEM_ALLOC: usize = 2;

/// (sdiag_family, sdiag_protocol) of the packet dump.
pub const PACKET_KEYS: (u8, u8) = (libc::AF_PACKET as u8, 0);
/// (sdiag_family, sdiag_protocol) of the netlink dump.
pub const NETLINK_KEYS: (u8, u8) = (libc::AF_NETLINK as u8, NDIAG_PROTO_ALL);

/// A dump request: netlink header and a 20-byte request struct
/// (packet_diag_req and netlink_diag_req share the layout: family,
/// protocol, pad, ino, show flags, cookie[2]).
fn request(keys: (u8, u8), show: u32, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + 20;
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    v.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.push(keys.0);
    v.push(keys.1);
    v.extend_from_slice(&[0; 2]); // pad
    v.extend_from_slice(&0u32.to_ne_bytes()); // ino
    v.extend_from_slice(&show.to_ne_bytes());
    v.extend_from_slice(&[0; 8]); // cookie
    v
}

/// The packet_diag dump request: info and memory, and with `bpf` (-b) the
/// classic BPF filter (ss always asks for it, and for ring and fanout
/// settings, which it shows with -e only).
pub fn packet_request(seq: u32, bpf: bool) -> Vec<u8> {
    let filter = if bpf { PACKET_SHOW_FILTER } else { 0 };
    request(
        PACKET_KEYS,
        PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO | filter,
        seq,
    )
}

/// The netlink_diag dump request: every netlink family, with memory.
pub fn netlink_request(seq: u32) -> Vec<u8> {
    request(NETLINK_KEYS, NDIAG_SHOW_MEMINFO, seq)
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn cookie_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u32_at(b, i)?) | (u64::from(u32_at(b, i + 4)?) << 32))
}

/// The attributes after a fixed struct: (type, value) pairs; a malformed
/// one is an error.
fn attributes(mut rest: &[u8]) -> Result<Vec<(u16, &[u8])>, String> {
    let mut out = Vec::new();
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return Err(format!("attribute of length {len} in {} bytes", rest.len()));
        }
        out.push((kind, &rest[4..len]));
        let next = len.div_ceil(4) * 4;
        rest = rest.get(next..).unwrap_or_default();
    }
    Ok(out)
}

/// One struct packet_diag_msg and its attributes.
pub fn parse_packet(payload: &[u8]) -> Result<PacketSocket, String> {
    if payload.len() < PACKET_DIAG_MSG_LEN {
        return Err(format!(
            "packet_diag_msg of {} bytes, expected {PACKET_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    // pdiag_type
    let kind = PacketKind::from_kernel(payload[1])
        .ok_or_else(|| format!("unknown packet socket type {}", payload[1]))?;
    // pdiag_num: the protocol, host order (packet_diag.c: ntohs(po->num))
    let protocol = u16::from_ne_bytes([payload[2], payload[3]]);
    let mut s = PacketSocket {
        kind,
        protocol,
        ifindex: None,
        recv_q: None,
        send_q: None,
        uid: None,
        // pdiag_ino
        inode: u64::from(u32_at(payload, 4).unwrap_or(0)),
        // pdiag_cookie[2]
        cookie: cookie_at(payload, 8),
        filter: None,
        info: None,
        owners: None,
    };
    for (kind, v) in attributes(&payload[PACKET_DIAG_MSG_LEN..])? {
        match kind {
            // struct packet_diag_info: pdi_index, pdi_version,
            // pdi_reserve, pdi_copy_thresh, pdi_tstamp, pdi_flags (u32 each)
            PACKET_DIAG_INFO => {
                s.ifindex = u32_at(v, 0);
                if let (Some(version), Some(copy_thresh), Some(flags)) =
                    (u32_at(v, 4), u32_at(v, 12), u32_at(v, 20))
                {
                    s.info = Some(PacketInfo {
                        version,
                        copy_thresh,
                        flags,
                    });
                }
            }
            PACKET_DIAG_UID => s.uid = u32_at(v, 0),
            // u32 array of SK_MEMINFO_*
            PACKET_DIAG_MEMINFO => {
                s.recv_q = u32_at(v, 4 * SK_MEMINFO_RMEM_ALLOC);
                s.send_q = u32_at(v, 4 * SK_MEMINFO_WMEM_ALLOC);
            }
            // struct sock_filter[]: code u16, jt u8, jf u8, k u32
            PACKET_DIAG_FILTER => {
                s.filter = Some(
                    v.chunks_exact(8)
                        .map(|c| BpfInsn {
                            code: u16::from_ne_bytes([c[0], c[1]]),
                            jt: c[2],
                            jf: c[3],
                            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
                        })
                        .collect(),
                )
            }
            _ => {}
        }
    }
    Ok(s)
}

/// One struct netlink_diag_msg and its attributes.
pub fn parse_netlink(payload: &[u8]) -> Result<NetlinkSocket, String> {
    if payload.len() < NETLINK_DIAG_MSG_LEN {
        return Err(format!(
            "netlink_diag_msg of {} bytes, expected {NETLINK_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    let word = |i| u32_at(payload, i).unwrap_or(0);
    let mut s = NetlinkSocket {
        // ndiag_protocol
        protocol: payload[2],
        // ndiag_portid
        portid: word(4),
        // ndiag_state
        connected: payload[3] == NETLINK_CONNECTED,
        // ndiag_dst_portid, ndiag_dst_group
        dst_portid: word(8),
        dst_group: word(12),
        recv_q: None,
        send_q: None,
        // ndiag_ino
        inode: u64::from(word(16)),
        // ndiag_cookie[2]
        cookie: cookie_at(payload, 20),
        owners: None,
    };
    for (kind, v) in attributes(&payload[NETLINK_DIAG_MSG_LEN..])? {
        if kind == NETLINK_DIAG_MEMINFO {
            s.recv_q = u32_at(v, 4 * SK_MEMINFO_RMEM_ALLOC);
            s.send_q = u32_at(v, 4 * SK_MEMINFO_WMEM_ALLOC);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_record() {
        // p_raw, ETH_P_ALL, inode 77, cookie 5; INFO (ifindex 1), UID 0,
        // MEMINFO (rmem 10, wmem 20), FILTER (one `ret #-1`).
        let mut m = vec![17, 3];
        m.extend_from_slice(&3u16.to_ne_bytes());
        m.extend_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(&5u64.to_ne_bytes());
        let attr = |m: &mut Vec<u8>, kind: u16, v: &[u8]| {
            m.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
            m.extend_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(v);
            while !m.len().is_multiple_of(4) {
                m.push(0);
            }
        };
        attr(&mut m, PACKET_DIAG_INFO, &[1, 0, 0, 0, 0, 0, 0, 0]);
        attr(&mut m, PACKET_DIAG_UID, &0u32.to_ne_bytes());
        let mem: Vec<u8> = [10u32, 0, 20, 0]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        attr(&mut m, PACKET_DIAG_MEMINFO, &mem);
        let mut insn = 6u16.to_ne_bytes().to_vec();
        insn.extend_from_slice(&[0, 0]);
        insn.extend_from_slice(&u32::MAX.to_ne_bytes());
        attr(&mut m, PACKET_DIAG_FILTER, &insn);
        let p = parse_packet(&m).unwrap();
        assert_eq!(p.kind, PacketKind::Raw);
        assert_eq!((p.protocol, p.inode, p.cookie), (3, 77, Some(5)));
        assert_eq!(
            (p.ifindex, p.uid, p.recv_q, p.send_q),
            (Some(1), Some(0), Some(10), Some(20))
        );
        assert_eq!(p.filter.unwrap()[0].k, u32::MAX);
        assert!(parse_packet(&m[..10]).is_err());
        m[1] = 9;
        assert!(parse_packet(&m).is_err());
    }

    #[test]
    fn netlink_record() {
        let mut m = vec![16, 3, 4, 0];
        for w in [1234u32, 0, 0, 99, 7, 0] {
            m.extend_from_slice(&w.to_ne_bytes());
        }
        let n = parse_netlink(&m).unwrap();
        assert_eq!(
            (n.protocol, n.portid, n.inode, n.connected),
            (4, 1234, 99, false)
        );
        assert!(parse_netlink(&m[..27]).is_err());
        // A truncated attribute is an error, not a guess.
        m.extend_from_slice(&[40, 0, 0, 0]);
        assert!(parse_netlink(&m).is_err());
    }

    #[test]
    fn requests_are_one_message_each() {
        for r in [packet_request(1, true), netlink_request(2)] {
            assert_eq!(r.len(), 36);
            assert_eq!(u32::from_ne_bytes(r[..4].try_into().unwrap()), 36);
        }
        assert_eq!(netlink_request(2)[17], 255);
    }
}
