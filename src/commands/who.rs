//! `who [ADDR]:PORT`: what holds a local port. Reads only the sockets on
//! the port, listeners (and bound UDP) first; in each namespace of the run,
//! and across several, says which ones hold it.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::config::OutputFormat;
use crate::filter::LocalPort;
use crate::model::Socket;
use crate::output::{self, console};
use crate::pipeline::{Collect, Keep, RunReport};

pub fn run(cx: &Context<'_>, target: &LocalPort) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let mut report = RunReport::default();
    let across = cx.across(&cx.plan(Keep::LocalPort(target.port)), |ns| {
        let mut found = Collect::default();
        report = ns.run(&mut found)?.after(std::mem::take(&mut report));
        let mut sockets = found.sockets;
        analysis::who::sort_holders(&mut sockets);
        Ok(sockets)
    })?;
    let report = cx.gathered(&across, report);
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let protocols = &config.query.protocols;
    let rows: usize = across.each.iter().map(|(_, s)| s.len()).sum();
    let held: Vec<&(_, Vec<Socket>)> = across.each.iter().filter(|(_, s)| !s.is_empty()).collect();
    if config.namespaces.tagged && !held.is_empty() {
        // One answer per namespace that holds the port.
        let opts = crate::output::TableOptions {
            netns: None,
            ..config.table.clone()
        };
        for (i, (place, sockets)) in held.iter().enumerate() {
            cx.answer(
                &mut out,
                place,
                i == 0,
                |out| output::who::write_text(out, target, protocols, sockets, &opts),
                |out| output::who::write_json(out, target, protocols, sockets),
            )?;
        }
    } else {
        let sockets: &[Socket] = held.first().map_or(&[], |(_, s)| s.as_slice());
        match config.format {
            OutputFormat::Table => {
                output::who::write_text(&mut out, target, protocols, sockets, &config.table)?;
                if config.namespaces.tagged {
                    writeln!(
                        out,
                        "(looked in {} network namespace{})",
                        across.each.len(),
                        crate::text::plural(across.each.len(), "", "s")
                    )?;
                }
            }
            _ => output::who::write_json(&mut out, target, protocols, sockets)?,
        }
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if held.is_empty() {
        Outcome::NotFound
    } else {
        Outcome::Found
    })
}
