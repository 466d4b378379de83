//! Readers: turn the kernel's socket tables into [`Socket`] records.
//!
//! Two sources give the same records: NETLINK_SOCK_DIAG dumps (primary) and
//! the `/proc/net/{tcp,tcp6,udp,udp6}` text tables (fallback and
//! `--source proc`). A table the kernel refuses over netlink is read from
//! /proc instead, with one warning.
//!
//! Also every other reader of the system: the /proc fd walk ([`owners`]),
//! /etc/services and /etc/passwd ([`services`]), the `ss -s` counters
//! ([`sockstat`], over the snmp/netstat format of [`sections`]), the
//! network sysctls and TcpExt counters ([`sysctl`]) and the tcp_info and
//! skmem blobs ([`tcpinfo`]). Each parses into [`crate::model`] records;
//! nothing here imports `filter` (a kernel filter arrives as the bytes of
//! [`Query::bytecode`]) or any higher layer.

pub mod bpf;
pub mod btf;
pub mod cgroups;
pub mod containers;
pub mod counters;
pub mod destroy;
pub mod diag_dump;
pub mod events;
pub mod filter_file;
pub mod ftrace;
pub mod hosts;
pub mod http;
pub mod ifaces;
pub mod input;
pub mod linklayer;
pub mod netlink;
pub mod netns;
pub mod owners;
pub mod perf;
pub mod probe;
pub mod proc;
pub mod sections;
pub mod selinux;
pub mod services;
pub mod signals;
pub mod sockstat;
pub mod sysctl;
pub mod tcpinfo;
pub mod terminal;
pub mod textfile;
pub mod tracefs;
pub mod unix_proc;

use std::io;
use std::path::{Path, PathBuf};

use crate::model::{
    Family, Kinds, OtherSocket, Protocol, Socket, SocketKind, StateSet, TcpState, UnixKind,
    UnixSocket,
};

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
    /// The /proc/net file name of this table (`tcp`, `tcp6`, `udp`, `udp6`,
    /// `raw`, `raw6`); MPTCP has none.
    pub fn proc_name(self) -> Option<&'static str> {
        Some(match (self.proto, self.family) {
            (Protocol::Tcp, Family::Inet) => "tcp",
            (Protocol::Tcp, Family::Inet6) => "tcp6",
            (Protocol::Udp, Family::Inet) => "udp",
            (Protocol::Udp, Family::Inet6) => "udp6",
            (Protocol::Raw, Family::Inet) => "raw",
            (Protocol::Raw, Family::Inet6) => "raw6",
            (Protocol::Mptcp, _) => return None,
        })
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.family, self.proto)
    }
}

/// One dump: an inet table, the UNIX sockets, or a probe of whether the
/// kernel has diagnostics for a kind sockscope does not read ([`probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DumpId {
    Inet(Table),
    Unix,
    Probe(SocketKind),
    /// packet_diag: every packet socket.
    Packet,
    /// netlink_diag: every netlink socket.
    Netlink,
}

impl DumpId {
    /// (sdiag_family, sdiag_protocol) of its request (MPTCP: the low byte;
    /// its request also carries INET_DIAG_REQ_PROTOCOL).
    pub fn keys(self) -> (u8, u8) {
        match self {
            DumpId::Inet(t) => (t.family.af(), t.proto.sdiag_protocol()),
            DumpId::Unix => (libc::AF_UNIX as u8, 0),
            DumpId::Probe(kind) => probe::keys(kind),
            DumpId::Packet => linklayer::PACKET_KEYS,
            DumpId::Netlink => linklayer::NETLINK_KEYS,
        }
    }
}

impl std::fmt::Display for DumpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpId::Inet(t) => t.fmt(f),
            DumpId::Unix => f.write_str("unix"),
            DumpId::Probe(kind) => write!(f, "{kind} (probe)"),
            DumpId::Packet => f.write_str("packet"),
            DumpId::Netlink => f.write_str("netlink"),
        }
    }
}

