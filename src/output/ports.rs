//! `ports` in words: the ephemeral range, then the busiest destinations
//! with their share of it and their mark; and the same as one JSON object.

use std::io::{self, Write};

use serde::Serialize;

use super::grid::Align;
use super::json::JsonEndpoint;
use super::small_table::{Fit, SmallTable};
use super::wrap::write_hanging;
use crate::analysis::{Level, PortPressure};

/// `ports`: the range, the busiest destinations (under a header line
/// unless `header` is false, -H), and why per destination; fitted to
/// `width` when there is one (a terminal without -W).
pub fn ports_text(
    out: &mut dyn Write,
    p: &PortPressure,
    header: bool,
    width: Option<usize>,
) -> io::Result<()> {
    write_hanging(
        out,
        "",
        &format!(
            "net.ipv4.ip_local_port_range {}-{} ({} ports); {} outgoing TCP connections",
            p.range.0, p.range.1, p.range_size, p.outgoing
        ),
        width,
    )?;
    write_hanging(
        out,
        "",
        "A connection is its four-tuple, so one local port can serve many destinations: \
         ports run out per (local address, destination address:port), not per host.",
        width,
    )?;
    if p.destinations.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let mut table = SmallTable::new(&[
        Align::Right,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ]);
    let address = Fit::Address {
        cap: super::grid::ADDRESS_CAP,
    };
    table.fits(&[address, address]);
    table.fit(width);
    if header {
        table.header(&[
            "Local Address",
            "Destination",
            "Ports",
            "Used",
            "TIME_WAIT",
            "Mark",
        ]);
    }
    for d in p.destinations.iter().take(10) {
        table.row(vec![
            d.local.to_string(),
            crate::text::host_port(d.remote.ip(), 0, d.remote.port()),
            d.count.to_string(),
            format!("{:.1}%", d.percent),
            format!("{:.0}%", d.time_wait_percent()),
            match d.level {
                Level::Critical => "CRITICAL: new connections will fail (EADDRNOTAVAIL)",
                Level::Warn => "warning: over half the range",
                Level::Ok => "",
            }
            .to_owned(),
        ]);
    }
    table.write(out)
}

#[derive(Serialize)]
struct JsonDestination {
    local: String,
    remote: JsonEndpoint,
    count: usize,
    time_wait: usize,
    percent: f64,
    level: &'static str,
}

#[derive(Serialize)]
struct JsonPorts {
    range: [u16; 2],
    range_size: usize,
    outgoing: usize,
    destinations: Vec<JsonDestination>,
}

pub fn ports_json(out: &mut dyn Write, p: &PortPressure) -> io::Result<()> {
    let doc = JsonPorts {
        range: [p.range.0, p.range.1],
        range_size: p.range_size,
        outgoing: p.outgoing,
        destinations: p
            .destinations
            .iter()
            .map(|d| JsonDestination {
                local: d.local.to_string(),
                remote: d.remote.into(),
                count: d.count,
                time_wait: d.time_wait,
                percent: (d.percent * 10.0).round() / 10.0,
                level: d.level.name(),
            })
            .collect(),
    };
    super::json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}
