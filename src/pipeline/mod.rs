//! One run, layer by layer: source → owners → filter. Rendering is left to
//! the caller, so tests and benchmarks can use the records.

pub mod queues;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::analysis::{PortCounter, PortPressure};
use crate::config::{Config, Mode, OwnerOptions};
use crate::model::{Owner, Protocol, SockStat, Socket, TcpState, UnixSocket};
use crate::source::owners::{self, OwnerIndex, OwnersError, WalkOptions};
use crate::source::{self, SourceError, SourceKind, Warning, sockstat};
use crate::text::plural;

/// A failure of the run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Owners(#[from] OwnersError),
    #[error(transparent)]
    SockStat(#[from] sockstat::SockStatError),
}

/// The selected records and what to tell the user about them.
#[derive(Debug, Default)]
pub struct Report {
    pub sockets: Vec<Socket>,
    pub unix: Vec<UnixSocket>,
    /// One line each, for stderr.
    pub notes: Vec<String>,
    /// Dumps retried because the kernel flagged them interrupted.
    pub interrupted_retries: u32,
    /// The kernel refused the filter bytecode (user space filtered alone).
    pub bytecode_refused: bool,
    /// What the run did and how long it took, for `--verbose`.
    pub stats: RunStats,
}

/// What `-s` shows.
#[derive(Debug, Default)]
pub struct Summary {
    /// /proc/net/sockstat, sockstat6 and the Tcp line of snmp.
    pub stat: SockStat,
    /// Sockets per protocol and state, counted from the dump.
    pub states: Vec<(Protocol, TcpState, usize)>,
}

/// Reads the totals and counts sockets per state as the dump streams by:
/// nothing is kept, however large the table.
pub fn summarize(config: &Config) -> Result<Summary, RunError> {
    let stat = sockstat::read(&config.source.proc_net)?;
    let states = count_states(config)?;
    Ok(Summary { stat, states })
}

/// The per-state half of `-s`: sockets per protocol and state, counted as
/// the dump streams by.
pub fn count_states(config: &Config) -> Result<Vec<(Protocol, TcpState, usize)>, RunError> {
    let mut counts: HashMap<(Protocol, TcpState), usize> = HashMap::new();
    let _ = stream(config, &mut |s| {
        *counts.entry((s.proto, s.state)).or_default() += 1;
        Ok(())
    })?;
    let mut states = Vec::new();
    for &proto in &config.query.protocols {
        for state in TcpState::ALL {
            if let Some(&n) = counts.get(&(proto, state)) {
                states.push((proto, state, n));
            }
        }
    }
    Ok(states)
}

/// Counts and timings of one run.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    pub read: Duration,
    pub sockets_read: usize,
    pub walk: Option<(Duration, owners::WalkStats)>,
    pub attribute: Duration,
}

/// True when records can go to the output as they are read: a plain
/// listing (owners too: the walk is done first) without sorting.
pub fn can_stream(config: &Config) -> bool {
    matches!(config.mode, Mode::List)
}

