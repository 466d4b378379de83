//! `trace`: every TCP state change, retransmission and reset as the kernel
//! makes it, from the tracepoints sock:inet_sock_set_state,
//! tcp:tcp_retransmit_skb, tcp:tcp_send_reset and tcp:tcp_receive_reset
//! ([`crate::source::tracefs`] for their formats; the reader: a tracefs
//! instance of its own, [`crate::source::ftrace`], by default, or
//! perf_event_open's per-CPU rings, [`crate::source::perf`], with
//! `--reader perf`; both give the same records, so everything after the
//! read is one path). This module owns the run: the kernel filters
//! built from the selection ([`crate::filter::tracepoint`]), the loop that
//! drains the rings, orders each batch by time, decodes, filters in user
//! space, attributes the process (process context only), derives the
//! handshake and lifetime per socket, and hands each event to the printer
//! until --count, --duration or a closed stdout ends it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime};

use super::{CommandError, Context, Outcome};
use crate::config::trace::Reader as ReaderChoice;
use crate::filter::Selection;
use crate::filter::tracepoint::{Fields, kernel_filter};
use crate::model::{
    ExecContext, Owner, Protocol, Socket, Stamp, StateSet, TcpState, TraceEvent, TraceKind,
    TraceProcess, Traced,
};
use crate::output::console;
use crate::output::trace::TracePrinter;
use crate::source::ftrace::{self, Instance};
use crate::source::perf::{self, Record, Tracer, Want};
use crate::source::signals::Stops;
use crate::source::tracefs::{Decoder, Formats, Tracefs, TracefsError, Tracepoint};

/// The tracepoints' reader: both hand out [`Record`]s.
enum Reader {
    Perf(Tracer),
    /// The instance, and the stop signals read as data so that it is
    /// removed before the process dies by them.
    Ftrace(Box<Instance>, Stops),
}

/// What ended a wait.
enum Woke {
    Ready,
    OutputClosed,
    Stop(nix::sys::signal::Signal),
}

impl Reader {
    fn filters(&self) -> &[Option<Result<(), io::Error>>] {
        match self {
            Reader::Perf(t) => &t.filters,
            Reader::Ftrace(i, _) => &i.filters,
        }
    }

    fn wait(&mut self, timeout: Duration, stdout: &impl AsFd) -> Result<Woke, CommandError> {
        match self {
            Reader::Perf(t) => Ok(if t.wait(Some(timeout), Some(stdout.as_fd()))? {
                Woke::OutputClosed
            } else {
                Woke::Ready
            }),
            Reader::Ftrace(i, stops) => {
                let closed = i
                    .wait(timeout, &[stops.as_fd(), stdout.as_fd()])
                    .map_err(CommandError::Ftrace)?;
                if let Some(sig) = stops.pending()? {
                    return Ok(Woke::Stop(sig));
                }
                Ok(if closed {
                    Woke::OutputClosed
                } else {
                    Woke::Ready
                })
            }
        }
    }

    /// Reads what is ready; the pages that could not be parsed.
    fn drain(&mut self, each: &mut dyn FnMut(Record<'_>)) -> Result<u64, CommandError> {
        match self {
            Reader::Perf(t) => {
                t.drain(each);
                Ok(0)
            }
            Reader::Ftrace(i, _) => i.drain(each).map_err(CommandError::Ftrace),
        }
    }
}

/// The longest the reader sleeps between two drains: what a quiet ring
/// (under its wake-up watermark) waits at most to be shown.
const TICK: Duration = Duration::from_millis(100);

/// The most sockets whose first transition and handshake start are
/// remembered (a socket is forgotten at CLOSE); past it the map is
/// emptied and the derived lines of the sockets in it are not shown.
const MAX_TRACKED: usize = 65_536;

/// The most pids whose comm is remembered between two reads.
const MAX_COMMS: usize = 4096;

/// What the run remembers of one socket.
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    /// Monotonic ns of the first transition seen.
    first: u64,
    /// When it entered SYN_SENT or SYN_RECV.
    opening: Option<u64>,
}

