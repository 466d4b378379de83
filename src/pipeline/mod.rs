//! The one run: read → owners → queue attribution → select → sink. Every
//! command runs it; what differs is the [`Plan`] (what to read, keep and
//! show) and the [`Sink`] (where the selected records go: a printer, a
//! collector, a counter). A per-namespace loop or a repeated run (watch) is
//! a loop around [`run`]; the [`RunReport`] of each says what it did.
//!
//! How records reach the sink is the sink's choice ([`Delivery`]):
//! - [`Delivery::Streamed`]: each selected record is handed over as it is
//!   read, memory stays flat however many sockets there are. With owners
//!   from the BPF iterator, its read runs on another thread beside the
//!   dump and the records read before its index is ready wait for it, in
//!   order (at a million sockets: a third of the dump, against a fifth
//!   more wall time when the read came first); the /proc walk, seconds at
//!   that size, runs first instead. Each record gets its owners as it
//!   arrives (the
//!   owners vector is lent to it and taken back), and a connection waiting
//!   in a queue is tied to its listener at once when the listeners alone
//!   decide it ([`queues::Listeners::resolve`]); one whose listener depends
//!   on the other queued connections (several candidates with a Recv-Q), or
//!   whose listener was not seen yet, is held back and resolved with the
//!   others at the end. A table's dump brings its listeners before its
//!   connections (the kernel walks the listening hash first, and
//!   /proc/net/tcp lists it first too), and the held-back ones are few (the
//!   queues).
//! - [`Delivery::Collected`]: the records the plan [`Keep`]s are collected,
//!   the /proc walk runs on other threads while this one dumps (netlink
//!   follows the calling thread's network namespace, so the dump stays
//!   here), then owners and queues are attributed over the whole set and
//!   the selected records are handed over at once.

pub mod netns;
pub mod queues;

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::filter::Selection;
use crate::model::{OtherSocket, Owner, Protocol, Socket, TcpState, UnixSocket};
use crate::source::owners::{self, OwnerIndex, OwnersError, WalkOptions};
use crate::source::{self, Query, SourceError, SourceKind, SourceOptions, Warning, sockstat};
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

/// How to find owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerOptions {
    /// The /proc tree holding PID directories.
    pub proc_root: PathBuf,
    pub cmdline: bool,
    /// -T: every thread's descriptors too, each with its thread id.
    pub threads: bool,
    /// The BPF iterator, the /proc walk, or the first that works.
    pub source: owners::OwnersSource,
    /// The kernel's BTF, for the BPF iterator.
    pub btf: PathBuf,
}

/// What one run reads, keeps and shows.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What the source reads (it may hold more than is shown: LISTEN
    /// sockets are read for queue attribution).
    pub query: Query,
    /// What is shown.
    pub select: Selection,
    /// Set when owners must be looked up (output or a filter needs them).
    pub owners: Option<OwnerOptions>,
    pub source: SourceOptions,
    /// What a run keeps of the records read, before owners are looked up.
    pub keep: Keep,
}

/// What a run keeps of the records read: `listeners` the LISTEN sockets
/// and the queued connections (no descriptor); `who` and `why-bind` the
/// sockets on their port (`who` also those connected to it: [`Keep::Port`]),
/// which is also what they ask the kernel for, but
/// /proc, a replay or a kernel that refuses the bytecode hands over every
/// socket. The rest of a huge table is dropped as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Everything,
    ListenersAndQueued,
    LocalPort(u16),
    /// The sockets whose local or remote port is this one (`who`: the
    /// holders and the clients).
    Port(u16),
}

impl Keep {
    fn keeps(self, s: &Socket) -> bool {
        match self {
            Keep::Everything => true,
            Keep::ListenersAndQueued => s.state == TcpState::Listen || s.inode == 0,
            Keep::LocalPort(port) => s.local.port() == port,
            Keep::Port(port) => s.local.port() == port || s.remote.port() == port,
        }
    }
}

/// How the selected records reach a [`Sink`] (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// One at a time, as read: memory stays flat.
    Streamed,
    /// All at once, after owners and queues were attributed over the set.
    Collected,
}

