//! `trace`'s own options: the ring buffer size per CPU (`--buffer-pages`)
//! and where tracefs is (`--tracefs`, SOCKSCOPE_TRACEFS: a recorded tree
//! for tests), with the checks that refuse them elsewhere.

use std::path::PathBuf;

use super::ConfigError;
use super::cli::{Cli, Command};

/// The default ring: 512 data pages (2 MiB with 4 KiB pages) per CPU. A
/// loopback connection makes about 10 transitions (both sides); a sample
/// is ~112 bytes, so 5000 connections/s on 2 CPUs is ~5.6 MB/s, and each
/// ring holds ~18,700 samples: ~0.7 s of the whole load on one CPU,
/// against a reader woken at a quarter full and at least every 100 ms.
pub const DEFAULT_BUFFER_PAGES: usize = 512;
/// The largest ring taken (256 MiB per CPU with 4 KiB pages).
pub const MAX_BUFFER_PAGES: usize = 65_536;

/// How `trace` reads the tracepoints (`--reader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Reader {
    /// A tracefs instance of its own (the ftrace ring buffer).
    #[default]
    Ftrace,
    /// perf_event_open, one ring per CPU.
    Perf,
}

/// `trace`'s options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceOptions {
    /// The reader (`--reader`).
    pub reader: Reader,
    /// Data pages per CPU ring, a power of two.
    pub buffer_pages: usize,
    /// tracefs's root when given (`--tracefs`, SOCKSCOPE_TRACEFS); else it
    /// is looked for where it is mounted by convention.
    pub tracefs: Option<PathBuf>,
}

impl TraceOptions {
    pub fn from_cli(cli: &Cli) -> TraceOptions {
        TraceOptions {
            reader: cli.reader.unwrap_or_default(),
            buffer_pages: cli.buffer_pages.unwrap_or(DEFAULT_BUFFER_PAGES),
            tracefs: cli.tracefs.clone(),
        }
    }
}

/// `--buffer-pages`: a power of two from 1 to [`MAX_BUFFER_PAGES`].
pub fn parse_buffer_pages(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("'{}' is not a whole number", crate::text::escape(text)))?;
    if n == 0 || !n.is_power_of_two() || n > MAX_BUFFER_PAGES {
        return Err(format!(
            "the ring size must be a power of two from 1 to {MAX_BUFFER_PAGES} pages"
        ));
    }
    Ok(n)
}

/// Refuses trace's flags outside trace, and `--json` on a trace that
/// would never end (its one array is written at the end).
pub fn check(cli: &Cli) -> Result<(), ConfigError> {
    let tracing = matches!(cli.command, Some(Command::Trace(_)));
    let view = cli
        .command
        .as_ref()
        .map(Command::name)
        .unwrap_or("the socket listing");
    if !tracing && cli.reader.is_some() {
        return Err(ConfigError::NotForView {
            flag: "--reader",
            view,
            why: "only trace reads tracepoints",
        });
    }
    if !tracing && cli.buffer_pages.is_some() {
        return Err(ConfigError::NotForView {
            flag: "--buffer-pages",
            view,
            why: "only trace reads ring buffers",
        });
    }
    if tracing && cli.json && cli.count.is_none() && cli.duration.is_none() {
        return Err(ConfigError::NotForView {
            flag: "--json",
            view,
            why: "its one array is written when the run ends: add --count N or --duration D, \
                  or use --jsonl (one object per line)",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_pages_are_powers_of_two() {
        assert_eq!(parse_buffer_pages("1"), Ok(1));
        assert_eq!(parse_buffer_pages("512"), Ok(512));
        for bad in ["0", "3", "x", "-1", "131072"] {
            assert!(parse_buffer_pages(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod words {
    use super::super::Config;
    use super::super::cli::Cli;
    use crate::model::{StateSet, TcpState};

    /// Regression: a live view's filter words were parsed without the
    /// facts they need and dropped (`trace state listen dport = :5001`
    /// traced everything).
    #[test]
    fn live_views_keep_their_filter_words() {
        for view in ["trace", "watch", "events"] {
            let cli =
                Cli::parse_args_from(["sockscope", view, "state", "listen", "dport", "=", ":5001"]);
            let c = Config::from_cli(cli).unwrap();
            assert!(c.select.expr.is_some(), "{view}: {:?}", c.select);
            assert_eq!(
                c.select.states,
                StateSet::EMPTY.with(TcpState::Listen),
                "{view}"
            );
        }
    }
}
