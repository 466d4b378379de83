//! One module per command, each `plan → pipeline → analysis → printer →
//! outcome`: [`list`], [`who`], [`listeners`], [`why_bind`], [`ports`],
//! [`summary`]. [`execute`] dispatches a [`Config`] to its command and
//! returns the command's [`Outcome`]; [`ExitStatus`] is what `main` exits
//! with, from the outcome or the [`CommandError`].

pub mod completions;
pub mod counters;
pub mod diag;
pub mod events;
pub mod kill;
pub mod list;
pub mod listeners;
pub mod metrics;
pub mod ports;
pub mod serve;
pub mod summary;
pub mod trace;
pub mod watch;
pub mod who;
pub mod why_bind;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::error::Error;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::analysis::TryError;
use crate::config::OutputFormat;
use crate::config::facts::Names;
use crate::config::{Config, ConfigError, Mode};
use crate::output;
use crate::output::console::{self, Shown};
use crate::pipeline::netns::{self, Across, AcrossError, NsRun, Place};
use crate::pipeline::{Keep, Plan, RunError, RunReport};
use crate::source::services::{Services, ServicesError, Users};

/// What a command answered, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The listing or the summary was written.
    Shown,
    /// `who`: something holds the port.
    Found,
    /// `who`: nothing holds the port.
    NotFound,
    /// `listeners`: no accept queue is full.
    Healthy,
    /// `listeners`: an accept queue is full.
    Full,
    /// `why-bind`: bind() would succeed.
    Free,
    /// `why-bind`: bind() would fail.
    Busy,
    /// `ports`: no destination is critical.
    Fine,
    /// `ports`: a destination has used 90 % of the ephemeral ports.
    Critical,
    /// `-K`: every socket selected was killed (or had gone already).
    Killed,
    /// `-K`: the kernel refused to kill some socket (the reason is on
    /// stderr).
    KillRefused,
}

/// The exit statuses (fd's `exit_codes.rs`): README, "Exit status". A
/// SIGINT is not one of them: it kills the process (shells report 130).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Success; also a closed stdout (`| head -1`), as ripgrep does.
    Success = 0,
    /// The answer is no.
    No = 1,
    /// Usage or input error (clap exits 2 itself for its own).
    Usage = 2,
    /// Kernel, permission or I/O failure.
    Failure = 3,
}

impl From<Outcome> for ExitStatus {
    fn from(outcome: Outcome) -> ExitStatus {
        match outcome {
            Outcome::Shown
            | Outcome::Found
            | Outcome::Healthy
            | Outcome::Free
            | Outcome::Fine
            | Outcome::Killed => ExitStatus::Success,
            Outcome::NotFound
            | Outcome::Full
            | Outcome::Busy
            | Outcome::Critical
            | Outcome::KillRefused => ExitStatus::No,
        }
    }
}

