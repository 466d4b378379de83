//! The machine's network namespaces: found ([`discover`]), opened and
//! checked ([`NsFile::open`]) and entered by the calling thread
//! ([`Entered`]).
//!
//! A namespace is the (device, inode) of its nsfs file. Processes show
//! theirs as `/proc/PID/ns/net` (readable for one's own processes, or as
//! root); a namespace kept alive by a bind mount has no process and shows
//! only as a file under /run/netns (`ip netns add`) or /run/docker/netns.
//!
//! Entering is setns(2) on the calling thread (rustix's safe wrapper): a
//! netlink socket made afterwards answers for the namespace entered, and so
//! do `/proc/thread-self/net/*` and `/proc/sys/net/*`; `/proc/net` (which
//! is `/proc/self/net`) keeps showing the thread-group leader's, so a
//! reader inside uses `thread-self`. Needs CAP_SYS_ADMIN.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::thread::LinkNameSpaceType;

use crate::model::NetnsId;
use crate::text::escape_path;

/// statfs f_type of nsfs (include/uapi/linux/magic.h: NSFS_MAGIC).
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// True for a file of nsfs (f_type's width differs between architectures).
#[allow(clippy::unnecessary_cast)]
fn is_nsfs(fs: &rustix::fs::StatFs) -> bool {
    fs.f_type as i64 == NSFS_MAGIC
}

/// Where namespaces kept by bind mounts are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsDirs {
    /// `ip netns` names: /run/netns.
    pub ip: PathBuf,
    /// Docker's sandboxes: /run/docker/netns.
    pub docker: PathBuf,
}

impl NetnsDirs {
    /// The directories under `root` (`/` on a live system).
    pub fn under(root: &Path) -> NetnsDirs {
        NetnsDirs {
            ip: root.join("run/netns"),
            docker: root.join("run/docker/netns"),
        }
    }
}

