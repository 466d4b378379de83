//! `who` in words: the answer ([`WhoAnswer`]) as one line, then the
//! sockets on the port as a table, then (when there are any) the sockets
//! of this host connected to the port, under their own line; the same as
//! one JSON object (the lines in `summary` and `client_summary`); and
//! `--pids`, the owners' pids alone.

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
    summary_text(&who(*target, protocols, sockets, &[]))
}

/// The other side in words, e.g. `connected to port 80 from this host: 2
/// sockets, by curl/20, wget/31`.
pub fn clients_text(a: &WhoAnswer<'_>) -> String {
    let mut text = match a.target.addr {
        Some(addr) if addr.is_ipv6() => format!("connected to [{addr}]:{}", a.target.port),
        Some(addr) => format!("connected to {addr}:{}", a.target.port),
        None => format!("connected to port {}", a.target.port),
    };
    let _ = write!(
        text,
        " from this host: {} socket{}",
        a.clients,
        crate::text::plural(a.clients, "", "s")
    );
    if a.client_owners.is_empty() {
        text.push_str(", no visible process");
    }
    for (i, o) in a.client_owners.iter().enumerate() {
        text.push_str(if i == 0 { ", by " } else { ", " });
        table::owner(&mut text, o);
    }
    text
}

/// Human output: the summary line, then the table of `sockets` (those the
/// answer was made of); then, when some are, the clients' line and table.
pub fn answer_text(
    out: &mut dyn Write,
    a: &WhoAnswer<'_>,
    sockets: &[Socket],
    clients: &[Socket],
    opts: &TableOptions,
) -> io::Result<()> {
    // Wrapped at word boundaries on a terminal (issue 18, width).
    super::wrap::write_hanging(out, "", &summary_text(a), opts.width)?;
    if !sockets.is_empty() {
        table::write(out, sockets, &[], opts, None, None)?;
    }
    if !clients.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", clients_text(a))?;
        table::write(out, clients, &[], opts, None, None)?;
    }
    Ok(())
}

/// [`answer_text`] of the answer for `sockets` and `clients`.
pub fn write_text(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
    clients: &[Socket],
    opts: &TableOptions,
) -> io::Result<()> {
    answer_text(
        out,
        &who(*target, protocols, sockets, clients),
        sockets,
        clients,
        opts,
    )
}

/// `--pids`: each pid on its own line, nothing else.
pub fn write_pids(out: &mut dyn Write, pids: &[u32]) -> io::Result<()> {
    for pid in pids {
        writeln!(out, "{pid}")?;
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
    /// `summary` as data: the processes per protocol and state.
    owners_by_state: Vec<JsonHolders<'a>>,
    /// Connections waiting to be accepted.
    queued: usize,
    /// Sockets with neither an owner nor a queue, per state.
    unowned: Vec<JsonCount>,
    // issue 18, who: the other side, as lsof -i :PORT shows it.
    /// The sockets of this host connected to the port (remote end).
    clients: Vec<JsonSocket<'a>>,
    /// Their processes, each once.
    client_owners: Vec<JsonOwner<'a>>,
    /// The clients in words (the second group's line).
    client_summary: String,
    /// Every pid owning a socket of either group, once, ascending.
    pids: Vec<u32>,
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
pub fn answer_json(
    out: &mut dyn Write,
    a: &WhoAnswer<'_>,
    sockets: &[Socket],
    clients: &[Socket],
) -> io::Result<()> {
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
        clients: clients.iter().map(JsonSocket::from).collect(),
        client_owners: a
            .client_owners
            .iter()
            .map(|o| JsonOwner::from(*o))
            .collect(),
        client_summary: clients_text(a),
        pids: crate::analysis::owner_pids(&[sockets, clients]),
    };
    to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// [`answer_json`] of the answer for `sockets` and `clients`.
pub fn write_json(
    out: &mut dyn Write,
    target: &LocalPort,
    protocols: &[Protocol],
    sockets: &[Socket],
    clients: &[Socket],
) -> io::Result<()> {
    answer_json(
        out,
        &who(*target, protocols, sockets, clients),
        sockets,
        clients,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Owner, TcpState};

    /// The clients' line counts their sockets, names each process once,
    /// escaped as the table's Process column.
    #[test]
    fn clients_line_and_pids() {
        let owner = |pid, comm: &str, fd| Owner {
            pid,
            fd,
            tid: None,
            comm: comm.into(),
            cmdline: None,
            raw: None,
        };
        let mut a = Socket::test_tcp(TcpState::Established, "127.0.0.1:5000", "127.0.0.1:80");
        a.owners = Some(vec![owner(20, "cu\x1b[2Jrl", 3)]);
        let mut b = Socket::test_tcp(TcpState::Established, "127.0.0.1:5001", "127.0.0.1:80");
        b.owners = Some(vec![owner(20, "cu\x1b[2Jrl", 4)]);
        let target = LocalPort {
            addr: None,
            port: 80,
        };
        let clients = [a, b];
        let answer = who(target, &[Protocol::Tcp], &[], &clients);
        let line = clients_text(&answer);
        assert_eq!(
            line,
            "connected to port 80 from this host: 2 sockets, by cu\\x1b[2Jrl/20"
        );
        let mut out = Vec::new();
        write_json(&mut out, &target, &[Protocol::Tcp], &[], &clients).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["pids"], serde_json::json!([20]));
        assert_eq!(v["held"], false);
        assert_eq!(v["clients"].as_array().unwrap().len(), 2);
        assert_eq!(v["client_owners"][0]["comm"], "cu\x1b[2Jrl");
        let mut out = Vec::new();
        write_pids(&mut out, &[20, 31]).unwrap();
        assert_eq!(out, b"20\n31\n");
    }
}