/// Reads the records `config` asks for and hands each selected one to
/// `each` at once; memory stays flat however many sockets there are. UNIX
/// records come back in the report.
///
/// With owners, /proc is walked first and each record gets its owners as
/// it arrives. A table's dump brings its listeners before its connections
/// (the kernel walks the listening hash first, and /proc/net/tcp lists it
/// first too), so a connection waiting in a queue is tied to its listener
/// at once ([`queues::Listeners::resolve`], as `gather` does) when the
/// listeners alone decide it; one whose listener depends on the other
/// queued connections (several candidates with a Recv-Q), or whose
/// listener was not seen yet, is held back and resolved with the others
/// at the end. They are few (the queues), so memory stays flat.
pub fn stream(
    config: &Config,
    each: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
) -> Result<Report, RunError> {
    struct Selected<'x> {
        config: &'x Config,
        each: &'x mut dyn FnMut(&Socket) -> std::io::Result<()>,
        rows: usize,
        owners: Option<Attributing<'x>>,
    }
    /// The owner side of a streamed run.
    struct Attributing<'x> {
        index: &'x OwnerIndex,
        listeners: queues::Listeners,
        /// Queued connections whose listener depends on the other queued
        /// connections (several candidate listeners with a Recv-Q, or none
        /// seen yet): tied to it when the dump is done (few: the queues).
        held: Vec<Socket>,
        /// The owners vector, lent to each record and taken back.
        spare: Vec<Owner>,
        /// Shown sockets with an inode but no visible owner.
        hidden: usize,
    }
    impl Selected<'_> {
        fn show(&mut self, mut s: Socket) -> std::io::Result<()> {
            if self.config.select.matches(&s) {
                if let Some(a) = &mut self.owners
                    && s.inode != 0
                    && s.owners.as_ref().is_some_and(Vec::is_empty)
                {
                    a.hidden += 1;
                }
                (self.each)(&s)?;
            }
            if let Some(a) = &mut self.owners
                && let Some(mut spare) = s.owners.take()
            {
                spare.clear();
                a.spare = spare;
            }
            Ok(())
        }
    }
    impl source::Sink for Selected<'_> {
        fn push(&mut self, mut s: Socket) -> std::io::Result<()> {
            self.rows += 1;
            if let Some(a) = &mut self.owners {
                let mut list = std::mem::take(&mut a.spare);
                a.index.owners_into(s.inode, &mut list);
                s.owners = Some(list);
                a.listeners.add(&s);
                if queues::queue_kind(&s).is_some() {
                    if !a.listeners.decides_alone(&s) {
                        a.held.push(s);
                        return Ok(());
                    }
                    s.queue = a.listeners.resolve(&[&s]).pop().flatten();
                }
            }
            self.show(s)
        }
        fn mark(&self) -> Option<usize> {
            None
        }
        fn rollback(&mut self, _mark: usize) {}
    }
    let mut stats = RunStats::default();
    let index = match &config.owners {
        Some(opts) => {
            let (index, took) = walk(opts);
            let index = index?;
            stats.walk = Some((took, index.stats));
            Some(index)
        }
        None => None,
    };
    let start = Instant::now();
    let mut sink = Selected {
        config,
        each,
        rows: 0,
        owners: index.as_ref().map(|index| Attributing {
            index,
            listeners: queues::Listeners::default(),
            held: Vec::new(),
            spare: Vec::new(),
            hidden: 0,
        }),
    };
    let snap = source::read_into(&config.query, &config.source, &mut sink)?;
    if let Some(a) = &mut sink.owners {
        let held = std::mem::take(&mut a.held);
        let queues = {
            let conns: Vec<&Socket> = held.iter().collect();
            a.listeners.resolve(&conns)
        };
        for (mut s, q) in held.into_iter().zip(queues) {
            s.queue = q;
            sink.show(s).map_err(SourceError::Output)?;
        }
    }
    stats.read = start.elapsed();
    stats.sockets_read = sink.rows + snap.unix.len();
    let mut notes = notes_of(config, &snap);
    let mut unix = snap.unix;
    let mut hidden = sink.owners.as_ref().map_or(0, |a| a.hidden);
    if let Some(index) = &index {
        owners::attach_unix(&mut unix, index);
    }
    unix.retain(|s| config.select.matches_unix(s));
    if let Some(index) = &index {
        hidden += unowned_unix(&unix);
        hint_hidden(hidden, index.stats.denied, &mut notes);
        notes.extend(index.stats.failure_note());
    }
    Ok(Report {
        sockets: Vec::new(),
        unix,
        notes,
        interrupted_retries: snap.interrupted_retries,
        bytecode_refused: snap.bytecode_refused,
        stats,
    })
}

