//! `why-bind` in words: the verdict line, each [`Reason`] and [`Note`] as
//! a sentence, the real bind()s of `--try`, then the holders as a table;
//! and the same as one JSON object (the sentences in `reasons`/`notes`,
//! the attempts in `try`/`tries`).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;

use serde::Serialize;

use super::TableOptions;
use super::json::{JsonEndpoint, JsonOwner, JsonSocket, to_writer};
use super::table::{self, Field};
use super::wrap::write_hanging;
use crate::analysis::{Attempt, BindFailed, BindFailure, BindVerdict, Note, Reason};
use crate::model::{Socket, TcpState};

/// How a reason names a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// As the table's Process column does: escaped, and quoted when the
    /// name holds a separator (`"my app"/812`).
    Listed,
    /// The name as it is (JSON escapes it itself).
    Raw,
}

/// A word or two for the verdict line.
pub fn headline(f: BindFailure) -> &'static str {
    match f {
        BindFailure::InUse => "busy",
        BindFailure::NotAvailable => "address not available",
        BindFailure::Permission => "permission denied",
        BindFailure::Invalid => "invalid address",
        BindFailure::Other => "error",
    }
}

/// `1.2.3.4:80`, `[::1]:80`, `[fe80::1%2]:80`.
pub fn addr_text(a: SocketAddr) -> String {
    let scope = match a {
        SocketAddr::V6(v6) => v6.scope_id(),
        SocketAddr::V4(_) => 0,
    };
    crate::text::host_port(a.ip(), scope, a.port())
}

/// A holder's local address, without its scope: `[::1]:80`, `1.2.3.4:80`.
fn local_text(s: &Socket) -> String {
    crate::text::host_port(s.local.ip(), 0, s.local.port())
}

/// `nginx/812, nginx/813`, or `no visible owner`.
fn owners_text(s: &Socket, names: Names) -> String {
    let mut text = String::new();
    for (i, o) in s.owners.iter().flatten().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        match names {
            Names::Listed => {
                table::push_name(&mut text, &o.comm, Field::Comm);
                let _ = write!(text, "/{}", o.pid);
            }
            Names::Raw => {
                let _ = write!(text, "{}/{}", o.comm, o.pid);
            }
        }
    }
    if text.is_empty() {
        text.push_str("no visible owner");
    }
    text
}

