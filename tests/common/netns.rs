//! Real network namespaces made (and removed) by the namespace tests:
//!
//! - [`TestNetns`]: a named one (`ip netns add sstest-<pid>-<n>`, kept by its
//!   bind mount under /run/netns, deleted on drop), an unnamed one
//!   (`unshare -n sleep 120` as its anchor process, reached as `pid:PID`,
//!   killed by pid on drop), or one bind-mounted at any path (`unshare
//!   --net=FILE`, e.g. /run/docker/netns/ID; unmounted on drop); `lo` is up
//!   in each. [`TestNetns::enter`] runs a
//!   closure on a thread that did `setns(CLONE_NEWNET)` into it, so sockets
//!   and child processes made there live in the namespace.
//! - [`NsProc`]: a process started from such a thread, holding inherited
//!   socket descriptors (`sleep`, optionally as nobody through `setpriv`),
//!   killed by pid on drop; [`populate`] builds a [`Scenario`] in a
//!   namespace and hands its sockets to two holders.
//! - The oracle inside a namespace: `ip netns exec NAME ss -H -n ARGS -p` or
//!   `nsenter -t PID -n ss ...`, parsed into [`OwnedRow`]s (row + owner pids).
//!
//! Names carry the test process's pid, so parallel tests and parallel test
//! binaries never collide; namespaces a killed test run left behind (their
//! pid no longer running) are deleted the first time a named one is made.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use regex::Regex;

use super::oracle::{parse_ss_output, poll_until};
use super::rows::Row;
use super::scenario::Scenario;

/// Prefix of every namespace name these helpers make.
pub const NAME_PREFIX: &str = "sstest-";

/// Whether the tests run as root (they can make namespaces only then).
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// One line on stderr, past libtest's capture (a test that cannot check
/// something says so there, never silently).
pub fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// One socket as a row plus the pids of the processes holding it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnedRow {
    pub row: Row,
    pub pids: BTreeSet<u32>,
}

impl fmt::Display for OwnedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pids {:?}", self.row, self.pids)
    }
}

/// A readable diff of two multisets of owned rows (empty when equal).
pub fn diff_owned(expected: &[OwnedRow], actual: &[OwnedRow]) -> String {
    let mut missing: Vec<&OwnedRow> = Vec::new();
    let mut extra: Vec<&OwnedRow> = actual.iter().collect();
    for e in expected {
        match extra.iter().position(|a| *a == e) {
            Some(i) => {
                extra.remove(i);
            }
            None => missing.push(e),
        }
    }
    let mut out = String::new();
    for m in missing {
        out.push_str(&format!("  missing: {m}\n"));
    }
    for x in extra {
        out.push_str(&format!("  extra:   {x}\n"));
    }
    out
}

/// How a test namespace is kept alive and named.
enum Kind {
    /// `ip netns add NAME`: a bind mount at /run/netns/NAME.
    Named { name: String },
    /// `unshare -n sleep 120`: alive while that process is.
    Unnamed { anchor: Child },
    /// `unshare --net=FILE true`: kept by a bind mount at FILE (anywhere,
    /// e.g. /run/docker/netns/ID); `made` are the directories made for it.
    Mounted { file: PathBuf, made: Vec<PathBuf> },
}

/// A network namespace made by a test; removed on drop (see the module doc).
pub struct TestNetns {
    kind: Kind,
    inode: u64,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs `cmd` to completion within `limit` (killed by pid past it) and
/// returns its output; panics when it cannot be started or took longer.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    // Drain the pipes on threads so a chatty tool cannot block on them.
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let done = poll_until(limit, || matches!(child.try_wait(), Ok(Some(_))));
    if !done {
        let _ = child.kill();
    }
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("wait for {what}: {e}"));
    let out = Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    };
    assert!(done, "{what} took more than {limit:?}: killed");
    out
}

/// Runs `ip ARGS`; panics with its stderr when it fails.
fn ip(args: &[&str]) {
    let out = run_bounded(Command::new("ip").args(args), Duration::from_secs(10));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deletes `/run/netns/sstest-<pid>-*` left by test processes that no longer
/// run (a run killed before its guards dropped). Once per process.
fn sweep_stale() {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        let Ok(dir) = std::fs::read_dir("/run/netns") else {
            return;
        };
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(NAME_PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = run_bounded(
                    Command::new("ip").args(["netns", "delete", &name]),
                    Duration::from_secs(10),
                );
            }
        }
    });
}

/// The inode of the namespace `path` refers to (`stat -L`: nsfs inode).
pub fn ns_inode(path: &Path) -> io::Result<u64> {
    Ok(std::fs::metadata(path)?.ino())
}