/// A failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Usage(#[from] ConfigError),
    /// /etc/services or /etc/passwd (-r).
    #[error(transparent)]
    Names(#[from] ServicesError),
    #[error(transparent)]
    Run(#[from] RunError),
    /// `why-bind --try`.
    #[error(transparent)]
    Try(#[from] TryError),
    #[error(transparent)]
    Io(#[from] io::Error),
    /// `-K`: the netlink conversation itself failed.
    #[error(transparent)]
    Destroy(#[from] crate::source::destroy::DestroyError),
    /// `-E`: the subscription failed.
    #[error(transparent)]
    Events(#[from] crate::source::events::ReceiveError),
    /// `-D`: the dump or its file.
    #[error(transparent)]
    Diag(#[from] crate::source::diag_dump::DiagError),
    /// The run could not return to its own network namespace.
    #[error(transparent)]
    Netns(#[from] crate::source::netns::NetnsError),
    /// `watch`: the stop signals or the wait between ticks.
    #[error(transparent)]
    Signals(#[from] crate::source::signals::SignalsError),
    /// `trace`: tracefs or a tracepoint's format (issue 16, trace).
    #[error(transparent)]
    Tracefs(#[from] crate::source::tracefs::TracefsError),
    /// `trace`: perf_event_open, its rings or its poll (issue 16, trace).
    #[error(transparent)]
    Perf(#[from] crate::source::perf::PerfError),
    /// `trace`: the tracefs instance, its pages or its layout (issue 16,
    /// ftrace).
    #[error(transparent)]
    Ftrace(crate::source::ftrace::FtraceError),
    /// `serve`: the web configuration, the listening socket or the
    /// accepting thread (issue 17, serve).
    #[error(transparent)]
    Http(#[from] crate::source::http::HttpError),
    /// `metrics --output FILE`: the temporary file or the rename.
    #[error(transparent)]
    Textfile(#[from] crate::source::textfile::TextfileError),
    /// `counters`: a counter file (issue 18, counters).
    #[error(transparent)]
    Counters(#[from] crate::source::counters::CountersError),
    /// `counters --delta`: the state directory or file.
    #[error(transparent)]
    CountersState(#[from] crate::source::counters::StateError),
    /// A write to stdout failed (a full disk): whichever layer carried the
    /// error up, the cause is the write.
    #[error("writing the output: {0}")]
    Output(io::Error),
}

impl CommandError {
    /// The error itself (the variants are transparent), then its causes.
    fn chain(&self) -> impl Iterator<Item = &(dyn Error + 'static)> {
        let first: &(dyn Error + 'static) = match self {
            CommandError::Usage(e) => e,
            CommandError::Names(e) => e,
            CommandError::Run(e) => e,
            CommandError::Try(e) => e,
            CommandError::Netns(e) => e,
            CommandError::Destroy(e) => e,
            CommandError::Events(e) => e,
            CommandError::Diag(e) => e,
            CommandError::Signals(e) => e,
            CommandError::Tracefs(e) => e,
            CommandError::Perf(e) => e,
            CommandError::Ftrace(e) => e,
            CommandError::Http(e) => e,
            CommandError::Textfile(e) => e,
            CommandError::Counters(e) => e,
            CommandError::CountersState(e) => e,
            CommandError::Io(e) | CommandError::Output(e) => e,
        };
        std::iter::successors(Some(first), |&e| e.source())
    }

    /// The one-line message: the error and its causes, `: `-separated.
    pub fn message(&self) -> String {
        match self {
            CommandError::Output(_) => self.to_string(),
            _ => self
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
        }
    }

    /// ripgrep's rule: a BrokenPipe anywhere in the chain is a reader that
    /// stopped listening, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.chain().any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        })
    }

    /// An answer that ends the run with status 0 but is still said on
    /// stderr (ss does the same): the kind flags leave nothing to list, or
    /// `-f help`.
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            CommandError::Usage(ConfigError::NoKinds | ConfigError::FamilyHelp)
        )
    }

    /// The exit status this error ends the process with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            _ if self.is_broken_pipe() => ExitStatus::Success,
            CommandError::Usage(ConfigError::NoKinds | ConfigError::FamilyHelp) => {
                ExitStatus::Success
            }
            CommandError::Usage(ConfigError::Netns(e)) if e.is_permission() => ExitStatus::Failure,
            // ss's status for -Z without SELinux.
            CommandError::Usage(ConfigError::SelinuxOff) => ExitStatus::No,
            CommandError::Usage(ConfigError::SelinuxContexts | ConfigError::NotRead { .. }) => {
                ExitStatus::Failure
            }
            CommandError::Netns(e) if e.is_gone() => ExitStatus::Usage,
            CommandError::Http(e) if e.is_usage() => ExitStatus::Usage,
            CommandError::Textfile(e) if e.is_missing_directory() => ExitStatus::Usage,
            CommandError::Usage(_) => ExitStatus::Usage,
            _ => ExitStatus::Failure,
        }
    }

    /// The error as the output's, when stdout failed during the command.
    fn into_output_failure(self) -> CommandError {
        let cause = self
            .chain()
            .find_map(|e| e.downcast_ref::<io::Error>())
            .map(|e| io::Error::new(e.kind(), e.to_string()));
        match cause {
            Some(cause) => CommandError::Output(cause),
            None => self,
        }
    }
}

/// The stack of the thread that does the run: the main thread's is what
/// `ulimit -s` leaves (ss runs in 16 KiB), and clap's parse alone needs
/// more than 48 KiB of it in a release build (several hundred KiB in a
/// debug one). The deep parts are bounded (the filter's recursion follows
/// its nesting, at most 100 levels, not its 1000 terms), so a fixed stack
/// fits every documented limit; pages are only used as touched.
const RUN_STACK: usize = 2 << 20;

/// Runs `f` on a thread with [`RUN_STACK`]; a panic in it is resumed here
/// (a panic is a bug: it ends the process as it would have). The calling
/// thread blocks SIGINT and SIGTERM for good, so that they reach the run's
/// thread, which unblocks them at once (their default action still ends
/// the process) and may block them for itself (watch reads them:
/// [`crate::source::signals`]).
pub fn on_run_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    let held = crate::source::signals::hold();
    let handle = std::thread::Builder::new()
        .name("sockscope".into())
        .stack_size(RUN_STACK)
        .spawn(move || {
            crate::source::signals::release(held);
            f()
        })?;
    Ok(handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p)))
}

/// What every command gets: the configuration, the name databases (-r),
/// stdout's failure flag and when the run started.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The `-r` databases, read once with the other system facts.
    pub services: Option<&'a Services>,
    pub users: Option<&'a Users>,
    failed: &'a Cell<bool>,
    started: Instant,
    /// The notes said so far, for a command that reads again and again
    /// (`serve`): each is said once, not once a read.
    said: RefCell<HashSet<String>>,
}

impl Context<'_> {
    /// The pipeline's plan for this configuration, keeping `keep`.
    pub fn plan(&self, keep: Keep) -> Plan {
        let c = self.config;
        Plan {
            query: c.query.clone(),
            select: c.select.clone(),
            owners: c.owners.clone(),
            source: c.source.clone(),
            keep,
        }
    }

    /// `each` once per network namespace of the run, inside it
    /// ([`netns::across`]).
    pub fn across<T>(
        &self,
        plan: &Plan,
        each: impl FnMut(&NsRun<'_>) -> Result<T, CommandError>,
    ) -> Result<Across<T>, CommandError> {
        netns::across(plan, &self.config.namespaces, &self.config.proc_root, each).map_err(|e| {
            match e {
                AcrossError::Run(e) => CommandError::Run(e),
                AcrossError::Return(e) => CommandError::Netns(e),
                AcrossError::Each(e) => e,
            }
        })
    }

    /// Once a view's namespaces are read: the loop's and the runs' notes on
    /// stderr, and the report with the loop's walk.
    pub fn gathered<T>(&self, across: &Across<T>, report: RunReport) -> RunReport {
        console::notes(&across.notes);
        console::notes(&report.notes);
        report.with_walk(across.walk.clone())
    }

    /// [`Context::gathered`] for a command that reads again and again
    /// (`serve`): a note already said (the same words, whatever its
    /// numbers) is not said again.
    pub fn gathered_once<T>(&self, across: &Across<T>, report: RunReport) -> RunReport {
        let mut said = self.said.borrow_mut();
        let fresh: Vec<String> = across
            .notes
            .iter()
            .chain(&report.notes)
            // Once per kind: the counts in a note change from read to read.
            .filter(|n| said.insert(n.chars().filter(|c| !c.is_ascii_digit()).collect()))
            .cloned()
            .collect();
        console::notes(&fresh);
        report.with_walk(across.walk.clone())
    }

    /// One namespace's answer of a view: its text (under a heading naming
    /// the namespace when the run reads several) or its JSON document
    /// (with `netns` and `container` added then).
    pub fn answer(
        &self,
        out: &mut dyn Write,
        place: &Place,
        first: bool,
        text: impl FnOnce(&mut dyn Write) -> io::Result<()>,
        json: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let tagged = self.config.namespaces.tagged;
        match self.config.format {
            OutputFormat::Table => {
                if tagged {
                    output::write_heading(out, place, first)?;
                }
                text(out)
            }
            // -N: the document says which namespace it answers for.
            _ if tagged || self.config.namespaces.named => output::json_in_place(out, place, json),
            _ => json(out),
        }
    }

    /// Buffered stdout.
    pub fn out(&self) -> io::BufWriter<console::Stdout<'_>> {
        console::stdout(self.failed)
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The `--verbose` line, when asked for.
    pub fn verbose(&self, report: &RunReport, shown: Shown) {
        if self.config.verbose {
            console::verbose(report, shown, self.elapsed());
        }
    }
}

/// Runs the command `config` asks for.
pub fn execute(config: &Config) -> Result<Outcome, CommandError> {
    {
        let mut err = io::stderr().lock();
        for source in &config.from_env {
            let _ = writeln!(err, "sockscope: {source}");
        }
    }
    let failed = Cell::new(false);
    dispatch(config, &failed).map_err(|e| {
        if failed.get() {
            e.into_output_failure()
        } else {
            e
        }
    })
}

fn dispatch(config: &Config, failed: &Cell<bool>) -> Result<Outcome, CommandError> {
    let names = config.names.as_ref().map(Names::get).transpose()?;
    let (services, users) = (names.map(|n| n.0), names.map(|n| n.1));
    let cx = Context {
        config,
        services,
        users,
        failed,
        started: Instant::now(),
        said: RefCell::default(),
    };
    match &config.mode {
        Mode::List => list::run(&cx),
        Mode::Who { target, pids } => who::run(&cx, target, *pids),
        Mode::Listeners => listeners::run(&cx),
        Mode::WhyBind {
            target,
            scope,
            try_bind,
        } => why_bind::run(&cx, *target, *scope, *try_bind),
        Mode::Ports => ports::run(&cx),
        Mode::Summary => summary::run(&cx),
        Mode::Kill { dry_run } => kill::run(&cx, *dry_run),
        Mode::Events => events::run(&cx),
        Mode::Diag { path } => diag::run(&cx, path),
        Mode::Watch => watch::run(&cx),
        Mode::Trace => trace::run(&cx),
        Mode::Metrics(options) => metrics::run(&cx, options),
        Mode::Serve(options) => serve::run(&cx, options),
        Mode::Counters(options) => counters::run(&cx, options),
        Mode::Completions(shell) => completions::run(&cx, *shell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_errors_map_to_exit_statuses() {
        for (outcome, status) in [
            (Outcome::Shown, ExitStatus::Success),
            (Outcome::Found, ExitStatus::Success),
            (Outcome::NotFound, ExitStatus::No),
            (Outcome::Healthy, ExitStatus::Success),
            (Outcome::Full, ExitStatus::No),
            (Outcome::Free, ExitStatus::Success),
            (Outcome::Busy, ExitStatus::No),
            (Outcome::Fine, ExitStatus::Success),
            (Outcome::Critical, ExitStatus::No),
            (Outcome::Killed, ExitStatus::Success),
            (Outcome::KillRefused, ExitStatus::No),
        ] {
            assert_eq!(ExitStatus::from(outcome), status, "{outcome:?}");
        }
        assert_eq!(
            CommandError::from(ConfigError::FilterFile(
                crate::source::filter_file::FilterFileError {
                    path: "f".into(),
                    reason: "gone".into()
                }
            ))
            .exit_status(),
            ExitStatus::Usage
        );
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(
            CommandError::from(pipe()).exit_status(),
            ExitStatus::Success
        );
        let deep = CommandError::Run(RunError::Source(crate::source::SourceError::Output(pipe())));
        assert!(deep.is_broken_pipe());
        let full = || io::Error::from_raw_os_error(libc::ENOSPC);
        let err = CommandError::Run(RunError::Source(crate::source::SourceError::Output(full())));
        assert_eq!(err.exit_status(), ExitStatus::Failure);
        assert_eq!(
            err.message(),
            format!("cannot write the output: {}", full())
        );
        assert_eq!(
            err.into_output_failure().message(),
            format!("writing the output: {}", full())
        );
    }
}
