//! The printers, and the only code that writes to stdout.
//!
//! A socket listing goes through one [`Printer`], chosen once per run by
//! [`printer`] (table, JSON, JSON Lines), as ripgrep's `crates/printer`
//! puts its Standard and JSON printers behind one sink: a printer is a
//! [`pipeline::Sink`], so the run hands it each record as it is read. The
//! explain views (`who`, `listeners`, `why-bind`, `ports`, `-s`) have their
//! own writers ([`who`], [`explain`], [`summary`]). [`console`] holds
//! stdout (buffered, its failures told apart) and the stderr lines (notes,
//! `--verbose`).

pub mod completions;
pub mod console;
pub mod counters;
pub mod detail;
pub mod events;
pub mod grid;
pub mod json;
pub mod listeners;
pub mod metrics;
pub mod ports;
pub mod small_table;
pub mod ss_format;
pub mod summary;
pub mod table;
pub mod trace;
pub mod watch;
pub mod who;
pub mod why_bind;
pub mod wrap;

use std::io::{self, Write};

use crate::model::{OtherSocket, Socket, UnixSocket};
use crate::pipeline::netns::Place;
use crate::pipeline::{self, Delivery};
use crate::source::services::{Services, Users};
pub use table::TableOptions;

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned table like ss.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    JsonLines,
}

/// A socket listing's printer: a sink the run streams records to, then
/// [`Printer::finish`] writes what is left.
pub trait Printer: pipeline::Sink {
    /// Writes what is still held (the table's last rows, JSON's closing
    /// bracket).
    fn finish(&mut self) -> io::Result<()>;

    /// Writes the rows held now (a live view, `-E`: each row as it comes),
    /// the table in the widths its columns can hold from the first call on.
    fn flush_rows(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The printer of `format`, writing to `out`: the one place the format is
/// chosen.
pub fn printer<'a>(
    format: OutputFormat,
    out: &'a mut dyn Write,
    table: &'a TableOptions,
    services: Option<&'a Services>,
    users: Option<&'a Users>,
) -> Box<dyn Printer + 'a> {
    match format {
        OutputFormat::Table if let Some(ss) = &table.ss => {
            Box::new(ss_format::SsPrinter::new(out, table, ss, services))
        }
        OutputFormat::Table => Box::new(TablePrinter {
            out,
            table: table::TableWriter::new(table, services, users, BATCH + 1),
        }),
        OutputFormat::Json => Box::new(JsonPrinter {
            out,
            rows: 0,
            buf: Vec::with_capacity(1024),
            place: json::PlaceJson::default(),
        }),
        OutputFormat::JsonLines => Box::new(JsonLinesPrinter {
            out,
            buf: Vec::with_capacity(1024),
            place: json::PlaceJson::default(),
        }),
    }
}

/// The printer of `events`/`-E`: the listing's table (each row as it
/// comes), or the live views' close events in JSON.
pub fn close_printer<'a>(
    format: OutputFormat,
    out: &'a mut dyn Write,
    table: &'a TableOptions,
    services: Option<&'a Services>,
    users: Option<&'a Users>,
) -> Box<dyn Printer + 'a> {
    match format {
        OutputFormat::Table => printer(format, out, table, services, users),
        OutputFormat::Json => Box::new(events::ClosePrinter::new(out, true)),
        OutputFormat::JsonLines => Box::new(events::ClosePrinter::new(out, false)),
    }
}

/// Rows per table batch.
/// How one namespace's answer is introduced in a run over several:
/// `netns NAME (inode N)`, and its container when it has one (names
/// escaped).
pub fn place_heading(place: &Place) -> String {
    let mut text = format!(
        "netns {} (inode {})",
        crate::text::escape(&place.netns.label()),
        place.netns.id.inode
    );
    if let Some(c) = &place.netns.container {
        text.push_str(&format!(
            ", container {} ({} {})",
            crate::text::escape(&c.label()),
            c.runtime.as_str(),
            crate::text::escape(c.short_id())
        ));
    }
    text
}