/// The inode of this process's own network namespace.
pub fn own_inode() -> u64 {
    ns_inode(Path::new("/proc/self/ns/net")).expect("stat /proc/self/ns/net")
}

/// Runs `f` on a fresh thread that first did `setns(CLONE_NEWNET)` into the
/// namespace `path` refers to (sockets it makes and children it spawns live
/// there). Panics in `f` are propagated.
pub fn enter_path<T, F>(path: &Path, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let path = path.to_path_buf();
    let handle = std::thread::Builder::new()
        .name("sockscope-netns".into())
        .spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            // SAFETY: a valid descriptor of a namespace file; the thread's
            // own namespace changes, nothing else in the process.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                panic!(
                    "setns into {}: {}",
                    path.display(),
                    io::Error::last_os_error()
                );
            }
            drop(file);
            f()
        })
        .expect("spawn netns thread");
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

impl TestNetns {
    /// `ip netns add sstest-<pid>-<n>` with `lo` up. Root only.
    pub fn named() -> TestNetns {
        sweep_stale();
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let name = format!("{NAME_PREFIX}{}-{n}", std::process::id());
        ip(&["netns", "add", &name]);
        // From here on the guard deletes it, whatever fails next.
        let mut ns = TestNetns {
            kind: Kind::Named { name: name.clone() },
            inode: 0,
        };
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        ns.inode = ns_inode(&ns.path()).expect("stat the new namespace");
        ns
    }

    /// `unshare -n sleep 120`: a namespace of its own that only that process
    /// keeps (nothing under /run/netns), with `lo` up. Root only.
    pub fn unnamed() -> TestNetns {
        let anchor = Command::new("unshare")
            .args(["-n", "sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn unshare -n sleep");
        let pid = anchor.id();
        let mut ns = TestNetns {
            kind: Kind::Unnamed { anchor },
            inode: 0,
        };
        let host = own_inode();
        // unshare(1) execs sleep once the namespace is made.
        let ok = poll_until(Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
                && ns_inode(&ns.path()).is_ok_and(|i| i != host)
        });
        assert!(
            ok,
            "unshare -n sleep ({pid}) did not get a namespace of its own"
        );
        ns.inode = ns_inode(&ns.path()).expect("stat the new namespace");
        let pid = pid.to_string();
        let out = run_bounded(
            Command::new("nsenter").args(["-t", &pid, "-n", "ip", "link", "set", "lo", "up"]),
            Duration::from_secs(10),
        );
        assert!(
            out.status.success(),
            "lo up in pid:{pid}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ns
    }

    /// `unshare --net=FILE true` with `lo` up: a namespace kept only by a
    /// bind mount at `file` (made, with missing parent directories; all
    /// removed on drop). Root only.
    pub fn mounted(file: &Path) -> TestNetns {
        let mut made = Vec::new();
        let mut missing = Vec::new();
        let mut dir = file.parent();
        while let Some(d) = dir.filter(|d| !d.exists()) {
            missing.push(d.to_path_buf());
            dir = d.parent();
        }
        for d in missing.into_iter().rev() {
            std::fs::create_dir(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
            made.push(d);
        }
        std::fs::write(file, b"").unwrap_or_else(|e| panic!("create {}: {e}", file.display()));
        // From here on the guard removes it, whatever fails next.
        let mut ns = TestNetns {
            kind: Kind::Mounted {
                file: file.to_path_buf(),
                made,
            },
            inode: 0,
        };
        let out = run_bounded(
            Command::new("unshare")
                .arg(format!("--net={}", file.display()))
                .arg("true"),
            Duration::from_secs(10),
        );
        assert!(
            out.status.success(),
            "unshare --net={}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run_bounded(
            ns.exec("ip").args(["link", "set", "lo", "up"]),
            Duration::from_secs(10),
        );
        assert!(
            out.status.success(),
            "lo up in {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        ns.inode = ns_inode(file).expect("stat the new namespace");
        ns
    }

    /// The namespace's inode (`stat -L -c %i` of its file).
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// The `ip netns` name (`None` for an unnamed one).
    pub fn name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Named { name } => Some(name),
            Kind::Unnamed { .. } | Kind::Mounted { .. } => None,
        }
    }

    /// The anchor process of an unnamed namespace.
    pub fn anchor_pid(&self) -> Option<u32> {
        match &self.kind {
            Kind::Named { .. } | Kind::Mounted { .. } => None,
            Kind::Unnamed { anchor } => Some(anchor.id()),
        }
    }

    /// A file that refers to the namespace: /run/netns/NAME or
    /// /proc/PID/ns/net.
    pub fn path(&self) -> PathBuf {
        match &self.kind {
            Kind::Named { name } => PathBuf::from(format!("/run/netns/{name}")),
            Kind::Unnamed { anchor } => PathBuf::from(format!("/proc/{}/ns/net", anchor.id())),
            Kind::Mounted { file, .. } => file.clone(),
        }
    }

    /// What `-N` takes for it: NAME, `pid:PID`, or the bind mount's path.
    pub fn selector(&self) -> String {
        match &self.kind {
            Kind::Named { name } => name.clone(),
            Kind::Unnamed { anchor } => format!("pid:{}", anchor.id()),
            Kind::Mounted { file, .. } => file.display().to_string(),
        }
    }

    /// A command that runs `program` inside the namespace (`ip netns exec
    /// NAME`, `nsenter -t PID -n` or `nsenter --net=FILE`; all exec it, same
    /// pid).
    pub fn exec(&self, program: &str) -> Command {
        match &self.kind {
            Kind::Named { name } => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", name, program]);
                c
            }
            Kind::Unnamed { anchor } => {
                let mut c = Command::new("nsenter");
                c.args(["-t", &anchor.id().to_string(), "-n", program]);
                c
            }
            Kind::Mounted { file, .. } => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net={}", file.display())).arg(program);
                c
            }
        }
    }

    /// Runs `f` on a thread inside the namespace (see [`enter_path`]).
    pub fn enter<T, F>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        enter_path(&self.path(), f)
    }

    /// The oracle: `ss -H -n -p ARGS` run inside the namespace, each row with
    /// the pids of its `users:((...,pid=N,fd=M))`; sorted. Only tcp and udp.
    pub fn ss(&self, args: &[&str]) -> Vec<OwnedRow> {
        let mut cmd = self.exec("ss");
        cmd.args(["-H", "-n", "-p"]).args(args);
        let out = run_bounded(&mut cmd, Duration::from_secs(20));
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        parse_owned(args, &text).unwrap_or_else(|e| panic!("{cmd:?}: {e}\n{text}"))
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::Named { name } => {
                let out = Command::new("ip")
                    .args(["netns", "delete", name.as_str()])
                    .stdin(Stdio::null())
                    .output();
                if let Ok(o) = out
                    && !o.status.success()
                {
                    say(&format!(
                        "netns tests: ip netns delete {name}: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ));
                }
            }
            Kind::Unnamed { anchor } => {
                let _ = anchor.kill();
                let _ = anchor.wait();
            }
            Kind::Mounted { file, made } => {
                // SAFETY: a NUL-terminated path; umount2 touches nothing else.
                let c = std::ffi::CString::new(file.as_os_str().as_encoded_bytes());
                if let Ok(c) = c
                    && unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0
                {
                    say(&format!(
                        "netns tests: umount {}: {}",
                        file.display(),
                        io::Error::last_os_error()
                    ));
                }
                let _ = std::fs::remove_file(&*file);
                for d in made.iter().rev() {
                    let _ = std::fs::remove_dir(d);
                }
            }
        }
    }
}

