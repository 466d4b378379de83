//! The NETLINK_SOCK_DIAG reply parser on arbitrary bytes, read two ways:
//!
//! * as the reply datagrams of one inet dump, as the kernel sends them:
//!   `ends_dump` (run by the receiving thread), then `DumpParser::feed`
//!   with `parse_socket` (and `parse_socket_with`, keeping every attribute
//!   as --ss-format does), once as a TCP and once as a UDP table;
//! * as a whole recording, as `--replay` reads one: `split_recording`, then
//!   each dump's replies through the same parser (`parse_unix` for a
//!   unix_diag dump).
//!
//! The records that parse are rendered as JSON lines and as the `-o`, `-m`
//! and `-i` detail text. Besides the raw input, a structure-aware inet
//! dump: the input drives a generator of inet_diag_msg records
//! (net/ipv4/inet_diag.c: inet_sk_diag_fill()) with INET_DIAG_* attributes
//! of the kernel's sizes (tcp_info of any length, a congestion name,
//! skmeminfo, v6only...), framed consistently and mutated inside fields now
//! and then (sockscope_fuzz::nl). Errors are fine; only a panic (or a
//! sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::model::{Family, Protocol, Socket, UnixSocket};
use sockscope::output::{detail, json, ss_format};
use sockscope::source::netlink::{
    DumpParser, ends_dump, parse_socket, parse_socket_with, parse_unix, parse_unix_with,
    split_recording,
};
use sockscope::source::{DumpId, Table};
use sockscope_fuzz::{Gen, nl};

/// One inet_diag_msg (72 bytes) and its attributes.
fn record(g: &mut Gen) -> Vec<u8> {
    let family = if g.one_in(2) { 2 } else { 10 }; // AF_INET, AF_INET6
    let mut r = vec![
        if g.one_in(16) { g.u8() } else { family }, // idiag_family
        g.below(14),                                // idiag_state
        g.below(5),                                 // idiag_timer
        g.u8(),                                     // idiag_retrans
    ];
    while r.len() < 72 {
        r.push(g.u8()); // inet_diag_sockid, expires, queues, uid, inode
    }
    // MEMINFO 16, INFO (any), VEGASINFO 16, CONG (any), TOS 1, TCLASS 1,
    // SKMEMINFO 36 (or 28), SHUTDOWN 1, DCTCPINFO 16, PROTOCOL 1,
    // SKV6ONLY 1, LOCALS, PEERS, PAD, MARK 4, BBRINFO 20, CLASS_ID 4
    nl::attrs(
        g,
        &[0, 16, 0, 16, 0, 1, 1, 36, 1, 16, 1, 1, 0, 0, 0, 4, 20, 4],
        &mut r,
    );
    r
}

fuzz_target!(|data: &[u8]| {
    let mut g = Gen::new(data);
    let dump = nl::dump(&mut g, record);
    for proto in Protocol::ALL {
        for family in Family::ALL {
            let (rows, _) = inet_dump(Table { family, proto }, &dump);
            render(&rows, &[]);
        }
    }
    let _ = ends_dump(data);
    for proto in Protocol::ALL {
        let table = Table {
            family: Family::Inet,
            proto,
        };
        let (rows, _) = inet_dump(table, data);
        render(&rows, &[]);
    }
    if let Ok(dumps) = split_recording(data) {
        let mut rows = Vec::new();
        let mut unix = Vec::new();
        for dump in &dumps {
            // The dump a request asked for, as `--replay` finds it.
            let keys = (dump.family, dump.protocol);
            match DUMPS.into_iter().find(|d| d.keys() == keys) {
                Some(DumpId::Inet(table)) => rows.extend(inet_dump(table, &dump.replies).0),
                Some(DumpId::Unix) => unix.extend(unix_dump(&dump.replies)),
                Some(DumpId::Probe(_) | DumpId::Packet | DumpId::Netlink) | None => {}
            }
        }
        render(&rows, &unix);
    }
});

/// Every dump sockscope asks for.
const DUMPS: [DumpId; 5] = [
    DumpId::Inet(Table {
        family: Family::Inet,
        proto: Protocol::Tcp,
    }),
    DumpId::Inet(Table {
        family: Family::Inet6,
        proto: Protocol::Tcp,
    }),
    DumpId::Inet(Table {
        family: Family::Inet,
        proto: Protocol::Udp,
    }),
    DumpId::Inet(Table {
        family: Family::Inet6,
        proto: Protocol::Udp,
    }),
    DumpId::Unix,
];

/// The records of one inet dump's replies and whether it ended cleanly.
fn inet_dump(table: Table, replies: &[u8]) -> (Vec<Socket>, bool) {
    let mut rows = Vec::new();
    let mut parser = DumpParser::new(DumpId::Inet(table));
    let ok = parser
        .feed(replies, &mut |payload| {
            rows.push(parse_socket(payload, table.proto)?);
            // As --ss-format reads it: every attribute kept.
            rows.push(parse_socket_with(payload, table.proto, true)?);
            Ok(())
        })
        .is_ok();
    (rows, ok && parser.done)
}

fn unix_dump(replies: &[u8]) -> Vec<UnixSocket> {
    let mut rows = Vec::new();
    let mut parser = DumpParser::new(DumpId::Unix);
    let _ = parser.feed(replies, &mut |payload| {
        rows.push(parse_unix(payload)?);
        rows.push(parse_unix_with(payload, true)?);
        Ok(())
    });
    rows
}

fn render(rows: &[Socket], unix: &[UnixSocket]) {
    let _ = json::write_lines(
        &mut std::io::sink(),
        &json::PlaceJson::default(),
        rows,
        unix,
    );
    for s in rows {
        if let Some(t) = &s.timer {
            let _ = detail::timer_text(t.kind.name(), t.expires_ms, t.retrans);
        }
        if let Some(x) = &s.extras {
            if let Some(m) = &x.mem {
                let _ = detail::skmem_text(m);
            }
            if let Some(i) = &x.tcp_info {
                let _ = detail::tcp_info_text_with_options(i, x.congestion.as_deref());
                let cc = x.cc.map(ss_format::cc_item);
                let _ = detail::tcp_info_text_ss(i, x.congestion.as_deref(), true, cc.as_deref());
            }
            if let Some(mask) = x.shutdown {
                let _ = ss_format::shutdown_arrow(mask);
            }
        }
    }
}