/// Where the selected records go.
pub trait Sink {
    /// How this sink takes its records.
    fn delivery(&self) -> Delivery;
    /// The records that follow come from this namespace (the namespace
    /// loop says it before each one's run).
    fn enter(&mut self, _place: &netns::Place) {}
    /// One selected inet record. A streamed record's owners vector is taken
    /// back once this returns.
    fn socket(&mut self, s: &Socket) -> io::Result<()>;
    /// Every selected inet record, at once ([`Delivery::Collected`]).
    fn sockets(&mut self, sockets: Vec<Socket>) -> io::Result<()> {
        sockets.iter().try_for_each(|s| self.socket(s))
    }
    /// The selected UNIX records, once the inet ones are done.
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()>;
    /// The selected packet and netlink records, after the UNIX ones (a
    /// sink that shows no such rows keeps this no-op).
    fn others(&mut self, _others: Vec<OtherSocket>) -> io::Result<()> {
        Ok(())
    }
}

/// A sink keeping every selected record.
#[derive(Debug, Default)]
pub struct Collect {
    pub sockets: Vec<Socket>,
    pub unix: Vec<UnixSocket>,
    pub others: Vec<OtherSocket>,
}

impl Sink for Collect {
    fn delivery(&self) -> Delivery {
        Delivery::Collected
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.sockets.push(s.clone());
        Ok(())
    }
    fn sockets(&mut self, mut sockets: Vec<Socket>) -> io::Result<()> {
        self.sockets.append(&mut sockets);
        Ok(())
    }
    fn unix(&mut self, mut unix: Vec<UnixSocket>) -> io::Result<()> {
        self.unix.append(&mut unix);
        Ok(())
    }
    fn others(&mut self, mut others: Vec<OtherSocket>) -> io::Result<()> {
        self.others.append(&mut others);
        Ok(())
    }
}

/// A sink counting inet sockets per protocol and state (`-s`): nothing is
/// kept, however large the table.
#[derive(Debug, Default)]
pub struct StateCounts(HashMap<(Protocol, TcpState), usize>);

impl StateCounts {
    /// The counts, by protocol (in `protocols`' order) then state.
    pub fn states(&self, protocols: &[Protocol]) -> Vec<(Protocol, TcpState, usize)> {
        let mut states = Vec::new();
        for &proto in protocols {
            for state in TcpState::ALL {
                if let Some(&n) = self.0.get(&(proto, state)) {
                    states.push((proto, state, n));
                }
            }
        }
        states
    }
}

impl Sink for StateCounts {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        *self.0.entry((s.proto, s.state)).or_default() += 1;
        Ok(())
    }
    fn unix(&mut self, _: Vec<UnixSocket>) -> io::Result<()> {
        Ok(())
    }
}

/// What `-s` shows.
#[derive(Debug, Default)]
pub struct Summary {
    /// /proc/net/sockstat, sockstat6 and the Tcp line of snmp.
    pub stat: crate::model::SockStat,
    /// Sockets per protocol and state, counted from the dump.
    pub states: Vec<(Protocol, TcpState, usize)>,
}

/// What a run did, for stderr: its notes and, for `--verbose`, its counts
/// and timings.
#[derive(Debug, Default, Clone)]
pub struct RunReport {
    /// One line each, for stderr.
    pub notes: Vec<String>,
    /// Dumps retried because the kernel flagged them interrupted.
    pub interrupted_retries: u32,
    /// The size of the kernel filter program sent, if one was.
    pub kernel_filter: Option<usize>,
    /// The kernel refused the filter bytecode (user space filtered alone).
    pub bytecode_refused: bool,
    /// What the run did and how long it took, for `--verbose`.
    pub stats: RunStats,
}

impl RunReport {
    /// With the namespace loop's one walk, when it made it.
    pub fn with_walk(mut self, walk: Option<(Duration, owners::WalkStats)>) -> RunReport {
        if walk.is_some() {
            self.stats.walk = walk;
        }
        self
    }