/// What to read: the tables and the states wanted in them. The default
/// reads nothing and asks for no extras.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub protocols: Vec<Protocol>,
    pub families: Vec<Family>,
    pub states: StateSet,
    /// inet_diag bytecode for the kernel (INET_DIAG_REQ_BYTECODE); the
    /// records are filtered again in user space, so it only saves work.
    pub bytecode: Option<Vec<u8>>,
    /// Also read UNIX sockets (in `states`).
    pub unix: bool,
    /// Ask the kernel for tcp_info and the congestion algorithm (-i).
    pub info: bool,
    /// Ask the kernel for socket memory (-m).
    pub memory: bool,
    /// Keep the attributes ss's format prints for -e and --cgroup
    /// (shutdown, mark, cgroup id; UNIX VFS and pending connections) in each
    /// record's extras, and ask for them; also set for a filter's `fwmark`
    /// and `cgroup` terms.
    pub attrs: bool,
    /// Ask for the congestion control's own data (ss-format -i: BBR's and
    /// DCTCP's attributes) and keep it.
    pub cc_info: bool,
    /// Ask the kernel for the TOS, traffic class and class id (--tos).
    pub tos: bool,
    /// What else the run lists, or says it cannot (-A, -f, -0, -S, ...).
    pub kinds: KindsQuery,
}

/// The socket kinds of a query beyond its inet tables: which UNIX types
/// are left out, and the kinds sockscope does not read as rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindsQuery {
    /// UNIX socket types not asked for (`-A unix_stream` leaves out the
    /// datagram and seqpacket ones).
    pub unix_left_out: Vec<UnixKind>,
    /// Kinds asked for that sockscope does not read as rows (packet,
    /// netlink, SCTP, DCCP, vsock, TIPC, XDP): for those in `named`, the
    /// source says why none are listed ([`Warning::KindNotRead`]).
    pub unread: Kinds,
    /// Packet and netlink kinds to list (packet_diag, netlink_diag; over
    /// netlink only), when the states hold CLOSE (their one state), as ss.
    pub linklayer: Kinds,
    /// -b: ask packet_diag for each socket's classic BPF program.
    pub bpf: bool,
    /// The kinds the user named (-S, -d, -0, --vsock, -A WORD, -f FAMILY);
    /// MPTCP and the kinds above when the kernel lacks them are left out
    /// in silence otherwise, as ss does.
    pub named: Kinds,
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

    /// True when a UNIX record belongs to this query (its state and type).
    pub fn matches_unix(&self, u: &UnixSocket) -> bool {
        self.states.contains(u.state) && !self.kinds.unix_left_out.contains(&u.kind)
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
    /// Replace the record file when it exists (else it must be new).
    pub record_overwrite: bool,
}

/// Something worth telling the user that did not stop the read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// netlink could not be used; these tables were read from /proc.
    FellBackToProc { reason: String, tables: Vec<DumpId> },
    /// A dump kept being interrupted by table changes; the last attempt's
    /// rows were used and may miss or repeat sockets.
    DumpInterrupted { table: DumpId, attempts: u32 },
    /// Record lines of /proc/net/unix that could be text inside another
    /// socket's name and claim an inode another record claims: not shown.
    AmbiguousUnixLines { path: PathBuf, lines: usize },
    /// Sockets of a kind asked for are not listed, and why; `group`: the
    /// message is about every kind of its family (both packet kinds).
    KindNotRead {
        kind: SocketKind,
        why: NotRead,
        group: bool,
    },
}

