//! Renderers: turn records into text. They never read sockets themselves.

pub mod detail;
pub mod escape;
pub mod explain;
pub mod grid;
pub mod json;
pub mod listeners;
pub mod ports;
pub mod small_table;
pub mod summary;
pub mod table;
pub mod who;
pub mod why_bind;

use std::io::{self, Write};

use crate::config::{OutputFormat, TableOptions};
use crate::model::{Socket, UnixSocket};
use crate::source::services::{Services, Users};

/// Writes `sockets` to `out` in `format`.
pub fn write(
    out: &mut dyn Write,
    sockets: &[Socket],
    unix: &[UnixSocket],
    format: OutputFormat,
    table: &TableOptions,
    services: Option<&Services>,
    users: Option<&Users>,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => table::write(out, sockets, unix, table, services, users),
        OutputFormat::Json => json::write_array(out, sockets, unix),
        OutputFormat::JsonLines => json::write_lines(out, sockets, unix),
    }
}

/// Rows written as they arrive, for a table or JSON too long to hold: JSON
/// at once, the table in batches of [`BATCH`] rows. A table that fits in
/// one batch gets the widths of its cells, as ss's; a longer one is laid
/// out, from its first batch on, in the widths its columns can hold for
/// the families and options shown ([`table::TableWriter::fix_widths`]), so
/// every row lines up with the first (only -r names and UNIX paths can be
/// wider still, and then widen their column from that row on).
pub struct Streamer<'a> {
    out: &'a mut dyn Write,
    format: OutputFormat,
    table: table::TableWriter<'a>,
    rows: usize,
    /// One JSON object is serialised here, then written in one piece.
    buf: Vec<u8>,
}

/// Rows per table batch.
pub const BATCH: usize = 1024;

impl<'a> Streamer<'a> {
    pub fn new(
        out: &'a mut dyn Write,
        format: OutputFormat,
        opts: &'a TableOptions,
        services: Option<&'a Services>,
        users: Option<&'a Users>,
    ) -> Streamer<'a> {
        Streamer {
            out,
            format,
            table: table::TableWriter::new(opts, services, users, BATCH + 1),
            rows: 0,
            buf: Vec::with_capacity(1024),
        }
    }

    pub fn push(&mut self, s: &Socket) -> io::Result<()> {
        match self.format {
            OutputFormat::Table => {
                self.table.row(s);
                if self.table.pending() > BATCH {
                    self.table.fix_widths();
                    self.table.flush(self.out)?;
                }
            }
            OutputFormat::Json => {
                self.buf.clear();
                self.buf
                    .extend_from_slice(if self.rows == 0 { b"[\n" } else { b",\n" });
                json::to_writer(&mut self.buf, &json::JsonSocket::from(s))?;
                self.out.write_all(&self.buf)?;
            }
            OutputFormat::JsonLines => {
                self.buf.clear();
                json::to_writer(&mut self.buf, &json::JsonSocket::from(s))?;
                self.buf.push(b'\n');
                self.out.write_all(&self.buf)?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes the UNIX sockets and what is left.
    pub fn finish(mut self, unix: &[UnixSocket]) -> io::Result<()> {
        match self.format {
            OutputFormat::Table => {
                for u in unix {
                    self.table.unix_row(u);
                }
                self.table.flush(self.out)
            }
            OutputFormat::Json => {
                for u in unix {
                    self.out
                        .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
                    json::to_writer(&mut *self.out, &json::JsonUnixSocket::from(u))?;
                    self.rows += 1;
                }
                self.out
                    .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })
            }
            OutputFormat::JsonLines => json::write_lines(self.out, &[], unix),
        }
    }
}
