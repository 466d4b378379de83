//! `watch` and `-c`: the listing again every interval, and what changed.
//!
//! Each tick runs the one pipeline the listing runs (`cx.across`, every
//! namespace of the run into one [`Watcher`] sink), streamed: each record
//! is compared with the snapshot before as it is read
//! ([`crate::analysis::watch::Snapshot`], a compact map by identity) and
//! handed to the printer with its change; the sockets not seen are swept
//! out at the end as closes. The first tick is the baseline. Ticks are
//! scheduled from the start (`start + k × interval`), so the run's own
//! cost does not make them drift; a tick that overran skips the ticks it
//! missed instead of bunching them.
//!
//! SIGINT and SIGTERM are read from a signalfd in the same poll as the
//! tick's deadline ([`crate::source::signals`]): the screen is given back
//! (a bounded `--json` run writes its array), then the process dies by the
//! signal as every sockscope run does. Without a screen they are blocked
//! only between ticks: during one (a dump, a write blocked on a stalled
//! reader) the process dies by them at once, as a listing does.

use std::collections::HashSet;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use super::{CommandError, Context, Outcome};
use crate::analysis::watch::{Snapshot, Tally};
use crate::config::{ConfigError, OutputFormat};
use crate::model::{Kinds, Socket, Stamp, UnixSocket};
use crate::output::console;
use crate::output::watch::{
    TickInfo, WatchFormat, WatchPrinter, stdout_is_terminal, tally_text, watch_printer,
};
use crate::pipeline::netns::Place;
use crate::pipeline::{self, Delivery, Keep, RunReport, StateCounts};
use crate::source::signals::{Stops, Wake};

/// The pipeline's sink for one tick: every record diffed and handed to the
/// printer as it is read, counted per state for the screen's header.
struct Watcher<'a, 'p> {
    snap: &'a mut Snapshot,
    printer: &'a mut (dyn WatchPrinter + 'p),
    /// The namespace of the records that follow (its inode).
    netns: u64,
    places: &'a mut FxHashMap<u64, Place>,
    counts: StateCounts,
    tally: Tally,
}

impl pipeline::Sink for Watcher<'_, '_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn enter(&mut self, place: &Place) {
        self.netns = place.netns.id.inode;
        self.places
            .entry(self.netns)
            .or_insert_with(|| place.clone());
        self.printer.enter(place);
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        let change = self.snap.observe(self.netns, s);
        if let Some(change) = change {
            self.tally.count(change);
        }
        self.counts.socket(s)?;
        self.printer.socket(s, change)
    }
    fn unix(&mut self, _unix: Vec<UnixSocket>) -> io::Result<()> {
        Ok(())
    }
}

/// How the loop ended.
enum End {
    /// The bounds were reached, or stdout's reader left.
    Done,
    /// A stop signal: given back the terminal, die by it.
    Stopped(nix::sys::signal::Signal),
}

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let live = config.live;
    if config.format == OutputFormat::Json && !live.bounded() {
        return Err(ConfigError::NotForView {
            flag: "--json",
            view: "watch",
            why: "its one array is written when the run ends, so it needs --count or \
                  --duration (or use --jsonl: one event per line)",
        }
        .into());
    }
    let mut plan = cx.plan(Keep::Everything);
    let mut notes = Vec::new();
    if plan.query.unix || plan.query.kinds.linklayer != Kinds::EMPTY {
        notes.push(
            "watch compares internet sockets only (TCP, UDP, raw, MPTCP): UNIX, packet and \
             netlink sockets are left out"
                .to_owned(),
        );
        plan.query.unix = false;
        plan.query.kinds.linklayer = Kinds::EMPTY;
    }
    console::notes(&notes);
    let format = WatchFormat::of(config.format, stdout_is_terminal());
    let mut stops = Stops::open()?;
    let stdout = console::stdout_watch();
    let mut out = cx.out();
    let end = {
        let mut printer = watch_printer(format, &mut out, &config.table, cx.services, cx.users);
        let screen = format == WatchFormat::Screen;
        let end = ticks(cx, &plan, printer.as_mut(), &mut stops, &stdout, screen)?;
        printer.finish()?;
        end
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    drop(out);
    // A signal that came while the end was written ends it too.
    let stopped = match end {
        End::Stopped(sig) => Some(sig),
        End::Done => stops.pending()?,
    };
    if let Some(sig) = stopped {
        stops.die_by(sig);
    }
    Ok(Outcome::Shown)
}

