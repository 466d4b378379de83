//! The socket listing (like ss): the records stream to the printer of the
//! format asked for as they are read, one namespace after another.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::output::{self, console};
use crate::pipeline::{Keep, RunReport};

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let plan = cx.plan(Keep::Everything);
    let mut out = cx.out();
    let (report, notes) = {
        let mut printer = output::printer(
            config.format,
            &mut out,
            &config.table,
            cx.services,
            cx.users,
        );
        let mut report = RunReport::default();
        let across = cx.across(&plan, |ns| {
            let run = ns.run(printer.as_mut())?;
            report = run.after(std::mem::take(&mut report));
            Ok::<_, CommandError>(())
        })?;
        printer.finish()?;
        (report.with_walk(across.walk), across.notes)
    };
    out.flush()?;
    console::notes(&notes);
    console::notes(&report.notes);
    cx.verbose(&report, console::Shown::AsRead);
    Ok(Outcome::Shown)
}
