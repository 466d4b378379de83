//! The stop signals (SIGINT, SIGTERM) read as data, for a view that must
//! undo something before it dies (watch's alternate screen), and the wait
//! between two of its ticks.
//!
//! No handler and no static: the signals are blocked and read from a
//! signalfd polled beside the tick's deadline and stdout. A process-directed
//! signal goes to a thread that does not block it, so every thread must:
//! [`hold`] blocks them in the main thread before it starts the run's
//! thread, which [`release`]s them for itself at once (every command but
//! watch keeps the default action: the process dies by the signal); watch
//! blocks them again in its own thread ([`Stops::open`]) and, once its
//! screen is restored, dies by the one it read ([`Stops::die_by`]), so the
//! shell still sees 130. A signal ignored at start (`nohup`) is left
//! alone: it stays ignored.

use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask, raise};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// The signals that stop a run.
const STOPS: [Signal; 2] = [Signal::SIGINT, Signal::SIGTERM];

/// A failure to set up or read the stop signals.
#[derive(Debug, thiserror::Error)]
pub enum SignalsError {
    #[error("cannot block SIGINT and SIGTERM: {0}")]
    Mask(#[source] nix::Error),
    #[error("cannot open a signalfd: {0}")]
    Open(#[source] nix::Error),
    #[error("cannot read the signalfd: {0}")]
    Read(#[source] nix::Error),
    #[error("cannot wait for the next tick: {0}")]
    Poll(#[source] io::Error),
}

/// The calling thread's signal mask before [`hold`].
#[derive(Debug, Clone, Copy)]
pub struct Held(Option<SigSet>);

/// The stop signals whose action is not "ignore" (a signal ignored at
/// start stays so).
fn stops() -> SigSet {
    let mut set = SigSet::empty();
    for sig in STOPS {
        if !ignored(sig) {
            set.add(sig);
        }
    }
    set
}

/// Whether `sig`'s action is SIG_IGN.
fn ignored(sig: Signal) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a zeroed struct sigaction (plain data) it fully writes.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig as libc::c_int, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Blocks the stop signals in the calling thread (the main thread, before
/// it starts the run's), so that they are delivered to the run's thread.
/// A failure leaves the mask as it was (the default action then applies).
pub fn hold() -> Held {
    let mut before = SigSet::empty();
    match pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&stops()), Some(&mut before)) {
        Ok(()) => Held(Some(before)),
        Err(_) => Held(None),
    }
}

/// Gives the calling thread (a thread started after [`hold`]) the mask the
/// holding thread had before.
pub fn release(held: Held) {
    if let Held(Some(before)) = held {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None);
    }
}

/// What ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The deadline passed.
    Deadline,
    /// A stop signal arrived.
    Stop(Signal),
    /// stdout's reader went away (a pipe reports POLLERR).
    OutputClosed,
}

/// The stop signals, blocked in this thread and read from a signalfd.
#[derive(Debug)]
pub struct Stops {
    fd: SignalFd,
    set: SigSet,
}

/// The signalfd, to poll beside other fds (trace's rings); read it with
/// [`Stops::pending`].
impl AsFd for Stops {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Stops {
    /// Blocks the stop signals in the calling thread (and the threads it
    /// starts from now on) and opens the signalfd that reads them.
    pub fn open() -> Result<Stops, SignalsError> {
        let set = stops();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).map_err(SignalsError::Mask)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(SignalsError::Open)?;
        Ok(Stops { fd, set })
    }

    /// Lets the stop signals take their default action again in this
    /// thread (the process dies by one that comes), until [`Stops::hold`].
    pub fn release(&self) {
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&self.set), None);
    }

    /// Blocks the stop signals again: one that comes is read by
    /// [`Stops::wait`].
    pub fn hold(&self) -> Result<(), SignalsError> {
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&self.set), None).map_err(SignalsError::Mask)
    }

    /// Waits until `deadline`, a stop signal or stdout's reader leaving
    /// (`output`, polled for errors only), whichever comes first.
    pub fn wait(&mut self, deadline: Instant, output: &impl AsFd) -> Result<Wake, SignalsError> {
        loop {
            if let Some(sig) = self.pending()? {
                return Ok(Wake::Stop(sig));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Wake::Deadline);
            }
            let left = deadline - now;
            let timeout = Timespec {
                tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
                tv_nsec: i64::from(left.subsec_nanos()),
            };
            let mut fds = [
                PollFd::new(&self.fd, PollFlags::IN),
                // No events asked: a pipe whose reader left reports POLLERR.
                PollFd::new(output, PollFlags::empty()),
            ];
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(SignalsError::Poll(e.into())),
            }
            if fds[1].revents().intersects(PollFlags::ERR | PollFlags::HUP) {
                return Ok(Wake::OutputClosed);
            }
        }
    }

    /// A stop signal read from the signalfd, if one is pending.
    pub fn pending(&mut self) -> Result<Option<Signal>, SignalsError> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Ok(Signal::try_from(info.ssi_signo as libc::c_int).ok()),
            Ok(None) => Ok(None),
            Err(nix::Error::EINTR) => Ok(None),
            Err(e) => Err(SignalsError::Read(e)),
        }
    }

    /// Dies by `sig` with its default action, as a run that never blocked
    /// it would have (the shell sees 128 + the signal's number): unblocked
    /// in this thread and raised at it. Returns only if the process
    /// survives it.
    pub fn die_by(self, sig: Signal) {
        drop(self.fd);
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&self.set), None);
        let _ = raise(sig);
    }
}
