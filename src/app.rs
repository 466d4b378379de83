//! One run, layer by layer: source → owners → filter. Rendering is left to
//! the caller, so tests and benchmarks can use the records.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::config::{Config, Mode};
use crate::model::{Protocol, Socket, TcpState, UnixSocket};
use crate::owners::{self, OwnerIndex, OwnersError, WalkOptions};
use crate::source::{self, SourceError, SourceKind, Warning, sockstat};

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
    pub stat: sockstat::SockStat,
    /// Sockets per protocol and state, counted from the dump.
    pub states: Vec<(Protocol, TcpState, usize)>,
}

/// Reads the totals and counts sockets per state as the dump streams by:
/// nothing is kept, however large the table.
pub fn summarize(config: &Config) -> Result<Summary, RunError> {
    let mut counts: HashMap<(Protocol, TcpState), usize> = HashMap::new();
    let _ = stream(config, &mut |s| {
        *counts.entry((s.proto, s.state)).or_default() += 1;
        Ok(())
    })?;
    let stat = sockstat::read(&config.source.proc_net)?;
    let mut states = Vec::new();
    for &proto in &config.query.protocols {
        for state in TcpState::ALL {
            if let Some(&n) = counts.get(&(proto, state)) {
                states.push((proto, state, n));
            }
        }
    }
    Ok(Summary { stat, states })
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
/// listing without owners (which need the whole walk and the listeners
/// first) and without sorting.
pub fn can_stream(config: &Config) -> bool {
    matches!(config.mode, Mode::List) && config.owners.is_none()
}

/// Reads the records `config` asks for and hands each selected one to
/// `each` at once; memory stays flat however many sockets there are. UNIX
/// records come back in the report.
pub fn stream(
    config: &Config,
    each: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
) -> Result<Report, RunError> {
    struct Selected<'x> {
        config: &'x Config,
        each: &'x mut dyn FnMut(&Socket) -> std::io::Result<()>,
        rows: usize,
    }
    impl source::Sink for Selected<'_> {
        fn push(&mut self, s: Socket) -> std::io::Result<()> {
            self.rows += 1;
            if self.config.select.matches(&s) {
                (self.each)(&s)?;
            }
            Ok(())
        }
        fn mark(&self) -> Option<usize> {
            None
        }
        fn rollback(&mut self, _mark: usize) {}
    }
    let start = Instant::now();
    let mut sink = Selected {
        config,
        each,
        rows: 0,
    };
    let snap = source::read_into(&config.query, &config.source, &mut sink)?;
    let mut stats = RunStats {
        read: start.elapsed(),
        sockets_read: sink.rows,
        ..RunStats::default()
    };
    stats.sockets_read += snap.unix.len();
    let mut unix = snap.unix;
    unix.retain(|s| config.select.matches_unix(s));
    Ok(Report {
        sockets: Vec::new(),
        unix,
        notes: snap
            .warnings
            .iter()
            .map(|w| format!("warning: {w}"))
            .collect(),
        interrupted_retries: snap.interrupted_retries,
        bytecode_refused: snap.bytecode_refused,
        stats,
    })
}

/// A sink keeping listeners and connections without a descriptor.
struct Kept(Vec<Socket>);

impl source::Sink for Kept {
    fn push(&mut self, s: Socket) -> std::io::Result<()> {
        if s.state == TcpState::Listen || s.inode == 0 {
            self.0.push(s);
        }
        Ok(())
    }
    fn mark(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn rollback(&mut self, mark: usize) {
        self.0.truncate(mark);
    }
}

/// Reads, attributes and selects the records `config` asks for.
pub fn gather(config: &Config) -> Result<Report, RunError> {
    let mut stats = RunStats::default();
    // The /proc walk and the dump are independent: the walk runs on other
    // threads while this one dumps (netlink follows the calling thread's
    // network namespace, so the dump stays here).
    let (snap, walked) = std::thread::scope(|scope| {
        let walker = config.owners.as_ref().map(|opts| {
            scope.spawn(move || {
                let start = Instant::now();
                let index = OwnerIndex::walk(
                    &opts.proc_root,
                    WalkOptions {
                        cmdline: opts.cmdline,
                        threads: 0,
                    },
                );
                (index, start.elapsed())
            })
        });
        let start = Instant::now();
        // `listeners` needs the LISTEN sockets and the queued connections
        // (no descriptor) only: the rest of a huge table is dropped as it
        // is read instead of kept.
        let snap = if config.mode == Mode::Listeners {
            let mut kept = Kept(Vec::new());
            source::read_into(&config.query, &config.source, &mut kept).map(|mut snap| {
                snap.sockets = kept.0;
                snap
            })
        } else {
            source::read(&config.query, &config.source)
        };
        stats.read = start.elapsed();
        let walked = walker.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (snap, walked)
    });
    let snap = snap?;
    stats.sockets_read = snap.sockets.len();
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
    let mut sockets = snap.sockets;
    let mut unix = snap.unix;
    if let Some((index, took)) = walked {
        let mut index = index?;
        stats.walk = Some((took, index.stats));
        let start = Instant::now();
        owners::attach(&mut sockets, &mut index);
        owners::attach_unix(&mut unix, &mut index);
        owners::attribute_queues(&mut sockets);
        stats.attribute = start.elapsed();
        sockets.retain(|s| config.select.matches(s));
        unix.retain(|s| config.select.matches_unix(s));
        let hidden = owners::unowned_with_inode(&sockets)
            + unix
                .iter()
                .filter(|u| u.inode != 0 && u.owners.as_ref().is_some_and(Vec::is_empty))
                .count();
        if hidden > 0 && index.stats.denied > 0 {
            notes.push(format!(
                "{hidden} socket{} with an inode had no visible owner: the file descriptors \
                 of {} process{} could not be read (run as root to see all)",
                plural(hidden),
                index.stats.denied,
                if index.stats.denied == 1 { "" } else { "es" },
            ));
        }
    } else {
        sockets.retain(|s| config.select.matches(s));
        unix.retain(|s| config.select.matches_unix(s));
    }
    if let Mode::Who(_) = config.mode {
        // Who holds the port: listeners (and bound UDP) first.
        sockets.sort_by_key(|s| match s.state {
            TcpState::Listen => 0,
            TcpState::Close => 1,
            _ => 2,
        });
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
