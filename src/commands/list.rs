//! The socket listing (like ss): the records stream to the printer of the
//! format asked for as they are read.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::output::{self, console};
use crate::pipeline::{self, Keep};

pub fn run(cx: &Context<'_>) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let plan = cx.plan(Keep::Everything);
    let mut out = cx.out();
    let report = {
        let mut printer = output::printer(
            config.format,
            &mut out,
            &config.table,
            cx.services,
            cx.users,
        );
        let report = pipeline::run(&plan, printer.as_mut())?;
        printer.finish()?;
        report
    };
    out.flush()?;
    console::notes(&report.notes);
    cx.verbose(&report, console::Shown::AsRead);
    Ok(Outcome::Shown)
}
