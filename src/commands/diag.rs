//! `-D/--diag FILE` (as ss -D): the raw replies of the TCP dump written to
//! FILE (or stdout with `-D -`) instead of rows
//! ([`crate::source::diag_dump`]), in the run's one namespace.

use std::io::{self, Write};

use super::{CommandError, Context, Outcome};
use crate::config::kill::DiagTarget;
use crate::pipeline::Keep;
use crate::source::diag_dump::{self, Written};

pub fn run(cx: &Context<'_>, target: &DiagTarget) -> Result<Outcome, CommandError> {
    let mut plan = cx.plan(Keep::Everything);
    plan.owners = None;
    let across = cx.across(&plan, |ns| {
        if !ns.inside {
            return Err(CommandError::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "network namespace {}: cannot be entered, and -D needs its netlink dump",
                    crate::text::escape(&ns.place.netns.label())
                ),
            )));
        }
        let written = match target {
            DiagTarget::Stdout => {
                let mut out = cx.out();
                let written = diag_dump::dump(&ns.plan.query, &mut out)?;
                out.flush()?;
                written
            }
            DiagTarget::File(path) => diag_dump::write_file(&ns.plan.query, path)?,
        };
        Ok(written)
    })?;
    crate::output::console::notes(&across.notes);
    if cx.config.verbose {
        let total = across
            .each
            .iter()
            .fold(Written::default(), |a, (_, w)| Written {
                sockets: a.sockets + w.sockets,
                bytes: a.bytes + w.bytes,
            });
        let _ = writeln!(
            io::stderr().lock(),
            "sockscope: -D wrote {} TCP socket{} ({} bytes of netlink replies)",
            total.sockets,
            crate::text::plural(total.sockets, "", "s"),
            total.bytes
        );
    }
    Ok(Outcome::Shown)
}