    /// Folds the report of a run made before this one into it (`ports`
    /// reads its listeners first): its notes first, each said once.
    pub fn after(mut self, earlier: RunReport) -> RunReport {
        let mut notes = earlier.notes;
        for note in std::mem::take(&mut self.notes) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        self.notes = notes;
        self.interrupted_retries += earlier.interrupted_retries;
        self.bytecode_refused |= earlier.bytecode_refused;
        self.stats.read += earlier.stats.read;
        self.stats.sockets_read += earlier.stats.sockets_read;
        self
    }
}

/// Counts and timings of one run.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    pub read: Duration,
    pub sockets_read: usize,
    pub walk: Option<(Duration, owners::WalkStats)>,
    pub attribute: Duration,
}

/// Reads what `plan` asks for, attributes owners and queues, selects, and
/// hands the selected records to `sink` the way it takes them.
pub fn run(plan: &Plan, sink: &mut dyn Sink) -> Result<RunReport, RunError> {
    run_with(plan, None, sink)
}

/// [`run`], with the owners already found by a walk made before (one walk
/// serves every namespace: socket inodes are unique on the machine).
pub fn run_with(
    plan: &Plan,
    walked: Option<&OwnerIndex>,
    sink: &mut dyn Sink,
) -> Result<RunReport, RunError> {
    let read = match sink.delivery() {
        Delivery::Streamed => streamed(plan, walked, sink)?,
        Delivery::Collected => collected(plan, walked, sink)?,
    };
    let Read {
        snap,
        index,
        stats,
        mut hidden,
    } = read;
    let mut notes = notes_of(plan, &snap);
    let mut unix = snap.unix;
    if let Some(index) = &index {
        owners::attach_unix(&mut unix, index);
    }
    unix.retain(|s| plan.select.matches_unix(s));
    if let Some(index) = &index {
        hidden += unix
            .iter()
            .filter(|u| unowned(u.inode, u.owners.as_deref()))
            .count();
        hint_hidden(hidden, &index.stats, &mut notes);
        notes.extend(index.stats.failure_note());
    }
    sink.unix(unix).map_err(SourceError::Output)?;
    // Packet and netlink sockets: one state (CLOSE, ss's UNCONN), owners by
    // inode; a process filter applies, a port (`who`) matches none.
    let mut others = snap.others;
    if let Some(index) = &index {
        for o in &mut others {
            o.set_owners(index.owners(o.inode()));
        }
    }
    others.retain(|o| {
        plan.select.states.contains(TcpState::Close)
            && plan.select.local.is_none()
            && plan
                .select
                .process
                .as_ref()
                .is_none_or(|p| p.matches_owners(o.owners()))
    });
    sink.others(others).map_err(SourceError::Output)?;
    Ok(RunReport {
        notes,
        interrupted_retries: snap.interrupted_retries,
        kernel_filter: plan.query.bytecode.as_ref().map(|code| code.len()),
        bytecode_refused: snap.bytecode_refused,
        stats,
    })
}

/// What the inet half of a run leaves for the common end.
struct Read<'w> {
    /// The UNIX records (not yet attributed nor selected), warnings, retries.
    snap: source::Snapshot,
    index: Option<Index<'w>>,
    stats: RunStats,
    /// Selected inet records with an inode but no visible owner.
    hidden: usize,
}

/// The owner index of a run: its own walk's, or one made before.
enum Index<'w> {
    Own(OwnerIndex),
    Shared(&'w OwnerIndex),
}

impl std::ops::Deref for Index<'_> {
    type Target = OwnerIndex;
    fn deref(&self) -> &OwnerIndex {
        match self {
            Index::Own(index) => index,
            Index::Shared(index) => index,
        }
    }
}

/// A record some process held (it has an inode) whose holder could not be
/// seen: for non-root, other users' processes. The one count of hidden
/// owners, inet and UNIX alike.
fn unowned(inode: u64, owners: Option<&[Owner]>) -> bool {
    inode != 0 && owners.is_some_and(<[Owner]>::is_empty)
}

