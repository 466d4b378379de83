//! The sandbox: runs a test body on a fresh thread that (when root) lives in
//! its own, private network namespace with `lo` up, or says on stderr why it
//! falls back to the shared one. Also raises `RLIMIT_NOFILE` for tests that
//! hold many sockets.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Once;

use super::sockets::new_socket;

/// Environment variable that forces the shared-namespace fallback even as root
/// (useful to exercise the non-root code path).
pub const FORCE_SHARED_ENV: &str = "SOCKSCOPE_TEST_SHARED_NS";

/// What a sandboxed closure gets: whether it runs in a private namespace, and a
/// way to spawn commands that share the thread's namespace.
#[derive(Debug, Clone)]
pub struct Env {
    /// `true` when the closure runs in a fresh network namespace of its own: then
    /// every socket visible there was created by the test.
    pub private_ns: bool,
    /// Why the shared namespace is used (`None` when `private_ns`).
    pub shared_reason: Option<String>,
}

impl Env {
    /// A `Command` for `program`. It must be spawned from the sandbox thread (the
    /// one that runs the closure) so that the child inherits its namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        Command::new(program)
    }
}

/// Runs test bodies inside a private network namespace when possible.
pub struct Sandbox;

impl Sandbox {
    /// Runs `f` on a fresh thread. As root, that thread first unshares its network
    /// namespace and brings `lo` up, so `f` sees only its own sockets
    /// (`env.private_ns == true`). Otherwise (not root, `unshare` refused, or
    /// [`FORCE_SHARED_ENV`] set) one line explaining why is written to stderr and
    /// `f` runs in the shared namespace (`env.private_ns == false`).
    ///
    /// Panics inside `f` are propagated to the caller.
    pub fn run<T, F>(f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        Self::spawn(false, f)
    }

    /// Like [`Sandbox::run`] but always uses the shared namespace (for testing the
    /// fallback path as root). Prints the same one-line notice.
    pub fn run_shared<T, F>(f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        Self::spawn(true, f)
    }

    fn spawn<T, F>(force_shared: bool, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        raise_nofile_limit();
        let handle = std::thread::Builder::new()
            .name("sockscope-sandbox".into())
            .spawn(move || {
                let env = enter_sandbox(force_shared);
                f(&env)
            })
            .expect("spawn sandbox thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn enter_sandbox(force_shared: bool) -> Env {
    let reason = if force_shared {
        Some("shared namespace requested by the test".to_string())
    } else if std::env::var_os(FORCE_SHARED_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        Some(format!("{FORCE_SHARED_ENV} is set"))
    } else if unsafe { libc::geteuid() } != 0 {
        Some("not root".to_string())
    } else if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        Some(format!(
            "unshare(CLONE_NEWNET) failed: {}",
            io::Error::last_os_error()
        ))
    } else {
        None
    };
    match reason {
        None => {
            if let Err(e) = bring_lo_up() {
                panic!("private network namespace created but bringing lo up failed: {e}");
            }
            Env {
                private_ns: true,
                shared_reason: None,
            }
        }
        Some(reason) => {
            // Written straight to stderr (not eprintln!) so libtest's capture does
            // not hide it; once per process is enough.
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                let _ = writeln!(
                    io::stderr(),
                    "sockscope tests: {reason}: using the shared loopback namespace, \
                     results filtered to each test's own sockets"
                );
            });
            Env {
                private_ns: false,
                shared_reason: Some(reason),
            }
        }
    }
}

/// Sets `IFF_UP` on `lo` in the calling thread's network namespace (what
/// `ip link set lo up` does), with the SIOCGIFFLAGS/SIOCSIFFLAGS ioctls.
fn bring_lo_up() -> io::Result<()> {
    let fd = new_socket(libc::AF_INET, libc::SOCK_DGRAM)?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: valid fd and a properly initialised ifreq.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (once per process) and
/// returns the resulting soft limit.
pub fn raise_nofile_limit() -> libc::rlim_t {
    static RAISE: Once = Once::new();
    RAISE.call_once(|| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid pointer to an rlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0
            && lim.rlim_cur < lim.rlim_max
        {
            lim.rlim_cur = lim.rlim_max;
            // SAFETY: as above. Failure just leaves the old limit.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        }
    });
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid pointer to an rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}
