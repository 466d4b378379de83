//! The aligned table, laid out like ss.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};

use super::escape::escape;
use crate::config::TableOptions;
use crate::model::Socket;
use crate::services::Services;

/// Writes the table. No wrapping or truncation ever: a line is as long as
/// its content, as with ss. No colour is used, so NO_COLOR holds trivially.
pub fn write(
    out: &mut dyn Write,
    sockets: &[Socket],
    opts: &TableOptions,
    services: Option<&Services>,
) -> io::Result<()> {
    let mut columns: Vec<(&str, CellAlignment)> = Vec::new();
    if opts.netid {
        columns.push(("Netid", CellAlignment::Left));
    }
    columns.extend([
        ("State", CellAlignment::Left),
        ("Recv-Q", CellAlignment::Right),
        ("Send-Q", CellAlignment::Right),
        ("Local Address:Port", CellAlignment::Right),
        ("Peer Address:Port", CellAlignment::Left),
    ]);
    if opts.extended {
        columns.extend([
            ("UID", CellAlignment::Right),
            ("Inode", CellAlignment::Right),
            ("Cookie", CellAlignment::Left),
        ]);
    }

    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if opts.header {
        table.set_header(columns.iter().map(|(name, _)| Cell::new(name)));
    }
    let mut names = IfNames::default();
    for s in sockets {
        let mut row: Vec<String> = Vec::with_capacity(columns.len());
        if opts.netid {
            row.push(s.proto.name().to_owned());
        }
        row.push(s.state.name_for(s.proto).to_owned());
        row.push(s.recv_q.to_string());
        row.push(s.send_q.map_or_else(|| "-".to_owned(), |q| q.to_string()));
        let dev = match s.ifindex {
            Some(i) if i != 0 => Some(names.get(i)),
            _ => None,
        };
        row.push(endpoint(s, s.local, dev, services));
        row.push(endpoint(s, s.remote, None, services));
        if opts.extended {
            row.push(s.uid.map_or_else(|| "-".to_owned(), |u| u.to_string()));
            row.push(s.inode.to_string());
            row.push(
                s.cookie
                    .map_or_else(|| "-".to_owned(), |c| format!("{c:x}")),
            );
        }
        table.add_row(row);
    }
    for (i, (_, align)) in columns.iter().enumerate() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(*align);
            // One space between columns, none before the first.
            col.set_padding((0, 1));
        }
    }
    if sockets.is_empty() && !opts.header {
        return Ok(());
    }
    for line in table.lines() {
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `ADDR:PORT` as ss prints it: IPv6 in brackets, the IPv6 wildcard that also
/// accepts IPv4 as `*`, port 0 as `*`, a bound device as `%dev` after the
/// address.
pub fn endpoint(
    s: &Socket,
    addr: SocketAddr,
    dev: Option<&str>,
    services: Option<&Services>,
) -> String {
    let mut text = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) if a.ip().is_unspecified() && s.v6only != Some(true) => "*".to_owned(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    if let Some(dev) = dev {
        text.push('%');
        text.push_str(&escape(dev));
    }
    text.push(':');
    match (addr.port(), services) {
        (0, _) => text.push('*'),
        (port, Some(db)) => match db.name(s.proto, port) {
            Some(name) => text.push_str(&escape(name)),
            None => text.push_str(&port.to_string()),
        },
        (port, None) => text.push_str(&port.to_string()),
    }
    text
}

/// Interface names by index, looked up once each.
#[derive(Default)]
struct IfNames(HashMap<u32, String>);

impl IfNames {
    fn get(&mut self, index: u32) -> &str {
        self.0.entry(index).or_insert_with(|| ifname(index))
    }
}

fn ifname(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return index.to_string();
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Protocol, TcpState};

    fn sock(local: &str, remote: &str, v6only: Option<bool>) -> Socket {
        let local: SocketAddr = local.parse().unwrap();
        Socket {
            proto: Protocol::Tcp,
            family: if local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            },
            state: TcpState::Listen,
            local,
            remote: remote.parse().unwrap(),
            recv_q: 1,
            send_q: Some(128),
            uid: Some(0),
            inode: 7,
            cookie: Some(0xab),
            ifindex: Some(0),
            v6only,
        }
    }

    #[test]
    fn endpoints_look_like_ss() {
        let s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, None), "0.0.0.0:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "0.0.0.0:*");
        let s = sock("[::]:22", "[::]:0", Some(false));
        assert_eq!(endpoint(&s, s.local, None, None), "*:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "*:*");
        let s = sock("[::]:22", "[::]:0", Some(true));
        assert_eq!(endpoint(&s, s.local, None, None), "[::]:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "[::]:*");
        let s = sock("[::ffff:127.0.0.1]:80", "[::1]:4000", None);
        assert_eq!(endpoint(&s, s.local, None, None), "[::ffff:127.0.0.1]:80");
        let s = sock("127.0.0.1:53", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, Some("lo"), None), "127.0.0.1%lo:53");
        assert_eq!(
            endpoint(&s, s.local, Some("e\x1bvil"), None),
            "127.0.0.1%e\\x1bvil:53"
        );
    }

    #[test]
    fn service_names_with_r() {
        let db = Services::from_reader("ssh 22/tcp\n".as_bytes()).unwrap();
        let s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, Some(&db)), "0.0.0.0:ssh");
        let s = sock("0.0.0.0:2222", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, Some(&db)), "0.0.0.0:2222");
    }

    #[test]
    fn table_layout() {
        let socks = vec![
            sock("0.0.0.0:22", "0.0.0.0:0", None),
            sock("[::]:8080", "[::]:0", Some(false)),
        ];
        let opts = TableOptions {
            header: true,
            extended: false,
            netid: false,
        };
        let mut out = Vec::new();
        write(&mut out, &socks, &opts, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("State"), "{text}");
        assert!(lines[1].starts_with("LISTEN"), "{text}");
        assert!(
            lines[2].contains("*:8080") && lines[2].contains("*:*"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn unknown_backlog_and_extended() {
        let mut s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        s.send_q = None;
        s.cookie = None;
        let opts = TableOptions {
            header: false,
            extended: true,
            netid: true,
        };
        let mut out = Vec::new();
        write(&mut out, &[s], &opts, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let cols: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            cols,
            [
                "tcp",
                "LISTEN",
                "1",
                "-",
                "0.0.0.0:22",
                "0.0.0.0:*",
                "0",
                "7",
                "-"
            ]
        );
    }
}
