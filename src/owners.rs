//! Owners: which processes hold each socket, from one walk of /proc/*/fd.
//!
//! Every `/proc/PID/fd/N` link to a socket reads `socket:[INODE]`; one walk
//! over all processes builds an inode → (pid, fd) index, which a hash map
//! makes linear in the number of descriptors (ss -p uses a fixed 256-bucket
//! table and turns quadratic at a million sockets). The walk is split across
//! cores. Processes vanish mid-walk and other users' descriptors are hidden
//! from non-root: both are counted, never errors. Any other failure to read
//! a process (out of file descriptors first of all) is counted apart and
//! warned about: its sockets then show no owner.
//!
//! Connections still waiting in a listener's queue have no descriptor
//! (inode 0); [`attribute_queues`] ties them to the listener's owners.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{
    Attribution, Family, Owner, Protocol, QueueKind, Queued, RawNames, Socket, TcpState, UnixSocket,
};
use crate::source::input;

/// What the walk read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WalkStats {
    pub processes: usize,
    pub fds: usize,
    pub sockets: usize,
    /// Processes whose fd directory could not be read (EACCES: another
    /// user's process, for non-root).
    pub denied: usize,
    /// Processes that exited during the walk (ENOENT, ESRCH).
    pub vanished: usize,
    /// Processes whose fd directory could not be read for another reason
    /// (EMFILE/ENFILE: sockscope ran out of file descriptors); their
    /// sockets show no owner, and a warning says so.
    pub failed: usize,
    /// The errno of the first such failure.
    pub failed_errno: Option<i32>,
}

impl WalkStats {
    /// The warning for processes that could not be read (not vanished, not
    /// denied), or `None` when there were none.
    pub fn failure_note(&self) -> Option<String> {
        if self.failed == 0 {
            return None;
        }
        let errno = self.failed_errno.unwrap_or(0);
        let why = match errno {
            libc::EMFILE | libc::ENFILE => "sockscope ran out of file descriptors",
            _ => "they could not be read",
        };
        Some(format!(
            "warning: the file descriptors of {} process{} were not read ({why}: {}); \
             their sockets show no owner",
            self.failed,
            if self.failed == 1 { "" } else { "es" },
            io::Error::from_raw_os_error(errno)
        ))
    }
}

/// The /proc walk could not be done.
#[derive(Debug, thiserror::Error)]
pub enum OwnersError {
    #[error("cannot list processes in {}", crate::text::escape_path(path))]
    List {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A worker thread ended without its share (it panicked).
    #[error(
        "a thread walking the processes in {} failed",
        crate::text::escape_path(path)
    )]
    Thread { path: PathBuf },
}

/// Socket inode → owners, stored flat: a hash map holds each inode's first
/// descriptor inline (most sockets have one owner), further ones chain
/// through `more`; names are stored once per process. At a million
/// descriptors that is a few allocations instead of a million vectors, and
/// one cache miss per lookup.
#[derive(Debug, Default)]
pub struct OwnerIndex {
    first: FxHashMap<u64, Entry>,
    more: Vec<Entry>,
    processes: Vec<Process>,
    pub stats: WalkStats,
}

/// One descriptor of one process.
#[derive(Debug, Clone, Copy)]
struct Entry {
    fd: u32,
    /// Index into `processes`.
    process: u32,
    /// The next entry of the same inode in `more`, or [`NONE`].
    next: u32,
}

const NONE: u32 = u32::MAX;

/// What is read once per process that holds sockets.
#[derive(Debug, Clone)]
struct Process {
    pid: u32,
    comm: Arc<str>,
    cmdline: Option<Arc<str>>,
    raw: Option<Arc<RawNames>>,
}

/// Options of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// Also read /proc/PID/cmdline.
    pub cmdline: bool,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

