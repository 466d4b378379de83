//! `listeners` in words: one row per LISTEN socket (its queues and its
//! marks: full, 80 % full, backlog clamped to somaxconn), then the limits
//! and the namespace's listen-drop counters; and the same as one JSON object.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::grid::{ADDRESS_CAP, Align};
use super::json::{JsonEndpoint, JsonOwner};
use super::small_table::{Fit, SmallTable};
use super::table;
use super::wrap::write_hanging;
use crate::analysis::listeners::WARN_PERCENT;
use crate::analysis::{Level, ListenerHealth};
use crate::model::NetKnobs;
use crate::model::Socket;

/// Counters of the network namespace that tell of listen queue drops (/proc/net/netstat TcpExt).
pub const LISTEN_COUNTERS: [&str; 7] = [
    "ListenOverflows",
    "ListenDrops",
    "TCPReqQFullDrop",
    "TCPReqQFullDoCookies",
    "SyncookiesSent",
    "SyncookiesRecv",
    "SyncookiesFailed",
];

fn local_text(s: &Socket) -> String {
    let mut buf = String::new();
    table::endpoint(&mut buf, s, s.local, None, None);
    buf
}

fn owners_text(s: &Socket) -> String {
    let mut buf = String::new();
    for (i, o) in s.owners.iter().flatten().enumerate() {
        if i > 0 {
            buf.push_str(", ");
        }
        table::owner(&mut buf, o);
    }
    buf
}

/// A listener's marks in words: full, 80 % full, the backlog clamped.
fn mark(h: &ListenerHealth<'_>) -> String {
    let mut mark = match (h.full, h.level) {
        (true, _) => "FULL: new connections are dropped".to_owned(),
        (_, Level::Warn) => format!("{WARN_PERCENT}% full"),
        _ => String::new(),
    };
    if h.at_somaxconn {
        if !mark.is_empty() {
            mark.push_str("; ");
        }
        mark.push_str("backlog = somaxconn (clamped?)");
    }
    mark
}

/// `listeners`: one row per LISTEN socket (under a header line unless
/// `header` is false, -H), then counters and limits; fitted to `width` when
/// there is one (a terminal without -W: [`SmallTable::fit`], sentences
/// wrapped).
pub fn listeners_text(
    out: &mut dyn Write,
    rows: &[ListenerHealth<'_>],
    counters: &BTreeMap<String, i64>,
    knobs: &NetKnobs,
    header: bool,
    width: Option<usize>,
) -> io::Result<()> {
    let mut table = SmallTable::new(&[
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
    ]);
    table.fits(&[Fit::Address { cap: ADDRESS_CAP }]);
    table.fit(width);
    if header {
        table.header(&[
            "Local Address:Port",
            "Accept-Q",
            "Full",
            "Half-open",
            "Unaccepted",
            "Process",
            "Mark",
        ]);
    }
    for h in rows {
        table.row(vec![
            local_text(h.socket),
            match h.backlog {
                Some(b) => format!("{}/{b}", h.accept_queue),
                None => format!("{}/-", h.accept_queue),
            },
            h.percent.map_or("-".to_owned(), |p| format!("{p}%")),
            h.half_open.to_string(),
            h.waiting.to_string(),
            owners_text(h.socket),
            mark(h),
        ]);
    }
    table.write(out)?;
    let opt = |v: Option<u32>| v.map_or("?".to_owned(), |n| n.to_string());
    writeln!(out)?;
    write_hanging(
        out,
        "Limits: ",
        &format!(
            "net.core.somaxconn {}, net.ipv4.tcp_max_syn_backlog {}, net.ipv4.tcp_syncookies {}",
            opt(knobs.somaxconn),
            opt(knobs.tcp_max_syn_backlog),
            opt(knobs.tcp_syncookies)
        ),
        width,
    )?;
    let counts: Vec<String> = LISTEN_COUNTERS
        .iter()
        .map(|k| {
            format!(
                "{k} {}",
                counters.get(*k).map_or("?".to_owned(), |v| v.to_string())
            )
        })
        .collect();
    write_hanging(
        out,
        "",
        &format!(
            "Counters of this network namespace (TcpExt, since it was made): {}",
            counts.join(", ")
        ),
        width,
    )?;
    write_hanging(
        out,
        "",
        "Accept-Q is the accept queue now / the backlog; Half-open counts SYN_RECV request \
         sockets; Unaccepted counts completed connections no process has accept()ed.",
        width,
    )
}

#[derive(Serialize)]
struct JsonListener<'a> {
    local: JsonEndpoint,
    owners: Option<Vec<JsonOwner<'a>>>,
    accept_queue: u32,
    backlog: Option<u32>,
    percent_full: Option<u32>,
    full: bool,
    level: &'static str,
    half_open: usize,
    unaccepted: usize,
    backlog_at_somaxconn: bool,
}

#[derive(Serialize)]
struct JsonLimits {
    somaxconn: Option<u32>,
    tcp_max_syn_backlog: Option<u32>,
    tcp_syncookies: Option<u32>,
}

#[derive(Serialize)]
struct JsonListeners<'a> {
    listeners: Vec<JsonListener<'a>>,
    counters: BTreeMap<&'static str, Option<i64>>,
    limits: JsonLimits,
}

pub fn listeners_json(
    out: &mut dyn Write,
    rows: &[ListenerHealth<'_>],
    counters: &BTreeMap<String, i64>,
    knobs: &NetKnobs,
) -> io::Result<()> {
    let doc = JsonListeners {
        listeners: rows
            .iter()
            .map(|h| JsonListener {
                local: h.socket.local.into(),
                owners: h
                    .socket
                    .owners
                    .as_ref()
                    .map(|o| o.iter().map(JsonOwner::from).collect()),
                accept_queue: h.accept_queue,
                backlog: h.backlog,
                percent_full: h.percent,
                full: h.full,
                level: h.level.name(),
                half_open: h.half_open,
                unaccepted: h.waiting,
                backlog_at_somaxconn: h.at_somaxconn,
            })
            .collect(),
        counters: LISTEN_COUNTERS
            .iter()
            .map(|k| (*k, counters.get(*k).copied()))
            .collect(),
        limits: JsonLimits {
            somaxconn: knobs.somaxconn,
            tcp_max_syn_backlog: knobs.tcp_max_syn_backlog,
            tcp_syncookies: knobs.tcp_syncookies,
        },
    };
    super::json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}
