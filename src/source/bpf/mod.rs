//! Owners from the kernel itself: a BPF iterator of type `iter/task_file`
//! (Linux 5.8+) that writes one record per socket descriptor of every
//! process, read to EOF.
//!
//! Why: the /proc walk costs the kernel about 3 µs a descriptor (a path
//! lookup, revalidation and d_path per `readlink`), so `-tanp` at a
//! million sockets took 2.8x `-tan`. The iterator visits the same (task,
//! fd, file) triples from inside the kernel at about 0.3 µs each: 0.31 s
//! against 3.3 s for 1M socket descriptors on this machine (KERNEL-FACTS).
//!
//! How, with no toolchain beyond cargo: the program is a few dozen
//! instructions assembled here ([`asm`]) with the offsets the kernel's own
//! BTF gives ([`layout`], read by [`super::btf`]); it is loaded as a
//! TRACING program with expected attach type TRACE_ITER and
//! attach_btf_id = the BTF id of FUNC `bpf_iter_task_file`, under license
//! "GPL" (`bpf_seq_write` is GPL-only), linked (BPF_LINK_CREATE), made
//! into a readable file (BPF_ITER_CREATE) and read. Nothing is pinned and
//! no map is made: the program, link and iterator are file descriptors of
//! this process, closed when the read ends (or by the kernel when the
//! process dies, on Ctrl-C too).
//!
//! The program, for each (task, fd, file):
//! - keeps only files whose inode is a socket (`(i_mode & S_IFMT) ==
//!   S_IFSOCK`; `socket_file_ops` is in neither kallsyms nor BTF here),
//!   or is the run's marker (below);
//! - keeps only thread-group leaders (`tgid == pid`; threads share the
//!   leader's table, and the kernel skips them itself since 5.10);
//! - writes { pid, fd, inode } (16 bytes) with `bpf_seq_write`, where pid
//!   is the process's pid in the reader's pid namespace: `task->tgid` is
//!   the global pid, so the program reads `task->thread_pid->numbers[L].nr`
//!   with L the level of the reader's own namespace
//!   (`bpf_get_current_task_btf()->thread_pid->level`; the iterator only
//!   lists tasks of that namespace and those below it). L above
//!   [`layout::MAX_LEVELS`] writes pid 0, and the run falls back.
//!
//! The self-check: before the run sockscope opens a pipe, and the
//! program also writes the record of the pipe's inode. The run is only
//! believed when that record is exactly (getpid(), the pipe's fd, its
//! inode): that checks the context's slots, the fd and inode offsets and
//! the pid translation against the kernel on every run.

pub mod asm;
pub mod layout;

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use asm::{Asm, Reg, Size};
use layout::Layout;

use super::btf::{Btf, BtfError, BtfFileError};

/// include/uapi/linux/bpf.h: enum bpf_cmd.
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_LINK_CREATE: libc::c_int = 28;
const BPF_ITER_CREATE: libc::c_int = 33;
/// include/uapi/linux/bpf.h: BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER.
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
/// include/uapi/linux/bpf.h: enum bpf_func_id.
const FN_SEQ_WRITE: i32 = 127;
const FN_GET_CURRENT_TASK_BTF: i32 = 158;
/// include/uapi/linux/stat.h: S_IFMT, S_IFSOCK.
const S_IFMT: i32 = 0o170000;
const S_IFSOCK: i32 = 0o140000;
/// One record: pid (u32), fd (u32), inode (u64).
pub const RECORD_LEN: usize = 16;

/// One socket descriptor of one process, as the iterator wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Record {
    /// The process's pid in sockscope's pid namespace.
    pub pid: u32,
    pub fd: u32,
    pub inode: u64,
}

