//! Running the built sockscope from a sandbox and reading its JSON back as
//! canonical rows, shared by the end-to-end tests.

use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{Env, Row, Scenario, canonical_endpoint, ss_rows};

/// The built sockscope, to run in the sandbox's namespace, without the
/// environment variables that would swap its data source.
pub fn command(env: &Env) -> Command {
    let mut c = env.command(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD");
    c
}

/// Runs sockscope with `args` in the sandbox's namespace; it must succeed
/// without a word on stderr (no fallback, no warning) but the non-root
/// owner hint.
pub fn sockscope(env: &Env, args: &[&str]) -> Output {
    let out = command(env).args(args).output().expect("run sockscope");
    assert!(
        out.status.success(),
        "sockscope {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The one expected line: the non-root hint that other users' processes
    // cannot be seen (only with owners, only when not root).
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().all(|l| l.contains("no visible owner")),
        "sockscope {args:?} warned: {err}"
    );
    out
}

/// The JSON objects sockscope prints for `args` (with --json or --jsonl).
pub fn records(env: &Env, args: &[&str]) -> Vec<Value> {
    let out = sockscope(env, args);
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    if args.contains(&"--json") {
        let v: Value = serde_json::from_str(&text).expect("one JSON document");
        v.as_array().expect("a JSON array").clone()
    } else {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }
}

/// One JSON record as a canonical row.
pub fn row_of(r: &Value) -> Row {
    let ep = |e: &Value| {
        canonical_endpoint(
            e["addr"].as_str().expect("addr"),
            e["port"].as_u64().expect("port") as u16,
        )
    };
    Row::new(
        r["proto"].as_str().expect("proto"),
        r["state"].as_str().expect("state"),
        &ep(&r["local"]),
        &ep(&r["remote"]),
    )
}

/// sockscope's rows for `args`, sorted, kept to the scenario's own sockets
/// outside a private namespace.
pub fn our_rows(env: &Env, sc: &Scenario, args: &[&str]) -> Vec<Row> {
    let mut rows: Vec<Row> = records(env, args).iter().map(row_of).collect();
    if !env.private_ns {
        rows.retain(|r| sc.ours(r));
    }
    rows.sort();
    rows
}

/// ss's rows for `args`, sorted, filtered the same way.
pub fn oracle_rows(env: &Env, sc: &Scenario, args: &[&str]) -> Vec<Row> {
    let mut rows = ss_rows(env, args);
    if !env.private_ns {
        rows.retain(|r| sc.ours(r));
    }
    rows.sort();
    rows
}

/// A child process (`sleep`) holding inherited descriptors; killed on drop.
/// Lets `fds` survive exec in the child `cmd` spawns (std opens sockets
/// O_CLOEXEC).
pub fn inherit(cmd: &mut Command, fds: &[RawFd]) {
    let fds = fds.to_vec();
    // SAFETY: only fcntl between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

pub struct Holder(Child);

impl Holder {
    pub fn spawn(env: &Env, fds: &[RawFd]) -> Holder {
        let mut cmd = env.command("sleep");
        cmd.arg("120")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        inherit(&mut cmd, fds);
        let child = cmd.spawn().expect("spawn sleep");
        let pid = child.id();
        // Until exec completes the child still carries the test's name.
        let ok = super::poll_until(Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
        });
        assert!(ok, "child {pid} did not exec sleep");
        Holder(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The number written just before `label` in a `-v` line: 3 for
/// `count_before("(0 unreadable, 3 vanished)", " vanished")`.
pub fn count_before(text: &str, label: &str) -> Option<u64> {
    let head = &text[..text.find(label)?];
    let start = head
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    head[start..].parse().ok()
}