/// The per-socket memory of the run, keyed by skaddr.
#[derive(Default)]
struct Tracker {
    sockets: HashMap<u64, Track>,
    /// Times the map was emptied at [`MAX_TRACKED`].
    resets: u64,
}

impl Tracker {
    /// The handshake and lifetime this state change ends, if any. A
    /// socket is remembered from its opening transition (CLOSE → SYN_SENT
    /// or LISTEN, LISTEN → SYN_RECV for a listener's new child): a socket
    /// first seen later has no lifetime line, rather than a short one.
    fn state(
        &mut self,
        skaddr: u64,
        at: u64,
        old: TcpState,
        new: TcpState,
    ) -> (Option<Duration>, Option<Duration>) {
        let opening = matches!(
            (old, new),
            (TcpState::Close, TcpState::SynSent | TcpState::Listen)
                | (TcpState::Listen, TcpState::SynRecv)
        );
        if opening {
            if !self.sockets.contains_key(&skaddr) && self.sockets.len() >= MAX_TRACKED {
                self.sockets.clear();
                self.resets += 1;
            }
            self.sockets.insert(
                skaddr,
                Track {
                    first: at,
                    opening: matches!(new, TcpState::SynSent | TcpState::SynRecv).then_some(at),
                },
            );
            return (None, None);
        }
        let Some(track) = self.sockets.get_mut(&skaddr) else {
            return (None, None);
        };
        let mut handshake = None;
        if matches!(old, TcpState::SynSent | TcpState::SynRecv) && new == TcpState::Established {
            handshake = track
                .opening
                .take()
                .map(|t| Duration::from_nanos(at.saturating_sub(t)));
        }
        let mut lifetime = None;
        if new == TcpState::Close {
            lifetime = Some(Duration::from_nanos(at.saturating_sub(track.first)));
            self.sockets.remove(&skaddr);
        }
        (handshake, lifetime)
    }
}

/// The selection's view of an event: a socket record of what the
/// tracepoint says (its state the new one), the process as its owner.
fn as_socket(e: &TraceEvent, state: TcpState, process: Option<&TraceProcess>) -> Socket {
    Socket {
        proto: Protocol::Tcp,
        family: e.family,
        state,
        local: e.local,
        remote: e.remote,
        recv_q: 0,
        send_q: None,
        uid: None,
        inode: 0,
        cookie: None,
        ifindex: None,
        v6only: None,
        owners: Some(
            process
                .map(|p| Owner {
                    pid: p.pid,
                    fd: 0,
                    tid: None,
                    comm: p.comm.clone().unwrap_or_default().into(),
                    cmdline: None,
                    raw: None,
                })
                .into_iter()
                .collect(),
        ),
        queue: None,
        timer: None,
        extras: None,
    }
}

