//! `listeners`: accept-queue health. Reads the LISTEN sockets and the
//! queued connections only, in each namespace of the run: its limits and
//! counters are that namespace's own (they are per namespace in the
//! kernel).

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::output::{self, console};
use crate::pipeline::{Collect, Keep, RunReport};
use crate::source::sysctl;

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut report = RunReport::default();
    let mut rows_read = 0;
    let across = cx.across(&cx.plan(Keep::ListenersAndQueued), |ns| {
        let mut found = Collect::default();
        report = ns.run(&mut found)?.after(std::mem::take(&mut report));
        rows_read += found.sockets.len();
        // Read inside the namespace: its own sysctls and TcpExt counters.
        let knobs = ns.knobs().unwrap_or_else(|| config.knobs.clone());
        let counters = sysctl::read_tcpext(ns.proc_net());
        Ok((found.sockets, counters, knobs))
    })?;
    let report = cx.gathered(&across, report);
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let mut full = false;
    for (i, (place, (sockets, counters, knobs))) in across.each.iter().enumerate() {
        let rows = &analysis::listeners(sockets, knobs);
        full |= rows.iter().any(|h| h.full);
        cx.answer(
            &mut out,
            place,
            i == 0,
            |out| {
                output::listeners::listeners_text(
                    out,
                    rows,
                    counters,
                    knobs,
                    config.table.header,
                    config.table.width,
                )
            },
            |out| output::listeners::listeners_json(out, rows, counters, knobs),
        )?;
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: rows_read,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if full {
        Outcome::Full
    } else {
        Outcome::Healthy
    })
}
