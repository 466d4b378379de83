//! `-s`: ss's totals (/proc counters) and the sockets per protocol and
//! state, counted while the dump streams, nothing kept. The table prints
//! the totals at once and the per-state counts when the dump is done; over
//! several namespaces, one summary each, under its heading (the counters
//! are per namespace in the kernel).

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::config::OutputFormat;
use crate::output;
use crate::pipeline::{Keep, RunError, StateCounts, Summary};
use crate::source::sockstat;

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let plan = cx.plan(Keep::Everything);
    let protocols = &config.query.protocols;
    let tagged = config.namespaces.tagged;
    let mut out = cx.out();
    let mut first = true;
    let across = cx.across(&plan, |ns| {
        let stat = sockstat::read(ns.proc_net()).map_err(RunError::from)?;
        let mut counts = StateCounts::default();
        match config.format {
            OutputFormat::Table => {
                if tagged {
                    output::write_heading(&mut out, &ns.place, first)?;
                }
                output::summary::write_totals(&mut out, &stat)?;
                out.flush()?;
                // issue 15, format: ss -s prints the totals only.
                if config.table.ss.is_none() {
                    ns.run(&mut counts)?;
                    output::summary::write_states(&mut out, &counts.states(protocols))?;
                }
            }
            _ => {
                ns.run(&mut counts)?;
                let summary = Summary {
                    stat,
                    states: counts.states(protocols),
                };
                if tagged {
                    output::json_in_place(&mut out, &ns.place, |out| {
                        output::summary::write_json(out, &summary)
                    })?;
                } else {
                    output::summary::write_json(&mut out, &summary)?;
                }
            }
        }
        first = false;
        Ok(())
    })?;
    out.flush()?;
    output::console::notes(&across.notes);
    Ok(Outcome::Shown)
}