/// Why the sockets of a kind are not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRead {
    /// The kernel has no sock_diag handler for it (the module named, e.g.
    /// sctp_diag, is not built or loaded): it answered with this errno.
    KernelLacks { module: &'static str, errno: i32 },
    /// The kernel has it, sockscope does not read it yet.
    NotYet,
    /// /proc/net has no table for it (MPTCP) and netlink was not used.
    NoProcTable,
    /// sockscope reads it over netlink only (packet, netlink sockets:
    /// /proc/net/packet and /proc/net/netlink are not parsed).
    NetlinkOnly,
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
            Warning::DumpInterrupted { table, attempts: 1 } => write!(
                f,
                "the {table} table changed during the dump; \
                 rows already shown may miss or repeat sockets"
            ),
            Warning::AmbiguousUnixLines { path, lines } => write!(
                f,
                "{}: left out {lines} line(s) that could be part of a socket name \
                 and claim another socket's inode",
                path.display()
            ),
            Warning::KindNotRead { kind, why, group } => {
                let label = if *group {
                    kind.group_label()
                } else {
                    kind.label()
                };
                match why {
                    NotRead::KernelLacks { module, errno } => write!(
                        f,
                        "no {label} sockets listed: this kernel has no {module} \
                     (sock_diag answered: {})",
                        io::Error::from_raw_os_error(*errno)
                    ),
                    NotRead::NotYet => write!(
                        f,
                        "{label} sockets are not read by sockscope yet; none listed"
                    ),
                    NotRead::NetlinkOnly => write!(
                        f,
                        "{label} sockets are read over netlink only (sock_diag); none listed"
                    ),
                    NotRead::NoProcTable => write!(
                        f,
                        "{label} sockets are listed over netlink only (/proc/net has no table \
                     of them); none listed"
                    ),
                }
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
    /// UNIX sockets, when asked for.
    pub unix: Vec<UnixSocket>,
    /// Packet and netlink sockets, when asked for.
    pub others: Vec<OtherSocket>,
    /// How many dumps had to be retried because NLM_F_DUMP_INTR was set.
    pub interrupted_retries: u32,
    /// The kernel refused the filter bytecode; the dump ran without it.
    pub bytecode_refused: bool,
}

/// A failure to read one /proc text file (the `ss -s` counters,
/// /proc/net/unix): the file itself, or a line the kernel would not write.
#[derive(Debug, thiserror::Error)]
pub enum TextFileError<R: std::error::Error + 'static> {
    /// The file could not be opened or read.
    #[error("cannot read {}", show_path(path))]
    Io {
        path: Option<PathBuf>,
        #[source]
        source: io::Error,
    },
    /// A line is not one the kernel writes; `line` is 1-based.
    #[error("{}line {line}: {reason}", path_prefix(path))]
    Parse {
        path: Option<PathBuf>,
        line: usize,
        reason: R,
    },
}

impl<R: std::error::Error + 'static> TextFileError<R> {
    /// The same error, naming the file it came from.
    pub fn with_path(self, file: &Path) -> Self {
        match self {
            TextFileError::Io { source, .. } => TextFileError::Io {
                path: Some(file.to_path_buf()),
                source,
            },
            TextFileError::Parse { line, reason, .. } => TextFileError::Parse {
                path: Some(file.to_path_buf()),
                line,
                reason,
            },
        }
    }
}

fn show_path(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => crate::text::escape_path(p).into_owned(),
        None => "input".to_string(),
    }
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("{}: ", crate::text::escape_path(p)),
        None => String::new(),
    }
}

/// Why a `--record` file was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordRefusal {
    #[error("already exists (--record-overwrite replaces it)")]
    Exists,
    #[error("is a symbolic link, which is never followed")]
    Symlink,
    #[error("is not a regular file")]
    NotRegular,
}

