//! The unix_diag reply parser on arbitrary bytes: the reply datagrams of a
//! UNIX socket dump through `DumpParser::feed` and `parse_unix`, as the
//! kernel's replies go; the records that parse are rendered as JSON lines.
//! Besides the raw input, a structure-aware dump: the input drives a
//! generator of unix_diag_msg records (net/unix/diag.c: sk_diag_fill())
//! with UNIX_DIAG_* attributes of the kernel's sizes, framed consistently,
//! mutated inside fields now and then (sockscope_fuzz::nl).
//! Errors are fine; only a panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::output::json;
use sockscope::source::DumpId;
use sockscope::source::netlink::{DumpParser, parse_unix, parse_unix_with, unix_name};
use sockscope::text as escape;
use sockscope_fuzz::{Gen, nl};

/// One unix_diag_msg and its attributes.
fn record(g: &mut Gen) -> Vec<u8> {
    let mut r = vec![
        if g.one_in(16) { g.u8() } else { 1 },   // udiag_family AF_UNIX
        [1u8, 2, 5, 3][usize::from(g.below(4))], // udiag_type
        g.below(13),                             // udiag_state
        0,
    ];
    r.extend_from_slice(&g.u32().to_ne_bytes()); // udiag_ino
    r.extend_from_slice(&g.u64().to_ne_bytes()); // udiag_cookie
    // UNIX_DIAG_NAME (any), VFS 8, PEER 4, ICONS (any), RQLEN 8,
    // MEMINFO 36, SHUTDOWN 1, UID 4
    nl::attrs(g, &[0, 8, 4, 0, 8, 36, 1, 4], &mut r);
    r
}

fn parse(data: &[u8]) {
    let mut rows = Vec::new();
    let mut parser = DumpParser::new(DumpId::Unix);
    let _ = parser.feed(data, &mut |payload| {
        rows.push(parse_unix(payload)?);
        // As --ss-format reads it: shutdown, VFS, pending, memory kept.
        rows.push(parse_unix_with(payload, true)?);
        Ok(())
    });
    let _ = json::write_lines(
        &mut std::io::sink(),
        &json::PlaceJson::default(),
        &[],
        &rows,
    );
    for u in &rows {
        if let Some(p) = &u.path {
            let _ = escape::escape_bytes(p);
        }
        let _ = u.state_name();
    }
    let _ = escape::escape_bytes(&unix_name(data));
}

fuzz_target!(|data: &[u8]| {
    parse(data);
    let mut g = Gen::new(data);
    parse(&nl::dump(&mut g, record));
});