/// One reason, one sentence.
pub fn reason_text(r: &Reason<'_>, names: Names) -> String {
    match r {
        Reason::Listening { socket } => format!(
            "{} is listening on {} ({}); a second listener can share the port only with \
             SO_REUSEPORT set on both sockets, by the same user",
            socket.proto.name().to_uppercase(),
            local_text(socket),
            owners_text(socket, names)
        ),
        Reason::UdpBound { socket } => format!(
            "a UDP socket is bound to {} ({})",
            local_text(socket),
            owners_text(socket, names)
        ),
        Reason::BoundInactive { socket } => format!(
            "a TCP socket is bound to {} ({}) but neither listening nor connected \
             (bound-inactive: bind() was called, listen() or connect() not yet); another \
             bind() to the port fails with EADDRINUSE unless both sockets set SO_REUSEADDR \
             (or SO_REUSEPORT, by the same user)",
            local_text(socket),
            owners_text(socket, names)
        ),
        Reason::TimeWait {
            count,
            last_expires_ms,
            only,
        } => {
            let mut r = format!(
                "held by {count} TIME_WAIT socket{} (left by an active close); the last expires \
                 in {} s",
                crate::text::plural(*count, "", "s"),
                last_expires_ms.div_ceil(1000)
            );
            if *only {
                r.push_str(
                    "; if they were connections of a server whose listener set SO_REUSEADDR \
                     (most servers do), a new server that sets SO_REUSEADDR can bind now, \
                     otherwise only when they expire (--try tells for sure)",
                );
            }
            r
        }
        Reason::Queued { count, close_wait } => {
            let mut r = format!(
                "{count} connection{} completed by the kernel and waiting in an accept queue \
                 (no process has accept()ed {})",
                crate::text::plural(*count, "", "s"),
                if *count == 1 { "it" } else { "them" },
            );
            if *close_wait > 0 {
                let _ = write!(
                    r,
                    "; the client already closed {close_wait} of them (CLOSE_WAIT)"
                );
            }
            r
        }
        Reason::InState { state, count } => {
            let why = match state {
                TcpState::CloseWait => {
                    "; the peer closed and the application has not closed its end yet"
                }
                TcpState::FinWait2 => "; waiting for the peer's FIN (an orphan times out)",
                _ => "",
            };
            format!(
                "{count} {} socket{} on this local port{why}",
                state.kernel_name(),
                crate::text::plural(*count, "", "s"),
            )
        }
        Reason::WildcardCovers { addr } => {
            format!("a socket bound to the wildcard address covers {addr} too")
        }
        Reason::SpecificConflicts => "binding the wildcard address conflicts with sockets \
                                      bound to a specific address on this port"
            .to_owned(),
        Reason::Free { proto, port } => format!(
            "nothing holds {} port {port}: bind() should succeed",
            proto.name().to_uppercase()
        ),
        Reason::BindFailed { addr, failure } => {
            let addr = addr_text(*addr);
            match failure {
                BindFailure::InUse => {
                    format!("bind() to {addr} fails with EADDRINUSE: the port is in use")
                }
                BindFailure::NotAvailable => format!(
                    "{addr}: the address is not one of this host's (EADDRNOTAVAIL; with a \
                     scope, not on that interface): bind() fails whatever holds the port"
                ),
                BindFailure::Permission => format!(
                    "bind() to {addr} is not permitted (EACCES): the port is below \
                     net.ipv4.ip_unprivileged_port_start and this process lacks \
                     CAP_NET_BIND_SERVICE"
                ),
                BindFailure::Invalid => format!(
                    "the kernel refuses {addr} as invalid (EINVAL): a link-local IPv6 address \
                     needs the scope of its interface, e.g. [fe80::1%eth0]:80"
                ),
                BindFailure::Other => format!("bind() to {addr} fails"),
            }
        }
    }
}

/// One note, one sentence.
pub fn note_text(n: &Note) -> String {
    match *n {
        Note::Ephemeral {
            port,
            range: (lo, hi),
        } => format!(
            "{port} is inside net.ipv4.ip_local_port_range ({lo}-{hi}): outgoing connections \
             may take it as their local port at any time"
        ),
        Note::Reserved { port } => format!(
            "{port} is in net.ipv4.ip_local_reserved_ports: the kernel never hands it out as \
             an ephemeral port"
        ),
        Note::Privileged { port, start } => format!(
            "{port} is below net.ipv4.ip_unprivileged_port_start ({start}): binding it needs \
             root or CAP_NET_BIND_SERVICE"
        ),
    }
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
            let mut text = format!("{}, bind() would fail", headline(f.reason));
            if !ok.is_empty() {
                let _ = write!(
                    text,
                    " for {}; {} is free",
                    failed.join(", "),
                    ok.join(", ")
                );
            }
            text
        }
    };
    // On a terminal (opts.width) every sentence is wrapped at word
    // boundaries, a bullet's lines hanging under its first word.
    let width = opts.width;
    write_hanging(
        out,
        "",
        &format!("{} {what}: {verdict}", v.proto.name()),
        width,
    )?;
    for r in &v.reasons {
        write_hanging(out, "  - ", &reason_text(r, Names::Listed), width)?;
    }
    for n in &v.notes {
        write_hanging(out, "  - ", &note_text(n), width)?;
    }
    for a in v.tried.iter().flat_map(|t| &t.attempts) {
        let show = |r: &Result<(), BindFailed>| match r {
            Ok(()) => "succeeded".to_owned(),
            Err(e) => format!("failed: {}", e.message),
        };
        let text = format!(
            "a real bind() to {} just now {}; with SO_REUSEADDR it {}",
            attempt_text(a),
            show(&a.plain),
            show(&a.reuseaddr)
        );
        write_hanging(out, "  - ", &text, width)?;
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
    let mut text = addr_text(a.addr);
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
    reasons: Vec<String>,
    notes: Vec<String>,
    /// The first failed attempt, else the first one.
    #[serde(rename = "try")]
    tried: Option<JsonTry>,
    /// Every attempt: the address asked for, or `0.0.0.0` and `[::]`
    /// (dual-stack) for a bare port.
    tries: Option<Vec<JsonTry>>,
    holders: Vec<JsonSocket<'a>>,
    /// `reasons` as data, in the same order.
    causes: Vec<JsonCause<'a>>,
    /// `notes` as data, in the same order.
    port_facts: Vec<JsonFact>,
}