/// Why the iterator was not used (the /proc walk is, or with
/// `--owners-source bpf` the run fails).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("-T lists every thread's descriptors, the iterator one table per process")]
    Threads,
    #[error("--proc-root names a recorded tree, not this kernel's processes")]
    ProcRoot,
    /// /proc is mounted for another pid namespace than sockscope's: the
    /// iterator's pids (of sockscope's namespace) name other processes there.
    #[error(
        "/proc belongs to another pid namespace than sockscope's ({}): the iterator's pids would name other processes there",
        match shown {
            Some(pid) => format!("it shows sockscope as pid {pid}, not {ours}"),
            None => "sockscope is not in it".to_owned(),
        }
    )]
    ForeignProc {
        /// The pid /proc/self links to, if any.
        shown: Option<u32>,
        /// sockscope's pid in its own pid namespace.
        ours: u32,
    },
    #[error("it needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (run as root)")]
    Capabilities,
    /// sockscope runs in a user namespace other than the initial one: its
    /// capabilities are that namespace's, and bpf(2) checks them in the
    /// initial one (kernel/bpf/syscall.c: bpf_capable(), capable() against
    /// init_user_ns).
    #[error(
        "its capabilities are those of a user namespace, not of the initial one that bpf(2) checks"
    )]
    UserNamespace,
    #[error("no BTF at {} ({})", crate::text::escape_path(path), io::Error::from_raw_os_error(*errno))]
    NoBtf { path: PathBuf, errno: i32 },
    #[error(
        "the BTF at {} is not usable: {source}",
        crate::text::escape_path(path)
    )]
    Btf { path: PathBuf, source: BtfError },
    #[error("this kernel has no task_file iterator (Linux 5.8 and later have it)")]
    NoIterator,
    #[error("bpf(2) was refused ({}){}", io::Error::from_raw_os_error(*errno), refused_why(*seccomp, lockdown.as_deref()))]
    Refused {
        errno: i32,
        /// A seccomp filter is installed (/proc/self/status Seccomp: 2).
        seccomp: bool,
        /// The lockdown mode, when not "none".
        lockdown: Option<String>,
    },
    #[error("the kernel refused the program ({}){}", io::Error::from_raw_os_error(*errno), log.as_deref().map(|l| format!(": {l}")).unwrap_or_default())]
    Load { errno: i32, log: Option<String> },
    #[error("{what} failed ({})", io::Error::from_raw_os_error(*errno))]
    Syscall { what: &'static str, errno: i32 },
    #[error(
        "sockscope runs in a pid namespace nested deeper than the {levels} levels the program reads"
    )]
    DeepPidNamespace { levels: u32 },
    #[error("the iterator's records failed the self-check ({0})")]
    SelfCheck(String),
}

fn refused_why(seccomp: bool, lockdown: Option<&str>) -> String {
    match (seccomp, lockdown) {
        (true, _) => ": a seccomp filter is installed".to_owned(),
        (false, Some(mode)) => format!(": the kernel is locked down ({mode})"),
        (false, None) => ": a security module or sysctl refuses it".to_owned(),
    }
}

/// The records of one run, and what it cost.
#[derive(Debug, Default)]
pub struct TaskFiles {
    pub records: Vec<Record>,
    /// Reading BTF, assembling, loading and linking.
    pub setup: Duration,
    /// Reading the iterator to EOF.
    pub read: Duration,
}

/// Whether sockscope runs in a user namespace other than the initial one
/// (a rootless container, `unshare --user`). kernel/user_namespace.c: the
/// initial namespace's /proc/self/uid_map is the identity over every id,
/// `0 0 4294967295`; any other has its own map. Unreadable: not known, so
/// not assumed.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
}

/// Whether the effective capabilities allow loading the program.
pub fn capable() -> bool {
    use rustix::thread::CapabilitySet as C;
    match rustix::thread::capabilities(None) {
        Ok(sets) => {
            let e = sets.effective;
            e.contains(C::SYS_ADMIN) || (e.contains(C::BPF) && e.contains(C::PERFMON))
        }
        Err(_) => false,
    }
}

/// The iterator, loaded and attached, not read yet: what can fail for
/// want of privileges, BTF or a kernel that takes the program has been
/// tried, so the read (on another thread, beside the socket dump) only
/// has its own failures left.
#[derive(Debug)]
pub struct Prepared {
    iter: OwnedFd,
    link: OwnedFd,
    prog: OwnedFd,
    marker: std::io::PipeReader,
    marker_ino: u64,
    pid_levels: u32,
    setup: Duration,
}

