//! `trace`'s default reader: the same tracepoints through a tracefs
//! instance of its own (`instances/sockscope-PID`, the ftrace ring
//! buffer), read page by page from each CPU's `per_cpu/cpuN/trace_pipe_raw`.
//!
//! Why a second reader: on this kernel (6.18) perf_event_open loses the
//! tracepoint events raised in a softirq that runs from the idle task
//! (perf's recursion protection; no PERF_RECORD_LOST), while the ftrace
//! ring records them (README, "Trace"). This module owns the instance's
//! life (made, configured, drained, disabled and removed on every exit,
//! stale ones of dead pids removed at start) and the parser of the ring's
//! binary pages, whose layout it reads from `events/header_page` and
//! `events/header_event`, refusing what it cannot read. Plain file reads:
//! no unsafe code. Creating an instance (mkdir) is not mounting: tracefs
//! must already be mounted.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::perf::{Record, Want};
use super::tracefs::Tracefs;

/// The instances sockscope makes: `sockscope-PID`.
pub const INSTANCE_PREFIX: &str = "sockscope-";

/// kernel/trace/ring_buffer.c: RB_MISSED_EVENTS, RB_MISSED_STORED, set in
/// a read page's `commit` word.
const RB_MISSED_EVENTS: u64 = 1 << 31;
const RB_MISSED_STORED: u64 = 1 << 30;
/// include/linux/ring_buffer.h: enum ring_buffer_type.
const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
const TYPE_DATA_MAX: u32 = 28;
/// kernel/trace/ring_buffer.c: TS_MSB, the bits an absolute time stamp
/// does not carry (taken from the page's time).
const TS_SHIFT: u32 = 27;
const TS_MSB: u64 = 0xf8 << 56;

/// A failure to set the instance up, read it, or read its page format.
#[derive(Debug, thiserror::Error)]
pub enum FtraceError {
    #[error(
        "cannot create the tracefs instance {}: permission denied (trace needs root: run as \
         root, or with sudo)",
        .path.display()
    )]
    Denied {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} has no instances directory (a kernel without tracefs instances?): use --reader perf",
        .path.display()
    )]
    NoInstances { path: PathBuf },
    #[error("cannot create the tracefs instance {}", .path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write '{value}' to {}", .path.display())]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// header_page or header_event in a layout this parser does not know.
    #[error("cannot use the ring buffer layout {}: {reason}", .path.display())]
    Layout { path: PathBuf, reason: String },
    #[error("waiting for the ftrace rings")]
    Poll(#[source] io::Error),
}

/// A read page's layout (`events/header_page`, kernel/trace/ring_buffer.c:
/// ring_buffer_print_page_header): where its time stamp, commit word and
/// data are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFormat {
    pub timestamp: usize,
    pub commit: usize,
    pub commit_size: usize,
    pub data: usize,
    pub data_size: usize,
}

impl PageFormat {
    /// From the two header files' texts; the reason one cannot be used.
    /// `Err((which, reason))`: 0 for header_page, 1 for header_event.
    pub fn parse(header_page: &str, header_event: &str) -> Result<PageFormat, (u8, String)> {
        let field = |name: &str| -> Result<(usize, usize), (u8, String)> {
            for line in header_page.lines() {
                let line = line.trim();
                let Some(rest) = line.strip_prefix("field:") else {
                    continue;
                };
                let mut parts = rest.split(';').map(str::trim);
                let decl = parts.next().unwrap_or_default();
                if decl.split_whitespace().last() != Some(name) {
                    continue;
                }
                let num = |key: &str| -> Option<usize> {
                    rest.split(';')
                        .map(str::trim)
                        .find_map(|p| p.strip_prefix(key))
                        .and_then(|v| v.trim().parse().ok())
                };
                return match (num("offset:"), num("size:")) {
                    (Some(o), Some(s)) => Ok((o, s)),
                    _ => Err((0, format!("the field '{name}' has no offset or size"))),
                };
            }
            Err((0, format!("no field '{name}'")))
        };
        let (timestamp, ts_size) = field("timestamp")?;
        let (commit, commit_size) = field("commit")?;
        let (data, data_size) = field("data")?;
        if ts_size != 8 {
            return Err((0, format!("a time stamp of {ts_size} bytes (8 expected)")));
        }
        if commit_size != 8 && commit_size != 4 {
            return Err((
                0,
                format!("a commit word of {commit_size} bytes (4 or 8 expected)"),
            ));
        }
        if timestamp + 8 > data || commit + commit_size > data || data_size == 0 {
            return Err((0, "fields overlapping the data".into()));
        }
        if data + data_size > 1 << 24 {
            return Err((0, format!("a page of {} bytes", data + data_size)));
        }
        // include/linux/ring_buffer.h: struct ring_buffer_event, as
        // ring_buffer_print_entry_header prints it.
        let words: Vec<String> = header_event.split_whitespace().map(str::to_owned).collect();
        let expect = |seq: &[&str]| words.windows(seq.len()).any(|w| w == seq);
        let layout = [
            &["type_len", ":", "5", "bits"][..],
            &["time_delta", ":", "27", "bits"],
            &["array", ":", "32", "bits"],
            &["padding", ":", "type", "==", "29"],
            &["time_extend", ":", "type", "==", "30"],
            &["time_stamp", ":", "type", "==", "31"],
            &["max", "type_len", "==", "28"],
        ];
        for seq in layout {
            if !expect(seq) {
                return Err((1, format!("no '{}'", seq.join(" "))));
            }
        }
        Ok(PageFormat {
            timestamp,
            commit,
            commit_size,
            data,
            data_size,
        })
    }

