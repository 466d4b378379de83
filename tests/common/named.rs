//! A forked copy of the test process holding some of its descriptors
//! under a name of the test's choosing (prctl(PR_SET_NAME)): an owner with a
//! known, or hostile, comm.

use std::os::fd::RawFd;
use std::time::Duration;

use super::poll_until;

/// A forked copy of the test that renamed itself with prctl(PR_SET_NAME),
/// kept only `keep` of its descriptors and waits; killed by pid on drop.
pub struct Named(libc::pid_t);

impl Named {
    pub fn fork(name: &[u8], keep: &[RawFd]) -> Named {
        let mut cname = name.to_vec();
        cname.push(0);
        let mut keep = keep.to_vec();
        keep.sort_unstable();
        // SAFETY: the child only makes system calls (no allocation, no
        // locks) until it is killed.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: plain system calls in the child.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                let mut low: libc::c_uint = 3;
                for &fd in &keep {
                    let fd = fd as libc::c_uint;
                    if fd > low {
                        libc::syscall(libc::SYS_close_range, low, fd - 1, 0);
                    }
                    low = low.max(fd + 1);
                }
                libc::syscall(libc::SYS_close_range, low, libc::c_uint::MAX, 0);
                libc::prctl(libc::PR_SET_NAME, cname.as_ptr());
                loop {
                    libc::pause();
                }
            }
        }
        let child = Named(pid);
        // The kernel keeps 15 bytes of the name.
        let mut want = name[..name.len().min(15)].to_vec();
        want.push(b'\n');
        let named = poll_until(Duration::from_secs(5), || {
            std::fs::read(format!("/proc/{pid}/comm")).is_ok_and(|c| c == want)
        });
        assert!(named, "child {pid} did not take its name {name:?}");
        child
    }

    pub fn pid(&self) -> u32 {
        self.0 as u32
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        // SAFETY: our own child, reaped once.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            libc::waitpid(self.0, std::ptr::null_mut(), 0);
        }
    }
}