/// Writes the heading of one namespace's text answer.
pub fn write_heading(out: &mut dyn Write, place: &Place, first: bool) -> io::Result<()> {
    if !first {
        out.write_all(b"\n")?;
    }
    writeln!(out, "== {} ==", place_heading(place))
}

/// Writes the JSON document `write` makes, with the namespace's `netns`
/// and `container` fields added: one line per namespace.
pub fn json_in_place(
    out: &mut dyn Write,
    place: &Place,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = Vec::new();
    write(&mut buf)?;
    let mut doc: serde_json::Value = serde_json::from_slice(&buf).map_err(io::Error::other)?;
    if let Some(map) = doc.as_object_mut() {
        let tags = json::PlaceJson::new(place);
        let netns = serde_json::to_value(tags.netns()).map_err(io::Error::other)?;
        let container = serde_json::to_value(tags.container(None)).map_err(io::Error::other)?;
        map.insert("netns".to_owned(), netns);
        map.insert("container".to_owned(), container);
    }
    json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

pub const BATCH: usize = 1024;

/// The table, written in batches of [`BATCH`] rows. A table that fits in
/// one batch gets the widths of its cells, as ss's; a longer one is laid
/// out, from its first batch on, in the widths its columns can hold for
/// the families and options shown ([`table::TableWriter::fix_widths`]), so
/// every row lines up with the first (only -r names and UNIX paths can be
/// wider still, and then widen their column from that row on).
struct TablePrinter<'a> {
    out: &'a mut dyn Write,
    table: table::TableWriter<'a>,
}

impl pipeline::Sink for TablePrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn enter(&mut self, place: &Place) {
        self.table.enter(place);
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.table.row(s);
        if self.table.pending() > BATCH {
            self.table.fix_widths();
            self.table.flush(self.out)?;
        }
        Ok(())
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        for u in &unix {
            self.table.unix_row(u);
        }
        Ok(())
    }
    fn others(&mut self, others: Vec<OtherSocket>) -> io::Result<()> {
        for o in &others {
            self.table.other_row(o);
        }
        Ok(())
    }
}

impl Printer for TablePrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        self.table.flush(self.out)
    }

    fn flush_rows(&mut self) -> io::Result<()> {
        self.table.fix_widths();
        self.table.flush(self.out)
    }
}

/// One JSON array, written as the records come.
struct JsonPrinter<'a> {
    out: &'a mut dyn Write,
    rows: usize,
    /// One JSON object is serialised here, then written in one piece.
    buf: Vec<u8>,
    /// The namespace of the rows that follow.
    place: json::PlaceJson,
}

impl JsonPrinter<'_> {
    fn separator(&self) -> &'static [u8] {
        if self.rows == 0 { b"[\n" } else { b",\n" }
    }
}

impl pipeline::Sink for JsonPrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn enter(&mut self, place: &Place) {
        self.place = json::PlaceJson::new(place);
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(self.separator());
        self.place.write_socket(&mut self.buf, s)?;
        self.out.write_all(&self.buf)?;
        self.rows += 1;
        Ok(())
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        for u in &unix {
            self.out.write_all(self.separator())?;
            json::to_writer(&mut *self.out, &self.place.unix(u))?;
            self.rows += 1;
        }
        Ok(())
    }
    fn others(&mut self, others: Vec<OtherSocket>) -> io::Result<()> {
        for o in &others {
            self.out.write_all(self.separator())?;
            json::to_writer(&mut *self.out, &self.place.other(o))?;
            self.rows += 1;
        }
        Ok(())
    }
}

impl Printer for JsonPrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })
    }
}

/// One JSON object per line.
struct JsonLinesPrinter<'a> {
    out: &'a mut dyn Write,
    /// One line is serialised here, then written in one piece.
    buf: Vec<u8>,
    /// The namespace of the rows that follow.
    place: json::PlaceJson,
}

