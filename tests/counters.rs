//! `sockscope counters` on real counters: in a private network namespace,
//! counters provoked by real sockets (a full accept queue, connects to a
//! closed port) are read with `--delta` and by iproute2's `nstat` over the
//! same interval, and every counter must agree; the absolute values of a
//! quiet namespace agree with `nstat -a -z`; the `--delta` state is private
//! (0700 directory, 0600 file) and a symbolic link planted in its place is
//! refused.

pub mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::netns::{run_bounded, say};
use common::{Env, ListenOpts, Sandbox, Scenario, poll_until};
use serde_json::Value;

/// Whether the test can run (root, in a private namespace, with nstat);
/// says why not on stderr, or fails under CI=true.
fn can_run(env: &Env) -> bool {
    let why = if !env.private_ns {
        Some(format!(
            "no private network namespace ({})",
            env.shared_reason.as_deref().unwrap_or("?")
        ))
    } else if Command::new("nstat").arg("-V").output().is_err() {
        Some("nstat (iproute2) is not installed".to_owned())
    } else {
        None
    };
    if let Some(why) = why {
        let line = format!("counters tests: skipped: {why}");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{line} (CI=true)"
        );
        say(&line);
        return false;
    }
    true
}

/// A private directory for the state files and nstat's history, removed
/// on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("sockscope-counters-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// sockscope in the sandbox's namespace, with its runtime directory.
fn sockscope(env: &Env, runtime: &Path, args: &[&str]) -> Output {
    let mut cmd = common::run::command(env);
    cmd.env("XDG_RUNTIME_DIR", runtime).args(args);
    run_bounded(&mut cmd, Duration::from_secs(60))
}

/// nstat in the sandbox's namespace, its history in `dir`.
fn nstat(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = env.command("nstat");
    cmd.env("NSTAT_HISTORY", dir.join("nstat.history"))
        .args(args);
    let out = run_bounded(&mut cmd, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "nstat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// nstat -j's `{"kernel": {NAME: N}}`.
fn nstat_map(out: &Output) -> BTreeMap<String, u64> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    v["kernel"]
        .as_object()
        .expect("nstat's kernel object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("a number")))
        .collect()
}

/// Our JSON's counters, by `field` (`value` or `delta`).
fn our_map(v: &Value, field: &str) -> BTreeMap<String, u64> {
    v["counters"]
        .as_object()
        .expect("counters object")
        .iter()
        .map(|(k, c)| (k.clone(), c[field].as_u64().expect(field)))
        .collect()
}

/// The namespace's counter files as text.
fn counter_files() -> String {
    ["snmp", "netstat", "snmp6"]
        .iter()
        .map(|f| std::fs::read_to_string(format!("/proc/thread-self/net/{f}")).unwrap_or_default())
        .collect()
}

/// Waits (bounded) until the namespace's counters stop moving: the
/// packets of closed sockets have all been handled.
fn settle() {
    let mut last = counter_files();
    let still = poll_until(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(50));
        let now = counter_files();
        let same = now == last;
        last = now;
        same
    });
    assert!(still, "the namespace's counters kept moving");
}

/// The value of `name` in the thread's namespace now.
fn current(name: &str) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .args(["counters", "--zeros", "--json", name])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["counters"][name]["value"].as_u64().unwrap_or(0)
}

#[test]
fn delta_agrees_with_nstat_on_provoked_counters() {
    Sandbox::run(|env| {
        if !can_run(env) {
            return;
        }
        let scratch = Scratch::new("delta");
        let dir = &scratch.0;
        // Both start their history now.
        nstat(env, dir, &["-n"]);
        let first = sockscope(env, dir, &["counters", "--delta", "--json"]);
        let err = String::from_utf8_lossy(&first.stderr);
        assert!(err.contains("no earlier --delta run"), "{err}");
        assert_eq!(json(&first)["basis"], "absolute");

        // A full accept queue: backlog 0 holds one connection; the SYNs
        // of the next three are dropped (ListenOverflows, ListenDrops).
        let mut sc = Scenario::new();
        let addr = sc.listen_with(
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
            ListenOpts {
                backlog: 0,
                ..ListenOpts::default()
            },
        );
        let queued = TcpStream::connect(addr).expect("the first connect");
        for _ in 0..3 {
            // Closed before the SYN is sent again (after 1 s).
            let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(100));
        }
        assert!(
            poll_until(Duration::from_secs(5), || current("TcpExtListenOverflows")
                >= 3),
            "no listen overflow counted"
        );
        // Connects to a closed port: a RST each (OutRsts, AttemptFails).
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        for _ in 0..2 {
            let e = TcpStream::connect(closed).expect_err("a closed port");
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        drop(sc);
        drop(queued);
        settle();

        let theirs = nstat_map(&nstat(env, dir, &["-j"]));
        let ours_v = json(&sockscope(env, dir, &["counters", "--delta", "--json"]));
        assert_eq!(ours_v["basis"], "delta");
        let ours = our_map(&ours_v, "delta");
        assert_eq!(ours, theirs, "counters --delta against nstat");
        for (name, least) in [
            ("TcpExtListenOverflows", 3),
            ("TcpExtListenDrops", 3),
            ("TcpOutRsts", 2),
            ("TcpAttemptFails", 2),
        ] {
            assert!(
                ours.get(name).copied().unwrap_or(0) >= least,
                "{name}: {ours:?}"
            );
        }
        assert_eq!(
            ours_v["counters"]["TcpExtListenOverflows"]["explain"],
            "connections dropped because an accept queue was full"
        );
        // Nothing happened since: the next --delta is empty, as nstat's.
        let again = json(&sockscope(env, dir, &["counters", "--delta", "--json"]));
        assert_eq!(again["counters"], serde_json::json!({}));
        assert_eq!(nstat_map(&nstat(env, dir, &["-j"])), BTreeMap::new());
    });
}