/// Checks, reads BTF, assembles, loads and attaches the program, and makes
/// the iterator to read.
pub fn prepare(btf_path: &Path) -> Result<Prepared, Unavailable> {
    let start = Instant::now();
    if in_user_namespace() {
        return Err(Unavailable::UserNamespace);
    }
    if !capable() {
        return Err(Unavailable::Capabilities);
    }
    let btf = Btf::from_file(btf_path).map_err(|e| match e {
        BtfFileError::Read { path, source } => Unavailable::NoBtf {
            path,
            errno: source.raw_os_error().unwrap_or(libc::EIO),
        },
        BtfFileError::Parse { path, source } => Unavailable::Btf { path, source },
    })?;
    let layout = Layout::from_btf(&btf).map_err(|source| match source {
        BtfError::Missing { name, .. } if name == "bpf_iter_task_file" => Unavailable::NoIterator,
        source => Unavailable::Btf {
            path: btf_path.to_owned(),
            source,
        },
    })?;
    drop(btf);
    // Both ends of a pipe are one inode: the marker is the read end alone.
    let (marker_r, marker_w) = std::io::pipe().map_err(|e| Unavailable::Syscall {
        what: "pipe",
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    })?;
    drop(marker_w);
    let marker = rustix::fs::fstat(&marker_r).map_err(|e| Unavailable::Syscall {
        what: "fstat",
        errno: e.raw_os_error(),
    })?;
    let insns =
        program(&layout, marker.st_ino).map_err(|e| Unavailable::SelfCheck(e.to_string()))?;
    let prog = load(&insns, layout.func_id)?;
    let link =
        sys::link_create(prog.as_fd(), BPF_TRACE_ITER).map_err(|e| Unavailable::Syscall {
            what: "BPF_LINK_CREATE",
            errno: e.raw_os_error().unwrap_or(libc::EIO),
        })?;
    let iter = sys::iter_create(link.as_fd()).map_err(|e| Unavailable::Syscall {
        what: "BPF_ITER_CREATE",
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    })?;
    Ok(Prepared {
        iter,
        link,
        prog,
        marker: marker_r,
        marker_ino: marker.st_ino,
        pid_levels: layout.pid_levels,
        setup: start.elapsed(),
    })
}

impl Prepared {
    /// Reads the iterator to EOF, checks the marker's record, and closes
    /// the iterator, link and program.
    pub fn read(self) -> Result<TaskFiles, Unavailable> {
        let start = Instant::now();
        let bytes = read_all(&self.iter).map_err(|e| Unavailable::Syscall {
            what: "reading the iterator",
            errno: e.raw_os_error().unwrap_or(libc::EIO),
        })?;
        drop((self.iter, self.link, self.prog));
        let mut records = parse(&bytes);
        drop(bytes);
        let read = start.elapsed();
        check_marker(
            &mut records,
            rustix::process::getpid().as_raw_nonzero().get() as u32,
            self.marker.as_raw_fd() as u32,
            self.marker_ino,
        )?;
        drop(self.marker);
        if records.iter().any(|r| r.pid == 0) {
            return Err(Unavailable::DeepPidNamespace {
                levels: self.pid_levels,
            });
        }
        Ok(TaskFiles {
            records,
            setup: self.setup,
            read,
        })
    }
}

/// Finds and removes the marker's record; it must say (pid, fd, inode).
pub fn check_marker(
    records: &mut Vec<Record>,
    pid: u32,
    fd: u32,
    inode: u64,
) -> Result<(), Unavailable> {
    let found: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].inode == inode)
        .collect();
    match found.as_slice() {
        [i] if records[*i] == (Record { pid, fd, inode }) => {
            records.swap_remove(*i);
            Ok(())
        }
        [i] => {
            let r = records[*i];
            if r.pid == 0 {
                let levels = layout::MAX_LEVELS;
                return Err(Unavailable::DeepPidNamespace { levels });
            }
            Err(Unavailable::SelfCheck(format!(
                "the marker pipe came back as pid {} fd {}, not pid {pid} fd {fd}",
                r.pid, r.fd
            )))
        }
        [] => Err(Unavailable::SelfCheck(format!(
            "no record of the marker pipe (pid {pid} fd {fd} inode {inode}) among {}",
            records.len()
        ))),
        more => Err(Unavailable::SelfCheck(format!(
            "{} records of the marker pipe",
            more.len()
        ))),
    }
}

/// The records in `bytes` (a partial record at the end is dropped).
pub fn parse(bytes: &[u8]) -> Vec<Record> {
    bytes
        .chunks_exact(RECORD_LEN)
        .map(|r| {
            let word = |at: usize| u32::from_ne_bytes(r[at..at + 4].try_into().unwrap_or_default());
            Record {
                pid: word(0),
                fd: word(4),
                inode: u64::from_ne_bytes(r[8..16].try_into().unwrap_or_default()),
            }
        })
        .collect()
}