impl OwnerIndex {
    /// Walks `proc_root/*/fd` once.
    pub fn walk(proc_root: &Path, opts: WalkOptions) -> Result<OwnerIndex, OwnersError> {
        let err = |source| OwnersError::List {
            path: proc_root.to_owned(),
            source,
        };
        let mut pids: Vec<u32> = Vec::new();
        for entry in std::fs::read_dir(proc_root).map_err(err)? {
            let entry = entry.map_err(err)?;
            if let Some(pid) = parse_pid(&entry.file_name()) {
                pids.push(pid);
            }
        }
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .clamp(1, pids.len().max(1));
        // Interleave pids so busy processes spread over the workers.
        let parts: Vec<PartIndex> = if threads == 1 {
            vec![walk_pids(proc_root, pids.iter().copied(), opts)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let pids = &pids;
                        scope.spawn(move || {
                            walk_pids(
                                proc_root,
                                pids.iter().skip(t).step_by(threads).copied(),
                                opts,
                            )
                        })
                    })
                    .collect();
                // A share that is lost would pass for processes without
                // sockets: a failed worker fails the walk.
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().map_err(|_| OwnersError::Thread {
                            path: proc_root.to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?
        };
        let mut index = OwnerIndex::default();
        let total: usize = parts.iter().map(|p| p.found.len()).sum();
        index.first.reserve(total);
        for part in parts {
            index.stats.processes += part.stats.processes;
            index.stats.fds += part.stats.fds;
            index.stats.sockets += part.stats.sockets;
            index.stats.denied += part.stats.denied;
            index.stats.vanished += part.stats.vanished;
            index.stats.failed += part.stats.failed;
            index.stats.failed_errno = index.stats.failed_errno.or(part.stats.failed_errno);
            let base = index.processes.len() as u32;
            index.processes.extend(part.processes);
            for (inode, fd, process) in part.found {
                index.insert(inode, fd, base + process);
            }
        }
        Ok(index)
    }

    fn insert(&mut self, inode: u64, fd: u32, process: u32) {
        let entry = Entry {
            fd,
            process,
            next: NONE,
        };
        match self.first.entry(inode) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let first = e.get_mut();
                self.more.push(Entry {
                    next: first.next,
                    ..entry
                });
                first.next = (self.more.len() - 1) as u32;
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(entry);
            }
        }
    }

    /// Appends the owners of a socket inode to `out`, ordered by pid and fd
    /// (nothing for inode 0 or an unknown one).
    pub fn owners_into(&self, inode: u64, out: &mut Vec<Owner>) {
        if inode == 0 {
            return;
        }
        let Some(first) = self.first.get(&inode) else {
            return;
        };
        let from = out.len();
        let mut entry = Some(first);
        while let Some(e) = entry {
            if let Some(p) = self.processes.get(e.process as usize) {
                out.push(Owner {
                    pid: p.pid,
                    fd: e.fd,
                    comm: Arc::clone(&p.comm),
                    cmdline: p.cmdline.clone(),
                    raw: p.raw.clone(),
                });
            }
            entry = self.more.get(e.next as usize);
        }
        if out.len() - from > 1 {
            out[from..].sort_unstable_by_key(|o| (o.pid, o.fd));
        }
    }

    /// The owners of a socket inode (empty for inode 0 or an unknown one).
    pub fn owners(&self, inode: u64) -> Vec<Owner> {
        let mut out = Vec::new();
        self.owners_into(inode, &mut out);
        out
    }
}

/// One worker's share of the walk.
#[derive(Default)]
struct PartIndex {
    /// (inode, fd, index into `processes`)
    found: Vec<(u64, u32, u32)>,
    processes: Vec<Process>,
    stats: WalkStats,
}

fn walk_pids(proc_root: &Path, pids: impl Iterator<Item = u32>, opts: WalkOptions) -> PartIndex {
    let mut part = PartIndex::default();
    let mut path = proc_root.to_path_buf();
    for pid in pids {
        path.push(pid.to_string());
        walk_process(&mut path, pid, opts, &mut part);
        path.pop();
    }
    part
}

