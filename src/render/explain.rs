//! Text and JSON for the explain views (listeners, why-bind, ports).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::escape::escape;
use super::grid::{Align, Grid};
use super::json::{JsonEndpoint, JsonOwner, JsonSocket};
use super::table;
use crate::config::TableOptions;
use crate::explain::{BindVerdict, ListenerHealth, PortPressure};
use crate::model::Socket;
use crate::source::sysctl::NetKnobs;

/// Host counters that tell of listen queue drops (/proc/net/netstat TcpExt).
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

/// `listeners`: one row per LISTEN socket (under a header line unless
/// `header` is false, -H), then counters and limits.
pub fn listeners_text(
    out: &mut dyn Write,
    rows: &[ListenerHealth<'_>],
    counters: &BTreeMap<String, i64>,
    knobs: &NetKnobs,
    header: bool,
) -> io::Result<()> {
    let mut grid = Grid::new(vec![
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
    ]);
    for h in [
        "Local Address:Port",
        "Accept-Q",
        "Full",
        "Half-open",
        "Unaccepted",
        "Process",
        "Mark",
    ]
    .into_iter()
    .filter(|_| header)
    {
        grid.text(h);
    }
    for h in rows {
        grid.text(&local_text(h.socket));
        grid.text(&match h.backlog {
            Some(b) => format!("{}/{b}", h.accept_queue),
            None => format!("{}/-", h.accept_queue),
        });
        grid.text(&h.percent.map_or("-".to_owned(), |p| format!("{p}%")));
        grid.number(h.half_open);
        grid.number(h.waiting);
        grid.text(&owners_text(h.socket));
        let mut mark = match (h.full, h.level) {
            (true, _) => "FULL: new connections are dropped".to_owned(),
            (_, crate::explain::Level::Warn) => "80% full".to_owned(),
            _ => String::new(),
        };
        if h.at_somaxconn {
            if !mark.is_empty() {
                mark.push_str("; ");
            }
            mark.push_str("backlog = somaxconn (clamped?)");
        }
        grid.text(&mark);
    }
    grid.write(out)?;
    let opt = |v: Option<u32>| v.map_or("?".to_owned(), |n| n.to_string());
    writeln!(
        out,
        "\nLimits: net.core.somaxconn {}, net.ipv4.tcp_max_syn_backlog {}, net.ipv4.tcp_syncookies {}",
        opt(knobs.somaxconn),
        opt(knobs.tcp_max_syn_backlog),
        opt(knobs.tcp_syncookies)
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
    writeln!(
        out,
        "Host counters (TcpExt, since boot): {}",
        counts.join(", ")
    )?;
    writeln!(
        out,
        "Accept-Q is the accept queue now / the backlog; Half-open counts SYN_RECV request \
         sockets; Unaccepted counts completed connections no process has accept()ed."
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

/// `why-bind`: the verdict, the reasons, the port's facts, the holders.
pub fn why_bind_text(
    out: &mut dyn Write,
    v: &BindVerdict<'_>,
    opts: &TableOptions,
) -> io::Result<()> {
    let what = match v.target.addr {
        Some(a) if a.is_ipv6() => format!("[{a}]:{}", v.target.port),
        Some(a) => format!("{a}:{}", v.target.port),
        None => format!("port {}", v.target.port),
    };
    writeln!(
        out,
        "{} {what}: {}",
        v.proto.name(),
        if v.busy {
            "busy, bind() would fail"
        } else {
            "free"
        }
    )?;
    for r in &v.reasons {
        writeln!(out, "  - {}", escape(r))?;
    }
    for n in &v.notes {
        writeln!(out, "  - {n}")?;
    }
    if let Some(t) = &v.tried {
        let show = |r: &Result<(), String>| match r {
            Ok(()) => "succeeded".to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        writeln!(
            out,
            "  - a real bind() to {} just now {}; with SO_REUSEADDR it {}",
            t.addr,
            show(&t.plain),
            show(&t.reuseaddr)
        )?;
    }
    if !v.holders.is_empty() {
        let owned: Vec<Socket> = v.holders.iter().map(|s| (*s).clone()).collect();
        writeln!(out)?;
        table::write(out, &owned, &[], opts, None, None)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonTry {
    addr: String,
    plain: Option<String>,
    reuseaddr: Option<String>,
    plain_ok: bool,
    reuseaddr_ok: bool,
}

#[derive(Serialize)]
struct JsonBind<'a> {
    proto: &'static str,
    port: u16,
    addr: Option<String>,
    free: bool,
    reasons: &'a [String],
    notes: &'a [String],
    #[serde(rename = "try")]
    tried: Option<JsonTry>,
    holders: Vec<JsonSocket<'a>>,
}

pub fn why_bind_json(out: &mut dyn Write, v: &BindVerdict<'_>) -> io::Result<()> {
    let doc = JsonBind {
        proto: v.proto.name(),
        port: v.target.port,
        addr: v.target.addr.map(|a| a.to_string()),
        free: !v.busy,
        reasons: &v.reasons,
        notes: &v.notes,
        tried: v.tried.as_ref().map(|t| JsonTry {
            addr: t.addr.to_string(),
            plain: t.plain.as_ref().err().cloned(),
            reuseaddr: t.reuseaddr.as_ref().err().cloned(),
            plain_ok: t.plain.is_ok(),
            reuseaddr_ok: t.reuseaddr.is_ok(),
        }),
        holders: v.holders.iter().map(|s| JsonSocket::from(*s)).collect(),
    };
    super::json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// `ports`: the range, the busiest destinations (under a header line
/// unless `header` is false, -H), and why per destination.
pub fn ports_text(out: &mut dyn Write, p: &PortPressure, header: bool) -> io::Result<()> {
    writeln!(
        out,
        "net.ipv4.ip_local_port_range {}-{} ({} ports); {} outgoing TCP connections",
        p.range.0, p.range.1, p.range_size, p.outgoing
    )?;
    writeln!(
        out,
        "A connection is its four-tuple, so one local port can serve many destinations: \
         ports run out per (local address, destination address:port), not per host."
    )?;
    if p.destinations.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let mut grid = Grid::new(vec![
        Align::Right,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ]);
    for h in [
        "Local Address",
        "Destination",
        "Ports",
        "Used",
        "TIME_WAIT",
        "Mark",
    ]
    .into_iter()
    .filter(|_| header)
    {
        grid.text(h);
    }
    for d in p.destinations.iter().take(10) {
        grid.text(&d.local.to_string());
        grid.text(&match d.remote {
            std::net::SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
            a => a.to_string(),
        });
        grid.number(d.count);
        grid.text(&format!("{:.1}%", d.percent));
        grid.text(&format!(
            "{:.0}%",
            d.time_wait as f64 * 100.0 / d.count.max(1) as f64
        ));
        grid.text(match d.level {
            crate::explain::Level::Critical => {
                "CRITICAL: new connections will fail (EADDRNOTAVAIL)"
            }
            crate::explain::Level::Warn => "warning: over half the range",
            crate::explain::Level::Ok => "",
        });
    }
    grid.write(out)
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