/// Parses `ss -H -n -p ARGS` output into owned rows (sorted).
pub fn parse_owned(args: &[&str], text: &str) -> Result<Vec<OwnedRow>, String> {
    let pid_re = Regex::new(r",pid=(\d+),fd=\d+\)").map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with(char::is_whitespace) {
            continue;
        }
        let row = parse_ss_output(args, line)?
            .pop()
            .ok_or_else(|| format!("no row in {line:?}"))?;
        let pids = pid_re
            .captures_iter(line)
            .filter_map(|c| c[1].parse().ok())
            .collect();
        rows.push(OwnedRow { row, pids });
    }
    rows.sort();
    Ok(rows)
}

/// A process holding inherited descriptors (`sleep 120`, optionally run as
/// nobody through setpriv); killed by pid and reaped on drop.
pub struct NsProc(Child);

impl NsProc {
    /// Spawns the holder from the calling thread (so in its namespace),
    /// keeping `fds` open across exec; waits until it runs `sleep`.
    pub fn hold(fds: &[RawFd], as_nobody: bool) -> NsProc {
        let mut cmd = if as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "sleep",
                "120",
            ]);
            c
        } else {
            let mut c = Command::new("sleep");
            c.arg("120");
            c
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let fds = fds.to_vec();
        // SAFETY: only fcntl between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &fds {
                    // Keep it across exec: std opens sockets O_CLOEXEC.
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn holder");
        let holder = NsProc(child);
        holder.wait_comm("sleep");
        holder
    }

    /// Takes over a child already started (killed on drop).
    pub fn adopt(child: Child) -> NsProc {
        NsProc(child)
    }

    /// Waits (≤ 5 s) until the process runs `comm` (its exec is done).
    pub fn wait_comm(&self, comm: &str) {
        let pid = self.pid();
        let want = format!("{comm}\n");
        let ok = poll_until(Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == want)
        });
        assert!(ok, "process {pid} did not exec {comm}");
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for NsProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sockets a test put into a namespace: their holders and the rows (with
/// owner pids) `ss -tuanp` inside must show.
pub struct Population {
    pub procs: Vec<NsProc>,
    pub expected: Vec<OwnedRow>,
}

impl Population {
    /// Every holder's pid.
    pub fn pids(&self) -> BTreeSet<u32> {
        self.procs.iter().map(NsProc::pid).collect()
    }
}

/// Builds a [`Scenario`] inside `ns` with `build`, then hands its sockets
/// to two `sleep` holders started there (listeners and unconnected UDP
/// sockets to the first, connections to the second) and closes the test's
/// own copies: afterwards only the holders own them (unowned rows, such as
/// TIME_WAIT, stay unowned). `expected` lists the ss-visible rows.
pub fn populate<F>(ns: &TestNetns, build: F) -> Population
where
    F: FnOnce(&mut Scenario) + Send + 'static,
{
    ns.enter(move || {
        let mut sc = Scenario::new();
        build(&mut sc);
        let is_service = |r: &Row| r.state == "LISTEN" || r.state == "UNCONN";
        let visible: Vec<_> = sc
            .expected_sockets()
            .iter()
            .filter(|e| e.ss_visible)
            .cloned()
            .collect();
        let fds_of = |service: bool| -> Vec<RawFd> {
            visible
                .iter()
                .filter(|e| is_service(&e.row) == service)
                .filter_map(|e| e.fd)
                .collect()
        };
        let mut procs = Vec::new();
        let mut pid_of_group = [None, None];
        for (i, service) in [true, false].into_iter().enumerate() {
            let fds = fds_of(service);
            if !fds.is_empty() {
                let p = NsProc::hold(&fds, false);
                pid_of_group[i] = Some(p.pid());
                procs.push(p);
            }
        }
        let mut expected: Vec<OwnedRow> = visible
            .iter()
            .map(|e| {
                let group = usize::from(!is_service(&e.row));
                OwnedRow {
                    row: e.row.clone(),
                    pids: match (e.fd, pid_of_group[group]) {
                        (Some(_), Some(pid)) => BTreeSet::from([pid]),
                        _ => BTreeSet::new(),
                    },
                }
            })
            .collect();
        expected.sort();
        drop(sc);
        Population { procs, expected }
    })
}

/// A cgroup made by a test in the named v1 hierarchy `name=systemd`
/// (/sys/fs/cgroup/systemd), at a container runtime's path such as
/// `/docker/<64 hex>`: processes moved into it show that path in
/// /proc/PID/cgroup (`N:name=systemd:/docker/<id>`), as under Docker's
/// cgroupfs driver on a cgroup v1 host. Removed on drop (its processes must
/// be gone by then; parents made for it are removed when empty).
pub struct TestCgroup {
    /// Directories made, deepest last.
    made: Vec<PathBuf>,
}

/// Where the v1 `name=systemd` hierarchy is mounted here.
pub const SYSTEMD_CGROUP_ROOT: &str = "/sys/fs/cgroup/systemd";

impl TestCgroup {
    /// Makes `SYSTEMD_CGROUP_ROOT/<rel>` (and missing parents); `Err` with
    /// the reason when the hierarchy is not there or not writable.
    pub fn new(rel: &str) -> Result<TestCgroup, String> {
        let root = Path::new(SYSTEMD_CGROUP_ROOT);
        if !root.join("cgroup.procs").exists() {
            return Err(format!(
                "{SYSTEMD_CGROUP_ROOT} is not a cgroup hierarchy here"
            ));
        }
        let mut cg = TestCgroup { made: Vec::new() };
        let mut dir = root.to_path_buf();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            dir.push(part);
            if !dir.exists() {
                std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
                cg.made.push(dir.clone());
            }
        }
        Ok(cg)
    }

    /// Moves process `pid` into the cgroup.
    pub fn add(&self, pid: u32) {
        let dir = self.made.last().expect("a cgroup made by the test");
        let procs = dir.join("cgroup.procs");
        std::fs::write(&procs, pid.to_string())
            .unwrap_or_else(|e| panic!("move {pid} into {}: {e}", procs.display()));
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for dir in self.made.iter().rev() {
            // Empty once its processes were killed and reaped; bounded.
            let ok = poll_until(Duration::from_secs(5), || std::fs::remove_dir(dir).is_ok());
            if !ok {
                say(&format!(
                    "netns tests: could not remove cgroup {}",
                    dir.display()
                ));
            }
        }
    }
}