/// Reads `path` (= proc_root/PID)/fd; `path` is left as it was given.
fn walk_process(path: &mut PathBuf, pid: u32, opts: WalkOptions, part: &mut PartIndex) {
    path.push("fd");
    let mut found: Vec<(u64, u32)> = Vec::new();
    let mut fds = 0;
    let read = for_each_link(path, |fd, link| {
        fds += 1;
        if let Some(inode) = socket_inode(link) {
            found.push((inode, fd));
        }
    });
    if let Err(e) = read {
        path.pop();
        // Only a process that exited is "vanished"; running out of
        // descriptors (EMFILE) or any other failure is counted and said.
        match e.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => part.stats.vanished += 1,
            Some(libc::EACCES | libc::EPERM) => part.stats.denied += 1,
            errno => {
                part.stats.failed += 1;
                part.stats.failed_errno = part.stats.failed_errno.or(errno).or(Some(libc::EIO));
            }
        }
        return;
    }
    part.stats.processes += 1;
    part.stats.fds += fds;
    path.pop();
    if found.is_empty() {
        return;
    }
    part.stats.sockets += found.len();
    // Only processes that hold sockets cost a comm (and cmdline) read.
    let process = part.processes.len() as u32;
    let (comm, raw_comm) = text(read_comm(path));
    let (cmdline, raw_cmdline) = match opts.cmdline {
        true => {
            let (t, raw) = text(read_cmdline(path));
            (Some(t), raw)
        }
        false => (None, None),
    };
    let raw = (raw_comm.is_some() || raw_cmdline.is_some()).then(|| {
        Arc::new(RawNames {
            comm: raw_comm,
            cmdline: raw_cmdline,
        })
    });
    part.processes.push(Process {
        pid,
        comm,
        cmdline,
        raw,
    });
    part.found
        .extend(found.into_iter().map(|(inode, fd)| (inode, fd, process)));
}

/// Calls `each(fd, link)` for every numeric entry of an fd directory.
///
/// Raw readdir + readlinkat on the open directory: one path lookup per
/// process instead of one per descriptor, and no allocation per entry,
/// which at 100k descriptors is most of the walk's cost. A readdir error
/// is an error, not the end of the listing.
fn for_each_link(dir: &Path, mut each: impl FnMut(u32, &[u8])) -> io::Result<()> {
    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut dir = Dir::open(&c)?;
    let dfd = dir.fd();
    // A socket link is "socket:[N]"; anything longer is not one.
    let mut buf = [0u8; 64];
    while let Some(name) = dir.next_name() {
        let name = name?;
        let Some(fd) = parse_pid(OsStr::from_bytes(name.to_bytes())) else {
            continue;
        };
        // SAFETY: dfd is the open directory, name NUL-terminated, buf
        // writable for buf.len() bytes.
        let n = unsafe { libc::readlinkat(dfd, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 && (n as usize) < buf.len() {
            each(fd, &buf[..n as usize]);
        } else if n > 0 {
            each(fd, b"");
        }
    }
    Ok(())
}

/// An open directory stream (opendir), closed once on drop: the one place
/// the walk holds a raw DIR pointer.
struct Dir(std::ptr::NonNull<libc::DIR>);

impl Dir {
    fn open(path: &CStr) -> io::Result<Dir> {
        // SAFETY: `path` is a valid NUL-terminated string.
        let dirp = unsafe { libc::opendir(path.as_ptr()) };
        std::ptr::NonNull::new(dirp)
            .map(Dir)
            .ok_or_else(io::Error::last_os_error)
    }

    fn fd(&self) -> libc::c_int {
        // SAFETY: self.0 is an open directory stream.
        unsafe { libc::dirfd(self.0.as_ptr()) }
    }

    /// The next entry's name (valid until the next call), `None` at the
    /// end, or the error readdir reported (errno set with a NULL return).
    fn next_name(&mut self) -> Option<io::Result<&CStr>> {
        // SAFETY: errno is thread-local; clearing it tells readdir's end
        // (errno untouched) from its failure.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: self.0 is an open directory stream.
        let ent = unsafe { libc::readdir64(self.0.as_ptr()) };
        if ent.is_null() {
            let err = io::Error::last_os_error();
            return (err.raw_os_error() != Some(0)).then_some(Err(err));
        }
        // SAFETY: d_name of a returned entry is NUL-terminated and stays
        // valid until the next readdir on this stream, which needs &mut self.
        Some(Ok(unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) }))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: self.0 came from opendir and is closed only here.
        unsafe { libc::closedir(self.0.as_ptr()) };
    }
}

fn parse_pid(name: &OsStr) -> Option<u32> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `socket:[12345]` → 12345 (fs/proc/fd.c via sockfs_dname()).
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// /proc/PID/comm without its newline (empty if unreadable). Opened as
/// every input is ([`input::open_regular`]): in a `--proc-root` tree a FIFO
/// or a device there is refused instead of blocking the walk.
fn read_comm(pid_dir: &Path) -> Vec<u8> {
    match input::read_to_end(&pid_dir.join("comm")) {
        Ok(mut bytes) => {
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
            bytes
        }
        Err(_) => Vec::new(),
    }
}