/// A failure to read socket tables.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open a NETLINK_SOCK_DIAG socket")]
    NetlinkOpen(#[source] io::Error),
    #[error("netlink {op} failed for the {table} dump")]
    NetlinkIo {
        op: &'static str,
        table: DumpId,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused the {table} dump: {}", io::Error::from_raw_os_error(*.errno))]
    KernelRefused { table: DumpId, errno: i32 },
    #[error("netlink reply for the {table} dump was truncated ({len} bytes, buffer {buffer})")]
    Truncated {
        table: DumpId,
        len: usize,
        buffer: usize,
    },
    #[error("malformed netlink reply at byte {offset}: {reason}")]
    Malformed { offset: usize, reason: String },
    #[error("netlink dump ended without NLMSG_DONE")]
    Unterminated,
    #[error("cannot read netlink replay file {}", crate::text::escape_path(path))]
    ReplayRead {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "netlink replay file {} holds no {table} dump",
        crate::text::escape_path(path)
    )]
    ReplayMissing { path: PathBuf, table: DumpId },
    #[error(
        "netlink replay file {} cannot answer the {table} dump asked for: {gap}",
        crate::text::escape_path(path)
    )]
    ReplayUncovered {
        path: PathBuf,
        table: DumpId,
        gap: netlink::ReplayGap,
    },
    #[error(
        "netlink recording {} {reason}; nothing was written",
        crate::text::escape_path(path)
    )]
    RecordRefused {
        path: PathBuf,
        reason: RecordRefusal,
    },
    #[error("cannot write netlink recording {}", crate::text::escape_path(path))]
    RecordWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", crate::text::escape_path(path))]
    ProcRead {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    UnixProc(Box<unix_proc::UnixProcError>),
    #[error("cannot write the output")]
    Output(#[source] io::Error),
    #[error("{}:{line}: {reason}", crate::text::escape_path(path))]
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

/// Where inet records go as they are read: collected (and taken back when
/// an interrupted dump is retried), or streamed to the output at once.
pub trait Sink {
    fn push(&mut self, s: Socket) -> io::Result<()>;
    /// A position a retry can roll back to; `None` when rows already left
    /// (streamed): an interrupted dump is then not retried but warned about.
    fn mark(&self) -> Option<usize>;
    fn rollback(&mut self, mark: usize);
}

impl Sink for Vec<Socket> {
    fn push(&mut self, s: Socket) -> io::Result<()> {
        Vec::push(self, s);
        Ok(())
    }
    fn mark(&self) -> Option<usize> {
        Some(self.len())
    }
    fn rollback(&mut self, mark: usize) {
        self.truncate(mark);
    }
}

/// Reads every table of `query` from the chosen source, collecting the
/// records in `Snapshot::sockets`.
pub fn read(query: &Query, opts: &SourceOptions) -> Result<Snapshot, SourceError> {
    let mut sockets = Vec::new();
    let mut snap = read_into(query, opts, &mut sockets)?;
    snap.sockets = sockets;
    Ok(snap)
}

/// Reads every table of `query`, handing each inet record to `sink` as soon
/// as it is parsed (UNIX records are collected in the snapshot).
pub fn read_into(
    query: &Query,
    opts: &SourceOptions,
    sink: &mut dyn Sink,
) -> Result<Snapshot, SourceError> {
    let mut snap = Snapshot::default();
    let mut dumps: Vec<DumpId> = query.tables().into_iter().map(DumpId::Inet).collect();
    if query.unix {
        dumps.push(DumpId::Unix);
    }
    let named = query.kinds.named;
    let read_proc = |dump: DumpId, snap: &mut Snapshot, sink: &mut dyn Sink| match dump {
        DumpId::Inet(table) if table.proc_name().is_none() => {
            let kind = SocketKind::Mptcp;
            let warning = Warning::KindNotRead {
                kind,
                why: NotRead::NoProcTable,
                group: false,
            };
            if named.contains(kind) && !snap.warnings.contains(&warning) {
                snap.warnings.push(warning);
            }
            Ok(())
        }
        // A /proc tree without the raw tables (a recorded fixture, a kernel
        // without IPv6) has no raw sockets to list, as ss takes it.
        DumpId::Inet(table) if table.proto == Protocol::Raw => {
            match proc::read_table(&opts.proc_net, table, query, sink) {
                Err(SourceError::ProcRead { source, .. })
                    if source.kind() == io::ErrorKind::NotFound =>
                {
                    Ok(())
                }
                other => other,
            }
        }
        DumpId::Inet(table) => proc::read_table(&opts.proc_net, table, query, sink),
        DumpId::Unix => read_unix_proc(&opts.proc_net, query, &mut snap.unix, &mut snap.warnings),
        DumpId::Probe(_) | DumpId::Packet | DumpId::Netlink => Ok(()),
    };
    let mut session = None;
    match opts.kind {
        SourceKind::Proc => {
            for dump in dumps {
                read_proc(dump, &mut snap, sink)?;
            }
        }
        SourceKind::Netlink => {
            let mut fallback: Vec<DumpId> = Vec::new();
            let mut reason = String::new();
            session = match netlink::Session::open(opts) {
                Ok(s) => Some(s),
                Err(e) if e.is_netlink_refusal() => {
                    reason = error_text(&e);
                    None
                }
                Err(e) => return Err(e),
            };
            for dump in dumps {
                let result = match (session.as_mut(), dump) {
                    (None, _) => None,
                    (Some(sess), DumpId::Inet(table)) => {
                        Some(sess.dump(table, query, &mut snap, sink))
                    }
                    (Some(sess), DumpId::Unix) => Some(sess.dump_unix(query, &mut snap)),
                    (Some(_), DumpId::Probe(_) | DumpId::Packet | DumpId::Netlink) => Some(Ok(())),
                };
                let refused = match result {
                    None => true,
                    Some(Ok(())) => false,
                    // ss's way: raw sockets over netlink where the kernel
                    // has raw_diag, else /proc/net/raw{,6}, in silence (this
                    // kernel has no raw_diag).
                    Some(Err(SourceError::KernelRefused { .. })) if matches!(dump, DumpId::Inet(t) if t.proto == Protocol::Raw) =>
                    {
                        // A recording is the whole input: no live /proc.
                        if !session.as_ref().is_some_and(|s| s.is_replay()) {
                            read_proc(dump, &mut snap, sink)?;
                        }
                        continue;
                    }
                    // A recording made before sockscope read raw and MPTCP
                    // sockets by default has no such dump: none, unless the
                    // user asked for them by name.
                    Some(Err(SourceError::ReplayMissing { .. }))
                        if matches!(dump, DumpId::Inet(t)
                            if matches!(t.proto, Protocol::Raw | Protocol::Mptcp)
                                && !named.contains(t.proto.kind())) =>
                    {
                        continue;
                    }
                    // A kernel without MPTCP (or mptcp_diag) has none to list.
                    Some(Err(SourceError::KernelRefused { errno, .. })) if matches!(dump, DumpId::Inet(t) if t.proto == Protocol::Mptcp) =>
                    {
                        let warning = Warning::KindNotRead {
                            kind: SocketKind::Mptcp,
                            why: NotRead::KernelLacks {
                                module: probe::module(SocketKind::Mptcp),
                                errno,
                            },
                            group: false,
                        };
                        if named.contains(SocketKind::Mptcp) && !snap.warnings.contains(&warning) {
                            snap.warnings.push(warning);
                        }
                        continue;
                    }
                    Some(Err(e)) if e.is_netlink_refusal() => {
                        if reason.is_empty() {
                            reason = error_text(&e);
                        }
                        true
                    }
                    Some(Err(e)) => return Err(e),
                };
                if refused {
                    read_proc(dump, &mut snap, sink)?;
                    // MPTCP has no /proc table: nothing was read there.
                    if !matches!(dump, DumpId::Inet(t) if t.proto == Protocol::Mptcp) {
                        fallback.push(dump);
                    }
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
    read_linklayer(query, session.as_mut(), &mut snap)?;
    tell_unread(&query.kinds, session.as_mut(), &mut snap)?;
    if query.unix {
        name_unix_peers(&mut snap.unix);
    }
    Ok(snap)
}

/// Dumps the packet and netlink sockets asked for (their one state is
/// CLOSE: a query without it lists none, as ss), or says why none are
/// listed when netlink is not in use.
fn read_linklayer(
    query: &Query,
    session: Option<&mut netlink::Session>,
    snap: &mut Snapshot,
) -> Result<(), SourceError> {
    use crate::model::PacketKind;
    let kinds = query.kinds.linklayer;
    if kinds.is_empty() || !query.states.contains(TcpState::Close) {
        return Ok(());
    }
    let packet = [
        (SocketKind::PacketRaw, PacketKind::Raw),
        (SocketKind::PacketDgram, PacketKind::Dgram),
    ];
    let Some(sess) = session else {
        let mut told = false;
        for (kind, _) in packet {
            if kinds.contains(kind) && !told {
                told = true;
                snap.warnings.push(Warning::KindNotRead {
                    kind,
                    why: NotRead::NetlinkOnly,
                    group: true,
                });
            }
        }
        if kinds.contains(SocketKind::Netlink) {
            snap.warnings.push(Warning::KindNotRead {
                kind: SocketKind::Netlink,
                why: NotRead::NetlinkOnly,
                group: false,
            });
        }
        return Ok(());
    };
    if kinds.contains(SocketKind::Netlink) {
        sess.dump_others(DumpId::Netlink, false, snap)?;
    }
    if packet.iter().any(|(k, _)| kinds.contains(*k)) {
        let start = snap.others.len();
        sess.dump_others(DumpId::Packet, query.kinds.bpf, snap)?;
        let mut i = 0;
        snap.others.retain(|o| {
            i += 1;
            i <= start
                || match o {
                    OtherSocket::Packet(p) => packet
                        .iter()
                        .any(|(k, pk)| *pk == p.kind && kinds.contains(*k)),
                    OtherSocket::Netlink(_) => true,
                }
        });
    }
    Ok(())
}

/// Says why the kinds asked for that sockscope does not read list nothing:
/// the kernel lacks their diagnostics (asked over netlink, as ss would), or
/// sockscope does not read them yet. Only the kinds the user named are
/// told about; one line per kernel module.
fn tell_unread(
    kinds: &KindsQuery,
    mut session: Option<&mut netlink::Session>,
    snap: &mut Snapshot,
) -> Result<(), SourceError> {
    let mut modules: Vec<&'static str> = Vec::new();
    for kind in kinds.unread.iter().filter(|k| kinds.named.contains(*k)) {
        let module = probe::module(kind);
        if modules.contains(&module) {
            continue;
        }
        modules.push(module);
        let errno = match session.as_deref_mut() {
            Some(sess) if probe::probed(kind) && !sess.is_replay() => sess.probe(kind)?,
            _ => None,
        };
        let named_here = kinds
            .unread
            .iter()
            .filter(|k| kinds.named.contains(*k) && probe::module(*k) == module)
            .count();
        snap.warnings.push(Warning::KindNotRead {
            kind,
            why: match errno {
                Some(errno) => NotRead::KernelLacks { module, errno },
                None => NotRead::NotYet,
            },
            group: named_here > 1,
        });
    }
    Ok(())
}

/// Reads `<proc_net>/unix` into records. /proc has no queues, peers or
/// uids; and it lists the server side of a connection still waiting for
/// accept() (inode 0), which unix_diag does not: that one is left out so
/// both sources list the same sockets.
fn read_unix_proc(
    proc_net: &Path,
    query: &Query,
    out: &mut Vec<UnixSocket>,
    warnings: &mut Vec<Warning>,
) -> Result<(), SourceError> {
    let path = proc_net.join("unix");
    let dropped = unix_proc::read(&path, |e| {
        if e.inode == 0 {
            return;
        }
        let state = e.state();
        if query.states.contains(state) && !query.kinds.unix_left_out.contains(&e.kind) {
            out.push(UnixSocket {
                kind: e.kind,
                state,
                path: e.path,
                inode: e.inode,
                peer_inode: None,
                peer_path: None,
                recv_q: None,
                send_q: None,
                uid: None,
                cookie: None,
                owners: None,
                extras: None,
            });
        }
    })
    .map_err(|e| SourceError::UnixProc(Box::new(e)))?;
    if dropped > 0 {
        warnings.push(Warning::AmbiguousUnixLines {
            path,
            lines: dropped,
        });
    }
    Ok(())
}

/// Fills in each UNIX socket's `peer_path` from its peer's record.
fn name_unix_peers(unix: &mut [UnixSocket]) {
    let names: std::collections::HashMap<u64, Vec<u8>> = unix
        .iter()
        .filter_map(|u| Some((u.inode, u.path.clone()?)))
        .collect();
    for u in unix.iter_mut() {
        if let Some(peer) = u.peer_inode.filter(|p| *p != 0) {
            u.peer_path = names.get(&peer).cloned();
        }
    }
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
