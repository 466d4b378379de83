//! The configuration of `-K/--kill`, `-E/--events` and `-D/--diag`: which
//! mode each gives, the states it starts from, and the flags it refuses
//! (with the reason), so nothing typed is dropped in silence and `-K`
//! never kills everything by accident.

use std::path::PathBuf;

use super::cli::Cli;
use super::{ConfigError, Mode};
use crate::filter::expr;
use crate::model::StateSet;

/// The mode asked for by -K, -E or -D, with the states it selects before
/// any `state` word: -K those of a listing (-a, -l, else the connected
/// states, as ss); -E every state (a destroyed socket is reported in the
/// state it died in); -D a listing's.
pub fn mode(cli: &Cli) -> Option<(Mode, StateSet)> {
    let listing = if cli.all {
        StateSet::all()
    } else if cli.listening {
        StateSet::listening()
    } else {
        StateSet::connected()
    };
    if cli.kill {
        Some((
            Mode::Kill {
                dry_run: cli.dry_run,
            },
            listing,
        ))
    } else if cli.events || matches!(cli.command, Some(super::cli::Command::Events(_))) {
        Some((Mode::Events, StateSet::all()))
    } else {
        cli.diag.as_ref().map(|path| {
            (
                Mode::Diag {
                    path: DiagTarget::of(path),
                },
                listing,
            )
        })
    }
}

/// Where `-D` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagTarget {
    /// `-D -`: stdout, as ss.
    Stdout,
    /// A new file.
    File(PathBuf),
}

impl DiagTarget {
    fn of(path: &std::path::Path) -> DiagTarget {
        if path.as_os_str() == "-" {
            DiagTarget::Stdout
        } else {
            DiagTarget::File(path.to_owned())
        }
    }
}

/// Refuses what -K, -E or -D cannot do with the rest of the command line.
/// `filter` is the parsed filter, `namespaces` how many namespaces the run
/// reads.
pub fn check(
    cli: &Cli,
    mode: &Mode,
    filter: &expr::Filter,
    namespaces: usize,
) -> Result<(), ConfigError> {
    let view: &'static str = match mode {
        Mode::Kill { .. } => "-K",
        Mode::Events => "-E",
        Mode::Diag { .. } => "-D",
        _ => return Ok(()),
    };
    let refuse =
        |flag: &'static str, why: &'static str| Err(ConfigError::NotForView { flag, view, why });
    if let Some(command) = cli
        .command
        .as_ref()
        .filter(|c| !matches!(c, super::cli::Command::Events(_)))
    {
        return Err(ConfigError::NotForView {
            flag: view,
            view: command.name(),
            why: "it belongs to the socket listing",
        });
    }
    if cli.replay.is_some() {
        return refuse("--replay", "it works on the live kernel, not a recording");
    }
    match mode {
        Mode::Kill { .. } => {
            if cli.unix {
                return refuse("-x", "only TCP and UDP sockets can be destroyed");
            }
            let process = !cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some();
            if filter.states.is_none() && filter.expr.is_none() && !process {
                return Err(ConfigError::KillWithoutSelection);
            }
        }
        Mode::Events => {
            if cli.unix {
                return refuse("-x", "the kernel announces TCP and UDP destroys only");
            }
            if cli.json && cli.count.is_none() && cli.duration.is_none() {
                return refuse(
                    "--json",
                    "events never end without --count or --duration, so one array \
                     would never close: --jsonl streams one object per event",
                );
            }
            if cli.record.is_some() {
                return refuse("--record", "events are not a dump");
            }
            if cli.source == super::cli::SourceArg::Proc {
                return refuse("--source proc", "events come from netlink only");
            }
            if !cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some() {
                return refuse(
                    "--pid, --comm or --process",
                    "a destroyed socket has no owner left",
                );
            }
        }
        Mode::Diag { .. } => {
            if filter.expr.is_some() {
                return refuse(
                    "a filter expression",
                    "the file holds the kernel's replies to a plain dump, as ss -D \
                     writes them (ss ignores the expression); state words apply",
                );
            }
            if cli.unix || (cli.udp && !cli.tcp) {
                return refuse(
                    if cli.unix { "-x" } else { "-u" },
                    "the dump written is the TCP one",
                );
            }
            if cli.record.is_some() || cli.source == super::cli::SourceArg::Proc {
                return refuse(
                    if cli.record.is_some() {
                        "--record"
                    } else {
                        "--source proc"
                    },
                    "-D writes the netlink replies itself",
                );
            }
            if !cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some() {
                return refuse(
                    "--pid, --comm or --process",
                    "the file holds the kernel's replies, unfiltered",
                );
            }
            if namespaces > 1 {
                return refuse(
                    "more than one network namespace",
                    "the file holds one namespace's dump",
                );
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::cli::tests::cli;
    use crate::config::{Config, ConfigError, Mode};

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        Config::from_cli(cli(args))
    }

    #[test]
    fn kill_needs_a_selection() {
        for bare in [
            &["-K"][..],
            &["-K", "-ta"],
            &["-K", "-tl"],
            &["-K", "-u4"],
            &["-K", "-t", "--dry-run"],
        ] {
            assert!(
                matches!(config(bare), Err(ConfigError::KillWithoutSelection)),
                "{bare:?}"
            );
        }
        for picked in [
            &["-K", "-t", "state", "established"][..],
            &["-K", "-t", "dport", "=", ":80"],
            &["-K", "--pid", "1"],
            &["-K", "-t", "exclude", "listening"],
            &["-K", "state", "all"],
        ] {
            let c = config(picked).unwrap_or_else(|e| panic!("{picked:?}: {e}"));
            assert!(matches!(c.mode, Mode::Kill { dry_run: false }));
        }
        let c = config(&["-K", "--dry-run", "-ta", "sport", "=", ":22"]).unwrap();
        assert!(matches!(c.mode, Mode::Kill { dry_run: true }));
        assert_eq!(c.select.states, crate::model::StateSet::all());
        assert!(matches!(
            config(&["-K", "-x", "state", "all"]),
            Err(ConfigError::NotForView { flag: "-x", .. })
        ));
    }

    #[test]
    fn events_and_diag_refuse_what_they_cannot_do() {
        assert!(matches!(config(&["-E", "-t"]).unwrap().mode, Mode::Events));
        assert!(matches!(
            config(&["-E", "--json"]),
            Err(ConfigError::NotForView { flag: "--json", .. })
        ));
        assert!(config(&["-E", "--jsonl", "dport", "=", ":80"]).is_ok());
        assert!(matches!(
            config(&["-D", "/tmp/x", "dport", "=", ":80"]),
            Err(ConfigError::NotForView { view: "-D", .. })
        ));
        assert!(matches!(
            config(&["-D", "-", "state", "listening"]).unwrap().mode,
            Mode::Diag {
                path: super::DiagTarget::Stdout
            }
        ));
        assert!(config(&["-D", "/tmp/x", "-u"]).is_err());
    }
}
