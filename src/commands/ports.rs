//! `ports`: ephemeral port use per destination, counted as the dump
//! streams by; only the counts are kept, however large the table.
//!
//! Whether a socket counts depends on the ports something listens on, and
//! a table's listeners come before its connections but not before another
//! table's (an IPv6 listener and an IPv4 socket on the same port), so the
//! listeners are read first, in a run of their own (the kernel walks only
//! its listening hash for it), then every socket is counted. Both runs
//! carry the request's filter: local ports in ip_local_port_range.
//!
//! `--record` records the second dump only: it is created once, and a
//! replay of it serves both (each read loads the recording afresh, and the
//! first keeps the listeners of what it is served).

use std::collections::HashSet;
use std::io::{self, Write};

use super::{CommandError, Context, Outcome};
use crate::analysis::{self, PortCounter};
use crate::model::{Socket, TcpState, UnixSocket};
use crate::output::{self, console};
use crate::pipeline::{Delivery, Keep, RunReport, Sink};

/// The local ports something listens on.
#[derive(Default)]
pub(super) struct Listening(pub(super) HashSet<u16>);

impl Sink for Listening {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        if s.state == TcpState::Listen {
            self.0.insert(s.local.port());
        }
        Ok(())
    }
    fn unix(&mut self, _: Vec<UnixSocket>) -> io::Result<()> {
        Ok(())
    }
}

/// Counts each socket as it streams by.
struct Counting(PortCounter);

impl Sink for Counting {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.0.add(s);
        Ok(())
    }
    fn unix(&mut self, _: Vec<UnixSocket>) -> io::Result<()> {
        Ok(())
    }
}

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut report = RunReport::default();
    let across = cx.across(&cx.plan(Keep::Everything), |ns| {
        // This namespace's range: the request's kernel filter was made for
        // sockscope's own; the counter checks the range itself.
        let knobs = ns.knobs().unwrap_or_else(|| config.knobs.clone());
        let mut plan = ns.plan.clone();
        if knobs.port_range() != config.knobs.port_range() {
            plan.query.bytecode = None;
        }
        let mut listeners_only = plan.clone();
        listeners_only.query.states = [TcpState::Listen].into_iter().collect();
        listeners_only.source.record = None;
        let mut listening = Listening::default();
        let first = ns.run_plan(&listeners_only, &mut listening)?;
        let mut counting = Counting(PortCounter::new(knobs.port_range(), listening.0));
        let second = ns.run_plan(&plan, &mut counting)?.after(first);
        report = second.after(std::mem::take(&mut report));
        Ok(counting.0.finish())
    })?;
    let report = cx.gathered(&across, report);
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let mut critical = false;
    for (i, (place, pressure)) in across.each.iter().enumerate() {
        critical |= pressure
            .destinations
            .iter()
            .any(|d| d.level == analysis::Level::Critical);
        cx.answer(
            &mut out,
            place,
            i == 0,
            |out| output::ports::ports_text(out, pressure, config.table.header, config.table.width),
            |out| output::ports::ports_json(out, pressure),
        )?;
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: 0,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if critical {
        Outcome::Critical
    } else {
        Outcome::Fine
    })
}