impl pipeline::Sink for JsonLinesPrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn enter(&mut self, place: &Place) {
        self.place = json::PlaceJson::new(place);
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.buf.clear();
        self.place.write_socket(&mut self.buf, s)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        json::write_lines(self.out, &self.place, &[], &unix)
    }
    fn others(&mut self, others: Vec<OtherSocket>) -> io::Result<()> {
        for o in &others {
            json::to_writer(&mut *self.out, &self.place.other(o))?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl Printer for JsonLinesPrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TcpState, UnixKind};

    fn unix(path: &[u8], inode: u64) -> UnixSocket {
        UnixSocket {
            kind: UnixKind::from_kernel(1).unwrap(),
            state: TcpState::Listen,
            path: Some(path.to_vec()),
            inode,
            peer_inode: Some(0),
            peer_path: None,
            recv_q: Some(0),
            send_q: Some(128),
            uid: Some(0),
            cookie: Some(0x2a),
            owners: Some(Vec::new()),
            extras: None,
        }
    }

    fn records(n: usize) -> (Vec<Socket>, Vec<UnixSocket>) {
        let sockets = (0..n)
            .map(|i| {
                let port = 1000 + i;
                let local = if i % 3 == 0 {
                    format!("[::1]:{port}")
                } else {
                    format!("127.0.0.1:{port}")
                };
                Socket {
                    recv_q: i as u32,
                    inode: i as u64,
                    ..Socket::test_tcp(TcpState::Established, &local, "10.0.0.1:80")
                }
            })
            .collect();
        (sockets, vec![unix(b"/run/a", 7), unix(b"@b\xff", 8)])
    }

    /// What a printer of `format` writes for the records, streamed.
    fn printed(format: OutputFormat, opts: &TableOptions, n: usize) -> Vec<u8> {
        let (sockets, unix) = records(n);
        let mut out = Vec::new();
        let mut p = printer(format, &mut out, opts, None, None);
        for s in &sockets {
            p.socket(s).unwrap();
        }
        p.unix(unix).unwrap();
        p.finish().unwrap();
        drop(p);
        out
    }

    fn options(netid: bool, extended: bool, processes: bool) -> TableOptions {
        TableOptions {
            header: true,
            extended,
            netid,
            processes,
            cmdline: false,
            timers: true,
            info: false,
            memory: false,
            ipv6: true,
            netns: None,
            queues: true,
            oneline: false,
            ss: None,
            width: None,
        }
    }

    #[test]
    fn json_printers_write_what_the_collected_writers_write() {
        let opts = options(true, true, true);
        for n in [0, 1, 5] {
            let (sockets, unix) = records(n);
            let mut array = Vec::new();
            json::write_array(&mut array, &sockets, &unix).unwrap();
            assert_eq!(printed(OutputFormat::Json, &opts, n), array, "{n} rows");
            let mut lines = Vec::new();
            json::write_lines(&mut lines, &json::PlaceJson::default(), &sockets, &unix).unwrap();
            assert_eq!(printed(OutputFormat::JsonLines, &opts, n), lines);
        }
    }

    #[test]
    fn a_short_streamed_table_is_the_collected_table() {
        for opts in [
            options(false, false, false),
            options(true, true, true),
            options(true, false, true),
        ] {
            let (sockets, unix) = records(20);
            let mut whole = Vec::new();
            table::write(&mut whole, &sockets, &unix, &opts, None, None).unwrap();
            assert_eq!(
                String::from_utf8(printed(OutputFormat::Table, &opts, 20)).unwrap(),
                String::from_utf8(whole).unwrap(),
                "{opts:?}"
            );
        }
    }

    #[test]
    fn a_long_streamed_table_lines_up() {
        let opts = options(true, true, false);
        let text = String::from_utf8(printed(OutputFormat::Table, &opts, 3 * BATCH)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 * BATCH + 2);
        // Every inet row (IPv4 and IPv6 alike) has its Peer column at the
        // same place as the header's.
        let peer = lines[0].find("Peer Address:Port").unwrap();
        for line in &lines[1..=3 * BATCH] {
            assert_eq!(line.find("10.0.0.1:80"), Some(peer), "{line}");
        }
    }
}
