//! `why-bind [ADDR]:PORT`: would bind() fail, and why. Reads only the
//! sockets on the port; `--try` makes the real bind() the final word.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis;
use crate::filter::LocalPort;
use crate::model::Protocol;
use crate::output::{self, console};
use crate::pipeline::{Collect, Keep, RunReport};

pub fn run(
    cx: &Context<'_>,
    target: LocalPort,
    scope: u32,
    try_bind: bool,
) -> Result<Outcome, CommandError> {
    let config = cx.config;
    // Config gives why-bind one protocol, TCP unless -u.
    let proto = config
        .query
        .protocols
        .first()
        .copied()
        .unwrap_or(Protocol::Tcp);
    let mut report = RunReport::default();
    let mut rows = 0;
    let across = cx.across(&cx.plan(Keep::LocalPort(target.port)), |ns| {
        let mut found = Collect::default();
        report = ns.run(&mut found)?.after(std::mem::take(&mut report));
        rows += found.sockets.len();
        let knobs = ns.knobs().unwrap_or_else(|| config.knobs.clone());
        // The real bind() is the final word, made inside the namespace.
        let tried = if try_bind && ns.inside {
            Some(analysis::try_bind(target, scope, proto)?)
        } else {
            None
        };
        Ok((found.sockets, knobs, tried))
    })?;
    let report = cx.gathered(&across, report);
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let mut busy = false;
    // The heading names the namespace: the holders' table needs no column.
    let table = crate::output::TableOptions {
        netns: None,
        ..config.table.clone()
    };
    for (i, (place, (sockets, knobs, tried))) in across.each.iter().enumerate() {
        let mut verdict = analysis::why_bind(target, scope, proto, sockets, knobs, config.euid);
        if let Some(tried) = tried {
            analysis::apply_try(&mut verdict, tried.clone());
        }
        busy |= verdict.busy;
        cx.answer(
            &mut out,
            place,
            i == 0,
            |out| output::why_bind::why_bind_text(out, &verdict, &table),
            |out| output::why_bind::why_bind_json(out, &verdict),
        )?;
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if busy { Outcome::Busy } else { Outcome::Free })
}
