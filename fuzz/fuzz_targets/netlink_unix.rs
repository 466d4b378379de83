//! The unix_diag reply parser on arbitrary bytes: the reply datagrams of a
//! UNIX socket dump through `DumpParser::feed` and `parse_unix`, as the
//! kernel's replies go; the records that parse are rendered as JSON lines.
//! Errors are fine; only a panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::render::{escape, json};
use sockscope::source::DumpId;
use sockscope::source::netlink::{DumpParser, parse_unix, unix_name};

fuzz_target!(|data: &[u8]| {
    let mut rows = Vec::new();
    let mut parser = DumpParser::new(DumpId::Unix);
    let _ = parser.feed(data, &mut |payload| {
        rows.push(parse_unix(payload)?);
        Ok(())
    });
    let _ = json::write_lines(&mut std::io::sink(), &[], &rows);
    for u in &rows {
        if let Some(p) = &u.path {
            let _ = escape::escape_bytes(p);
        }
        let _ = u.state_name();
    }
    let _ = escape::escape_bytes(&unix_name(data));
});
