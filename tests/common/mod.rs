//! Shared harness for sockscope's integration tests, one concern per module:
//!
//! - [`sandbox`]: [`Sandbox`] runs a closure on a fresh thread that (when root)
//!   lives in its own, private network namespace with `lo` up. Sockets created
//!   on that thread, and child processes spawned from it (via [`Env::command`]),
//!   see only that namespace. Without root it falls back to the shared
//!   namespace and says so on stderr; tests then keep only their own sockets'
//!   rows ([`Scenario::ours`]).
//! - [`scenario`]: [`Scenario`] builders that put loopback sockets into known
//!   TCP/UDP states and record the [`Row`]s `ss` is expected to show for them.
//! - [`sockets`]: the low-level socket helpers the builders use (options that
//!   must be set before bind/listen) and [`fill_send_buffer`].
//! - [`oracle`]: [`ss_rows`] runs the real `ss -Hn ...` and parses its table
//!   into [`Row`]s; [`wait_for_tcp`] waits on `/proc/thread-self/net/tcp*`.
//! - [`rows`]: the canonical [`Row`] both sides are converted to
//!   ([`canonical_endpoint`]) and [`diff_rows`].
//! - [`run`]: the sockscope command builder and its JSON read back as rows.
//! - [`netns`]: real network namespaces made and removed by a test (named
//!   under /run/netns, or kept by a process and reached as `pid:PID`),
//!   processes holding sockets inside them, and `ss -p` run inside one with
//!   each row's owner pids.
//! - [`named`]: [`Named`], a forked child holding chosen descriptors under a
//!   comm of the test's choosing (hostile names, CLOSE_WAIT owners).
//!
//! Use it with `pub mod common;` from any file under `tests/`: `pub` makes
//! this module's re-exported API count as used in every test binary (each uses
//! a different subset), while a private helper nobody calls is still reported
//! as dead code.

mod named;
pub mod netns;
mod oracle;
mod rows;
pub mod run;
mod sandbox;
mod scenario;
mod sockets;

pub use named::Named;
pub use oracle::{
    kernel_state_from_number, kernel_state_from_ss, parse_ss_endpoint, parse_ss_output, poll_until,
    proc_tcp_rows, proc_tcp_rows_on_ports, ss_row_set, ss_rows, wait_for_tcp,
};
pub use rows::{
    Row, canonical_addr, canonical_endpoint, canonical_ip, diff_rows, endpoint_ip, endpoint_port,
};
pub use sandbox::{Env, FORCE_SHARED_ENV, Sandbox, raise_nofile_limit};
pub use scenario::{Conn, Expected, Scenario};
pub use sockets::{ListenOpts, fill_send_buffer};

/// A test, or a part of one, that cannot run here (no root, a missing
/// tool): says why on stderr, marked `SKIPPED:`. Under `CI=true` (CI runs
/// as root and installs every tool) a skip fails the test instead, so
/// nothing is ever skipped there in silence; `.ci/run` also fails on a
/// `SKIPPED:` line in the log.
pub fn skip(why: &str) {
    // Not eprintln!: the test harness would keep it from the log.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("skipped under CI=true: {why}");
    }
}

/// Whether a test can go on: `None` when nothing it needs is missing; else
/// [`skip`] with the reason (a failure under `CI=true`) and `false`.
pub fn can_run(missing: Option<String>, test: &str) -> bool {
    match missing {
        None => true,
        Some(why) => {
            skip(&format!("{test}: {why}"));
            false
        }
    }
}
