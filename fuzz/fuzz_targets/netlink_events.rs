//! The destroy-event parser (`-E`) and the SOCK_DESTROY ack reader (`-K`)
//! on arbitrary bytes: a datagram of the sock_diag destroy groups through
//! `events::parse_events` (inet_diag_msg records whose protocol is in
//! INET_DIAG_PROTOCOL, net/ipv4/inet_diag.c: inet_diag_handler_get_info()),
//! the records that parse rendered as JSON lines, and `destroy::ack_code`
//! for the sequence number the input starts with. Besides the raw input, a
//! structure-aware datagram: the input drives a generator of inet_diag_msg
//! records with INET_DIAG_* attributes of the kernel's sizes (always one
//! INET_DIAG_PROTOCOL, TCP, UDP or other), mutated now and then
//! (sockscope_fuzz::nl). Errors are fine; only a panic fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::output::json;
use sockscope::source::destroy::ack_code;
use sockscope::source::events::parse_events;
use sockscope_fuzz::{Gen, nl};

/// One inet_diag_msg and its attributes.
fn record(g: &mut Gen) -> Vec<u8> {
    let mut r = vec![
        if g.one_in(16) { g.u8() } else { [2u8, 10][usize::from(g.below(2))] }, // idiag_family
        g.below(14), // idiag_state
        g.below(5),  // idiag_timer
        g.u8(),      // idiag_retrans
    ];
    for _ in 0..17 {
        // id (ports, addresses, if, cookie), expires, queues, uid, inode
        r.extend_from_slice(&g.u32().to_ne_bytes());
    }
    let proto = [6u8, 17, 136, g.u8()][usize::from(g.below(4))];
    nl::attr(g, 10, vec![proto], &mut r);
    // INET_DIAG_NONE .. SKV6ONLY: the kernel's sizes (0: any)
    nl::attrs(g, &[0, 16, 0, 16, 0, 1, 1, 36, 1, 16, 1, 1], &mut r);
    r
}

fn parse(data: &[u8]) {
    let mut rows = Vec::new();
    let _ = parse_events(data, &mut |s| {
        rows.push(s);
        Ok(())
    });
    let _ = json::write_lines(
        &mut std::io::sink(),
        &json::PlaceJson::default(),
        &rows,
        &[],
    );
    let seq = data
        .get(..4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let _ = ack_code(data, seq);
}

fuzz_target!(|data: &[u8]| {
    parse(data);
    let mut g = Gen::new(data);
    parse(&nl::dump(&mut g, record));
});
