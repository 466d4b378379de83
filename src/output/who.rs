//! `who`: a one-line answer, then the sockets on the port.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::TableOptions;
use super::json::JsonSocket;
use super::table;
use crate::filter::LocalPort;
use crate::model::{Protocol, Socket};

/// The answer in words: who holds the port, and what holds it without an
/// owner.
pub fn summary(target: &LocalPort, protocols: &[Protocol], sockets: &[Socket]) -> String {
    let mut text = String::new();
    let what = match target.addr {
        Some(a) if a.is_ipv6() => format!("[{a}]:{}", target.port),
        Some(a) => format!("{a}:{}", target.port),
        None => format!("port {}", target.port),
    };
    let protos: Vec<&str> = protocols.iter().map(|p| p.name()).collect();
    if sockets.is_empty() {
        let _ = write!(text, "{what}: nothing holds it ({})", protos.join(", "));
        return text;
    }
    // "tcp LISTEN by nginx/812, nginx/813", one group per protocol and
    // state, in the order the sockets come (listeners first).
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for s in sockets {
        for o in s.owners.iter().flatten() {
            let key = format!("{} {}", s.proto, s.state.name_for(s.proto));
            let mut name = String::new();
            table::owner(&mut name, o);
            let idx = match groups.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    groups.push((key, Vec::new()));
                    groups.len() - 1
                }
            };
            if !groups[idx].1.contains(&name) {
                groups[idx].1.push(name);
            }
        }
    }
    let queued = sockets.iter().filter(|s| s.queue.is_some()).count();
    let mut unowned: Vec<(&str, usize)> = Vec::new();
    for s in sockets
        .iter()
        .filter(|s| s.queue.is_none() && s.owners.as_ref().is_none_or(Vec::is_empty))
    {
        let name = s.state.name_for(s.proto);
        match unowned.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => unowned.push((name, 1)),
        }
    }
    let _ = write!(text, "{what}: ");
    if groups.is_empty() {
        text.push_str("no visible process holds it");
    } else {
        let parts: Vec<String> = groups
            .iter()
            .map(|(key, names)| format!("{key} by {}", names.join(", ")))
            .collect();
        let _ = write!(text, "{}", parts.join("; "));
    }
    if queued > 0 {
        let _ = write!(
            text,
            "; {queued} connection{} waiting to be accepted",
            if queued == 1 { "" } else { "s" }
        );
    }
    if !unowned.is_empty() {
        let parts: Vec<String> = unowned.iter().map(|(n, c)| format!("{c} {n}")).collect();
        let _ = write!(text, "; without an owner: {}", parts.join(", "));
    }
    text
}

/// Human output: the summary line, then the table.
pub fn write_text(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
    opts: &TableOptions,
) -> io::Result<()> {
    writeln!(out, "{}", summary(target, protocols, sockets))?;
    if !sockets.is_empty() {
        table::write(out, sockets, &[], opts, None, None)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonWho<'a> {
    port: u16,
    addr: Option<String>,
    protocols: Vec<&'static str>,
    held: bool,
    summary: String,
    sockets: Vec<JsonSocket<'a>>,
}

/// JSON output: one object.
pub fn write_json(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
) -> io::Result<()> {
    let doc = JsonWho {
        port: target.port,
        addr: target.addr.map(|a| a.to_string()),
        protocols: protocols.iter().map(|p| p.name()).collect(),
        held: !sockets.is_empty(),
        summary: summary(target, protocols, sockets),
        sockets: sockets.iter().map(JsonSocket::from).collect(),
    };
    super::json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}
