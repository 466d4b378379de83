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

pub mod console;
pub mod detail;
pub mod escape;
pub mod explain;
pub mod grid;
pub mod json;
pub mod summary;
pub mod table;
pub mod who;

use std::io::{self, Write};

use crate::model::{Socket, UnixSocket};
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
        OutputFormat::Table => Box::new(TablePrinter {
            out,
            table: table::TableWriter::new(table, services, users, BATCH + 1),
        }),
        OutputFormat::Json => Box::new(JsonPrinter {
            out,
            rows: 0,
            buf: Vec::with_capacity(1024),
        }),
        OutputFormat::JsonLines => Box::new(JsonLinesPrinter {
            out,
            buf: Vec::with_capacity(1024),
        }),
    }
}

/// Rows per table batch.
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
}

impl Printer for TablePrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        self.table.flush(self.out)
    }
}

/// One JSON array, written as the records come.
struct JsonPrinter<'a> {
    out: &'a mut dyn Write,
    rows: usize,
    /// One JSON object is serialised here, then written in one piece.
    buf: Vec<u8>,
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
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(self.separator());
        json::to_writer(&mut self.buf, &json::JsonSocket::from(s))?;
        self.out.write_all(&self.buf)?;
        self.rows += 1;
        Ok(())
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        for u in &unix {
            self.out.write_all(self.separator())?;
            json::to_writer(&mut *self.out, &json::JsonUnixSocket::from(u))?;
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
}

impl pipeline::Sink for JsonLinesPrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.buf.clear();
        json::to_writer(&mut self.buf, &json::JsonSocket::from(s))?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        json::write_lines(self.out, &[], &unix)
    }
}

impl Printer for JsonLinesPrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