/// The ticks, until the bounds, a stop signal or stdout's reader leaving.
fn ticks(
    cx: &Context<'_>,
    plan: &pipeline::Plan,
    printer: &mut dyn WatchPrinter,
    stops: &mut Stops,
    stdout: &impl std::os::fd::AsFd,
    screen: bool,
) -> Result<End, CommandError> {
    let live = cx.config.live;
    let start = Instant::now();
    let until = live.duration.map(|d| start + d);
    let mut snap = Snapshot::new();
    let mut places: FxHashMap<u64, Place> = FxHashMap::default();
    let mut said: HashSet<String> = HashSet::new();
    let mut tick: u64 = 0;
    let mut next = start;
    loop {
        if !screen {
            stops.release();
        }
        let stamp = Stamp::now();
        printer.begin(stamp);
        snap.begin();
        let mut watcher = Watcher {
            snap: &mut snap,
            printer: &mut *printer,
            netns: 0,
            places: &mut places,
            counts: StateCounts::default(),
            tally: Tally::default(),
        };
        let mut report = RunReport::default();
        let across = cx.across(plan, |ns| {
            let run = ns.run(&mut watcher)?;
            report = run.after(std::mem::take(&mut report));
            Ok::<_, CommandError>(())
        })?;
        let (counts, mut tally) = (watcher.counts, watcher.tally);
        let mut gone: Vec<(u64, Socket)> = Vec::new();
        snap.sweep(|netns, s| gone.push((netns, s)));
        tally.closed = gone.len();
        for (netns, s) in &gone {
            let place = places.get(netns).cloned().unwrap_or_else(|| Place {
                netns: std::sync::Arc::new(crate::model::Netns::unknown()),
                containers: std::sync::Arc::default(),
            });
            printer.gone(&place, s)?;
        }
        drop(gone);
        // Each note once, not once a tick.
        let fresh: Vec<String> = across
            .notes
            .iter()
            .chain(&report.notes)
            .filter(|n| said.insert((*n).clone()))
            .cloned()
            .collect();
        console::notes(&fresh);
        let states = counts.states(&plan.query.protocols);
        printer.end(&TickInfo {
            stamp,
            interval: live.interval,
            tick,
            states: &states,
            tally,
        })?;
        // From here to the next tick a stop signal is read, not obeyed.
        stops.hold()?;
        if cx.config.verbose {
            // One line a tick, once its events are out.
            let line = console::verbose_line(
                &report.with_walk(across.walk),
                console::Shown::AsRead,
                start.elapsed(),
            );
            console::notes(&[format!(
                "tick {tick}: {}; {}",
                tally_text(&tally),
                line.trim_start_matches("sockscope: ")
            )]);
        }
        if live.count.is_some_and(|n| tick >= n) {
            return Ok(End::Done);
        }
        tick += 1;
        next = next_tick(next, Instant::now(), live.interval);
        let deadline = until.map_or(next, |u| u.min(next));
        match stops.wait(deadline, stdout)? {
            Wake::Deadline if until.is_some_and(|u| Instant::now() >= u) => {
                return Ok(End::Done);
            }
            Wake::Deadline => {}
            Wake::Stop(sig) => return Ok(End::Stopped(sig)),
            Wake::OutputClosed => return Ok(End::Done),
        }
    }
}

/// The tick after the one due at `due`, on the schedule `start + k ×
/// interval`: the first still ahead of `now` (a tick that overran skips
/// the ones it missed instead of bunching them).
fn next_tick(due: Instant, now: Instant, interval: Duration) -> Instant {
    let next = due + interval;
    if next > now {
        return next;
    }
    let behind = (now - next).as_nanos() / interval.as_nanos().max(1);
    next + interval * (u32::try_from(behind).unwrap_or(u32::MAX - 1) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_keep_to_their_schedule() {
        let start = Instant::now();
        let s = Duration::from_secs(1);
        let ms = Duration::from_millis;
        // A tick that took 300 ms: the next is still 1 s after the last.
        assert_eq!(next_tick(start, start + ms(300), s), start + s);
        // One that took 2.5 s: the ticks at 1 s and 2 s are skipped.
        assert_eq!(next_tick(start, start + ms(2500), s), start + 3 * s);
        // Exactly on a due time: that one is past, the next is ahead.
        assert_eq!(next_tick(start, start + s, s), start + 2 * s);
    }
}
