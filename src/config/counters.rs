//! `counters` (issue 18): which counters, and over what, as plain data;
//! and the flags it refuses.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::cli::{Cli, Command, CountersArgs};
pub use crate::analysis::counters::Select;

/// What the numbers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Over {
    /// The values as read (netstat -s, nstat -a).
    Absolute,
    /// `--delta`: the increase since the previous `--delta` run, whose
    /// values are kept in `dir` (one file per namespace).
    SinceLastRun { dir: PathBuf, uid: u32 },
    /// `--interval D`: read, wait D, read again.
    Interval(Duration),
}

/// `counters`: the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountersOptions {
    pub select: Select,
    pub over: Over,
}

/// The options of `counters` (`uid`: the effective uid, owner of the
/// state directory).
pub fn options(cli: &Cli, args: &CountersArgs, uid: u32) -> CountersOptions {
    let over = match (cli.interval, args.delta) {
        (Some(d), _) => Over::Interval(d),
        (None, true) => Over::SinceLastRun {
            dir: crate::source::counters::state_dir(args.runtime_dir.as_deref(), uid),
            uid,
        },
        (None, false) => Over::Absolute,
    };
    CountersOptions {
        select: Select {
            patterns: args.patterns.clone(),
            // -a: every counter, as ss's -a is every socket.
            zeros: args.zeros || cli.all,
        },
        over,
    }
}

/// Refuses what `counters` would ignore: it reads the namespace's
/// counters, every protocol's, and has no socket table.
pub fn check(cli: &Cli) -> Result<(), ConfigError> {
    let Some(Command::Counters(args)) = &cli.command else {
        return Ok(());
    };
    const ALL: &str = "the counters are the namespace's, every protocol's: \
                       choose them by name (counters 'Udp*')";
    const NO_TABLE: &str = "the view has no socket table";
    let refused: [(bool, &'static str, &'static str); 14] = [
        (
            args.delta && cli.interval.is_some(),
            "--delta with --interval",
            "--interval counts over its own wait; --delta since the last run",
        ),
        (
            cli.jsonl,
            "--jsonl",
            "the view prints one object: use --json",
        ),
        (cli.tcp, "-t", ALL),
        (cli.udp, "-u", ALL),
        (cli.unix, "-x", ALL),
        (
            cli.ipv4 || cli.ipv6,
            if cli.ipv4 { "-4" } else { "-6" },
            ALL,
        ),
        (cli.listening, "-l", ALL),
        (cli.summary, "-s", "-s is a view of its own"),
        (cli.resolve, "-r", "the view prints numbers"),
        (cli.processes || cli.cmdline, "-p", NO_TABLE),
        (
            cli.extended || cli.options || cli.info || cli.memory,
            "-e, -o, -i or -m",
            NO_TABLE,
        ),
        (
            !cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some(),
            "--pid, --comm or --process",
            "the counters are the namespace's, not a process's",
        ),
        (
            !cli.filter.is_empty() || cli.filter_file.is_some(),
            "a filter",
            ALL,
        ),
        (
            cli.raw
                || cli.mptcp
                || cli.sctp
                || cli.dccp
                || cli.vsock
                || cli.tipc
                || cli.xdp
                || cli.packet
                || cli.bound_inactive
                || !cli.query.is_empty()
                || !cli.family.is_empty()
                || cli.bpf,
            "a socket kind flag",
            ALL,
        ),
    ];
    match refused.into_iter().find(|(given, _, _)| *given) {
        Some((_, flag, why)) => Err(ConfigError::NotForView {
            flag,
            view: "counters",
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::cli::tests::cli;

    fn opts(args: &[&str]) -> CountersOptions {
        let c = cli(args);
        check(&c).unwrap();
        match &c.command {
            Some(Command::Counters(a)) => options(&c, a, 1000),
            _ => unreachable!(),
        }
    }

    #[test]
    fn delta_interval_zeros_and_patterns() {
        let o = opts(&["counters", "TcpExt*", "Udp*"]);
        assert_eq!(o.over, Over::Absolute);
        assert_eq!(o.select.patterns, ["TcpExt*", "Udp*"]);
        assert!(!o.select.zeros);
        assert!(opts(&["counters", "-a"]).select.zeros);
        assert!(opts(&["counters", "--zeros"]).select.zeros);
        assert_eq!(
            opts(&["counters", "--interval", "2s"]).over,
            Over::Interval(Duration::from_secs(2))
        );
        assert_eq!(
            opts(&["counters", "--delta", "--runtime-dir", "/run/user/1000"]).over,
            Over::SinceLastRun {
                dir: PathBuf::from("/run/user/1000/sockscope"),
                uid: 1000
            }
        );
    }

    #[test]
    fn what_it_cannot_use_is_refused() {
        for args in [
            &["counters", "-t"][..],
            &["counters", "-p"],
            &["counters", "--jsonl"],
            &["counters", "--delta", "--interval", "1s"],
            &["counters", "-w"],
            &["counters", "-F", "/dev/null"],
        ] {
            assert!(
                matches!(check(&cli(args)), Err(ConfigError::NotForView { .. })),
                "{args:?}"
            );
        }
        // The namespace loop and the JSON are its own.
        for args in [
            &["counters", "-N", "x"][..],
            &["counters", "--all-netns", "--json"],
            &["counters", "-H", "-v"],
        ] {
            check(&cli(args)).unwrap();
        }
    }
}
