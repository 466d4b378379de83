//! `listeners`: accept-queue health. Reads the LISTEN sockets and the
//! queued connections only.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::config::OutputFormat;
use crate::output::{self, console};
use crate::pipeline::{self, Collect, Keep};
use crate::source::sysctl;

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut found = Collect::default();
    let report = pipeline::run(&cx.plan(Keep::ListenersAndQueued), &mut found)?;
    let gathered = cx.elapsed();
    console::notes(&report.notes);
    let mut out = cx.out();
    let knobs = &config.knobs;
    let counters = sysctl::read_tcpext(&config.source.proc_net);
    let rows = analysis::listeners(&found.sockets, knobs);
    match config.format {
        OutputFormat::Table => output::listeners::listeners_text(
            &mut out,
            &rows,
            &counters,
            knobs,
            config.table.header,
        )?,
        _ => output::listeners::listeners_json(&mut out, &rows, &counters, knobs)?,
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: found.sockets.len(),
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if rows.iter().any(|h| h.full) {
        Outcome::Full
    } else {
        Outcome::Healthy
    })
}