/// [`Delivery::Streamed`]: the owners looked up, then each record
/// attributed, selected and handed over as it is read (module doc). The
/// BPF iterator's read runs on another thread beside the dump (the records
/// read before its index is ready wait for it, in order); the /proc walk,
/// seconds at a million descriptors, runs first, so that memory stays flat.
fn streamed<'w>(
    plan: &Plan,
    walked: Option<&'w OwnerIndex>,
    sink: &mut dyn Sink,
) -> Result<Read<'w>, RunError> {
    struct Selected<'x> {
        plan: &'x Plan,
        sink: &'x mut dyn Sink,
        rows: usize,
        hidden: usize,
        owners: Option<Attributing<'x>>,
    }
    /// The owner side of a streamed run.
    struct Attributing<'x> {
        index: Owners<'x>,
        /// Records read before the index was ready, in their order.
        pending: Vec<Socket>,
        listeners: queues::Listeners,
        /// Queued connections whose listener depends on the other queued
        /// connections (several candidate listeners with a Recv-Q, or none
        /// seen yet): tied to it when the dump is done (few: the queues).
        held: Vec<Socket>,
        /// The owners vector, lent to each record and taken back.
        spare: Vec<Owner>,
    }
    /// The index, or where it will be once the iterator's thread is done.
    enum Owners<'x> {
        Ready(&'x OwnerIndex),
        Coming(&'x Slot),
    }
    impl<'x> Owners<'x> {
        fn get(&self) -> Option<&'x OwnerIndex> {
            match self {
                Owners::Ready(index) => Some(index),
                Owners::Coming(slot) => slot.get().and_then(|(r, _)| r.as_ref().ok()),
            }
        }
    }
    impl Selected<'_> {
        fn show(&mut self, mut s: Socket) -> io::Result<()> {
            if self.plan.select.matches(&s) {
                if self.owners.is_some() && unowned(s.inode, s.owners.as_deref()) {
                    self.hidden += 1;
                }
                self.sink.socket(&s)?;
            }
            if let Some(a) = &mut self.owners
                && let Some(mut spare) = s.owners.take()
            {
                spare.clear();
                a.spare = spare;
            }
            Ok(())
        }

        /// A kept record: with owners, it waits in `pending` for a batch
        /// (or for the index); without, it is shown at once.
        fn take(&mut self, s: Socket) -> io::Result<()> {
            let Some(a) = &mut self.owners else {
                return self.show(s);
            };
            a.pending.push(s);
            if a.pending.len() >= BATCH {
                self.catch_up()?;
            }
            Ok(())
        }

        /// The records waiting in `pending`, in their order, once the index
        /// is there: each batch's hash probes first (their cache misses
        /// overlap), then each record attributed (owners, queue) and shown.
        fn catch_up(&mut self) -> io::Result<()> {
            let (index, waiting) = match &mut self.owners {
                Some(a) if !a.pending.is_empty() => match a.index.get() {
                    Some(index) => (index, std::mem::take(&mut a.pending)),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            };
            let mut located = Vec::with_capacity(BATCH.min(waiting.len()));
            let mut batch = Vec::with_capacity(BATCH.min(waiting.len()));
            let mut waiting = waiting.into_iter();
            loop {
                batch.extend(waiting.by_ref().take(BATCH));
                if batch.is_empty() {
                    return Ok(());
                }
                located.clear();
                located.extend(batch.iter().map(|s: &Socket| index.locate(s.inode)));
                for (s, at) in batch.drain(..).zip(located.iter()) {
                    self.attribute(s, index, *at)?;
                }
            }
        }

        /// Owners and queue, then shown (or held for the other queued
        /// connections).
        fn attribute(
            &mut self,
            mut s: Socket,
            index: &OwnerIndex,
            at: owners::Located,
        ) -> io::Result<()> {
            if let Some(a) = &mut self.owners {
                let mut list = std::mem::take(&mut a.spare);
                index.owners_at(at, &mut list);
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
    }
    impl source::Sink for Selected<'_> {
        fn push(&mut self, s: Socket) -> io::Result<()> {
            self.rows += 1;
            if !self.plan.keep.keeps(&s) {
                return Ok(());
            }
            self.take(s)
        }
        fn mark(&self) -> Option<usize> {
            None
        }
        fn rollback(&mut self, _mark: usize) {}
    }
    type Slot = std::sync::OnceLock<(Result<OwnerIndex, OwnersError>, Duration)>;
    /// Records attributed together (see `catch_up`).
    const BATCH: usize = 64;
    let mut stats = RunStats::default();
    let slot = Slot::new();
    // The lookup to run beside the dump (the iterator's read), if any.
    let mut beside = None;
    let owners = match (&plan.owners, walked) {
        (Some(_), Some(walked)) => Some(Owners::Ready(walked)),
        (Some(opts), None) => {
            let start = Instant::now();
            let lookup =
                OwnerIndex::prepare(&opts.proc_root, walk_options(opts), opts.source, &opts.btf)?;
            if lookup.is_iterator() {
                beside = Some((lookup, start));
            } else {
                let _ = slot.set((lookup.run(), start.elapsed()));
            }
            Some(Owners::Coming(&slot))
        }
        (None, _) => None,
    };
    if let Some((Err(_), _)) = slot.get() {
        return Err(take_error(slot));
    }
    let start = Instant::now();
    let (snap, selected) = std::thread::scope(|scope| {
        let reader = beside.map(|(lookup, start)| {
            let slot = &slot;
            scope.spawn(move || {
                let _ = slot.set((lookup.run(), start.elapsed()));
            })
        });
        let mut selected = Selected {
            plan,
            sink,
            rows: 0,
            hidden: 0,
            owners: owners.map(|index| Attributing {
                index,
                pending: Vec::new(),
                listeners: queues::Listeners::default(),
                held: Vec::new(),
                spare: Vec::new(),
            }),
        };
        let snap = source::read_into(&plan.query, &plan.source, &mut selected);
        if let Some(reader) = reader {
            reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        (
            snap,
            (
                selected.rows,
                selected.hidden,
                selected.owners.map(|a| (a.pending, a.held, a.listeners)),
            ),
        )
    });
    let snap = snap?;
    let (rows, mut hidden, attributing) = selected;
    if let Some((Err(_), _)) = slot.get() {
        return Err(take_error(slot));
    }
    // What waited for the index or for the other queued connections.
    if let Some((pending, held, listeners)) = attributing {
        let index = match walked {
            Some(walked) => Owners::Ready(walked),
            None => Owners::Coming(&slot),
        };
        let mut selected = Selected {
            plan,
            sink,
            rows,
            hidden,
            owners: Some(Attributing {
                index,
                pending,
                listeners,
                held: Vec::new(),
                spare: Vec::new(),
            }),
        };
        selected.catch_up().map_err(SourceError::Output)?;
        let mut held_all = held;
        if let Some(a) = &mut selected.owners {
            held_all.append(&mut a.held);
        }
        if let Some(a) = &mut selected.owners {
            let queues = {
                let conns: Vec<&Socket> = held_all.iter().collect();
                a.listeners.resolve(&conns)
            };
            for (mut s, q) in held_all.into_iter().zip(queues) {
                s.queue = q;
                selected.show(s).map_err(SourceError::Output)?;
            }
        }
        hidden = selected.hidden;
    }
    stats.read = start.elapsed();
    stats.sockets_read = rows + snap.unix.len();
    let index = match (walked, slot.into_inner()) {
        (Some(walked), _) => Some(Index::Shared(walked)),
        (None, Some((Ok(index), took))) => {
            stats.walk = Some((took, index.stats.clone()));
            Some(Index::Own(index))
        }
        _ => None,
    };
    Ok(Read {
        snap,
        index,
        stats,
        hidden,
    })
}

/// The lookup's error, out of its slot.
fn take_error(slot: std::sync::OnceLock<(Result<OwnerIndex, OwnersError>, Duration)>) -> RunError {
    match slot.into_inner() {
        Some((Err(e), _)) => e.into(),
        _ => RunError::Owners(OwnersError::Thread {
            path: PathBuf::from("/proc"),
        }),
    }
}

/// A source sink keeping only the records a plan can use.
struct Kept {
    rows: Vec<Socket>,
    keep: Keep,
}

impl source::Sink for Kept {
    fn push(&mut self, s: Socket) -> io::Result<()> {
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

/// [`Delivery::Collected`]: the walk overlapping the dump, then owners and
/// queues attributed over the kept records, which are selected and handed
/// over at once (module doc).
fn collected<'w>(
    plan: &Plan,
    shared: Option<&'w OwnerIndex>,
    sink: &mut dyn Sink,
) -> Result<Read<'w>, RunError> {
    let mut stats = RunStats::default();
    let (snap, walked) = std::thread::scope(|scope| {
        let walker = plan
            .owners
            .as_ref()
            .filter(|_| shared.is_none())
            .map(|opts| scope.spawn(move || walk(opts)));
        let start = Instant::now();
        let mut kept = Kept {
            rows: Vec::new(),
            keep: plan.keep,
        };
        let snap = source::read_into(&plan.query, &plan.source, &mut kept).map(|mut snap| {
            snap.sockets = kept.rows;
            snap
        });
        stats.read = start.elapsed();
        let walked = walker.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (snap, walked)
    });
    let mut snap = snap?;
    stats.sockets_read = snap.sockets.len();
    let mut sockets = std::mem::take(&mut snap.sockets);
    let mut index = None;
    let mut hidden = 0;
    let walked = match (walked, shared) {
        (Some((walked, took)), _) => {
            let walked = walked?;
            stats.walk = Some((took, walked.stats.clone()));
            Some(Index::Own(walked))
        }
        (None, Some(shared)) if plan.owners.is_some() => Some(Index::Shared(shared)),
        _ => None,
    };
    if let Some(walked) = walked {
        let start = Instant::now();
        owners::attach(&mut sockets, &walked);
        queues::attribute_queues(&mut sockets);
        stats.attribute = start.elapsed();
        sockets.retain(|s| plan.select.matches(s));
        hidden = sockets
            .iter()
            .filter(|s| unowned(s.inode, s.owners.as_deref()))
            .count();
        index = Some(walked);
    } else {
        sockets.retain(|s| plan.select.matches(s));
    }
    sink.sockets(sockets).map_err(SourceError::Output)?;
    Ok(Read {
        snap,
        index,
        stats,
        hidden,
    })
}

/// One walk of /proc for owners, on every core, and how long it took.
fn walk(opts: &OwnerOptions) -> (Result<OwnerIndex, OwnersError>, Duration) {
    let start = Instant::now();
    let index = OwnerIndex::read(&opts.proc_root, walk_options(opts), opts.source, &opts.btf);
    (index, start.elapsed())
}

/// The walk's options from the plan's (one thread per core).
fn walk_options(opts: &OwnerOptions) -> WalkOptions {
    WalkOptions {
        cmdline: opts.cmdline,
        threads: 0,
        tasks: opts.threads,
    }
}

/// The reader's warnings, and one more when sockets read from /proc are
/// filtered on what only netlink tells.
fn notes_of(plan: &Plan, snap: &source::Snapshot) -> Vec<String> {
    let mut notes: Vec<String> = snap
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    let read_proc = plan.source.kind == SourceKind::Proc
        || snap
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::FellBackToProc { .. }));
    if read_proc && plan.select.expr.as_ref().is_some_and(|e| e.needs_netlink()) {
        notes.push(
            "warning: /proc/net does not tell the device a socket is bound to, nor whether \
             the kernel chose its port: `dev` matches no socket read from there, and \
             `autobound` only checks ip_local_port_range; `fwmark` and `cgroup` see \
             mark 0 and no cgroup there"
                .to_owned(),
        );
    }
    // The kernel sends marks to CAP_NET_ADMIN only (and refuses a
    // MARK_COND program from others): user space then sees mark 0.
    let marks_unseen = read_proc || snap.bytecode_refused;
    if marks_unseen
        && plan
            .select
            .expr
            .as_ref()
            .is_some_and(|e| e.looks_at_marks())
    {
        notes.push(
            "warning: the kernel shows socket marks to CAP_NET_ADMIN only (run as root): \
             `fwmark` compared mark 0 for every socket"
                .to_owned(),
        );
    }
    notes
}

