//! The /proc/net/{tcp,tcp6,udp,udp6} parser, structure-aware: the input
//! drives a generator that writes whole table lines field by field as the
//! kernel does (net/ipv4/tcp_ipv4.c: get_tcp4_sock() and friends) and then
//! mutates inside fields (a byte replaced by a multi-byte UTF-8 character, a
//! separator, a sign; a byte inserted or deleted; the field cut), so the
//! fuzzer reaches the code behind each field's checks instead of stopping
//! at the first one. The raw input is also parsed as a table, as before.
//! The records that parse are rendered as JSON lines. Errors are fine; only
//! a panic (or a sanitizer report) fails, and no socket may come out twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::model::{Family, Protocol};
use sockscope::output::json;
use sockscope::source::{Table, proc};
use sockscope_fuzz::Gen;

const HEADER: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/// One table line for `family`, each field well formed, then maybe mutated.
fn line(g: &mut Gen, family: Family, out: &mut Vec<u8>) {
    let words = match family {
        Family::Inet => 1,
        Family::Inet6 => 4,
    };
    let addr = |g: &mut Gen| {
        let mut f = Vec::new();
        for _ in 0..words {
            f.extend_from_slice(format!("{:08X}", g.u32()).as_bytes());
        }
        f.push(b':');
        f.extend_from_slice(format!("{:04X}", g.u16()).as_bytes());
        f
    };
    let fields: Vec<Vec<u8>> = vec![
        format!("{:4}:", g.u8()).into_bytes(),
        addr(g),
        addr(g),
        format!("{:02X}", g.below(14)).into_bytes(),
        format!("{:08X}:{:08X}", g.u32(), g.u32()).into_bytes(),
        format!("{:02X}:{:08X}", g.below(6), g.u32()).into_bytes(),
        format!("{:08X}", g.u32()).into_bytes(),
        format!("{:5}", g.u32()).into_bytes(),
        format!("{:8}", g.u8() as i8).into_bytes(),
        format!("{}", g.u64()).into_bytes(),
        b"2 0000000000000000 100 0 0 10 0".to_vec(),
    ];
    g.write_fields(fields, b" ", out);
}

/// Parses `text` as `table`: no socket may come out twice; the rows are
/// rendered.
fn check(table: Table, text: &[u8]) {
    let mut rows = Vec::new();
    let _ = proc::parse(text, table, |s| rows.push(s));
    let mut inodes: Vec<u64> = rows.iter().map(|s| s.inode).filter(|&i| i != 0).collect();
    let n = inodes.len();
    inodes.sort_unstable();
    inodes.dedup();
    assert_eq!(inodes.len(), n, "a socket inode came out twice");
    let _ = json::write_lines(
        &mut std::io::sink(),
        &json::PlaceJson::default(),
        &rows,
        &[],
    );
}

fuzz_target!(|data: &[u8]| {
    for proto in Protocol::ALL {
        for family in Family::ALL {
            check(Table { family, proto }, data);
        }
    }
    for family in Family::ALL {
        let table = Table {
            family,
            proto: Protocol::Tcp,
        };
        let mut g = Gen::new(data);
        let mut text = HEADER.to_vec();
        while !g.done() {
            let start = text.len();
            line(&mut g, family, &mut text);
            // Each line alone too: a table stops at its first bad line, and
            // every generated line should reach the parser.
            let mut alone = HEADER.to_vec();
            alone.extend_from_slice(&text[start..]);
            check(table, &alone);
        }
        check(table, &text);
    }
});
