//! `trace`'s printer: one line per event as it comes (table or JSON
//! Lines), or one JSON array at the end of a bounded run (`--json`). The
//! JSON objects follow the live views' line contract (README, "Live
//! views"): `event`, `time`, `socket` (a subset of the listing's object:
//! what the tracepoint carries), `previous` for a state change, then
//! trace's own fields. Derived facts (handshake, lifetime) are fields of
//! the event they end in JSON, and lines of their own, marked `=`, in the
//! table.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::OutputFormat;
use super::json::{JsonEndpoint, to_writer};
use crate::model::{EventKind, Protocol, Stamp, TcpState, TraceKind, Traced};

/// The socket of an event: what the tracepoint knows of the listing's
/// object.
#[derive(Debug, Serialize)]
struct JsonTraceSocket {
    proto: &'static str,
    family: &'static str,
    /// The state the event leaves it in; `null` when the tracepoint does
    /// not say (receive_reset, a reset sent for no socket).
    state: Option<&'static str>,
    local: JsonEndpoint,
    remote: JsonEndpoint,
}

#[derive(Debug, Serialize)]
struct JsonPrevious {
    state: &'static str,
}

#[derive(Debug, Serialize)]
struct JsonTraceEvent<'a> {
    event: &'static str,
    time: String,
    /// Always `null`: the tracepoints do not say which network namespace
    /// (the key is there as in the other live views' lines).
    netns: Option<()>,
    socket: JsonTraceSocket,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<JsonPrevious>,
    /// The kernel's socket address, `"0x..."`: the socket's identity
    /// within the run.
    skaddr: String,
    cpu: u32,
    /// Only when the event ran in process context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifetime_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
struct JsonLost {
    event: &'static str,
    time: String,
    count: u64,
    cpu: u32,
    /// The ftrace reader when the kernel kept no count: `count` is a floor.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    at_least: bool,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn state_name(s: TcpState) -> &'static str {
    s.name_for(Protocol::Tcp)
}

fn json_event(t: &Traced) -> JsonTraceEvent<'_> {
    let e = &t.event;
    JsonTraceEvent {
        event: e.kind.event().as_str(),
        time: t.time.rfc3339(),
        netns: None,
        socket: JsonTraceSocket {
            proto: Protocol::Tcp.name(),
            family: e.family.name(),
            state: e.kind.state().map(state_name),
            local: e.local.into(),
            remote: e.remote.into(),
        },
        previous: match e.kind {
            TraceKind::State { old, .. } => Some(JsonPrevious {
                state: state_name(old),
            }),
            _ => None,
        },
        skaddr: format!("{:#x}", e.skaddr),
        cpu: t.cpu,
        pid: t.process.as_ref().map(|p| p.pid),
        comm: t.process.as_ref().and_then(|p| p.comm.as_deref()),
        handshake_ms: t.handshake.map(ms),
        lifetime_ms: t.lifetime.map(ms),
    }
}

/// Writes trace's events in the format of the run.
pub struct TracePrinter<'w> {
    out: &'w mut dyn Write,
    format: OutputFormat,
    header: bool,
    /// `--json`: the objects, written as one array by [`Self::finish`].
    held: Vec<serde_json::Value>,
}

/// Column widths of the table (the rows are written as they come, so the
/// widths are fixed; a wider IPv6 endpoint pushes its row right).
const W_TIME: usize = 12;
const W_EVENT: usize = 13;
const W_STATE: usize = 25;
const W_ADDR: usize = 21;

fn endpoint(a: SocketAddr) -> String {
    crate::text::host_port(
        a.ip(),
        match a {
            SocketAddr::V6(v6) => v6.scope_id(),
            SocketAddr::V4(_) => 0,
        },
        a.port(),
    )
}

impl<'w> TracePrinter<'w> {
    /// `header`: print the table's header line (not with -H).
    pub fn new(out: &'w mut dyn Write, format: OutputFormat, header: bool) -> TracePrinter<'w> {
        TracePrinter {
            out,
            format,
            header,
            held: Vec::new(),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.header) && self.format == OutputFormat::Table {
            writeln!(
                self.out,
                "{:W_TIME$} {:W_EVENT$} {:W_STATE$} {:W_ADDR$} {:W_ADDR$} PROCESS",
                "TIME", "EVENT", "STATE", "LOCAL", "REMOTE"
            )?;
        }
        Ok(())
    }

    /// Writes the table's header at once (before any event comes).
    pub fn start(&mut self) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }

    /// One event (and its derived lines in the table).
    pub fn event(&mut self, t: &Traced) -> io::Result<()> {
        match self.format {
            OutputFormat::JsonLines => {
                to_writer(&mut *self.out, &json_event(t))?;
                self.out.write_all(b"\n")
            }
            OutputFormat::Json => {
                self.held
                    .push(serde_json::to_value(json_event(t)).map_err(io::Error::from)?);
                Ok(())
            }
            OutputFormat::Table => {
                self.header()?;
                let e = &t.event;
                let state = match e.kind {
                    TraceKind::State { old, new } => {
                        format!("{} -> {}", state_name(old), state_name(new))
                    }
                    k => k.state().map(state_name).unwrap_or("-").to_owned(),
                };
                let process = match &t.process {
                    Some(p) => match &p.comm {
                        Some(c) => format!("{}/{}", p.pid, crate::text::escape(c)),
                        None => p.pid.to_string(),
                    },
                    None => "-".to_owned(),
                };
                let (local, remote) = (endpoint(e.local), endpoint(e.remote));
                let time = t.time.clock();
                writeln!(
                    self.out,
                    "{time:W_TIME$} {:W_EVENT$} {state:W_STATE$} {local:W_ADDR$} {remote:W_ADDR$} {process}",
                    e.kind.event().as_str(),
                )?;
                for (what, d) in [("= handshake", t.handshake), ("= lifetime", t.lifetime)] {
                    if let Some(d) = d {
                        let line = format!(
                            "{time:W_TIME$} {what:W_EVENT$} {:W_STATE$} {local:W_ADDR$} {remote}",
                            format!("{:.3} ms", ms(d)),
                        );
                        writeln!(self.out, "{}", line.trim_end())?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Samples the kernel dropped on one CPU: `count` of them, or at
    /// least `count` when not `exact`.
    pub fn lost(&mut self, time: Stamp, cpu: u32, count: u64, exact: bool) -> io::Result<()> {
        let line = JsonLost {
            event: EventKind::Lost.as_str(),
            time: time.rfc3339(),
            count,
            cpu,
            at_least: !exact,
        };
        match self.format {
            OutputFormat::JsonLines => {
                to_writer(&mut *self.out, &line)?;
                self.out.write_all(b"\n")
            }
            OutputFormat::Json => {
                self.held
                    .push(serde_json::to_value(line).map_err(io::Error::from)?);
                Ok(())
            }
            OutputFormat::Table => {
                self.header()?;
                writeln!(
                    self.out,
                    "{:W_TIME$} {:W_EVENT$} {}{count} event{} lost on CPU {cpu}",
                    time.clock(),
                    EventKind::Lost.as_str(),
                    if exact { "" } else { "at least " },
                    crate::text::plural(count, "", "s"),
                )
            }
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes what is held (`--json`'s array), then flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.format == OutputFormat::Json {
            to_writer(&mut *self.out, &self.held)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}