/// Whether the selection keeps the event: a state change when its old or
/// its new state is asked for; other events by the state they report
/// (none: the states do not narrow them); then the rest of the selection.
fn selected(sel: &Selection, e: &TraceEvent, process: Option<&TraceProcess>) -> bool {
    let (state, states_ok) = match e.kind {
        TraceKind::State { old, new } => {
            (new, sel.states.contains(old) || sel.states.contains(new))
        }
        k => match k.state() {
            Some(s) => (s, sel.states.contains(s)),
            None => (TcpState::Close, true),
        },
    };
    if !states_ok {
        return false;
    }
    let rest = Selection {
        states: StateSet::every(),
        ..sel.clone()
    };
    rest.matches(&as_socket(e, state, process))
}

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let tracefs = Tracefs::locate(config.trace.tracefs.as_deref())?;
    let formats = Formats::read(&tracefs)?;
    let decoder = Decoder::new(&formats)?;
    let verbose = config.verbose;
    let mut notes = Vec::new();
    let wants: Vec<Want> = Tracepoint::ALL
        .iter()
        .map(|&tp| {
            let (_, format) = formats.get(tp);
            let has = |f: &str| format.field(f).is_some();
            let (states, tcp_only): (&[&str], _) = match tp {
                Tracepoint::SetState => (&["newstate", "oldstate"], Some("protocol")),
                Tracepoint::Retransmit => (&["state"], None),
                // Its state is 0 for a reset sent for no socket; its
                // addresses are sockaddr buffers a filter cannot compare.
                Tracepoint::SendReset | Tracepoint::ReceiveReset => (&[], None),
            };
            let kf = match tp {
                Tracepoint::SendReset => Default::default(),
                _ => kernel_filter(
                    &config.select,
                    &config.query.families,
                    tcp_only,
                    &Fields { has: &has, states },
                ),
            };
            if verbose && !kf.left.is_empty() {
                notes.push(format!(
                    "{}: {} evaluated in user space",
                    tp.path(),
                    kf.left.join(", ")
                ));
            }
            Want {
                name: tp.path().to_owned(),
                id: u64::from(format.id),
                filter: kf.text,
            }
        })
        .collect();
    let cpus = perf::online_cpus(std::path::Path::new("/sys/devices/system/cpu/online"))?;
    let pages = config.trace.buffer_pages;
    let proc_root = config.proc_root.clone();
    let mut reader = match config.trace.reader {
        ReaderChoice::Perf => Reader::Perf(Tracer::open(&wants, &cpus, pages)?),
        ReaderChoice::Ftrace => {
            // Read before the instance exists: a stop signal from here on
            // waits until it is removed.
            let stops = Stops::open()?;
            let (path, format) = formats.get(Tracepoint::SetState);
            let pid_at = format
                .field("common_pid")
                .filter(|f| f.size == 4)
                .map(|f| f.offset)
                .ok_or_else(|| TracefsError::Format {
                    path: path.clone(),
                    reason: "no 4-byte common_pid".into(),
                })?;
            for name in ftrace::remove_stale(&tracefs, std::path::Path::new("/proc")) {
                if verbose {
                    let _ = writeln!(
                        io::stderr().lock(),
                        "sockscope: removed the stale tracefs instance {} (its process is gone)",
                        crate::text::escape(&name)
                    );
                }
            }
            let instance = Instance::open(&tracefs, &wants, &cpus, pages, pid_at, &proc_root)
                .map_err(CommandError::Ftrace)?;
            Reader::Ftrace(Box::new(instance), stops)
        }
    };
    let offset = perf::wall_offset();
    if verbose {
        let mut err = io::stderr().lock();
        let how = match &reader {
            Reader::Perf(_) => "perf_event_open".to_owned(),
            Reader::Ftrace(..) => format!(
                "the tracefs instance {}",
                crate::text::escape_path(&Instance::path(&tracefs))
            ),
        };
        let _ = writeln!(
            err,
            "sockscope: tracing {} tracepoints on {} CPU{} with {how}, a ring of {pages} pages per CPU (tracefs at {})",
            wants.len(),
            cpus.len(),
            crate::text::plural(cpus.len(), "", "s"),
            crate::text::escape_path(&tracefs.root),
        );
        for (want, taken) in wants.iter().zip(reader.filters()) {
            let line = match (taken, &want.filter) {
                (Some(Ok(())), Some(f)) => format!("kernel filter on {}: {f}", want.name),
                (Some(Err(e)), Some(f)) => format!(
                    "kernel filter on {} refused ({e}): {f} evaluated in user space",
                    want.name
                ),
                _ => format!("no kernel filter on {}", want.name),
            };
            let _ = writeln!(err, "sockscope: {line}");
        }
        for n in &notes {
            let _ = writeln!(err, "sockscope: {n}");
        }
    }
    let mut out = cx.out();
    let mut printer = TracePrinter::new(&mut out, config.format, config.table.header);
    printer.start()?;
    let stdout = console::stdout_watch();
    let started = Instant::now();
    let limit = config.live.count;
    let deadline = config.live.duration.map(|d| started + d);
    let mut shown: u64 = 0;
    let mut lost_total: u64 = 0;
    let mut lost_floor = false;
    let mut undecoded: u64 = 0;
    let mut throttled: u64 = 0;
    let mut tracker = Tracker::default();
    let mut comms: HashMap<u32, Option<String>> = HashMap::new();
    let mut batch: Vec<(u64, u32, u32, Vec<u8>)> = Vec::new();
    let mut losts: Vec<(u32, u64, bool)> = Vec::new();
    let mut unparsed: u64 = 0;
    let mut stopped = None;
    'run: loop {
        let wait = deadline.map_or(TICK, |d| {
            d.saturating_duration_since(Instant::now()).min(TICK)
        });
        match reader.wait(wait, &stdout)? {
            Woke::Ready => {}
            Woke::OutputClosed => break,
            Woke::Stop(sig) => {
                stopped = Some(sig);
                break;
            }
        }
        batch.clear();
        losts.clear();
        unparsed += reader.drain(&mut |r| match r {
            Record::Sample {
                cpu,
                time_ns,
                pid,
                raw,
                ..
            } => batch.push((time_ns, cpu, pid, raw.to_vec())),
            Record::Lost { cpu, count } => losts.push((cpu, count, true)),
            Record::LostAtLeast { cpu, count } => losts.push((cpu, count, false)),
            Record::Throttle { .. } => throttled += 1,
        })?;
        // The rings are per CPU: one batch in time order.
        batch.sort_by_key(|b| b.0);
        for &(cpu, count, exact) in &losts {
            lost_total += count;
            lost_floor |= !exact;
            printer.lost(Stamp::now(), cpu, count, exact)?;
        }
        for (time_ns, cpu, pid, raw) in &batch {
            let event = match decoder.decode(raw) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(_) => {
                    undecoded += 1;
                    continue;
                }
            };
            // The task is the one that acted only in process context.
            let process = (event.context == ExecContext::Process).then(|| {
                if comms.len() >= MAX_COMMS {
                    comms.clear();
                }
                let comm = comms
                    .entry(*pid)
                    .or_insert_with(|| perf::comm(&proc_root, *pid))
                    .clone();
                TraceProcess { pid: *pid, comm }
            });
            // Tracked before the selection, which may leave out the
            // transition a derived line starts from.
            let (handshake, lifetime) = match event.kind {
                TraceKind::State { old, new } => tracker.state(event.skaddr, *time_ns, old, new),
                _ => (None, None),
            };
            if !selected(&config.select, &event, process.as_ref()) {
                continue;
            }
            let traced = Traced {
                time: Stamp(SystemTime::UNIX_EPOCH + offset + Duration::from_nanos(*time_ns)),
                cpu: *cpu,
                event,
                process,
                handshake,
                lifetime,
            };
            printer.event(&traced)?;
            shown += 1;
            if limit.is_some_and(|n| shown >= n) {
                break 'run;
            }
        }
        printer.flush()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    printer.finish()?;
    drop(printer);
    out.flush()?;
    let mut said = Vec::new();
    if lost_total > 0 {
        said.push(format!(
            "{}{lost_total} event{} lost: the ring buffers overflowed (a larger --buffer-pages keeps more)",
            if lost_floor { "at least " } else { "" },
            crate::text::plural(lost_total, "", "s")
        ));
    }
    if throttled > 0 {
        said.push(format!(
            "the kernel throttled the tracepoint events {throttled} time{} \
             (kernel.perf_event_max_sample_rate): events were dropped while throttled",
            crate::text::plural(throttled, "", "s")
        ));
    }
    if undecoded > 0 {
        said.push(format!(
            "{undecoded} record{} could not be decoded and were left out",
            crate::text::plural(undecoded, "", "s")
        ));
    }
    if unparsed > 0 {
        said.push(format!(
            "{unparsed} ring buffer page{} could not be read whole; the events after the fault were left out",
            crate::text::plural(unparsed, "", "s")
        ));
    }
    if tracker.resets > 0 {
        said.push(format!(
            "more than {MAX_TRACKED} sockets open at once: handshake and lifetime lines were left out for some"
        ));
    }
    console::notes(&said);
    if verbose {
        let _ = writeln!(
            io::stderr().lock(),
            "sockscope: {shown} event{} shown, {lost_total} lost, in {:.3} s",
            crate::text::plural(shown, "", "s"),
            cx.elapsed().as_secs_f64()
        );
    }
    if let Some(sig) = stopped {
        // The instance goes before the process dies by the signal.
        if let Reader::Ftrace(instance, stops) = reader {
            drop(instance);
            stops.die_by(sig);
        }
    }
    Ok(Outcome::Shown)
}
