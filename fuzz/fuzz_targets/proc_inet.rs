//! The /proc/net/{tcp,tcp6,udp,udp6} parser on arbitrary bytes: the same
//! input is read as each of the four tables (the IPv4 and IPv6 tables
//! differ in address width, TCP and UDP in nothing the parser checks, but
//! both are cheap). The records that parse are rendered as JSON lines.
//! Errors are fine; only a panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::model::{Family, Protocol};
use sockscope::render::json;
use sockscope::source::{Table, proc};

fuzz_target!(|data: &[u8]| {
    for proto in Protocol::ALL {
        for family in Family::ALL {
            let mut rows = Vec::new();
            let _ = proc::parse(data, Table { family, proto }, |s| rows.push(s));
            let _ = json::write_lines(&mut std::io::sink(), &rows, &[]);
        }
    }
});
