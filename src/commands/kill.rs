//! `-K/--kill`: the listing's pipeline and filters select the sockets, then
//! each is destroyed with SOCK_DESTROY in its own network namespace
//! ([`crate::source::destroy`]); each socket killed is printed as a row by
//! the run's printer (as ss -K does), and a count goes to stderr.
//! `--dry-run` prints what would be killed and kills nothing.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{CommandError, Context, Outcome};
use crate::output::{self, console};
use crate::pipeline::{Collect, Keep, RunReport};
use crate::source::destroy::{Answer, Destroyer, Refusal, Target};
use crate::text::plural;

/// What the kills came to, over every namespace.
#[derive(Debug, Default)]
struct Tally {
    killed: usize,
    /// ENOENT: gone before their turn (a peer killed first closes them).
    gone: usize,
    /// Refused, per reason.
    refused: BTreeMap<Refusal, usize>,
    /// Selected in a namespace that could not be entered (read through
    /// another process's /proc): not destroyed.
    outside: usize,
}

pub fn run(cx: &Context<'_>, dry_run: bool) -> Result<Outcome, CommandError> {
    let config = cx.config;
    let plan = cx.plan(Keep::Everything);
    let mut out = cx.out();
    let mut tally = Tally::default();
    let mut report = RunReport::default();
    // A failed output (`| head -1` closed it) does not stop the kills: the
    // rest are killed, the count still said, then the error returned.
    let mut output: Option<io::Error> = None;
    let across = {
        let mut printer = output::printer(
            config.format,
            &mut out,
            &config.table,
            cx.services,
            cx.users,
        );
        let across = cx.across(&plan, |ns| {
            // The selection first, whole: destroying while the dump runs
            // would change the table under it.
            let mut picked = Collect::default();
            let run = ns.run(&mut picked)?;
            report = run.after(std::mem::take(&mut report));
            printer.enter(&ns.place);
            let mut show = |s: &crate::model::Socket| {
                if output.is_none()
                    && let Err(e) = printer.socket(s)
                {
                    output = Some(e);
                }
            };
            if dry_run {
                picked.sockets.iter().for_each(&mut show);
                tally.killed += picked.sockets.len();
                return Ok(());
            }
            if picked.sockets.is_empty() {
                return Ok(());
            }
            if !ns.inside {
                // SOCK_DESTROY acts in the namespace of the netlink socket:
                // never send it from another one.
                tally.outside += picked.sockets.len();
                return Ok(());
            }
            let mut destroyer = Destroyer::open()?;
            for s in &picked.sockets {
                let Some(target) = Target::of(s) else {
                    *tally.refused.entry(Refusal::NotSupported).or_default() += 1;
                    continue;
                };
                match destroyer.destroy(&target)? {
                    Answer::Killed => {
                        tally.killed += 1;
                        show(s);
                    }
                    Answer::Gone => tally.gone += 1,
                    Answer::Refused(why) => *tally.refused.entry(why).or_default() += 1,
                }
            }
            Ok::<_, CommandError>(())
        })?;
        if output.is_none()
            && let Err(e) = printer.finish()
        {
            output = Some(e);
        }
        across
    };
    if output.is_none()
        && let Err(e) = out.flush()
    {
        output = Some(e);
    }
    let report = cx.gathered(&across, report);
    say(&tally, dry_run);
    if let Some(e) = output {
        return Err(CommandError::Io(e));
    }
    cx.verbose(&report, console::Shown::AsRead);
    Ok(if tally.refused.is_empty() && tally.outside == 0 {
        Outcome::Killed
    } else {
        Outcome::KillRefused
    })
}

/// The count on stderr: `killed N sockets`, those already gone, and each
/// reason the kernel gave for the ones it refused.
fn say(tally: &Tally, dry_run: bool) {
    let _ = writeln!(
        io::stderr().lock(),
        "sockscope: {}",
        summary(tally, dry_run)
    );
}

fn summary(tally: &Tally, dry_run: bool) -> String {
    let sockets = |n: usize| format!("{n} socket{}", plural(n, "", "s"));
    if dry_run {
        return format!(
            "would kill {} (--dry-run: none killed)",
            sockets(tally.killed)
        );
    }
    let mut text = format!("killed {}", sockets(tally.killed));
    if tally.gone > 0 {
        text.push_str(&format!(
            ", {} already gone (closed before its turn)",
            tally.gone
        ));
    }
    for (why, n) in &tally.refused {
        text.push_str(&format!("; the kernel refused {}: {why}", sockets(*n)));
    }
    if tally.outside > 0 {
        text.push_str(&format!(
            "; {} not killed: their network namespace could not be entered \
             (SOCK_DESTROY must be sent from inside it; run as root)",
            sockets(tally.outside)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_names_every_outcome() {
        let mut t = Tally {
            killed: 1,
            ..Tally::default()
        };
        assert_eq!(summary(&t, false), "killed 1 socket");
        assert_eq!(
            summary(&t, true),
            "would kill 1 socket (--dry-run: none killed)"
        );
        t.killed = 3;
        t.gone = 1;
        t.refused.insert(Refusal::NotSupported, 2);
        let text = summary(&t, false);
        assert!(
            text.starts_with("killed 3 sockets, 1 already gone"),
            "{text}"
        );
        assert!(
            text.contains("refused 2 sockets: EOPNOTSUPP")
                && text.contains("CONFIG_INET_DIAG_DESTROY"),
            "{text}"
        );
    }
}
