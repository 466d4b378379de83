//! `counters` (issue 18): the protocol counters of each namespace of the
//! run (netstat -s, nstat), read inside it: as they are, since the
//! previous `--delta` run, or over `--interval`.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis::counters;
use crate::config::counters::{CountersOptions, Over};
use crate::model::Counters;
use crate::output::console;
use crate::output::counters::{Basis, counters_json, counters_text};
use crate::pipeline::Keep;
use crate::source::counters as source;

pub fn run(cx: &Context<'_>, options: &CountersOptions) -> Result<Outcome, CommandError> {
    if let Over::SinceLastRun { dir, uid } = &options.over {
        source::ensure_dir(dir, *uid)?;
    }
    // The plan is never run: only its namespaces and /proc/net are used.
    let across = cx.across(&cx.plan(Keep::ListenersAndQueued), |ns| {
        let now = source::read(ns.proc_net())?;
        let (before, basis): (Option<Counters>, Basis) = match &options.over {
            Over::Absolute => (None, Basis::Absolute),
            Over::Interval(d) => {
                std::thread::sleep(*d);
                let later = source::read(ns.proc_net())?;
                return Ok((later, Some(now), Basis::Interval(*d)));
            }
            Over::SinceLastRun { dir, uid } => {
                let file = source::state_file(dir, ns.place.netns.id.inode);
                let before = source::load_state(&file, *uid)?;
                source::save_state(&file, &now)?;
                match before {
                    Some(b) => (Some(b), Basis::SinceLastRun),
                    None => {
                        console::notes(&[format!(
                            "no earlier --delta run in {}: these are the values; \
                             the next --delta counts from now",
                            ns.place.netns.label()
                        )]);
                        (None, Basis::Absolute)
                    }
                }
            }
        };
        Ok((now, before, basis))
    })?;
    let report = cx.gathered(&across, crate::pipeline::RunReport::default());
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let mut shown = 0;
    for (i, (place, (now, before, basis))) in across.each.iter().enumerate() {
        let rows = counters::rows(now, before.as_deref(), &options.select);
        shown += rows.len();
        cx.answer(
            &mut out,
            place,
            i == 0,
            |out| counters_text(out, &rows, *basis, cx.config.table.header),
            |out| counters_json(out, place, &rows, *basis),
        )?;
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows: shown,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(Outcome::Shown)
}
