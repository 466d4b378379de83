//! `who` in words: the answer ([`WhoAnswer`]) as one line, then the
//! sockets on the port as a table; and the same as one JSON object (the
//! line in `summary`).

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::TableOptions;
use super::json::{JsonOwner, JsonSocket, to_writer};
use super::table;
use crate::analysis::{WhoAnswer, who};
use crate::filter::LocalPort;
use crate::model::{Protocol, Socket};

/// The answer in words: who holds the port, and what holds it without an
/// owner, e.g. `port 80: tcp LISTEN by nginx/812, nginx/813; 2
/// connections waiting to be accepted; without an owner: 1 TIME_WAIT`.
pub fn summary_text(a: &WhoAnswer<'_>) -> String {
    let mut text = String::new();
    let what = match a.target.addr {
        Some(addr) if addr.is_ipv6() => format!("[{addr}]:{}", a.target.port),
        Some(addr) => format!("{addr}:{}", a.target.port),
        None => format!("port {}", a.target.port),
    };
    if !a.held {
        let protos: Vec<&str> = a.protocols.iter().map(|p| p.name()).collect();
        let _ = write!(text, "{what}: nothing holds it ({})", protos.join(", "));
        return text;
    }
    let _ = write!(text, "{what}: ");
    if a.holders.is_empty() {
        text.push_str("no visible process holds it");
    }
    for (i, h) in a.holders.iter().enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        let _ = write!(text, "{} {} by ", h.proto, h.state.name_for(h.proto));
        for (j, o) in h.owners.iter().enumerate() {
            if j > 0 {
                text.push_str(", ");
            }
            table::owner(&mut text, o);
        }
    }
    if a.queued > 0 {
        let _ = write!(
            text,
            "; {} connection{} waiting to be accepted",
            a.queued,
            crate::text::plural(a.queued, "", "s")
        );
    }
    for (i, c) in a.unowned.iter().enumerate() {
        text.push_str(if i == 0 { "; without an owner: " } else { ", " });
        let _ = write!(text, "{} {}", c.count, c.state.name_for(c.proto));
    }
    text
}

/// [`summary_text`] of the answer for `sockets`.
pub fn summary(target: &LocalPort, protocols: &[Protocol], sockets: &[Socket]) -> String {
    summary_text(&who(*target, protocols, sockets))
}

/// Human output: the summary line, then the table of `sockets` (those the
/// answer was made of).
pub fn answer_text(
    out: &mut dyn Write,
    a: &WhoAnswer<'_>,
    sockets: &[Socket],
    opts: &TableOptions,
) -> io::Result<()> {
    // Wrapped at word boundaries on a terminal (issue 18, width).
    super::wrap::write_hanging(out, "", &summary_text(a), opts.width)?;
    if !sockets.is_empty() {
        table::write(out, sockets, &[], opts, None, None)?;
    }
    Ok(())
}

/// [`answer_text`] of the answer for `sockets`.
pub fn write_text(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
    opts: &TableOptions,
) -> io::Result<()> {
    answer_text(out, &who(*target, protocols, sockets), sockets, opts)
}

#[derive(Serialize)]
struct JsonWho<'a> {
    port: u16,
    addr: Option<String>,
    protocols: Vec<&'static str>,
    held: bool,
    summary: String,
    sockets: Vec<JsonSocket<'a>>,
    /// `summary` as data: the processes per protocol and state.
    owners_by_state: Vec<JsonHolders<'a>>,
    /// Connections waiting to be accepted.
    queued: usize,
    /// Sockets with neither an owner nor a queue, per state.
    unowned: Vec<JsonCount>,
}

#[derive(Serialize)]
struct JsonHolders<'a> {
    proto: &'static str,
    state: &'static str,
    owners: Vec<JsonOwner<'a>>,
}

#[derive(Serialize)]
struct JsonCount {
    state: &'static str,
    count: usize,
}

/// JSON output: one object.
pub fn answer_json(out: &mut dyn Write, a: &WhoAnswer<'_>, sockets: &[Socket]) -> io::Result<()> {
    let doc = JsonWho {
        port: a.target.port,
        addr: a.target.addr.map(|addr| addr.to_string()),
        protocols: a.protocols.iter().map(|p| p.name()).collect(),
        held: a.held,
        summary: summary_text(a),
        sockets: sockets.iter().map(JsonSocket::from).collect(),
        owners_by_state: a
            .holders
            .iter()
            .map(|h| JsonHolders {
                proto: h.proto.name(),
                state: h.state.name_for(h.proto),
                owners: h.owners.iter().map(|o| JsonOwner::from(*o)).collect(),
            })
            .collect(),
        queued: a.queued,
        unowned: a
            .unowned
            .iter()
            .map(|c| JsonCount {
                state: c.state.name_for(c.proto),
                count: c.count,
            })
            .collect(),
    };
    to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// [`answer_json`] of the answer for `sockets`.
pub fn write_json(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
) -> io::Result<()> {
    answer_json(out, &who(*target, protocols, sockets), sockets)
}