#[test]
fn absolute_values_agree_with_nstat_and_interval_counts_nothing_in_quiet() {
    Sandbox::run(|env| {
        if !can_run(env) {
            return;
        }
        let scratch = Scratch::new("absolute");
        let dir = &scratch.0;
        // Some traffic first, so not every counter is 0.
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        let _c = sc.established_pair(l);
        drop(sc);
        settle();
        let theirs = nstat_map(&nstat(env, dir, &["-a", "-z", "-s", "-j"]));
        let ours = our_map(
            &json(&sockscope(env, dir, &["counters", "--zeros", "--json"])),
            "value",
        );
        assert_eq!(ours, theirs, "counters --zeros against nstat -a -z");
        // Without --zeros, the same minus the zeros; a glob narrows them.
        let nonzero = our_map(
            &json(&sockscope(env, dir, &["counters", "--json"])),
            "value",
        );
        let want: BTreeMap<_, _> = theirs
            .iter()
            .filter(|(_, v)| **v != 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        assert_eq!(nonzero, want);
        let tcp = our_map(
            &json(&sockscope(
                env,
                dir,
                &["counters", "--zeros", "--json", "tcpext*listen*"],
            )),
            "value",
        );
        assert!(tcp.contains_key("TcpExtListenOverflows"), "{tcp:?}");
        assert!(
            tcp.keys()
                .all(|k| k.starts_with("TcpExt") && k.to_lowercase().contains("listen"))
        );
        // A quiet namespace over 100 ms: every counter, each unchanged.
        let v = json(&sockscope(
            env,
            dir,
            &["counters", "--interval", "100ms", "--zeros", "--json"],
        ));
        assert_eq!(
            (v["basis"].as_str(), v["interval_ms"].as_u64()),
            (Some("interval"), Some(100))
        );
        let deltas = our_map(&v, "delta");
        assert_eq!(deltas.len(), theirs.len());
        assert!(deltas.values().all(|d| *d == 0), "{deltas:?}");
    });
}

#[test]
fn state_is_private_and_a_planted_link_is_refused() {
    Sandbox::run(|env| {
        if !can_run(env) {
            return;
        }
        let scratch = Scratch::new("state");
        let dir = &scratch.0;
        let out = sockscope(env, dir, &["counters", "--delta"]);
        assert!(out.status.success());
        let state = dir.join("sockscope");
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        let files: Vec<PathBuf> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let file = &files[0];
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let netns = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
        assert_eq!(
            name,
            format!("counters.{}", std::os::unix::fs::MetadataExt::ino(&netns))
        );
        assert_eq!(mode(file), 0o600);
        // A link planted in its place is neither read nor written through.
        let target = dir.join("target");
        std::fs::write(&target, "keep me\n").unwrap();
        std::fs::remove_file(file).unwrap();
        std::os::unix::fs::symlink(&target, file).unwrap();
        let out = sockscope(env, dir, &["counters", "--delta"]);
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        // A state directory open to others is refused too.
        std::fs::remove_file(file).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = sockscope(env, dir, &["counters", "--delta"]);
        assert_eq!(out.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&out.stderr).contains("mode is not 0700"));
    });
}

#[test]
fn flags_the_view_cannot_use_are_usage_errors() {
    let scratch = Scratch::new("flags");
    for args in [
        &["counters", "-t"][..],
        &["counters", "--delta", "--interval", "1s"],
        &["counters", "--jsonl"],
        &["counters", "-p"],
        &["counters", "--interval", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .env("XDG_RUNTIME_DIR", &scratch.0)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn each_namespace_reads_its_own_counters() {
    if !common::netns::is_root() {
        let line = "counters tests: skipped: -N needs root to make a namespace";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{line} (CI=true)"
        );
        say(line);
        return;
    }
    let ns = common::netns::TestNetns::named();
    // Two connects to a closed port inside it: a RST each.
    ns.enter(|| {
        for _ in 0..2 {
            let e = TcpStream::connect("127.0.0.1:9").expect_err("a closed port");
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        }
    });
    let scratch = Scratch::new("netns");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    cmd.env_remove("SOCKSCOPE_PROC_ROOT")
        .env("XDG_RUNTIME_DIR", &scratch.0)
        .args([
            "counters",
            "-N",
            &ns.selector(),
            "--json",
            "--zeros",
            "Tcp*",
        ]);
    let v = json(&run_bounded(&mut cmd, Duration::from_secs(60)));
    assert_eq!(v["netns"]["inode"].as_u64(), Some(ns.inode()));
    let ours = our_map(&v, "value");
    // A fresh namespace: only this test's traffic.
    assert_eq!(ours["TcpOutRsts"], 2, "{ours:?}");
    assert_eq!(ours["TcpAttemptFails"], 2, "{ours:?}");
    assert_eq!(ours["TcpActiveOpens"], 2, "{ours:?}");
    if Command::new("nstat").arg("-V").output().is_ok() {
        let mut cmd = ns.exec("nstat");
        cmd.env("NSTAT_HISTORY", scratch.0.join("nstat.history"))
            .args(["-a", "-z", "-s", "-j", "Tcp*"]);
        let theirs = nstat_map(&run_bounded(&mut cmd, Duration::from_secs(60)));
        assert_eq!(ours, theirs, "counters -N against nstat inside it");
    }
}
