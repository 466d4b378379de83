//! The table's layout over a long, streamed output (issue 12, item 3): the
//! rows are written in batches as the dump arrives, and every row must line
//! up with the first, IPv6 rows after a batch of IPv4 ones included.

pub mod common;

use std::io::Write as _;
use std::net::UdpSocket;

use common::Sandbox;

/// Where each line's `n`th blank-separated field ends (in characters).
fn field_end(line: &str, n: usize) -> Option<usize> {
    let mut fields = 0;
    let mut in_field = false;
    for (i, c) in line.chars().enumerate() {
        match (c == ' ', in_field) {
            (false, false) => {
                in_field = true;
                fields += 1;
            }
            (true, true) => {
                in_field = false;
                if fields == n {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    (in_field && fields == n).then(|| line.chars().count())
}

/// 1030 IPv4 then 20 IPv6 UDP sockets: more than the first batch (1024
/// rows) of IPv4 rows, then IPv6 rows, whose addresses are longer. The
/// local address column (right-aligned) must end at the same place on
/// every row and under its header, from both sources.
#[test]
fn long_tables_keep_one_width() {
    Sandbox::run(|env| {
        if !env.private_ns {
            let _ = writeln!(
                std::io::stderr(),
                "layout: skipped, needs a private namespace (root)"
            );
            return;
        }
        let mut held = Vec::new();
        for _ in 0..1030 {
            held.push(UdpSocket::bind("127.0.0.1:0").unwrap());
        }
        // IPv4-mapped: `[::ffff:127.0.0.1]:P`, wider than any 127.0.0.1
        // row, as a global IPv6 address would be.
        for _ in 0..20 {
            held.push(UdpSocket::bind("[::ffff:127.0.0.1]:0").unwrap());
        }
        for args in [&["-uan"][..], &["-uan", "--source", "proc"][..]] {
            let out = common::run::sockscope(env, args);
            let text = String::from_utf8(out.stdout).unwrap();
            let mut lines = text.lines();
            // Header: State Recv-Q Send-Q Local Address:Port ...: the
            // column's header is two fields.
            let header = field_end(lines.next().unwrap(), 5).unwrap();
            let rows: Vec<&str> = lines.collect();
            assert_eq!(rows.len(), held.len(), "{args:?}");
            let ends: Vec<usize> = rows.iter().map(|l| field_end(l, 4).unwrap()).collect();
            let moved: Vec<(usize, &str)> = ends
                .iter()
                .zip(&rows)
                .enumerate()
                .filter(|(_, (e, _))| **e != header)
                .map(|(i, (_, l))| (i, *l))
                .take(3)
                .collect();
            assert!(
                moved.is_empty(),
                "{args:?}: the local address column ends at {header} under its \
                 header, but not on rows {moved:?}"
            );
            assert!(
                rows[rows.len() - 1].contains("[::ffff:127.0.0.1]:"),
                "{args:?}"
            );
        }
    });
}
