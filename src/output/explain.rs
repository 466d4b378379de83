//! Text and JSON for the explain views (listeners, why-bind, ports).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::TableOptions;
use super::escape::escape;
use super::grid::{Align, Grid};
use super::json::{JsonEndpoint, JsonOwner, JsonSocket};
use super::table;
use crate::analysis::{self, Attempt, BindFailed, BindVerdict, ListenerHealth, PortPressure};
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
            (_, crate::analysis::Level::Warn) => "80% full".to_owned(),
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
        Some(a) if a.is_ipv6() && v.scope != 0 => {
            format!("[{a}%{}]:{}", v.scope, v.target.port)
        }
        Some(a) if a.is_ipv6() => format!("[{a}]:{}", v.target.port),
        Some(a) => format!("{a}:{}", v.target.port),
        None => format!("port {}", v.target.port),
    };
    let verdict = match (v.busy, v.tried.as_ref().and_then(|t| t.failure())) {
        (false, _) => "free".to_owned(),
        (true, None) => "busy, bind() would fail".to_owned(),
        (true, Some((_, f))) => {
            let t = v
                .tried
                .as_ref()
                .map(|t| &t.attempts[..])
                .unwrap_or_default();
            let failed: Vec<String> = t
                .iter()
                .filter(|a| a.plain.is_err())
                .map(attempt_text)
                .collect();
            let ok: Vec<String> = t
                .iter()
                .filter(|a| a.plain.is_ok())
                .map(attempt_text)
                .collect();
            let mut text = format!("{}, bind() would fail", f.reason.headline());
            if !ok.is_empty() {
                text.push_str(&format!(
                    " for {}; {} is free",
                    failed.join(", "),
                    ok.join(", ")
                ));
            }
            text
        }
    };
    writeln!(out, "{} {what}: {verdict}", v.proto.name())?;
    for r in &v.reasons {
        writeln!(out, "  - {}", escape(r))?;
    }
    for n in &v.notes {
        writeln!(out, "  - {n}")?;
    }
    for a in v.tried.iter().flat_map(|t| &t.attempts) {
        let show = |r: &Result<(), BindFailed>| match r {
            Ok(()) => "succeeded".to_owned(),
            Err(e) => format!("failed: {}", e.message),
        };
        writeln!(
            out,
            "  - a real bind() to {} just now {}; with SO_REUSEADDR it {}",
            attempt_text(a),
            show(&a.plain),
            show(&a.reuseaddr)
        )?;
    }
    if !v.holders.is_empty() {
        let owned: Vec<Socket> = v.holders.iter().map(|s| (*s).clone()).collect();
        writeln!(out)?;
        table::write(out, &owned, &[], opts, None, None)?;
    }
    Ok(())
}

/// `[::]:9090 (dual-stack)`, `0.0.0.0:9090`, `[fe80::1%2]:80`.
fn attempt_text(a: &Attempt) -> String {
    let mut text = analysis::addr_text(a.addr);
    if a.dual_stack {
        text.push_str(" (dual-stack)");
    }
    text
}

#[derive(Serialize)]
struct JsonTry {
    addr: String,
    plain: Option<String>,
    reuseaddr: Option<String>,
    plain_ok: bool,
    reuseaddr_ok: bool,
    /// Why the plain bind() failed (`in_use`, `address_not_available`,
    /// `permission`, `invalid`, `other`), `null` when it succeeded.
    plain_reason: Option<&'static str>,
    reuseaddr_reason: Option<&'static str>,
    /// An IPv6 wildcard bound with IPV6_V6ONLY off.
    dual_stack: bool,
}

impl From<&Attempt> for JsonTry {
    fn from(a: &Attempt) -> Self {
        JsonTry {
            addr: a.addr.to_string(),
            plain: a.plain.as_ref().err().map(|e| e.message.clone()),
            reuseaddr: a.reuseaddr.as_ref().err().map(|e| e.message.clone()),
            plain_ok: a.plain.is_ok(),
            reuseaddr_ok: a.reuseaddr.is_ok(),
            plain_reason: a.plain.as_ref().err().map(|e| e.reason.name()),
            reuseaddr_reason: a.reuseaddr.as_ref().err().map(|e| e.reason.name()),
            dual_stack: a.dual_stack,
        }
    }
}

#[derive(Serialize)]
struct JsonBind<'a> {
    proto: &'static str,
    port: u16,
    addr: Option<String>,
    /// The IPv6 scope asked for, only when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope_id: Option<u32>,
    free: bool,
    /// With --try, why the real bind() failed (as in `try.plain_reason`);
    /// `null` when it succeeded or without --try.
    reason: Option<&'static str>,
    reasons: &'a [String],
    notes: &'a [String],
    /// The first failed attempt, else the first one.
    #[serde(rename = "try")]
    tried: Option<JsonTry>,
    /// Every attempt: the address asked for, or `0.0.0.0` and `[::]`
    /// (dual-stack) for a bare port.
    tries: Option<Vec<JsonTry>>,
    holders: Vec<JsonSocket<'a>>,
}

pub fn why_bind_json(out: &mut dyn Write, v: &BindVerdict<'_>) -> io::Result<()> {
    let doc = JsonBind {
        proto: v.proto.name(),
        port: v.target.port,
        addr: v.target.addr.map(|a| a.to_string()),
        scope_id: (v.scope != 0).then_some(v.scope),
        free: !v.busy,
        reason: v
            .tried
            .as_ref()
            .and_then(|t| t.failure())
            .map(|(_, f)| f.reason.name()),
        reasons: &v.reasons,
        notes: &v.notes,
        tried: v.tried.as_ref().and_then(|t| {
            t.failure()
                .map(|(a, _)| a)
                .or(t.attempts.first())
                .map(JsonTry::from)
        }),
        tries: v
            .tried
            .as_ref()
            .map(|t| t.attempts.iter().map(JsonTry::from).collect()),
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
            crate::analysis::Level::Critical => {
                "CRITICAL: new connections will fail (EADDRNOTAVAIL)"
            }
            crate::analysis::Level::Warn => "warning: over half the range",
            crate::analysis::Level::Ok => "",
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