/// A [`Reason`] as data: `{"kind": "time_wait", "count": 2, ...}`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonCause<'a> {
    Listening {
        proto: &'static str,
        local: JsonEndpoint,
        owners: Option<Vec<JsonOwner<'a>>>,
    },
    UdpBound {
        local: JsonEndpoint,
        owners: Option<Vec<JsonOwner<'a>>>,
    },
    BoundInactive {
        local: JsonEndpoint,
        owners: Option<Vec<JsonOwner<'a>>>,
    },
    TimeWait {
        count: usize,
        last_expires_ms: u64,
        /// Every holder is in TIME_WAIT.
        only: bool,
    },
    Queued {
        count: usize,
        close_wait: usize,
    },
    InState {
        state: &'static str,
        count: usize,
    },
    WildcardCovers {
        addr: String,
    },
    SpecificConflicts,
    Free,
    BindFailed {
        addr: String,
        /// As `reason`: `in_use`, `address_not_available`, ...
        failure: &'static str,
    },
}

impl<'a> From<&Reason<'a>> for JsonCause<'a> {
    fn from(r: &Reason<'a>) -> Self {
        let owners = |s: &'a Socket| {
            s.owners
                .as_ref()
                .map(|o| o.iter().map(JsonOwner::from).collect())
        };
        match *r {
            Reason::Listening { socket } => JsonCause::Listening {
                proto: socket.proto.name(),
                local: socket.local.into(),
                owners: owners(socket),
            },
            Reason::UdpBound { socket } => JsonCause::UdpBound {
                local: socket.local.into(),
                owners: owners(socket),
            },
            Reason::BoundInactive { socket } => JsonCause::BoundInactive {
                local: socket.local.into(),
                owners: owners(socket),
            },
            Reason::TimeWait {
                count,
                last_expires_ms,
                only,
            } => JsonCause::TimeWait {
                count,
                last_expires_ms,
                only,
            },
            Reason::Queued { count, close_wait } => JsonCause::Queued { count, close_wait },
            Reason::InState { state, count } => JsonCause::InState {
                state: state.kernel_name(),
                count,
            },
            Reason::WildcardCovers { addr } => JsonCause::WildcardCovers {
                addr: addr.to_string(),
            },
            Reason::SpecificConflicts => JsonCause::SpecificConflicts,
            Reason::Free { .. } => JsonCause::Free,
            Reason::BindFailed { addr, failure } => JsonCause::BindFailed {
                addr: addr.to_string(),
                failure: failure.name(),
            },
        }
    }
}

/// A [`Note`] as data: `{"kind": "ephemeral", "port": 40050, "range":
/// [32768, 60999]}`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonFact {
    Ephemeral { port: u16, range: [u16; 2] },
    Reserved { port: u16 },
    Privileged { port: u16, start: u16 },
}

