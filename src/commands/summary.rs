//! `-s`: ss's totals (/proc counters) and the sockets per protocol and
//! state, counted while the dump streams, nothing kept. The table prints
//! the totals at once and the per-state counts when the dump is done.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::config::OutputFormat;
use crate::output;
use crate::pipeline::{self, Keep, RunError, StateCounts, Summary};
use crate::source::sockstat;

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let plan = cx.plan(Keep::Everything);
    let protocols = &config.query.protocols;
    let stat = sockstat::read(&config.source.proc_net).map_err(RunError::from)?;
    let mut out = cx.out();
    let mut counts = StateCounts::default();
    match config.format {
        OutputFormat::Table => {
            output::summary::write_totals(&mut out, &stat)?;
            out.flush()?;
            pipeline::run(&plan, &mut counts)?;
            output::summary::write_states(&mut out, &counts.states(protocols))?;
        }
        _ => {
            pipeline::run(&plan, &mut counts)?;
            let summary = Summary {
                stat,
                states: counts.states(protocols),
            };
            output::summary::write_json(&mut out, &summary)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Shown)
}
