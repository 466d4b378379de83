//! The process's stdout and the stderr lines of a run: stdout buffered,
//! with its write failures told apart from the run's (a full disk is the
//! output's failure, wherever the error surfaces); the notes and the
//! `--verbose` line, built once from a [`RunReport`].

use std::cell::Cell;
use std::io::{self, Write};
use std::time::Duration;

use crate::pipeline::RunReport;
use crate::source::owners::{Via, WalkStats};

/// Buffered stdout that sets `failed` when a write to it fails, so the
/// error is reported as the output's (a full disk) wherever it surfaces.
pub fn stdout(failed: &Cell<bool>) -> io::BufWriter<Stdout<'_>> {
    io::BufWriter::with_capacity(
        64 * 1024,
        Stdout {
            inner: io::stdout().lock(),
            failed,
        },
    )
}

/// stdout, noting its failures.
pub struct Stdout<'a> {
    inner: io::StdoutLock<'static>,
    failed: &'a Cell<bool>,
}

impl Write for Stdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.note(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|e| self.note(e))
    }
}

impl Stdout<'_> {
    fn note(&self, e: &io::Error) {
        // An interrupted write is retried, not a failure.
        if e.kind() != io::ErrorKind::Interrupted {
            self.failed.set(true);
        }
    }
}

/// stdout's descriptor, for a live view (`-E`) that polls it beside its
/// own: with no events asked, a pipe whose reader left reports POLLERR.
/// Nothing is written through it.
pub fn stdout_watch() -> impl std::os::fd::AsFd {
    io::stdout()
}

/// Writes each note on stderr as `sockscope: NOTE` (stderr may be closed:
/// never an error).
pub fn notes(notes: &[String]) {
    let mut err = io::stderr().lock();
    for note in notes {
        let _ = writeln!(err, "sockscope: {note}");
    }
}

/// When the records reached the output.
#[derive(Debug, Clone, Copy)]
pub enum Shown {
    /// As they were read (a streamed listing).
    AsRead,
    /// Once all were read: `rows` shown in `took`.
    After { rows: usize, took: Duration },
}

/// The `--verbose` line of a run that took `total`.
pub fn verbose_line(report: &RunReport, shown: Shown, total: Duration) -> String {
    let s = &report.stats;
    let retries = format!(
        "({} interrupted dump{} retried)",
        report.interrupted_retries,
        crate::text::plural(report.interrupted_retries, "", "s"),
    );
    let kernel_filter = match report.kernel_filter {
        Some(len) => format!(
            "; kernel filter: {len}-byte program{}",
            if report.bytecode_refused {
                " (refused: filtered in user space)"
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    match shown {
        Shown::AsRead => format!(
            "sockscope: {}read {} sockets and showed them as they came in {:.1} ms \
             {retries}{kernel_filter}; total {:.1} ms",
            s.walk.as_ref().map_or(String::new(), |(took, w)| format!(
                "{}, then ",
                walk_note(*took, w)
            )),
            s.sockets_read,
            ms(s.read),
            ms(total),
        ),
        Shown::After { rows, took } => {
            let mut line = format!(
                "sockscope: read {} sockets in {:.1} ms {retries}{kernel_filter}",
                s.sockets_read,
                ms(s.read),
            );
            if let Some((walked, w)) = &s.walk {
                line.push_str(&format!(
                    "; {}; attributed in {:.1} ms",
                    walk_note(*walked, w),
                    ms(s.attribute)
                ));
            }
            line.push_str(&format!(
                "; showed {rows} in {:.1} ms; total {:.1} ms",
                ms(took),
                ms(total)
            ));
            line
        }
    }
}

/// Writes the `--verbose` line on stderr.
pub fn verbose(report: &RunReport, shown: Shown, total: Duration) {
    let _ = writeln!(io::stderr(), "{}", verbose_line(report, shown, total));
}

/// "walked N processes, ... in X ms (U unreadable, V vanished)", or what
/// the BPF iterator read; with why the iterator was not used, when it
/// was not (`--owners-source auto`).
fn walk_note(took: Duration, w: &WalkStats) -> String {
    match &w.via {
        Via::Bpf { setup, read } => format!(
            "read the owners of {} sockets in {} processes from the kernel's task_file \
                 iterator in {:.1} ms, {:.1} ms CPU (BPF setup {:.1} ms, read {:.1} ms; {} vanished)",
            w.sockets,
            w.processes,
            ms(took),
            ms(w.cpu),
            ms(*setup),
            ms(*read),
            w.vanished,
        ),
        Via::Proc => walk_counts(took, w),
        Via::ProcInstead(why) => format!(
            "{} (owners from /proc, not the BPF iterator: {why})",
            walk_counts(took, w)
        ),
    }
}

fn walk_counts(took: Duration, w: &WalkStats) -> String {
    format!(
        "walked {} processes, {} fds, {} sockets in {:.1} ms, {:.1} ms CPU ({} unreadable, {} vanished{})",
        w.processes,
        w.fds,
        w.sockets,
        ms(took),
        ms(w.cpu),
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
