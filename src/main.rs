//! The edge: parse arguments, run, map errors to exit codes.
//!
//! Exit codes: 0 ok; 1 nothing found where a command promises an answer
//! (`who`); 2 usage or input error (clap exits 2 itself); 3 kernel,
//! permission or I/O failure. A closed stdout (`| head`) ends the run
//! quietly with 0. Ctrl-C (SIGINT) ends it at once with 130, as a shell
//! reports a command ended by SIGINT.

use std::cell::Cell;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sockscope::config::cli::Cli;
use sockscope::config::{Config, ConfigError, Mode, Names, OutputFormat};
use sockscope::output;
use sockscope::source::sysctl;
use sockscope::{analysis, pipeline};

/// The stack of the thread that does the run: the main thread's is what
/// `ulimit -s` leaves (ss runs in 16 KiB), and clap's parse alone needs
/// more than 48 KiB of it in a release build (several hundred KiB in a
/// debug one). The deep parts are bounded (the filter's recursion follows
/// its nesting, at most 100 levels, not its 1000 terms), so a fixed stack
/// fits every documented limit; pages are only used as touched.
const RUN_STACK: usize = 2 << 20;

fn main() -> ExitCode {
    exit_130_on_sigint();
    let run = std::thread::Builder::new()
        .name("sockscope".into())
        .stack_size(RUN_STACK)
        .spawn(run_main);
    match run {
        // A panic is a bug: let it end the process as it would have.
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        Err(e) => {
            let _ = writeln!(io::stderr(), "sockscope: cannot start a thread: {e}");
            ExitCode::from(3)
        }
    }
}

/// Everything `main` does, on the thread with [`RUN_STACK`].
fn run_main() -> ExitCode {
    let cli = Cli::parse_args();
    let output_failed = Cell::new(false);
    match run(cli, &output_failed) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let message = if output_failed.get() {
                // Whichever layer carried it up, the cause is the write.
                let cause = err
                    .chain()
                    .find_map(|c| c.downcast_ref::<io::Error>())
                    .map_or_else(|| err.to_string(), io::Error::to_string);
                format!("writing the output: {cause}")
            } else {
                err.chain()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(": ")
            };
            // stderr may be closed too: never panic over a message.
            let _ = writeln!(io::stderr(), "sockscope: {message}");
            let usage = err
                .chain()
                .any(|c| c.downcast_ref::<ConfigError>().is_some());
            ExitCode::from(if usage { 2 } else { 3 })
        }
    }
}