/// The program (see the module doc).
pub fn program(l: &Layout, marker: u64) -> Result<Vec<asm::Insn>, asm::AsmError> {
    use Reg::*;
    let mut a = Asm::new();
    let out = a.new_label();
    let leader = a.new_label();
    let store = a.new_label();
    a.mov(R6, R1); // r6 = ctx
    a.load(Size::Dw, R2, R6, l.ctx_task); // r2 = task (or NULL)
    a.jeq_imm(R2, 0, out);
    a.load(Size::Dw, R3, R6, l.ctx_file); // r3 = file (or NULL)
    a.jeq_imm(R3, 0, out);
    a.load(Size::Dw, R3, R3, l.file_inode); // r3 = file->f_inode
    a.jeq_imm(R3, 0, out);
    let ino_size = Size::of(l.inode_ino_size).unwrap_or(Size::Dw);
    a.load(ino_size, R7, R3, l.inode_ino); // r7 = inode->i_ino
    a.ld_imm64(R1, marker);
    a.jeq(R7, R1, leader);
    let mode_size = Size::of(l.inode_mode_size).unwrap_or(Size::H);
    a.load(mode_size, R1, R3, l.inode_mode); // r1 = inode->i_mode
    a.and_imm(R1, S_IFMT);
    a.jne_imm(R1, S_IFSOCK, out);
    a.label(leader);
    a.load(Size::W, R1, R2, l.task_tgid);
    a.load(Size::W, R4, R2, l.task_pid);
    a.jne(R1, R4, out); // a thread that is not the leader
    a.load(Size::Dw, R8, R2, l.task_thread_pid); // r8 = task->thread_pid
    a.load(Size::W, R9, R6, l.ctx_fd); // r9 = fd
    a.call(FN_GET_CURRENT_TASK_BTF); // r0 = the reading task
    a.load(Size::Dw, R0, R0, l.task_thread_pid);
    a.load(Size::W, R0, R0, l.pid_level); // r0 = the reader's level
    a.mov_imm(R1, 0); // pid 0: a level the program does not read
    for level in 0..l.pid_levels {
        let next = a.new_label();
        a.jne_imm(R0, level as i32, next);
        let off =
            i32::from(l.pid_numbers) + level as i32 * i32::from(l.upid_size) + i32::from(l.upid_nr);
        let Ok(off) = i16::try_from(off) else {
            break;
        };
        a.load(Size::W, R1, R8, off);
        a.ja(store);
        a.label(next);
    }
    a.label(store);
    a.store(Size::W, R10, -16, R1);
    a.store(Size::W, R10, -12, R9);
    a.store(Size::Dw, R10, -8, R7);
    a.load(Size::Dw, R1, R6, l.ctx_meta);
    a.load(Size::Dw, R1, R1, l.meta_seq); // r1 = ctx->meta->seq
    a.mov(R2, R10);
    a.add_imm(R2, -16);
    a.mov_imm(R3, RECORD_LEN as i32);
    a.call(FN_SEQ_WRITE);
    a.label(out);
    a.mov_imm(R0, 0);
    a.exit();
    a.finish()
}

/// Loads the program; a refusal says why (the verifier's last lines when
/// it was the verifier).
fn load(insns: &[asm::Insn], func_id: u32) -> Result<OwnedFd, Unavailable> {
    match sys::prog_load(insns, func_id, None) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            if errno == libc::EPERM || errno == libc::ENOSYS {
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                let seccomp = status
                    .lines()
                    .any(|l| l.starts_with("Seccomp:") && l.split_whitespace().nth(1) == Some("2"));
                let lockdown = std::fs::read_to_string("/sys/kernel/security/lockdown")
                    .ok()
                    .and_then(|s| {
                        let mode = s.split_whitespace().find(|w| w.starts_with('['))?;
                        let mode = mode.trim_matches(['[', ']']);
                        (mode != "none").then(|| mode.to_owned())
                    });
                return Err(Unavailable::Refused {
                    errno,
                    seccomp,
                    lockdown,
                });
            }
            // Once more with the verifier's log, to say what it refused.
            let mut log = vec![0u8; 64 * 1024];
            let _ = sys::prog_load(insns, func_id, Some(&mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let last: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let log = (!last.is_empty()).then(|| last[last.len().saturating_sub(2)..].join(" / "));
            Err(Unavailable::Load { errno, log })
        }
    }
}

