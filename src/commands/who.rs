//! `who [ADDR]:PORT`: what holds a local port. Reads only the sockets on
//! the port, listeners (and bound UDP) first.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::config::OutputFormat;
use crate::filter::LocalPort;
use crate::output::{self, console};
use crate::pipeline::{self, Collect, Keep};

pub fn run(cx: &Context<'_>, target: &LocalPort) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut found = Collect::default();
    let report = pipeline::run(&cx.plan(Keep::LocalPort(target.port)), &mut found)?;
    let mut sockets = found.sockets;
    analysis::who::sort_holders(&mut sockets);
    let gathered = cx.elapsed();
    console::notes(&report.notes);
    let mut out = cx.out();
    let protocols = &config.query.protocols;
    match config.format {
        OutputFormat::Table => {
            output::who::write_text(&mut out, target, protocols, &sockets, &config.table)?
        }
        _ => output::who::write_json(&mut out, target, protocols, &sockets)?,
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: sockets.len(),
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if sockets.is_empty() {
        Outcome::NotFound
    } else {
        Outcome::Found
    })
}