    /// The bytes of one read page.
    pub fn page_len(&self) -> usize {
        self.data + self.data_size
    }
}

/// Events dropped before a page (the ring was full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// The kernel stored the count at the end of the page.
    Exact(u64),
    /// Only the flag: at least one.
    AtLeastOne,
}

/// One item of a page, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum PageItem<'a> {
    Missed(Missed),
    /// A tracepoint record (common fields first), its time in the trace
    /// clock's ns. May carry trailing padding (records are 4-aligned).
    Event {
        time_ns: u64,
        raw: &'a [u8],
    },
}

/// A page that cannot be read whole: what was read before it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("a page shorter than its header")]
    Short,
    #[error("a commit of {0} bytes past the page's data")]
    Commit(u64),
    #[error("an event running past the page's data at byte {0}")]
    Event(usize),
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Parses one page read from trace_pipe_raw (kernel/trace/ring_buffer.c:
/// struct buffer_data_page, filled by ring_buffer_read_page), handing each
/// item to `each` in order. Little-endian (the kernel's own order; the
/// reader runs on the machine it reads).
pub fn parse_page(
    fmt: &PageFormat,
    page: &[u8],
    each: &mut dyn FnMut(PageItem<'_>),
) -> Result<(), PageError> {
    let mut time = u64_at(page, fmt.timestamp).ok_or(PageError::Short)?;
    let commit = if fmt.commit_size == 8 {
        u64_at(page, fmt.commit)
    } else {
        u32_at(page, fmt.commit).map(u64::from)
    }
    .ok_or(PageError::Short)?;
    let flags = commit & (RB_MISSED_EVENTS | RB_MISSED_STORED);
    // The flags are int constants added to a signed long: on a 64-bit
    // kernel they come sign-extended (0xffffffffc0000fbc); the length is
    // the bits below them (~RB_MISSED_MASK as an int).
    let len = commit & (RB_MISSED_STORED - 1);
    let data = page.get(fmt.data..).ok_or(PageError::Short)?;
    let data = &data[..data.len().min(fmt.data_size)];
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= data.len())
        .ok_or(PageError::Commit(len))?;
    if flags & RB_MISSED_EVENTS != 0 {
        // ring_buffer_read_page: the count follows the data when it fits.
        let stored = (flags & RB_MISSED_STORED != 0)
            .then(|| u64_at(data, len))
            .flatten();
        each(PageItem::Missed(match stored {
            Some(n) if n > 0 => Missed::Exact(n),
            _ => Missed::AtLeastOne,
        }));
    }
    let data = &data[..len];
    let mut at = 0;
    while at + 4 <= len {
        let head = u32_at(data, at).ok_or(PageError::Event(at))?;
        // include/linux/ring_buffer.h: type_len:5, time_delta:27 (little
        // endian: type_len in the low bits), then array[].
        let type_len = head & 0x1f;
        let delta = u64::from(head >> 5);
        let array0 = || u32_at(data, at + 4).ok_or(PageError::Event(at));
        let size = match type_len {
            TYPE_PADDING => {
                if delta == 0 {
                    // A discarded tail: the rest of the page is empty.
                    break;
                }
                4 + array0()? as usize
            }
            TYPE_TIME_EXTEND => {
                time = time.wrapping_add(delta | (u64::from(array0()?) << TS_SHIFT));
                8
            }
            TYPE_TIME_STAMP => {
                // rb_fix_abs_ts: the top bits come from the running time.
                let mut abs = delta | (u64::from(array0()?) << TS_SHIFT);
                if time & TS_MSB != 0 {
                    abs |= time & TS_MSB;
                    if abs < time {
                        abs = abs.wrapping_add(1 << 59);
                    }
                }
                time = abs;
                8
            }
            0 => {
                time = time.wrapping_add(delta);
                // array[0] holds the length, itself included.
                let n = array0()? as usize;
                let raw = n
                    .checked_sub(4)
                    .and_then(|n| data.get(at + 8..at + 8 + n))
                    .ok_or(PageError::Event(at))?;
                each(PageItem::Event { time_ns: time, raw });
                4 + n
            }
            1..=TYPE_DATA_MAX => {
                time = time.wrapping_add(delta);
                let n = type_len as usize * 4;
                let raw = data.get(at + 4..at + 4 + n).ok_or(PageError::Event(at))?;
                each(PageItem::Event { time_ns: time, raw });
                4 + n
            }
            _ => return Err(PageError::Event(at)),
        };
        if size < 4 {
            return Err(PageError::Event(at));
        }
        at += size;
    }
    Ok(())
}

/// Reads a header file of tracefs in one read: the kernel makes its text
/// anew for each read and (6.18, seen here) answers a second, offset read
/// with nothing, so std's small first read would cut it.
fn read_text(path: &Path) -> Result<String, FtraceError> {
    let read = || -> io::Result<String> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = File::open(path)?.read(&mut buf)?;
        buf.truncate(n);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    read().map_err(|source| FtraceError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The page layout of this tracefs, from its two header files.
pub fn page_format(tracefs: &Tracefs) -> Result<PageFormat, FtraceError> {
    let page = tracefs.root.join("events/header_page");
    let event = tracefs.root.join("events/header_event");
    let (a, b) = (read_text(&page)?, read_text(&event)?);
    PageFormat::parse(&a, &b).map_err(|(which, reason)| FtraceError::Layout {
        path: if which == 0 { page } else { event },
        reason,
    })
}

/// Writes `value` to a tracefs control file.
fn write(path: &Path, value: &str) -> Result<(), FtraceError> {
    let w = || -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).truncate(true).open(path)?;
        f.write_all(value.as_bytes())
    };
    w().map_err(|source| FtraceError::Write {
        path: path.to_owned(),
        value: value.trim().to_owned(),
        source,
    })
}

/// Removes the instances of sockscope runs whose process is gone (killed
/// by SIGKILL before cleaning up); their names. A failure is left alone
/// (the next run tries again).
pub fn remove_stale(tracefs: &Tracefs, proc_root: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(dir) = fs::read_dir(tracefs.root.join("instances")) else {
        return removed;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(INSTANCE_PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || proc_root.join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        disable_all(&path);
        if fs::remove_dir(&path).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// Turns every event of an instance off (best effort: before its rmdir).
fn disable_all(instance: &Path) {
    let _ = write(&instance.join("events/enable"), "0");
}

/// One CPU's trace_pipe_raw.
struct Pipe {
    cpu: u32,
    path: PathBuf,
    file: File,
}

/// The instance of this run: made in [`Instance::open`], removed when
/// dropped (however the run ends, a panic included).
pub struct Instance {
    dir: PathBuf,
    pipes: Vec<Pipe>,
    fmt: PageFormat,
    page: Vec<u8>,
    /// Where common_pid lies in every record.
    pid_at: usize,
    /// tid → tgid, from /proc (the ring records the thread).
    tgids: HashMap<u32, u32>,
    proc_root: PathBuf,
    /// Per tracepoint wanted, whether its kernel filter was taken (None:
    /// none asked).
    pub filters: Vec<Option<Result<(), io::Error>>>,
}

/// The most tids whose tgid is remembered.
const MAX_TGIDS: usize = 4096;

impl Instance {
    /// This run's instance directory.
    pub fn path(tracefs: &Tracefs) -> PathBuf {
        tracefs
            .root
            .join("instances")
            .join(format!("{INSTANCE_PREFIX}{}", std::process::id()))
    }

    /// Makes the instance, sets its clock (mono) and its buffer (`pages`
    /// × 4 KiB per CPU), installs the filters, enables the events and
    /// opens each CPU's pipe. Whatever fails, the instance is removed.
    pub fn open(
        tracefs: &Tracefs,
        wants: &[Want],
        cpus: &[u32],
        pages: usize,
        pid_at: usize,
        proc_root: &Path,
    ) -> Result<Instance, FtraceError> {
        let fmt = page_format(tracefs)?;
        let dir = Instance::path(tracefs);
        fs::create_dir(&dir).map_err(|source| match source.kind() {
            io::ErrorKind::PermissionDenied => FtraceError::Denied {
                path: dir.clone(),
                source,
            },
            io::ErrorKind::NotFound => FtraceError::NoInstances {
                path: tracefs.root.clone(),
            },
            _ => FtraceError::Create {
                path: dir.clone(),
                source,
            },
        })?;
        // From here, Drop removes it.
        let mut instance = Instance {
            dir,
            pipes: Vec::new(),
            fmt,
            page: vec![0; fmt.page_len()],
            pid_at,
            tgids: HashMap::new(),
            proc_root: proc_root.to_owned(),
            filters: Vec::new(),
        };
        let dir = instance.dir.clone();
        // kernel/trace/trace_clock.c: "mono" is ktime_get_mono_fast_ns,
        // CLOCK_MONOTONIC, as the perf reader's samples.
        write(&dir.join("trace_clock"), "mono")?;
        write(&dir.join("buffer_size_kb"), &(pages * 4).to_string())?;
        for want in wants {
            let taken = want.filter.as_ref().map(|f| {
                let path = dir.join("events").join(&want.name).join("filter");
                match write(&path, f) {
                    Ok(()) => Ok(()),
                    Err(FtraceError::Write { source, .. }) => Err(source),
                    Err(e) => Err(io::Error::other(e.to_string())),
                }
            });
            instance.filters.push(taken);
        }
        for want in wants {
            write(&dir.join("events").join(&want.name).join("enable"), "1")?;
        }
        for &cpu in cpus {
            let path = dir.join(format!("per_cpu/cpu{cpu}/trace_pipe_raw"));
            let file = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)
                .map_err(|source| FtraceError::Read {
                    path: path.clone(),
                    source,
                })?;
            instance.pipes.push(Pipe { cpu, path, file });
        }
        Ok(instance)
    }

    /// Waits until a CPU's buffer is half full (the instance's
    /// buffer_percent), `timeout` ends, or one of `extra` (the stop
    /// signals, stdout) wakes. Returns whether the last of `extra` (stdout)
    /// closed.
    pub fn wait(&self, timeout: Duration, extra: &[BorrowedFd<'_>]) -> Result<bool, FtraceError> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut fds: Vec<PollFd<'_>> = self
            .pipes
            .iter()
            .map(|p| PollFd::from_borrowed_fd(p.file.as_fd(), PollFlags::IN))
            .collect();
        for (i, fd) in extra.iter().enumerate() {
            let last = i + 1 == extra.len();
            // No events asked of stdout: a pipe whose reader left reports
            // POLLERR.
            let ask = if last {
                PollFlags::empty()
            } else {
                PollFlags::IN
            };
            fds.push(PollFd::from_borrowed_fd(*fd, ask));
        }
        let ts = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        match poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(FtraceError::Poll(e.into())),
        }
        Ok(!extra.is_empty()
            && fds
                .last()
                .is_some_and(|f| f.revents().intersects(PollFlags::ERR | PollFlags::HUP)))
    }

    /// Reads every CPU's finished pages (at most the buffer's worth each,
    /// so a busy CPU cannot hold the reader forever), handing the records
    /// to `each`; a page that cannot be parsed counts in the result.
    pub fn drain(&mut self, each: &mut dyn FnMut(Record<'_>)) -> Result<u64, FtraceError> {
        let mut bad = 0;
        let most = 1 << 16;
        for pipe in &mut self.pipes {
            for _ in 0..most {
                let n = match pipe.file.read(&mut self.page) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        return Err(FtraceError::Read {
                            path: pipe.path.clone(),
                            source,
                        });
                    }
                };
                let cpu = pipe.cpu;
                let (tgids, proc_root, pid_at) = (&mut self.tgids, &self.proc_root, self.pid_at);
                let r = parse_page(&self.fmt, &self.page[..n], &mut |item| match item {
                    PageItem::Missed(Missed::Exact(count)) => each(Record::Lost { cpu, count }),
                    PageItem::Missed(Missed::AtLeastOne) => {
                        each(Record::LostAtLeast { cpu, count: 1 })
                    }
                    PageItem::Event { time_ns, raw } => {
                        // include/linux/trace_events.h: struct trace_entry's
                        // common_pid (the thread).
                        let tid = u32_at(raw, pid_at).unwrap_or(0);
                        let pid = tgid(tgids, proc_root, tid);
                        each(Record::Sample {
                            cpu,
                            time_ns,
                            pid,
                            tid,
                            raw,
                        })
                    }
                });
                if r.is_err() {
                    bad += 1;
                }
            }
        }
        Ok(bad)
    }

    /// Closes the pipes, turns the events off and removes the directory.
    fn remove(&mut self) -> io::Result<()> {
        self.pipes.clear();
        disable_all(&self.dir);
        fs::remove_dir(&self.dir)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // rmdir fails with EBUSY while a file of the instance is open:
        // the pipes are closed first; nothing else is left to hold it.
        if self.remove().is_err() {
            let _ = writeln!(
                io::stderr().lock(),
                "sockscope: could not remove the tracefs instance {} (rmdir it as root)",
                self.dir.display()
            );
        }
    }
}

/// The thread group of `tid` (PROC/TID/status's Tgid), `tid` itself when
/// unknown; 0 stays 0 (the idle task).
fn tgid(cache: &mut HashMap<u32, u32>, proc_root: &Path, tid: u32) -> u32 {
    if tid == 0 {
        return 0;
    }
    if let Some(&g) = cache.get(&tid) {
        return g;
    }
    if cache.len() >= MAX_TGIDS {
        cache.clear();
    }
    let g = fs::read_to_string(proc_root.join(tid.to_string()).join("status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(tid);
    cache.insert(tid, g);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER_PAGE: &str = include_str!("../../fixtures/tracefs/6.18/events/header_page");
    const HEADER_EVENT: &str = include_str!("../../fixtures/tracefs/6.18/events/header_event");

    fn fmt() -> PageFormat {
        PageFormat::parse(HEADER_PAGE, HEADER_EVENT).unwrap()
    }

    #[test]
    fn the_recorded_headers_give_the_6_18_layout() {
        assert_eq!(
            fmt(),
            PageFormat {
                timestamp: 0,
                commit: 8,
                commit_size: 8,
                data: 16,
                data_size: 4080
            }
        );
    }

    #[test]
    fn unknown_layouts_are_refused() {
        let e = PageFormat::parse(HEADER_PAGE, &HEADER_EVENT.replace("27", "26")).unwrap_err();
        assert_eq!(e.0, 1);
        let e =
            PageFormat::parse(&HEADER_PAGE.replace("commit", "kommit"), HEADER_EVENT).unwrap_err();
        assert_eq!(e.0, 0);
        assert!(PageFormat::parse("", HEADER_EVENT).is_err());
    }

    /// A page built by hand: header, then events.
    fn page(ts: u64, commit_flags: u64, events: &[u8], missed: Option<u64>) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[0..8].copy_from_slice(&ts.to_le_bytes());
        p[8..16].copy_from_slice(&((events.len() as u64) | commit_flags).to_le_bytes());
        p[16..16 + events.len()].copy_from_slice(events);
        if let Some(m) = missed {
            p[16 + events.len()..24 + events.len()].copy_from_slice(&m.to_le_bytes());
        }
        p
    }

    type Items = (Vec<(u64, Vec<u8>)>, Vec<Missed>, Result<(), PageError>);

    fn items(p: &[u8]) -> Items {
        let (mut ev, mut missed) = (Vec::new(), Vec::new());
        let r = parse_page(&fmt(), p, &mut |i| match i {
            PageItem::Event { time_ns, raw } => ev.push((time_ns, raw.to_vec())),
            PageItem::Missed(m) => missed.push(m),
        });
        (ev, missed, r)
    }

    #[test]
    fn small_long_extended_and_absolute_events() {
        let mut e = Vec::new();
        // type_len 2 (8 bytes), delta 5.
        e.extend_from_slice(&(2 | (5 << 5) as u32).to_le_bytes());
        e.extend_from_slice(&[1; 8]);
        // time extend: delta 1 + (2 << 27).
        e.extend_from_slice(&(30 | (1 << 5) as u32).to_le_bytes());
        e.extend_from_slice(&2u32.to_le_bytes());
        // type_len 0: length 8 (4 of it array[0]), delta 0.
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(&8u32.to_le_bytes());
        e.extend_from_slice(&[2; 4]);
        // padding with a length, then an absolute stamp 1000.
        e.extend_from_slice(&(29 | (1 << 5) as u32).to_le_bytes());
        e.extend_from_slice(&8u32.to_le_bytes());
        e.extend_from_slice(&[0; 4]);
        e.extend_from_slice(&(31 | (1000 << 5) as u32).to_le_bytes());
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(&(1 | (7 << 5) as u32).to_le_bytes());
        e.extend_from_slice(&[3; 4]);
        let (ev, missed, r) = items(&page(100, 0, &e, None));
        assert_eq!(r, Ok(()));
        assert!(missed.is_empty());
        assert_eq!(
            ev,
            vec![
                (105, vec![1; 8]),
                (105 + 1 + (2 << 27), vec![2; 4]),
                (1007, vec![3; 4])
            ]
        );
    }

    /// Regression: the missed flags come sign-extended in the 64-bit
    /// commit word (recorded: 0xffffffffc0000fbc); the page was refused as
    /// a commit past its data and its events and count were dropped.
    #[test]
    fn sign_extended_missed_flags() {
        let mut p = page(0, 0, &[], None);
        p[8..16].copy_from_slice(&0xffff_ffff_c000_0000u64.to_le_bytes());
        p[16..24].copy_from_slice(&7u64.to_le_bytes());
        let (ev, m, r) = items(&p);
        assert_eq!((ev.len(), m, r), (0, vec![Missed::Exact(7)], Ok(())));
        let recorded = include_bytes!("../../fixtures/tracefs/6.18/pages/missed-stored.bin");
        let (ev, m, r) = items(recorded);
        assert_eq!(r, Ok(()));
        assert_eq!(m, vec![Missed::Exact(1908)]);
        assert!(!ev.is_empty());
    }

    #[test]
    fn missed_events_exact_or_at_least_one() {
        let (_, m, _) = items(&page(0, RB_MISSED_EVENTS | RB_MISSED_STORED, &[], Some(42)));
        assert_eq!(m, vec![Missed::Exact(42)]);
        let (_, m, _) = items(&page(0, RB_MISSED_EVENTS, &[], None));
        assert_eq!(m, vec![Missed::AtLeastOne]);
    }

    #[test]
    fn broken_pages_are_refused_not_overrun() {
        assert_eq!(items(&[0; 10]).2, Err(PageError::Short));
        assert!(matches!(
            items(&page(0, 5000, &[], None)).2,
            Err(PageError::Commit(_))
        ));
        // A long event claiming more than the page holds.
        let mut e = Vec::new();
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(&9000u32.to_le_bytes());
        assert_eq!(items(&page(0, 0, &e, None)).2, Err(PageError::Event(0)));
    }

    /// Every page recorded from this kernel parses whole, and its events
    /// decode as the tracepoints they are.
    #[test]
    fn recorded_pages_parse_and_decode() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tracefs/6.18/pages");
        let mut n = 0;
        let formats = crate::source::tracefs::Formats::read(&Tracefs {
            root: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tracefs/6.18"),
        })
        .unwrap();
        let decoder = crate::source::tracefs::Decoder::new(&formats).unwrap();
        let mut paths: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths {
            let bytes = fs::read(&path).unwrap();
            let mut last = 0;
            let r = parse_page(&fmt(), &bytes, &mut |i| {
                if let PageItem::Event { time_ns, raw } = i {
                    assert!(time_ns >= last, "{}", path.display());
                    last = time_ns;
                    let e = decoder.decode(raw).unwrap();
                    assert!(e.is_some(), "{}", path.display());
                    n += 1;
                }
            });
            assert_eq!(r, Ok(()), "{}", path.display());
        }
        assert!(n >= 10, "{n} recorded events");
    }

    proptest::proptest! {
        /// Any bytes: an error or items within the page, never a panic.
        #[test]
        fn any_page_is_read_within_bounds(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4200)) {
            let mut total = 0usize;
            let _ = parse_page(&fmt(), &bytes, &mut |i| {
                if let PageItem::Event { raw, .. } = i {
                    total += raw.len();
                }
            });
            proptest::prop_assert!(total <= bytes.len());
        }
    }
}
