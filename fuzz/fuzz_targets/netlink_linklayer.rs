//! The packet_diag and netlink_diag reply parsers on arbitrary bytes: the
//! reply datagrams of a packet or netlink socket dump through
//! `DumpParser::feed` and `parse_packet` / `parse_netlink`, as the kernel's
//! replies go; the records that parse are rendered as JSON. Besides the raw
//! input, a structure-aware dump: the input drives a generator of
//! packet_diag_msg (net/packet/diag.c: sk_diag_fill()) and
//! netlink_diag_msg (net/netlink/diag.c: sk_diag_fill()) records with
//! attributes of the kernel's sizes, framed consistently, mutated inside
//! fields now and then (sockscope_fuzz::nl). Errors are fine; only a panic
//! (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::model::OtherSocket;
use sockscope::output::json;
use sockscope::source::DumpId;
use sockscope::source::linklayer::{parse_netlink, parse_packet};
use sockscope::source::netlink::DumpParser;
use sockscope_fuzz::{Gen, nl};

/// One packet_diag_msg (16 bytes) and its attributes.
fn packet(g: &mut Gen) -> Vec<u8> {
    let mut r = vec![
        if g.one_in(16) { g.u8() } else { 17 }, // pdiag_family AF_PACKET
        [3u8, 2, 1][usize::from(g.below(3))],   // pdiag_type
    ];
    r.extend_from_slice(&(g.u32() as u16).to_ne_bytes()); // pdiag_num
    r.extend_from_slice(&g.u32().to_ne_bytes()); // pdiag_ino
    r.extend_from_slice(&g.u64().to_ne_bytes()); // pdiag_cookie
    // INFO 24, MCLIST (any), RX_RING 28, TX_RING 28, FANOUT 4, UID 4,
    // MEMINFO 36, FILTER (any, 8 a instruction)
    nl::attrs(g, &[24, 0, 28, 28, 4, 4, 36, 0], &mut r);
    r
}

/// One netlink_diag_msg (28 bytes) and its attributes.
fn netlink(g: &mut Gen) -> Vec<u8> {
    let mut r = vec![
        if g.one_in(16) { g.u8() } else { 16 }, // ndiag_family AF_NETLINK
        g.below(6),                             // ndiag_type
        g.below(32),                            // ndiag_protocol
        g.below(3),                             // ndiag_state
    ];
    for _ in 0..4 {
        r.extend_from_slice(&g.u32().to_ne_bytes()); // portid, dst, group, ino
    }
    r.extend_from_slice(&g.u64().to_ne_bytes()); // ndiag_cookie
    // MEMINFO 36, GROUPS (any), RX_RING 28, TX_RING 28, FLAGS 4
    nl::attrs(g, &[36, 0, 28, 28, 4], &mut r);
    r
}

fn parse(dump: DumpId, data: &[u8]) {
    let mut rows = Vec::new();
    let mut parser = DumpParser::new(dump);
    let _ = parser.feed(data, &mut |payload| {
        rows.push(match dump {
            DumpId::Packet => OtherSocket::Packet(parse_packet(payload)?),
            _ => OtherSocket::Netlink(parse_netlink(payload)?),
        });
        Ok(())
    });
    let place = json::PlaceJson::default();
    for o in &rows {
        let _ = json::to_writer(&mut std::io::sink(), &place.other(o));
    }
}

fuzz_target!(|data: &[u8]| {
    parse(DumpId::Packet, data);
    parse(DumpId::Netlink, data);
    let mut g = Gen::new(data);
    parse(DumpId::Packet, &nl::dump(&mut g, packet));
    let mut g = Gen::new(data);
    parse(DumpId::Netlink, &nl::dump(&mut g, netlink));
});