fn run(cli: Cli, output_failed: &Cell<bool>) -> anyhow::Result<ExitCode> {
    let config = Config::from_cli(cli)?;
    for source in &config.from_env {
        let _ = writeln!(io::stderr(), "sockscope: {source}");
    }
    let names = config.names.as_ref().map(Names::get).transpose()?;
    let (services, users) = (names.map(|n| n.0), names.map(|n| n.1));
    let started = Instant::now();
    if config.mode == Mode::Summary {
        let mut out = stdout(output_failed);
        write_summary(&config, &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if pipeline::can_stream(&config) {
        let mut out = stdout(output_failed);
        let mut streamer =
            output::Streamer::new(&mut out, config.format, &config.table, services, users);
        let report = pipeline::stream(&config, &mut |s| streamer.push(s))?;
        streamer.finish(&report.unix)?;
        out.flush()?;
        let mut err = io::stderr().lock();
        for note in &report.notes {
            let _ = writeln!(err, "sockscope: {note}");
        }
        if config.verbose {
            let _ = writeln!(
                err,
                "sockscope: {}read {} sockets and showed them as they came in {:.1} ms \
                 ({} interrupted dump{} retried){}; total {:.1} ms",
                report
                    .stats
                    .walk
                    .as_ref()
                    .map_or(String::new(), |(took, w)| format!(
                        "{}, then ",
                        walk_note(*took, w)
                    )),
                report.stats.sockets_read,
                ms(report.stats.read),
                report.interrupted_retries,
                if report.interrupted_retries == 1 {
                    ""
                } else {
                    "s"
                },
                kernel_filter_note(&config, &report),
                ms(started.elapsed()),
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // `ports` counts as the dump streams by and keeps no rows.
    let mut pressure = None;
    let report = if config.mode == Mode::Ports {
        let (counted, report) = pipeline::ports(&config)?;
        pressure = Some(counted);
        report
    } else {
        pipeline::gather(&config)?
    };
    let gathered = started.elapsed();
    {
        let mut err = io::stderr().lock();
        for note in &report.notes {
            let _ = writeln!(err, "sockscope: {note}");
        }
    }
    let mut out = stdout(output_failed);
    let code = match &config.mode {
        Mode::List => {
            output::write(
                &mut out,
                &report.sockets,
                &report.unix,
                config.format,
                &config.table,
                services,
                users,
            )?;
            ExitCode::SUCCESS
        }
        Mode::Listeners => {
            let knobs = config.knobs.clone();
            let counters = sysctl::read_tcpext(&config.source.proc_net);
            let rows = analysis::listeners(&report.sockets, &knobs);
            match config.format {
                OutputFormat::Table => output::explain::listeners_text(
                    &mut out,
                    &rows,
                    &counters,
                    &knobs,
                    config.table.header,
                )?,
                _ => output::explain::listeners_json(&mut out, &rows, &counters, &knobs)?,
            }
            if rows.iter().any(|h| h.full) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Mode::WhyBind {
            target,
            scope,
            try_bind,
        } => {
            let knobs = config.knobs.clone();
            let proto = config.query.protocols[0];
            let euid = config.euid;
            let mut verdict =
                analysis::why_bind(*target, *scope, proto, &report.sockets, &knobs, euid);
            if *try_bind {
                // The real bind() is the final word.
                let tried = analysis::try_bind(*target, *scope, proto)?;
                analysis::apply_try(&mut verdict, tried);
            }
            match config.format {
                OutputFormat::Table => {
                    output::explain::why_bind_text(&mut out, &verdict, &config.table)?
                }
                _ => output::explain::why_bind_json(&mut out, &verdict)?,
            }
            if verdict.busy {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Mode::Ports => {
            let knobs = config.knobs.clone();
            let pressure = pressure
                .take()
                .unwrap_or_else(|| analysis::ports(&report.sockets, &knobs));
            match config.format {
                OutputFormat::Table => {
                    output::explain::ports_text(&mut out, &pressure, config.table.header)?
                }
                _ => output::explain::ports_json(&mut out, &pressure)?,
            }
            if pressure
                .destinations
                .iter()
                .any(|d| d.level == analysis::Level::Critical)
            {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Mode::Summary => {
            write_summary(&config, &mut out)?;
            ExitCode::SUCCESS
        }
        Mode::Who(target) => {
            let protocols = &config.query.protocols;
            match config.format {
                OutputFormat::Table => output::who::write_text(
                    &mut out,
                    target,
                    protocols,
                    &report.sockets,
                    &config.table,
                )?,
                _ => output::who::write_json(&mut out, target, protocols, &report.sockets)?,
            }
            if report.sockets.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    };
    out.flush()?;
    if config.verbose {
        let s = &report.stats;
        let mut line = format!(
            "sockscope: read {} sockets in {:.1} ms ({} interrupted dump{} retried)",
            s.sockets_read,
            ms(s.read),
            report.interrupted_retries,
            if report.interrupted_retries == 1 {
                ""
            } else {
                "s"
            },
        );
        line.push_str(&kernel_filter_note(&config, &report));
        if let Some((took, w)) = &s.walk {
            line.push_str(&format!(
                "; {}; attributed in {:.1} ms",
                walk_note(*took, w),
                ms(s.attribute)
            ));
        }
        let total = started.elapsed();
        line.push_str(&format!(
            "; showed {} in {:.1} ms; total {:.1} ms",
            report.sockets.len(),
            ms(total - gathered),
            ms(total)
        ));
        let _ = writeln!(io::stderr(), "{line}");
    }
    Ok(code)
}

/// Buffered stdout that sets `failed` when a write to it fails, so the
/// error is reported as the output's (a full disk) wherever it surfaces.
fn stdout(failed: &Cell<bool>) -> io::BufWriter<Output<'_>> {
    io::BufWriter::with_capacity(
        64 * 1024,
        Output {
            inner: io::stdout().lock(),
            failed,
        },
    )
}

struct Output<'a> {
    inner: io::StdoutLock<'static>,
    failed: &'a Cell<bool>,
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.note(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|e| self.note(e))
    }
}

impl Output<'_> {
    fn note(&self, e: &io::Error) {
        // An interrupted write is retried, not a failure.
        if e.kind() != io::ErrorKind::Interrupted {
            self.failed.set(true);
        }
    }
}

/// `-s`: counted while the dump streams, nothing kept.
/// The table prints ss's totals at once (they are /proc counters) and the
/// per-state counts when the dump is done.
fn write_summary(config: &Config, out: &mut dyn Write) -> anyhow::Result<()> {
    match config.format {
        OutputFormat::Table => {
            let stat = sockscope::source::sockstat::read(&config.source.proc_net)?;
            output::summary::write_totals(out, &stat)?;
            out.flush()?;
            let states = pipeline::count_states(config)?;
            output::summary::write_states(out, &states)?;
        }
        _ => output::summary::write_json(out, &pipeline::summarize(config)?)?,
    }
    Ok(())
}

/// "; kernel filter: N-byte program" when bytecode was sent.
fn kernel_filter_note(config: &Config, report: &pipeline::Report) -> String {
    match &config.query.bytecode {
        Some(code) => format!(
            "; kernel filter: {}-byte program{}",
            code.len(),
            if report.bytecode_refused {
                " (refused: filtered in user space)"
            } else {
                ""
            }
        ),
        None => String::new(),
    }
}

/// "walked N processes, ... in X ms (U unreadable, V vanished)".
fn walk_note(took: Duration, w: &sockscope::source::owners::WalkStats) -> String {
    format!(
        "walked {} processes, {} fds, {} sockets in {:.1} ms ({} unreadable, {} vanished{})",
        w.processes,
        w.fds,
        w.sockets,
        ms(took),
        w.denied,
        w.vanished,
        match w.failed {
            0 => String::new(),
            n => format!(", {n} failed"),
        },
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// SIGINT ends the process with status 130 (128 + SIGINT) instead of
/// killing it by the signal, so scripts see the code the README promises.
///
/// The handler calls `_exit`, which is async-signal-safe, and nothing else:
/// there is nothing to undo. sockscope makes no temporary files, holds no
/// lock another process could see, and leaves no half-state behind but
/// what it already wrote (stdout keeps the rows written so far; the rows
/// still in its buffer are dropped, as with any interrupted writer; a
/// `--record` file keeps what was written so far, each message flushed as
/// it came). Kernel sockets, netlink included, close with the process.
/// No flag or global state is needed: the handler never returns.
///
/// A SIGINT that was ignored when sockscope started (`nohup`, a background
/// job of a non-interactive shell) stays ignored.
fn exit_130_on_sigint() {
    extern "C" fn on_sigint(_: libc::c_int) {
        // SAFETY: _exit is async-signal-safe and touches no Rust state.
        unsafe { libc::_exit(130) }
    }
    // SAFETY: sigaction is given valid, initialised structs; the handler
    // above is async-signal-safe.
    // No safe crate: nix's sigaction is itself an unsafe fn (a handler runs
    // in signal context) and rustix has no sigaction.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) != 0
            || old.sa_sigaction == libc::SIG_IGN
        {
            return;
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// ripgrep's rule: a BrokenPipe anywhere in the chain is a reader that
/// stopped listening, not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
