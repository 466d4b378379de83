//! `why-bind [ADDR]:PORT`: would bind() fail, and why. Reads only the
//! sockets on the port; `--try` makes the real bind() the final word.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::config::OutputFormat;
use crate::filter::LocalPort;
use crate::model::Protocol;
use crate::output::{self, console};
use crate::pipeline::{self, Collect, Keep};

pub fn run(
    cx: &Context<'_>,
    target: LocalPort,
    scope: u32,
    try_bind: bool,
) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut found = Collect::default();
    let report = pipeline::run(&cx.plan(Keep::LocalPort(target.port)), &mut found)?;
    let gathered = cx.elapsed();
    console::notes(&report.notes);
    let mut out = cx.out();
    // Config gives why-bind one protocol, TCP unless -u.
    let proto = config
        .query
        .protocols
        .first()
        .copied()
        .unwrap_or(Protocol::Tcp);
    let mut verdict = analysis::why_bind(
        target,
        scope,
        proto,
        &found.sockets,
        &config.knobs,
        config.euid,
    );
    if try_bind {
        // The real bind() is the final word.
        let tried = analysis::try_bind(target, scope, proto)?;
        analysis::apply_try(&mut verdict, tried);
    }
    match config.format {
        OutputFormat::Table => output::why_bind::why_bind_text(&mut out, &verdict, &config.table)?,
        _ => output::why_bind::why_bind_json(&mut out, &verdict)?,
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: found.sockets.len(),
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if verdict.busy {
        Outcome::Busy
    } else {
        Outcome::Free
    })
}
