//! Renderers: turn records into text. They never read sockets themselves.

pub mod detail;
pub mod escape;
pub mod explain;
pub mod grid;
pub mod json;
pub mod summary;
pub mod table;
pub mod who;

use std::io::{self, Write};

use crate::config::{OutputFormat, TableOptions};
use crate::model::{Socket, UnixSocket};
use crate::services::{Services, Users};

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