/// /proc/PID/cmdline with NULs as spaces (empty for kernel threads).
fn read_cmdline(pid_dir: &Path) -> Vec<u8> {
    match input::read_to_end(&pid_dir.join("cmdline")) {
        Ok(mut bytes) => {
            while bytes.last() == Some(&0) {
                bytes.pop();
            }
            for b in &mut bytes {
                if *b == 0 {
                    *b = b' ';
                }
            }
            bytes
        }
        Err(_) => Vec::new(),
    }
}

/// Text for the records (U+FFFD for bytes that are not UTF-8), and the
/// bytes themselves when that replacement was needed.
fn text(bytes: Vec<u8>) -> (Arc<str>, Option<Box<[u8]>>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s.into(), None),
        Err(e) => {
            let bytes = e.into_bytes();
            (
                String::from_utf8_lossy(&bytes).into(),
                Some(bytes.into_boxed_slice()),
            )
        }
    }
}

/// Gives each socket its owners from the index.
pub fn attach(sockets: &mut [Socket], index: &OwnerIndex) {
    for s in sockets {
        s.owners = Some(index.owners(s.inode));
    }
}

/// The same for UNIX sockets.
pub fn attach_unix(sockets: &mut [UnixSocket], index: &OwnerIndex) {
    for s in sockets {
        s.owners = Some(index.owners(s.inode));
    }
}

/// One TCP listener, as the kernel's listener lookup sees it.
#[derive(Debug)]
struct Listener {
    family: Family,
    /// The bound address without scope (a link-local scope is `dev`).
    ip: IpAddr,
    local: SocketAddr,
    /// sk_bound_dev_if (INET_DIAG idiag_if): SO_BINDTODEVICE or a
    /// link-local scope; `None` where the source cannot tell (/proc).
    dev: Option<u32>,
    /// IPV6_V6ONLY (INET_DIAG_SKV6ONLY).
    v6only: Option<bool>,
    /// sk_ack_backlog (idiag_rqueue, /proc's rx_queue): the accept queue's
    /// length, the kernel's own count.
    recv_q: u32,
    inode: u64,
    owners: Vec<Owner>,
}

/// How well a listener matches a connection, in the kernel's order: the
/// exact address is searched before the wildcard (inet_lhash2_lookup with
/// the destination, then INADDR_ANY / in6addr_any), and within one address
/// a listener bound to the device scores above an unbound one
/// (compute_score(), net/ipv4/inet_hashtables.c and
/// net/ipv6/inet6_hashtables.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    exact: bool,
    bound: bool,
}

/// The TCP listeners of a dump, by port, for tying queued connections to
/// the listener whose queue holds them.
#[derive(Debug, Default)]
pub struct Listeners {
    all: Vec<Listener>,
    by_port: FxHashMap<u16, Vec<usize>>,
}

