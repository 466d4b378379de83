//! Readers: turn the kernel's socket tables into [`Socket`] records.
//!
//! Two sources give the same records: NETLINK_SOCK_DIAG dumps (primary) and
//! the `/proc/net/{tcp,tcp6,udp,udp6}` text tables (fallback and
//! `--source proc`). A table the kernel refuses over netlink is read from
//! /proc instead, with one warning.

pub mod netlink;
pub mod proc;

use std::io;
use std::path::PathBuf;

use crate::model::{Family, Protocol, Socket, StateSet};

/// Which data source to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Netlink,
    Proc,
}

/// One kernel socket table: one netlink dump, or one /proc/net file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub family: Family,
    pub proto: Protocol,
}

impl Table {
    /// The /proc/net file name of this table (`tcp`, `tcp6`, `udp`, `udp6`).
    pub fn proc_name(self) -> &'static str {
        match (self.proto, self.family) {
            (Protocol::Tcp, Family::Inet) => "tcp",
            (Protocol::Tcp, Family::Inet6) => "tcp6",
            (Protocol::Udp, Family::Inet) => "udp",
            (Protocol::Udp, Family::Inet6) => "udp6",
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.family, self.proto)
    }
}

/// What to read: the tables and the states wanted in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub protocols: Vec<Protocol>,
    pub families: Vec<Family>,
    pub states: StateSet,
    /// inet_diag bytecode for the kernel (INET_DIAG_REQ_BYTECODE); the
    /// records are filtered again in user space, so it only saves work.
    pub bytecode: Option<Vec<u8>>,
}

impl Query {
    /// The tables to dump, in ss's order: TCP before UDP, IPv4 before IPv6.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        for &proto in &self.protocols {
            for &family in &self.families {
                tables.push(Table { family, proto });
            }
        }
        tables
    }

    /// True when a record belongs to this query. Sources apply it to
    /// everything they return, so a replayed or /proc table that holds more
    /// than was asked for gives the same rows as a kernel-filtered dump.
    pub fn matches(&self, s: &Socket) -> bool {
        self.states.contains(s.state)
            && self.protocols.contains(&s.proto)
            && self.families.contains(&s.family)
    }
}

/// Where the readers find their input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOptions {
    pub kind: SourceKind,
    /// Directory holding the `tcp`, `tcp6`, `udp`, `udp6` tables.
    pub proc_net: PathBuf,
    /// Read recorded netlink replies from this file instead of the kernel.
    pub replay: Option<PathBuf>,
    /// Append every netlink request and reply to this file (for fixtures).
    pub record: Option<PathBuf>,
}

/// Something worth telling the user that did not stop the read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// netlink could not be used; these tables were read from /proc.
    FellBackToProc { reason: String, tables: Vec<Table> },
    /// A dump kept being interrupted by table changes; the last attempt's
    /// rows were used and may miss or repeat sockets.
    DumpInterrupted { table: Table, attempts: u32 },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::FellBackToProc { reason, tables } => {
                let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
                write!(
                    f,
                    "netlink sock_diag unavailable ({reason}); read {} from /proc/net instead",
                    names.join(", ")
                )
            }
            Warning::DumpInterrupted { table, attempts } => write!(
                f,
                "the {table} table changed during each of {attempts} dumps; \
                 showing the last one, which may miss or repeat sockets"
            ),
        }
    }
}

/// What a read returns: the records, plus warnings for the user.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    pub warnings: Vec<Warning>,
    /// How many dumps had to be retried because NLM_F_DUMP_INTR was set.
    pub interrupted_retries: u32,
    /// The kernel refused the filter bytecode; the dump ran without it.
    pub bytecode_refused: bool,
}

/// A failure to read socket tables.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open a NETLINK_SOCK_DIAG socket")]
    NetlinkOpen(#[source] io::Error),
    #[error("netlink {op} failed for the {table} dump")]
    NetlinkIo {
        op: &'static str,
        table: Table,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused the {table} dump: {}", io::Error::from_raw_os_error(*.errno))]
    KernelRefused { table: Table, errno: i32 },
    #[error("netlink reply for the {table} dump was truncated ({len} bytes, buffer {buffer})")]
    Truncated {
        table: Table,
        len: usize,
        buffer: usize,
    },
    #[error("malformed netlink reply at byte {offset}: {reason}")]
    Malformed { offset: usize, reason: String },
    #[error("netlink dump ended without NLMSG_DONE")]
    Unterminated,
    #[error("cannot read netlink replay file {}", path.display())]
    ReplayRead {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("netlink replay file {} holds no {table} dump", path.display())]
    ReplayMissing { path: PathBuf, table: Table },
    #[error("cannot write netlink recording {}", path.display())]
    RecordWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", path.display())]
    ProcRead {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    ProcParse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl SourceError {
    /// True when the error means "netlink cannot give this table here", so
    /// /proc should be tried, rather than "something is broken".
    fn is_netlink_refusal(&self) -> bool {
        matches!(
            self,
            SourceError::NetlinkOpen(_) | SourceError::KernelRefused { .. }
        )
    }
}

/// Reads every table of `query` from the chosen source.
pub fn read(query: &Query, opts: &SourceOptions) -> Result<Snapshot, SourceError> {
    let mut snap = Snapshot::default();
    let tables = query.tables();
    match opts.kind {
        SourceKind::Proc => {
            for table in tables {
                proc::read_table(&opts.proc_net, table, query, &mut snap.sockets)?;
            }
        }
        SourceKind::Netlink => {
            let mut fallback: Vec<Table> = Vec::new();
            let mut reason = String::new();
            let mut session = match netlink::Session::open(opts) {
                Ok(s) => Some(s),
                Err(e) if e.is_netlink_refusal() => {
                    reason = error_text(&e);
                    None
                }
                Err(e) => return Err(e),
            };
            for table in tables {
                let refused = match session.as_mut() {
                    None => true,
                    Some(sess) => match sess.dump(table, query, &mut snap) {
                        Ok(()) => false,
                        Err(e) if e.is_netlink_refusal() => {
                            if reason.is_empty() {
                                reason = error_text(&e);
                            }
                            true
                        }
                        Err(e) => return Err(e),
                    },
                };
                if refused {
                    proc::read_table(&opts.proc_net, table, query, &mut snap.sockets)?;
                    fallback.push(table);
                }
            }
            if !fallback.is_empty() {
                snap.warnings.push(Warning::FellBackToProc {
                    reason,
                    tables: fallback,
                });
            }
        }
    }
    Ok(snap)
}

/// The error and its causes on one line.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