impl From<&Note> for JsonFact {
    fn from(n: &Note) -> Self {
        match *n {
            Note::Ephemeral {
                port,
                range: (lo, hi),
            } => JsonFact::Ephemeral {
                port,
                range: [lo, hi],
            },
            Note::Reserved { port } => JsonFact::Reserved { port },
            Note::Privileged { port, start } => JsonFact::Privileged { port, start },
        }
    }
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
        reasons: v
            .reasons
            .iter()
            .map(|r| reason_text(r, Names::Raw))
            .collect(),
        notes: v.notes.iter().map(note_text).collect(),
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
        causes: v.reasons.iter().map(JsonCause::from).collect(),
        port_facts: v.notes.iter().map(JsonFact::from).collect(),
    };
    to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Owner, Protocol};

    fn listener(comm: &str) -> Socket {
        let mut l = Socket::test_tcp(TcpState::Listen, "0.0.0.0:40050", "0.0.0.0:0");
        l.owners = Some(vec![Owner {
            pid: 812,
            fd: 6,
            tid: None,
            comm: comm.into(),
            cmdline: None,
            raw: None,
        }]);
        l
    }

    #[test]
    fn reasons_and_notes_in_words() {
        let tw = reason_text(
            &Reason::TimeWait {
                count: 1,
                last_expires_ms: 41_500,
                only: true,
            },
            Names::Listed,
        );
        assert!(tw.contains("TIME_WAIT") && tw.contains("42 s"), "{tw}");
        assert!(tw.contains("SO_REUSEADDR") && tw.contains("--try"), "{tw}");
        let l = listener("nginx");
        let r = reason_text(&Reason::Listening { socket: &l }, Names::Listed);
        assert!(r.contains("nginx/812") && r.contains("SO_REUSEPORT"), "{r}");
        let r = reason_text(
            &Reason::WildcardCovers {
                addr: "127.0.0.1".parse().unwrap(),
            },
            Names::Listed,
        );
        assert!(r.contains("wildcard"), "{r}");
        let notes = [
            Note::Ephemeral {
                port: 40050,
                range: (40000, 40099),
            },
            Note::Reserved { port: 40050 },
            Note::Privileged {
                port: 80,
                start: 1024,
            },
        ]
        .map(|n| note_text(&n));
        assert!(notes[0].contains("ip_local_port_range"));
        assert!(notes[1].contains("reserved"));
        assert!(notes[2].contains("CAP_NET_BIND_SERVICE"));
        assert_eq!(
            reason_text(
                &Reason::Free {
                    proto: Protocol::Udp,
                    port: 53
                },
                Names::Raw
            ),
            "nothing holds UDP port 53: bind() should succeed"
        );
    }

    #[test]
    fn owner_names_as_the_process_column_in_text_exact_in_json() {
        let l = listener("a, b\t");
        let r = Reason::Listening { socket: &l };
        assert!(
            reason_text(&r, Names::Listed).contains("(\"a, b\\x09\"/812)"),
            "{}",
            reason_text(&r, Names::Listed)
        );
        assert!(reason_text(&r, Names::Raw).contains("(a, b\t/812)"));
        let none = Socket::test_tcp(TcpState::Listen, "[::1]:80", "[::]:0");
        assert!(
            reason_text(&Reason::Listening { socket: &none }, Names::Listed)
                .starts_with("TCP is listening on [::1]:80 (no visible owner); ")
        );
    }

    #[test]
    fn json_keeps_the_sentences_and_adds_the_data() {
        let l = listener("a b");
        let v = BindVerdict {
            target: crate::filter::LocalPort {
                addr: None,
                port: 40050,
            },
            scope: 0,
            proto: Protocol::Tcp,
            holders: vec![&l],
            reasons: vec![
                Reason::Listening { socket: &l },
                Reason::TimeWait {
                    count: 2,
                    last_expires_ms: 1,
                    only: false,
                },
            ],
            notes: vec![Note::Reserved { port: 40050 }],
            busy: true,
            tried: None,
        };
        let mut out = Vec::new();
        why_bind_json(&mut out, &v).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(doc["reasons"][0].as_str().unwrap().contains("(a b/812)"));
        assert_eq!(doc["causes"][0]["kind"], "listening");
        assert_eq!(doc["causes"][0]["owners"][0]["comm"], "a b");
        assert_eq!(
            doc["causes"][1],
            serde_json::json!({"kind": "time_wait", "count": 2, "last_expires_ms": 1, "only": false})
        );
        assert_eq!(
            doc["port_facts"],
            serde_json::json!([{"kind": "reserved", "port": 40050}])
        );
    }
}
