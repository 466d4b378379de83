//! `events`/`-E`: every TCP/UDP socket the kernel destroys, printed as a
//! row (or a JSON close event) as it happens (as ss -E), filtered by the
//! filter in user space, until SIGINT/SIGTERM (their default action: the
//! process dies by the signal, as every sockscope run), until stdout
//! closes, or until `--count` events or `--duration` end it. One
//! subscription per network namespace, opened inside it
//! ([`crate::source::events`]); with several, one poll waits on them all.

use std::cell::RefCell;
use std::io::{self, Write};

use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::{CommandError, Context, Outcome};
use crate::output::{self, console};
use crate::pipeline::Keep;
use crate::pipeline::netns::Place;
use crate::source::events::{self, ReceiveError, Received, Subscription};

/// A writer lent to the printer while the loop flushes it between events.
struct Shared<'a, W: Write>(&'a RefCell<W>);

impl<W: Write> Write for Shared<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let groups = events::groups(&config.query.protocols, &config.query.families);
    let mut plan = cx.plan(Keep::Everything);
    plan.owners = None;
    // Subscribed inside each namespace; one read through another process's
    // /proc (not entered) cannot be heard.
    let across = cx.across(&plan, |ns| {
        Ok::<_, CommandError>(if ns.inside {
            Some(Subscription::open(groups).map_err(ReceiveError::Events)?)
        } else {
            None
        })
    })?;
    let mut notes = across.notes;
    let mut subs: Vec<(Place, Subscription)> = Vec::new();
    for (place, sub) in across.each {
        match sub {
            Some(sub) => subs.push((place, sub)),
            None => notes.push(format!(
                "network namespace {}: not entered, so its destroy events cannot be heard",
                crate::text::escape(&place.netns.label())
            )),
        }
    }
    console::notes(&notes);
    if config.verbose {
        let _ = writeln!(
            io::stderr().lock(),
            "sockscope: listening for destroy events in {} network namespace{}",
            subs.len(),
            crate::text::plural(subs.len(), "", "s")
        );
    }
    if subs.is_empty() {
        return Ok(Outcome::Shown);
    }
    let out = RefCell::new(cx.out());
    let mut shared = Shared(&out);
    let mut printer = output::close_printer(
        config.format,
        &mut shared,
        &config.table,
        cx.services,
        cx.users,
    );
    // The header at once, as ss.
    printer.flush_rows()?;
    out.borrow_mut().flush()?;
    let stdout = console::stdout_watch();
    let deadline = config.live.duration.map(|d| Instant::now() + d);
    let mut left = config.live.count;
    loop {
        let timeout = match deadline {
            Some(end) => match end.checked_duration_since(Instant::now()) {
                Some(t) if !t.is_zero() => Some(Timespec::try_from(t).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                })),
                _ => break,
            },
            None => None,
        };
        let ready = {
            let mut fds: Vec<PollFd<'_>> = subs
                .iter()
                .map(|(_, s)| PollFd::new(s, PollFlags::IN))
                .collect();
            // No events asked: a pipe whose reader left reports POLLERR.
            fds.push(PollFd::new(&stdout, PollFlags::empty()));
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(CommandError::Io(e.into())),
            }
            let closed = fds
                .last()
                .is_some_and(|f| f.revents().intersects(PollFlags::ERR | PollFlags::HUP));
            if closed {
                return Ok(Outcome::Shown);
            }
            fds.iter()
                .take(subs.len())
                .map(|f| !f.revents().is_empty())
                .collect::<Vec<bool>>()
        };
        for ((place, sub), ready) in subs.iter_mut().zip(ready) {
            if !ready {
                continue;
            }
            printer.enter(place);
            let got = sub.receive(&mut |mut s| {
                // The kernel sends tcp_info with every TCP event: shown
                // with -i only, as for a dump.
                if !config.query.info {
                    s.extras = None;
                }
                if left != Some(0) && config.select.matches(&s) {
                    printer.socket(&s)?;
                    left = left.map(|n| n - 1);
                }
                Ok(())
            });
            match got {
                Ok(Received::Sockets(_)) => {}
                Ok(Received::Overrun) => console::notes(&[
                    "destroy events were lost (the receive buffer overflowed)".to_owned(),
                ]),
                Err(ReceiveError::Output(e)) => return Err(CommandError::Io(e)),
                Err(e) => return Err(e.into()),
            }
        }
        printer.flush_rows()?;
        out.borrow_mut().flush()?;
        if left == Some(0) {
            break;
        }
    }
    printer.finish()?;
    drop(printer);
    out.borrow_mut().flush()?;
    Ok(Outcome::Shown)
}