/// Reads the iterator to EOF. A read may answer EAGAIN after the kernel
/// has passed many objects with nothing to write (kernel/bpf/bpf_iter.c:
/// MAX_ITER_OBJECTS); it goes on from there when asked again.
fn read_all(iter: &OwnedFd) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut buf = vec![0u8; 256 * 1024];
    let mut again = 0u32;
    loop {
        match rustix::io::read(iter, &mut buf[..]) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e == rustix::io::Errno::INTR => {}
            Err(e) if e == rustix::io::Errno::AGAIN && again < 1_000_000 => again += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The bpf(2) calls, the only unsafe code of the iterator.
mod sys {
    use super::*;

    /// include/uapi/linux/bpf.h: union bpf_attr, BPF_PROG_LOAD's part up
    /// to attach_btf_obj_fd.
    #[repr(C)]
    #[derive(Default)]
    struct ProgLoad {
        prog_type: u32,
        insn_cnt: u32,
        insns: u64,
        license: u64,
        log_level: u32,
        log_size: u32,
        log_buf: u64,
        kern_version: u32,
        prog_flags: u32,
        prog_name: [u8; 16],
        prog_ifindex: u32,
        expected_attach_type: u32,
        prog_btf_fd: u32,
        func_info_rec_size: u32,
        func_info: u64,
        func_info_cnt: u32,
        line_info_rec_size: u32,
        line_info: u64,
        line_info_cnt: u32,
        attach_btf_id: u32,
        attach_btf_obj_fd: u32,
        _pad: u32,
    }

    /// include/uapi/linux/bpf.h: BPF_LINK_CREATE's part (iter_info 0:
    /// every task).
    #[repr(C)]
    #[derive(Default)]
    struct LinkCreate {
        prog_fd: u32,
        target_fd: u32,
        attach_type: u32,
        flags: u32,
        iter_info: u64,
        iter_info_len: u32,
        _pad: u32,
    }

    /// include/uapi/linux/bpf.h: BPF_ITER_CREATE's part.
    #[repr(C)]
    #[derive(Default)]
    struct IterCreate {
        link_fd: u32,
        flags: u32,
    }

    /// bpf(cmd, attr, sizeof attr), for a command that returns a new fd.
    fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<OwnedFd> {
        // SAFETY: `attr` is a live, initialised #[repr(C)] prefix of union
        // bpf_attr of exactly the size passed; the pointers inside it (if
        // any) point to buffers that outlive the call, with the lengths
        // given beside them.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                attr as *mut T as *mut libc::c_void,
                std::mem::size_of::<T>() as libc::c_uint,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: these commands return a new file descriptor that nothing
        // else owns (the kernel sets O_CLOEXEC on it).
        Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
    }

    pub fn prog_load(
        insns: &[asm::Insn],
        func_id: u32,
        log: Option<&mut [u8]>,
    ) -> io::Result<OwnedFd> {
        let license = c"GPL";
        let mut name = [0u8; 16];
        name[..13].copy_from_slice(b"sockscope_own");
        let (log_level, log_size, log_buf) = match log {
            Some(buf) => (1, buf.len() as u32, buf.as_mut_ptr() as u64),
            None => (0, 0, 0),
        };
        let mut attr = ProgLoad {
            prog_type: BPF_PROG_TYPE_TRACING,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: license.as_ptr() as u64,
            log_level,
            log_size,
            log_buf,
            prog_name: name,
            expected_attach_type: BPF_TRACE_ITER,
            attach_btf_id: func_id,
            ..ProgLoad::default()
        };
        bpf(BPF_PROG_LOAD, &mut attr)
    }

    pub fn link_create(prog: std::os::fd::BorrowedFd<'_>, attach_type: u32) -> io::Result<OwnedFd> {
        let mut attr = LinkCreate {
            prog_fd: prog.as_raw_fd() as u32,
            attach_type,
            ..LinkCreate::default()
        };
        bpf(BPF_LINK_CREATE, &mut attr)
    }

    pub fn iter_create(link: std::os::fd::BorrowedFd<'_>) -> io::Result<OwnedFd> {
        let mut attr = IterCreate {
            link_fd: link.as_raw_fd() as u32,
            flags: 0,
        };
        bpf(BPF_ITER_CREATE, &mut attr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_and_the_marker_is_checked() {
        let mut bytes = Vec::new();
        for (pid, fd, ino) in [(10u32, 3u32, 555u64), (42, 7, 999), (10, 4, 556)] {
            bytes.extend_from_slice(&pid.to_ne_bytes());
            bytes.extend_from_slice(&fd.to_ne_bytes());
            bytes.extend_from_slice(&ino.to_ne_bytes());
        }
        bytes.extend_from_slice(&[1, 2, 3]); // a cut record is dropped
        let mut r = parse(&bytes);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1],
            Record {
                pid: 42,
                fd: 7,
                inode: 999
            }
        );
        let mut wrong = r.clone();
        assert!(matches!(
            check_marker(&mut wrong, 41, 7, 999),
            Err(Unavailable::SelfCheck(_))
        ));
        assert!(matches!(
            check_marker(&mut wrong, 42, 7, 12345),
            Err(Unavailable::SelfCheck(_))
        ));
        check_marker(&mut r, 42, 7, 999).unwrap();
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|x| x.inode != 999));
    }
}