/// The hint for sockets without a visible owner while some fd directories
/// could not be read: run as root, or (already root) why even root cannot.
fn hint_hidden(hidden: usize, walk: &owners::WalkStats, notes: &mut Vec<String>) {
    let denied = walk.denied;
    if hidden > 0 && denied > 0 {
        let why = if walk.as_root {
            "denied even to root: the kernel's ptrace access check or a security module \
             refuses them"
        } else {
            "run as root to see all"
        };
        notes.push(format!(
            "{hidden} socket{} with an inode had no visible owner: the file descriptors \
             of {denied} process{} could not be read ({why})",
            plural(hidden, "", "s"),
            plural(denied, "", "es"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;
    use std::path::Path;

    /// Streams the records into a vector, as a printer would see them.
    #[derive(Default)]
    struct Streamed(Vec<Socket>, Vec<UnixSocket>);

    impl Sink for Streamed {
        fn delivery(&self) -> Delivery {
            Delivery::Streamed
        }
        fn socket(&mut self, s: &Socket) -> io::Result<()> {
            self.0.push(s.clone());
            Ok(())
        }
        fn unix(&mut self, mut unix: Vec<UnixSocket>) -> io::Result<()> {
            self.1.append(&mut unix);
            Ok(())
        }
    }

    fn plan(keep: Keep, owners: bool) -> Plan {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/owners");
        Plan {
            query: Query {
                protocols: Protocol::ALL.to_vec(),
                families: vec![Family::Inet, Family::Inet6],
                states: crate::model::StateSet::all(),
                ..Query::default()
            },
            select: Selection {
                states: crate::model::StateSet::all(),
                process: None,
                local: None,
                connected: false,
                expr: None,
            },
            owners: owners.then(|| OwnerOptions {
                proc_root: root.clone(),
                cmdline: false,
                threads: false,
                source: owners::OwnersSource::Proc,
                btf: PathBuf::new(),
            }),
            source: SourceOptions {
                kind: SourceKind::Proc,
                proc_net: root.join("net"),
                replay: None,
                record: None,
                record_overwrite: false,
            },
            keep,
        }
    }

    fn key(s: &Socket) -> String {
        format!("{s:?}")
    }

    /// The run gives the same records and notes whichever way they are
    /// delivered: streamed (walk first, one at a time) or collected (walk
    /// beside the dump, attributed in bulk).
    #[test]
    fn delivery_does_not_change_the_records() {
        for owners in [false, true] {
            let mut streamed = Streamed::default();
            let a = run(&plan(Keep::Everything, owners), &mut streamed).unwrap();
            let mut collected = Collect::default();
            let b = run(&plan(Keep::Everything, owners), &mut collected).unwrap();
            let mut x: Vec<String> = streamed.0.iter().map(key).collect();
            let mut y: Vec<String> = collected.sockets.iter().map(key).collect();
            x.sort();
            y.sort();
            assert!(!x.is_empty());
            assert_eq!(x, y, "owners: {owners}");
            assert_eq!(a.notes, b.notes);
            assert_eq!(a.stats.walk.is_some(), owners);
            if owners {
                assert!(
                    collected.sockets.iter().any(|s| s.queue.is_some()),
                    "the fixture has a queued connection"
                );
            }
        }
    }

    #[test]
    fn keep_drops_what_the_plan_cannot_use() {
        let mut all = Collect::default();
        run(&plan(Keep::Everything, true), &mut all).unwrap();
        let port = all.sockets[0].local.port();
        let mut kept = Collect::default();
        run(&plan(Keep::LocalPort(port), true), &mut kept).unwrap();
        let expected: Vec<String> = all
            .sockets
            .iter()
            .filter(|s| s.local.port() == port)
            .map(key)
            .collect();
        assert_eq!(kept.sockets.iter().map(key).collect::<Vec<_>>(), expected);
        let mut counts = StateCounts::default();
        run(&plan(Keep::Everything, false), &mut counts).unwrap();
        let total: usize = counts.states(&Protocol::ALL).iter().map(|c| c.2).sum();
        assert_eq!(total, all.sockets.len());
    }
}