impl Listeners {
    /// Remembers `s` if it is a TCP listener (its owners attached first).
    pub fn add(&mut self, s: &Socket) {
        if s.proto == Protocol::Tcp && s.state == TcpState::Listen {
            self.by_port
                .entry(s.local.port())
                .or_default()
                .push(self.all.len());
            self.all.push(Listener {
                family: s.family,
                ip: s.local.ip(),
                local: s.local,
                dev: s.ifindex,
                v6only: s.v6only,
                recv_q: s.recv_q,
                inode: s.inode,
                owners: s.owners.clone().unwrap_or_default(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The listeners that could hold `s` in their queue, best first.
    ///
    /// A queued connection (a child or request socket) has its listener's
    /// family: an IPv4 connection to an AF_INET6 listener is AF_INET6 with
    /// v4-mapped addresses (tcp_v6_syn_recv_sock), so families must be
    /// equal. Its device is its listener's bound device, or for IPv6 with a
    /// link-local peer the incoming interface (ir_iif): a listener bound to
    /// a device takes only connections of that device.
    fn candidates(&self, s: &Socket) -> Vec<(usize, Rank)> {
        let ip = s.local.ip();
        let mut found: Vec<(usize, Rank)> = self
            .by_port
            .get(&s.local.port())
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let l = self.all.get(i)?;
                if l.family != s.family {
                    return None;
                }
                let exact = if l.ip == ip {
                    true
                } else if l.ip.is_unspecified() {
                    // An IPV6_V6ONLY wildcard takes no v4-mapped connection.
                    let mapped = matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
                    if mapped && l.v6only == Some(true) {
                        return None;
                    }
                    false
                } else {
                    return None;
                };
                let bound = match l.dev {
                    Some(dev) if dev != 0 => {
                        if s.ifindex.is_some_and(|d| d != dev) {
                            return None;
                        }
                        true
                    }
                    _ => false,
                };
                Some((i, Rank { exact, bound }))
            })
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// True when the queue of `s` follows from the listeners alone, so that
    /// [`Listeners::resolve`] on `s` by itself gives what it gives with every
    /// other queued connection: a request socket (SYN queues have no count
    /// to check), or an accept-queue connection with one candidate listener,
    /// or one whose Recv-Q is not 0. Otherwise the answer depends on the
    /// other queued connections, which must be known first.
    pub fn decides_alone(&self, s: &Socket) -> bool {
        let cands = self.candidates(s);
        match queue_kind(s) {
            None => true,
            Some(QueueKind::Syn) => !cands.is_empty(),
            Some(QueueKind::Accept) => {
                cands.len() == 1
                    || cands
                        .iter()
                        .filter(|&&(l, _)| self.all[l].recv_q > 0)
                        .count()
                        == 1
            }
        }
    }

    /// The queue each of `conns` waits in (`None` for a socket that is in
    /// no queue, or whose listener is unknown).
    ///
    /// The kernel's lookup ranks the candidate listeners; their Recv-Q,
    /// the kernel's count of each accept queue, then decides: a listener
    /// with nothing queued holds none of them, one whose count is used up
    /// by connections that can only be its own holds no other, and a
    /// listener never gets more connections than its count. What the data
    /// cannot decide (an SO_REUSEPORT group: the same address, port and
    /// device; or more connections preferring a listener than it holds) is
    /// [`Attribution::OneOf`] the candidates.
    pub fn resolve(&self, conns: &[&Socket]) -> Vec<Option<Box<Queued>>> {
        let mut cands: Vec<Vec<(usize, Rank)>> = conns
            .iter()
            .map(|s| match queue_kind(s) {
                Some(_) => self.candidates(s),
                None => Vec::new(),
            })
            .collect();
        let accept = |i: usize| queue_kind(conns[i]) == Some(QueueKind::Accept);
        // Accept queues: a listener whose Recv-Q is 0 holds none of them
        // (unless no candidate has any: a connection that arrived after its
        // listener was dumped).
        for (i, c) in cands.iter_mut().enumerate() {
            if accept(i) && c.iter().any(|&(l, _)| self.all[l].recv_q > 0) {
                c.retain(|&(l, _)| self.all[l].recv_q > 0);
            }
        }
        // A listener whose count is filled by connections that can only be
        // its own holds no other; repeat until nothing changes.
        loop {
            let mut forced: FxHashMap<usize, u32> = FxHashMap::default();
            for (i, c) in cands.iter().enumerate() {
                if let ([(l, _)], true) = (c.as_slice(), accept(i)) {
                    *forced.entry(*l).or_default() += 1;
                }
            }
            let mut changed = false;
            for (i, c) in cands.iter_mut().enumerate() {
                if !accept(i) || c.len() < 2 {
                    continue;
                }
                let before = c.len();
                c.retain(|(l, _)| forced.get(l).is_none_or(|&n| n < self.all[*l].recv_q));
                if c.is_empty() {
                    // Recv-Q counted fewer than the dump holds (a race):
                    // keep the kernel's choice.
                    c.extend(self.candidates(conns[i]).into_iter().take(1));
                }
                changed |= c.len() != before;
            }
            if !changed {
                break;
            }
        }
        // The kernel's choice: the best-ranked candidates (several only in
        // an SO_REUSEPORT group, or where /proc does not tell devices).
        let best: Vec<Vec<usize>> = cands
            .iter()
            .map(|c| {
                let top = c.first().map(|&(_, r)| r);
                c.iter()
                    .take_while(|&&(_, r)| Some(r) == top)
                    .map(|&(l, _)| l)
                    .collect()
            })
            .collect();
        // More accept-queue connections preferring a set of listeners than
        // their Recv-Q holds: some came before that listener existed, and
        // which ones cannot be told.
        let mut demand: HashMap<&[usize], u32> = HashMap::new();
        for (i, b) in best.iter().enumerate() {
            if accept(i) && !b.is_empty() {
                *demand.entry(b.as_slice()).or_default() += 1;
            }
        }
        conns
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let kind = queue_kind(s)?;
                let b = &best[i];
                let room: u32 = b.iter().map(|&l| self.all[l].recv_q).sum();
                let over = kind == QueueKind::Accept
                    && demand.get(b.as_slice()).is_some_and(|&n| n > room)
                    && cands[i].len() > b.len();
                let chosen: Vec<usize> = if over {
                    cands[i].iter().map(|&(l, _)| l).collect()
                } else {
                    b.clone()
                };
                let first = *chosen.first()?;
                let mut owners: Vec<Owner> = Vec::new();
                for &l in &chosen {
                    for o in &self.all[l].owners {
                        if !owners.iter().any(|x| x.pid == o.pid && x.fd == o.fd) {
                            owners.push(o.clone());
                        }
                    }
                }
                owners.sort_by_key(|o| (o.pid, o.fd));
                Some(Box::new(Queued {
                    kind,
                    listener: plain(self.all[first].local),
                    listener_owners: owners,
                    attribution: if chosen.len() == 1 {
                        Attribution::Sure
                    } else {
                        Attribution::OneOf
                    },
                    listener_inodes: chosen.iter().map(|&l| self.all[l].inode).collect(),
                }))
            })
            .collect()
    }
}

/// Which queue a connection without a descriptor waits in; `None` for any
/// other socket. A child nobody accept()ed is ESTABLISHED, or CLOSE_WAIT
/// once the client closed (it stays queued and counted in Recv-Q); a
/// request socket is SYN_RECV. An inode-0 socket in another state is an
/// orphan the application already closed (FIN_WAIT*, LAST_ACK, CLOSING,
/// TIME_WAIT) and is in no queue.
pub fn queue_kind(s: &Socket) -> Option<QueueKind> {
    if s.proto != Protocol::Tcp || s.inode != 0 {
        return None;
    }
    match s.state {
        TcpState::Established | TcpState::CloseWait => Some(QueueKind::Accept),
        TcpState::SynRecv => Some(QueueKind::Syn),
        _ => None,
    }
}

/// Ties connections that wait in a listener's queue to that listener (see
/// [`Listeners::resolve`]). Needs the LISTEN sockets in `sockets`, and
/// their owners attached first.
pub fn attribute_queues(sockets: &mut [Socket]) {
    let mut listeners = Listeners::default();
    for s in sockets.iter() {
        listeners.add(s);
    }
    if listeners.is_empty() {
        return;
    }
    let queued: Vec<usize> = (0..sockets.len())
        .filter(|&i| queue_kind(&sockets[i]).is_some())
        .collect();
    let resolved = {
        let conns: Vec<&Socket> = queued.iter().map(|&i| &sockets[i]).collect();
        listeners.resolve(&conns)
    };
    for (i, q) in queued.into_iter().zip(resolved) {
        if q.is_some() {
            sockets[i].queue = q;
        }
    }
}

/// The address without IPv6 scope or flow info, for matching.
fn plain(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip(), a.port())
}

/// Sockets that have an inode (so some process held them) but no visible
/// owner: for non-root, other users' processes.
pub fn unowned_with_inode(sockets: &[Socket]) -> usize {
    sockets
        .iter()
        .filter(|s| s.inode != 0 && s.owners.as_ref().is_some_and(Vec::is_empty))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"socket:[12a]"), None);
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[99999999999999999999999]"), None);
    }

    #[test]
    fn pids() {
        assert_eq!(parse_pid(OsStr::new("812")), Some(812));
        assert_eq!(parse_pid(OsStr::new("self")), None);
        assert_eq!(parse_pid(OsStr::new("")), None);
        assert_eq!(parse_pid(OsStr::new("99999999999")), None);
    }

    fn tcp(state: TcpState, local: &str, remote: &str, inode: u64) -> Socket {
        Socket {
            inode,
            ..Socket::test_tcp(state, local, remote)
        }
    }

    fn owner(pid: u32, fd: u32) -> Owner {
        Owner {
            pid,
            fd,
            comm: "srv".into(),
            cmdline: None,
            raw: None,
        }
    }

    #[test]
    fn queued_connections_find_their_listener() {
        let mut l4 = tcp(TcpState::Listen, "0.0.0.0:80", "0.0.0.0:0", 10);
        l4.owners = Some(vec![owner(1, 3)]);
        let mut l6 = tcp(TcpState::Listen, "[::]:443", "[::]:0", 11);
        l6.owners = Some(vec![owner(2, 4), owner(3, 4)]);
        let mut specific = tcp(TcpState::Listen, "127.0.0.2:80", "0.0.0.0:0", 12);
        specific.owners = Some(vec![owner(4, 5)]);
        let mut socks = vec![
            l4,
            l6,
            specific,
            tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5000", 0),
            tcp(TcpState::SynRecv, "127.0.0.2:80", "127.0.0.1:5001", 0),
            tcp(
                TcpState::Established,
                "[::ffff:127.0.0.1]:443",
                "[::ffff:127.0.0.1]:5002",
                0,
            ),
            tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5003", 99),
            tcp(TcpState::TimeWait, "127.0.0.1:80", "127.0.0.1:5004", 0),
            tcp(TcpState::Established, "127.0.0.1:8080", "127.0.0.1:5005", 0),
        ];
        attribute_queues(&mut socks);
        let q = socks[3].queue.as_ref().expect("wildcard listener");
        assert_eq!((q.kind, q.listener_owners[0].pid), (QueueKind::Accept, 1));
        let q = socks[4].queue.as_ref().expect("specific listener first");
        assert_eq!((q.kind, q.listener_owners[0].pid), (QueueKind::Syn, 4));
        let q = socks[5]
            .queue
            .as_ref()
            .expect("v4-mapped to the :: listener");
        assert_eq!(q.listener_owners.len(), 2);
        assert!(socks[6].queue.is_none(), "accepted: has an inode");
        assert!(socks[7].queue.is_none(), "TIME_WAIT is in no queue");
        assert!(socks[8].queue.is_none(), "no listener on 8080");
    }

    fn listener(local: &str, recv_q: u32, inode: u64, pid: u32) -> Socket {
        let mut l = tcp(TcpState::Listen, local, "0.0.0.0:0", inode);
        l.recv_q = recv_q;
        l.ifindex = Some(0);
        l.owners = Some(vec![owner(pid, 3)]);
        l
    }

    fn queued_to(local: &str, state: TcpState, ifindex: u32) -> Socket {
        let mut c = tcp(state, local, "127.0.0.1:5000", 0);
        c.ifindex = Some(ifindex);
        c
    }

    fn who(s: &Socket) -> Option<(Vec<u32>, Attribution)> {
        s.queue.as_ref().map(|q| {
            (
                q.listener_owners.iter().map(|o| o.pid).collect(),
                q.attribution,
            )
        })
    }

    /// attribute_queues, checking on the way that what the streamed path
    /// decides alone (decides_alone, then resolve on one connection) is
    /// what the whole batch decides.
    fn attribute(socks: &mut [Socket]) {
        let mut listeners = Listeners::default();
        for s in socks.iter() {
            listeners.add(s);
        }
        let alone: Vec<Option<Option<Box<Queued>>>> = socks
            .iter()
            .map(|s| {
                (queue_kind(s).is_some() && listeners.decides_alone(s))
                    .then(|| listeners.resolve(&[s]).pop().flatten())
            })
            .collect();
        attribute_queues(socks);
        for (s, a) in socks.iter().zip(alone) {
            if let Some(q) = a {
                assert_eq!(q, s.queue, "decided alone vs in the batch: {s:?}");
            }
        }
    }

    #[test]
    fn recv_q_overrules_the_exact_address() {
        // (a): the wildcard listener holds the connection made before the
        // exact one existed; the exact one's Recv-Q is 0.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 0, 11, 2),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        // Both have one: the kernel's choice (exact) for a lone connection
        // would leave the wildcard's count unexplained; with two
        // connections and one each, which is whose cannot be told.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 1, 11, 2),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
            queued_to("127.0.0.1:8092", TcpState::CloseWait, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1, 2], Attribution::OneOf)));
        assert_eq!(who(&socks[3]), Some((vec![1, 2], Attribution::OneOf)));
        // A connection that can only be the wildcard's fills its count: the
        // other is the exact listener's.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 1, 11, 2),
            queued_to("127.0.0.2:8092", TcpState::Established, 0),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[3]), Some((vec![2], Attribution::Sure)));
    }

    #[test]
    fn device_family_and_reuseport() {
        // (b): a listener bound to device 5 takes only device 5's
        // connections, whatever its Recv-Q.
        let mut bound = listener("127.0.0.1:80", 1, 11, 2);
        bound.ifindex = Some(5);
        let mut socks = vec![
            listener("0.0.0.0:80", 1, 10, 1),
            bound,
            queued_to("127.0.0.1:80", TcpState::Established, 0),
            queued_to("127.0.0.1:80", TcpState::Established, 5),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[3]), Some((vec![2], Attribution::Sure)));
        // (c): one address, port and device: an SO_REUSEPORT group.
        let mut socks = vec![
            listener("0.0.0.0:81", 1, 10, 100),
            listener("0.0.0.0:81", 1, 11, 101),
            listener("0.0.0.0:81", 0, 12, 102),
            queued_to("127.0.0.1:81", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(
            who(&socks[3]),
            Some((vec![100, 101], Attribution::OneOf)),
            "a member with nothing queued holds none"
        );
        // (d): one link-local address on two devices.
        let mut a = listener("[fe80::1]:82", 1, 10, 1);
        a.ifindex = Some(2);
        let mut b = listener("[fe80::1]:82", 1, 11, 2);
        b.ifindex = Some(3);
        let mut socks = vec![a, b, queued_to("[fe80::1]:82", TcpState::Established, 3)];
        socks[2].remote = "[fe80::2]:5000".parse().unwrap();
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![2], Attribution::Sure)));
        // Families: an IPv4 connection is an AF_INET listener's; a
        // v4-mapped one a dual-stack wildcard's, never a v6only one's.
        let mut v6only = listener("[::]:83", 1, 11, 2);
        v6only.v6only = Some(true);
        let mut dual = listener("[::]:84", 1, 12, 3);
        dual.v6only = Some(false);
        let mut socks = vec![
            listener("0.0.0.0:83", 1, 10, 1),
            v6only,
            dual,
            queued_to("127.0.0.1:83", TcpState::Established, 0),
            queued_to("[::ffff:127.0.0.1]:83", TcpState::Established, 0),
            queued_to("[::ffff:127.0.0.1]:84", TcpState::Established, 0),
            queued_to("127.0.0.1:83", TcpState::FinWait2, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[3]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[4]), None, "v6only takes no IPv4");
        assert_eq!(who(&socks[5]), Some((vec![3], Attribution::Sure)));
        assert_eq!(who(&socks[6]), None, "an orphan is in no queue");
    }

    #[test]
    fn walks_a_fake_proc_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/owners");
        let index = OwnerIndex::walk(
            &root,
            WalkOptions {
                cmdline: true,
                threads: 2,
            },
        )
        .unwrap();
        let o = index.owners(1001);
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!((o[0].pid, o[0].fd, &*o[0].comm), (100, 3, "nginx"));
        assert_eq!((o[1].pid, o[1].fd), (101, 3));
        assert_eq!(o[0].cmdline.as_deref(), Some("nginx: master process"));
        assert_eq!(index.owners(1002)[0].fd, 7);
        assert!(index.owners(0).is_empty());
        assert!(index.owners(424242).is_empty());
        assert_eq!(index.stats.processes, 2);
        // 100: fds 0 (not a socket), 3, 7; 101: fd 3
        assert_eq!(index.stats.fds, 4);
        assert_eq!(index.stats.sockets, 3);
        assert_eq!(index.stats.vanished, 1, "102 has no fd directory");
    }

    #[test]
    fn missing_proc_root_is_an_error() {
        let e = OwnerIndex::walk(
            Path::new("/nonexistent/proc"),
            WalkOptions {
                cmdline: false,
                threads: 1,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/proc"));
    }
}
