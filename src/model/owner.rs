//! Who holds a socket: a process and its file descriptor ([`Owner`]),
//! with its names as bytes when they are not UTF-8 ([`RawNames`]).

use std::sync::Arc;

/// A process holding a socket through one of its file descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub fd: u32,
    /// With -T (ss's --threads): the thread whose /proc/PID/task/TID/fd
    /// listed the descriptor; `None` for the process's own listing.
    pub tid: Option<u32>,
    /// /proc/PID/comm: the thread-group leader's name (at most 15 bytes).
    pub comm: Arc<str>,
    /// /proc/PID/cmdline with its NULs as spaces, when asked for.
    pub cmdline: Option<Arc<str>>,
    /// The exact bytes of `comm` and `cmdline` when either is not UTF-8
    /// (the text then carries U+FFFD for the bad bytes); `None` otherwise.
    pub raw: Option<Arc<RawNames>>,
}

/// A process's names as bytes, kept only when they are not UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawNames {
    pub comm: Option<Box<[u8]>>,
    pub cmdline: Option<Box<[u8]>>,
}