/// Why a namespace could not be opened or entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// (`error`, not `source`: the message carries it, once.)
    #[error("{}: {error}", escape_path(path))]
    Open {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a network namespace", escape_path(path))]
    NotNetns { path: PathBuf },
    /// The file now names another namespace than the one found (a pid that
    /// was reused, a name that was re-created).
    #[error("{} changed since it was listed", escape_path(path))]
    Changed { path: PathBuf },
    #[error("cannot enter the network namespace of {}: {error}", escape_path(path))]
    Enter {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot return to sockscope's own network namespace: {0}")]
    Return(std::io::Error),
}

impl NetnsError {
    /// True when the error is a refusal (not root), not a bad name.
    pub fn is_permission(&self) -> bool {
        let errno = match self {
            NetnsError::Open { error, .. } | NetnsError::Enter { error, .. } => {
                error.raw_os_error()
            }
            _ => None,
        };
        matches!(errno, Some(libc::EPERM | libc::EACCES))
    }

    /// True when the namespace (or its last process) is gone.
    pub fn is_gone(&self) -> bool {
        match self {
            NetnsError::Open { error, .. } => {
                matches!(error.raw_os_error(), Some(libc::ENOENT | libc::ESRCH))
            }
            NetnsError::Changed { .. } => true,
            _ => false,
        }
    }
}

/// An open network namespace file, checked to be one.
#[derive(Debug)]
pub struct NsFile {
    fd: OwnedFd,
    pub id: NetnsId,
    pub path: PathBuf,
}

impl NsFile {
    /// Opens `path` and checks it is a network namespace: an nsfs file
    /// that says it is one (NS_GET_NSTYPE). Nothing is entered.
    pub fn open(path: &Path) -> Result<NsFile, NetnsError> {
        let open_err = |e: rustix::io::Errno| NetnsError::Open {
            path: path.to_owned(),
            error: e.into(),
        };
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(open_err)?;
        let not = || NetnsError::NotNetns {
            path: path.to_owned(),
        };
        let fs = rustix::fs::fstatfs(&fd).map_err(open_err)?;
        if !is_nsfs(&fs) {
            return Err(not());
        }
        match ioctl_no_arg(fd.as_fd(), NS_GET_NSTYPE) {
            Ok(kind) if kind == libc::CLONE_NEWNET => {}
            _ => return Err(not()),
        }
        let st = rustix::fs::fstat(&fd).map_err(open_err)?;
        Ok(NsFile {
            fd,
            id: NetnsId {
                dev: st.st_dev,
                inode: st.st_ino,
            },
            path: path.to_owned(),
        })
    }

    /// Opens `path` and checks it still names `id`.
    pub fn open_expecting(path: &Path, id: NetnsId) -> Result<NsFile, NetnsError> {
        let file = NsFile::open(path)?;
        if file.id != id {
            return Err(NetnsError::Changed {
                path: path.to_owned(),
            });
        }
        Ok(file)
    }
}

/// The calling thread inside another network namespace; [`Entered::leave`]
/// (or dropping it) brings it back.
#[derive(Debug)]
pub struct Entered {
    home: OwnedFd,
    left: bool,
}

impl Entered {
    /// Moves the calling thread into `ns`, remembering where it was.
    pub fn enter(ns: &NsFile) -> Result<Entered, NetnsError> {
        let home = NsFile::open(Path::new("/proc/thread-self/ns/net"))?.fd;
        setns(&ns.fd).map_err(|error| NetnsError::Enter {
            path: ns.path.clone(),
            error,
        })?;
        Ok(Entered { home, left: false })
    }

    /// Returns the thread to the namespace it was in.
    pub fn leave(mut self) -> Result<(), NetnsError> {
        self.left = true;
        setns(&self.home).map_err(NetnsError::Return)
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        if !self.left {
            let _ = setns(&self.home);
        }
    }
}

fn setns(fd: &OwnedFd) -> std::io::Result<()> {
    rustix::thread::move_into_link_name_space(fd.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(Into::into)
}

/// The id of the namespace a path names (following a `/proc/PID/ns/net`
/// link), without opening it.
pub fn id_of(path: &Path) -> std::io::Result<NetnsId> {
    let st = rustix::fs::stat(path)?;
    Ok(NetnsId {
        dev: st.st_dev,
        inode: st.st_ino,
    })
}

/// ioctl asking a socket for its network namespace
/// (include/uapi/linux/sockios.h: SIOCGSKNS).
const SIOCGSKNS: libc::c_ulong = 0x894C;

/// ioctl asking an nsfs file which kind of namespace it is
/// (include/uapi/linux/nsfs.h: NS_GET_NSTYPE, `_IO(0xb7, 0x3)`).
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// An ioctl that takes no argument and answers in its return value. The
/// `unsafe` of sockscope, wrapped once: no crate wraps SIOCGSKNS or
/// NS_GET_NSTYPE (rustix's ioctl patterns drop the return value).
fn ioctl_no_arg(fd: std::os::fd::BorrowedFd<'_>, request: libc::c_ulong) -> std::io::Result<i32> {
    // SAFETY: both requests take no argument and touch no user memory;
    // `fd` is an open descriptor for the whole call (it is borrowed).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r)
}

/// The network namespace `sock` lives in, as a new descriptor.
fn socket_netns(sock: std::os::fd::BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    let fd = ioctl_no_arg(sock, SIOCGSKNS)?;
    // SAFETY: on success SIOCGSKNS returned a new descriptor that nothing
    // else owns; the OwnedFd closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The network namespaces the sockets of process `pid` live in: usually
/// its own, but a socket made elsewhere and passed over a UNIX socket
/// (SCM_RIGHTS), or made before a setns, lives in another. Each socket
/// descriptor is copied (pidfd_getfd: root, or the process's own user) and
/// asked (SIOCGSKNS); one descriptor per socket inode. `Err` when the
/// process cannot be looked at that way.
pub fn socket_namespaces(proc_root: &Path, pid: u32) -> std::io::Result<Vec<NetnsId>> {
    use std::collections::HashSet;
    let pid_t = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let pidfd = rustix::process::pidfd_open(pid_t, rustix::process::PidfdFlags::empty())?;
    let dir = proc_root.join(pid.to_string()).join("fd");
    let mut seen: HashSet<u64> = HashSet::new();
    let mut found: Vec<NetnsId> = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let Some(inode) = super::owners::socket_inode(link.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        if !seen.insert(inode) {
            continue;
        }
        let Ok(copy) = rustix::process::pidfd_getfd(
            &pidfd,
            rustix::fd::RawFd::from(fd),
            rustix::process::PidfdGetfdFlags::empty(),
        ) else {
            continue;
        };
        let Ok(ns) = socket_netns(copy.as_fd()) else {
            continue;
        };
        let Ok(st) = rustix::fs::fstat(&ns) else {
            continue;
        };
        let id = NetnsId {
            dev: st.st_dev,
            inode: st.st_ino,
        };
        if !found.contains(&id) {
            found.push(id);
        }
    }
    Ok(found)
}

/// One namespace found on the machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// A path the command line gave for it.
    pub path: Option<PathBuf>,
    /// Names under /run/netns that bind it, sorted.
    pub ip_names: Vec<String>,
    /// Ids under /run/docker/netns that bind it, sorted.
    pub docker: Vec<String>,
    /// Processes living in it, ascending.
    pub pids: Vec<u32>,
}

impl Found {
    /// The paths it can be opened by, best first: a bind mount stays while
    /// processes come and go.
    pub fn paths(&self, proc_root: &Path, dirs: &NetnsDirs) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.path.iter().cloned().collect();
        paths.extend(self.ip_names.iter().map(|n| dirs.ip.join(n)));
        paths.extend(self.docker.iter().map(|n| dirs.docker.join(n)));
        paths.extend(
            self.pids
                .iter()
                .map(|pid| proc_root.join(pid.to_string()).join("ns/net")),
        );
        paths
    }
}

/// Every network namespace found, by id, and what could not be looked at.
#[derive(Debug, Default)]
pub struct Discovery {
    pub found: BTreeMap<NetnsId, Found>,
    /// Processes whose namespace link could not be read (other users'
    /// processes, without root).
    pub denied: usize,
    /// The initial namespace ([`init_id`]: PID 1's, else kthreadd's), when
    /// it could be read.
    pub init: Option<NetnsId>,
}

/// The initial network namespace: PID 1's; when its link cannot be read
/// (not root, or a supervisor that refuses even root, as this kind of
/// sandbox's PID 1 does), kthreadd's: PID 2 with no parent (PPid 0) is the
/// kernel's thread creator of the initial PID namespace, which lives in the
/// initial network namespace (kernel/kthread.c; init/main.c starts it
/// second). `None` when neither can be read.
pub fn init_id(proc_root: &Path) -> Option<NetnsId> {
    if let Ok(id) = id_of(&proc_root.join("1/ns/net")) {
        return Some(id);
    }
    let status = super::input::read_to_end(&proc_root.join("2/status")).ok()?;
    // fs/proc/array.c: task_state() prints "PPid:\t%d".
    let orphan = status.split(|&b| b == b'\n').any(|l| {
        l.strip_prefix(b"PPid:")
            .is_some_and(|v| v.trim_ascii() == b"0")
    });
    if !orphan {
        return None;
    }
    id_of(&proc_root.join("2/ns/net")).ok()
}

/// Finds every network namespace: each process's (`proc_root/*/ns/net`,
/// deduplicated by id) and the bind mounts under `dirs`.
pub fn discover(proc_root: &Path, dirs: &NetnsDirs) -> std::io::Result<Discovery> {
    let mut d = Discovery::default();
    for entry in std::fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        match id_of(&entry.path().join("ns/net")) {
            Ok(id) => {
                d.found.entry(id).or_default().pids.push(pid);
                if pid == 1 {
                    d.init = Some(id);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => d.denied += 1,
            // Gone since listed, or a kernel thread: nothing to say.
            Err(_) => {}
        }
    }
    for (dir, docker) in [(&dirs.ip, false), (&dirs.docker, true)] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // A stale name (the mount is gone) is a plain file: not nsfs.
            let Ok(fs) = rustix::fs::statfs(&path) else {
                continue;
            };
            if !is_nsfs(&fs) {
                continue;
            }
            let Ok(id) = id_of(&path) else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let found = d.found.entry(id).or_default();
            if docker {
                found.docker.push(name);
            } else {
                found.ip_names.push(name);
            }
        }
    }
    if d.init.is_none() {
        d.init = init_id(proc_root);
    }
    for found in d.found.values_mut() {
        found.pids.sort_unstable();
        found.ip_names.sort();
        found.docker.sort();
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespace_is_found_and_opens() {
        let own = id_of(Path::new("/proc/thread-self/ns/net")).unwrap();
        let file = NsFile::open(Path::new("/proc/thread-self/ns/net")).unwrap();
        assert_eq!(file.id, own);
        let d = discover(Path::new("/proc"), &NetnsDirs::under(Path::new("/"))).unwrap();
        let me = std::process::id();
        assert!(
            d.found.values().any(|f| f.pids.contains(&me)),
            "this process's namespace is listed"
        );
    }

    #[test]
    fn other_files_are_not_namespaces() {
        for path in ["/etc/hostname", "/proc/self/ns/uts", "/dev/null"] {
            match NsFile::open(Path::new(path)) {
                Err(NetnsError::NotNetns { .. }) => {}
                Err(NetnsError::Open { .. }) => {}
                other => panic!("{path}: {other:?}"),
            }
        }
        let e = NsFile::open(Path::new("/no/such/ns")).unwrap_err();
        assert!(e.is_gone(), "{e}");
    }
}