/// `ports`: ephemeral port use per destination, counted as the dump streams
/// by; only the counts are kept, however large the table.
///
/// Whether a socket counts depends on the ports something listens on, and a
/// table's listeners come before its connections but not before another
/// table's (an IPv6 listener and an IPv4 socket on the same port), so the
/// listeners are read first, in a dump of their own (the kernel walks only
/// its listening hash for it), then every socket is counted. Both dumps
/// carry the request's filter: local ports in ip_local_port_range.
///
/// `--record` records the second dump only: it is created once, and a
/// replay of it serves both (each read loads the recording afresh, and the
/// first keeps the listeners of what it is served).
pub fn ports(config: &Config) -> Result<(PortPressure, Report), RunError> {
    let listeners_only = Config {
        query: source::Query {
            states: [TcpState::Listen].into_iter().collect(),
            ..config.query.clone()
        },
        source: source::SourceOptions {
            record: None,
            ..config.source.clone()
        },
        ..config.clone()
    };
    let mut listening = HashSet::new();
    let first = stream(&listeners_only, &mut |s| {
        if s.state == TcpState::Listen {
            listening.insert(s.local.port());
        }
        Ok(())
    })?;
    let mut counter = PortCounter::new(config.knobs.port_range(), listening);
    let mut report = stream(config, &mut |s| {
        counter.add(s);
        Ok(())
    })?;
    let mut notes = first.notes;
    for note in std::mem::take(&mut report.notes) {
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    report.notes = notes;
    report.interrupted_retries += first.interrupted_retries;
    report.bytecode_refused |= first.bytecode_refused;
    report.stats.read += first.stats.read;
    report.stats.sockets_read += first.stats.sockets_read;
    Ok((counter.finish(), report))
}

/// One walk of /proc for owners, on every core, and how long it took.
fn walk(opts: &OwnerOptions) -> (Result<OwnerIndex, OwnersError>, Duration) {
    let start = Instant::now();
    let index = OwnerIndex::walk(
        &opts.proc_root,
        WalkOptions {
            cmdline: opts.cmdline,
            threads: 0,
        },
    );
    (index, start.elapsed())
}

/// What a collecting view keeps of the records read: `listeners` the LISTEN
/// sockets and the queued connections (no descriptor); `who` and `why-bind`
/// the sockets on their port, which is also what they ask the kernel for,
/// but /proc, a replay or a kernel that refuses the bytecode hands over
/// every socket.
#[derive(Debug, Clone, Copy)]
enum Keep {
    Everything,
    ListenersAndQueued,
    LocalPort(u16),
}

impl Keep {
    fn of(mode: &Mode) -> Keep {
        match *mode {
            Mode::Listeners => Keep::ListenersAndQueued,
            Mode::Who(target) | Mode::WhyBind { target, .. } => Keep::LocalPort(target.port),
            Mode::List | Mode::Summary | Mode::Ports => Keep::Everything,
        }
    }

    fn keeps(self, s: &Socket) -> bool {
        match self {
            Keep::Everything => true,
            Keep::ListenersAndQueued => s.state == TcpState::Listen || s.inode == 0,
            Keep::LocalPort(port) => s.local.port() == port,
        }
    }
}

/// A sink keeping only the records a view can use.
struct Kept {
    rows: Vec<Socket>,
    keep: Keep,
}

impl source::Sink for Kept {
    fn push(&mut self, s: Socket) -> std::io::Result<()> {
        if self.keep.keeps(&s) {
            self.rows.push(s);
        }
        Ok(())
    }
    fn mark(&self) -> Option<usize> {
        Some(self.rows.len())
    }
    fn rollback(&mut self, mark: usize) {
        self.rows.truncate(mark);
    }
}

/// Reads, attributes and selects the records `config` asks for.
pub fn gather(config: &Config) -> Result<Report, RunError> {
    let mut stats = RunStats::default();
    // The /proc walk and the dump are independent: the walk runs on other
    // threads while this one dumps (netlink follows the calling thread's
    // network namespace, so the dump stays here).
    let (snap, walked) = std::thread::scope(|scope| {
        let walker = config
            .owners
            .as_ref()
            .map(|opts| scope.spawn(move || walk(opts)));
        let start = Instant::now();
        // The rest of a huge table is dropped as it is read instead of kept.
        let mut kept = Kept {
            rows: Vec::new(),
            keep: Keep::of(&config.mode),
        };
        let snap = source::read_into(&config.query, &config.source, &mut kept).map(|mut snap| {
            snap.sockets = kept.rows;
            snap
        });
        stats.read = start.elapsed();
        let walked = walker.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (snap, walked)
    });
    let snap = snap?;
    stats.sockets_read = snap.sockets.len();
    let mut notes = notes_of(config, &snap);
    let mut sockets = snap.sockets;
    let mut unix = snap.unix;
    if let Some((index, took)) = walked {
        let index = index?;
        stats.walk = Some((took, index.stats));
        let start = Instant::now();
        owners::attach(&mut sockets, &index);
        owners::attach_unix(&mut unix, &index);
        queues::attribute_queues(&mut sockets);
        stats.attribute = start.elapsed();
        sockets.retain(|s| config.select.matches(s));
        unix.retain(|s| config.select.matches_unix(s));
        let hidden = queues::unowned_with_inode(&sockets) + unowned_unix(&unix);
        hint_hidden(hidden, index.stats.denied, &mut notes);
        notes.extend(index.stats.failure_note());
    } else {
        sockets.retain(|s| config.select.matches(s));
        unix.retain(|s| config.select.matches_unix(s));
    }
    Ok(Report {
        sockets,
        unix,
        notes,
        interrupted_retries: snap.interrupted_retries,
        bytecode_refused: snap.bytecode_refused,
        stats,
    })
}

/// The reader's warnings, and one more when sockets read from /proc are
/// filtered on what only netlink tells.
fn notes_of(config: &Config, snap: &source::Snapshot) -> Vec<String> {
    let mut notes: Vec<String> = snap
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    let read_proc = config.source.kind == SourceKind::Proc
        || snap
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::FellBackToProc { .. }));
    if read_proc
        && config
            .select
            .expr
            .as_ref()
            .is_some_and(|e| e.needs_netlink())
    {
        notes.push(
            "warning: /proc/net does not tell the device a socket is bound to, nor whether \
             the kernel chose its port: `dev` matches no socket read from there, and \
             `autobound` only checks ip_local_port_range"
                .to_owned(),
        );
    }
    notes
}

/// UNIX sockets with an inode but no visible owner.
fn unowned_unix(unix: &[UnixSocket]) -> usize {
    unix.iter()
        .filter(|u| u.inode != 0 && u.owners.as_ref().is_some_and(Vec::is_empty))
        .count()
}

/// The non-root hint: sockets without a visible owner while some fd
/// directories could not be read.
fn hint_hidden(hidden: usize, denied: usize, notes: &mut Vec<String>) {
    if hidden > 0 && denied > 0 {
        notes.push(format!(
            "{hidden} socket{} with an inode had no visible owner: the file descriptors \
             of {denied} process{} could not be read (run as root to see all)",
            plural(hidden, "", "s"),
            plural(denied, "", "es"),
        ));
    }
}
