//! Recorded fixtures through the built binary: netlink replay and /proc
//! tables captured at the same moment (fixtures/capture.py) must give their
//! expected records, and the same rows as each other.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .output()
        .expect("run sockscope");
    assert!(
        out.status.success(),
        "sockscope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_lines(&String::from_utf8(out.stdout).unwrap())
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn expected(name: &str, file: &str) -> Vec<Value> {
    parse_lines(&std::fs::read_to_string(fixture(name).join(file)).unwrap())
}

#[test]
fn netlink_replay_gives_expected_records() {
    let dir = fixture("basic");
    let rec = dir.join("netlink.bin");
    let got = run(&["-tuan", "--jsonl", "--replay", rec.to_str().unwrap()]);
    assert_eq!(got, expected("basic", "expected-netlink.jsonl"));
}

#[test]
fn proc_tables_give_expected_records() {
    let dir = fixture("basic");
    let got = run(&[
        "-tuan",
        "--jsonl",
        "--source",
        "proc",
        "--proc-root",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(got, expected("basic", "expected-proc.jsonl"));
}

/// What /proc cannot know is `null` there; everything else is equal.
#[test]
fn both_sources_agree_on_the_same_moment() {
    let netlink = expected("basic", "expected-netlink.jsonl");
    let proc = expected("basic", "expected-proc.jsonl");
    assert_eq!(netlink.len(), proc.len());
    assert!(netlink.len() > 20);
    for (n, p) in netlink.iter().zip(&proc) {
        for key in [
            "proto", "family", "state", "local", "remote", "recv_q", "inode",
        ] {
            assert_eq!(n[key], p[key], "{key} differs: {n} vs {p}");
        }
        // netlink has no uid for a request socket; /proc shows the listener's.
        if n["state"] == "SYN_RECV" {
            assert!(n["uid"].is_null() && p["uid"].is_number(), "{n} vs {p}");
        } else {
            assert_eq!(n["uid"], p["uid"], "{n} vs {p}");
        }
        if n["state"] == "LISTEN" {
            assert!(
                p["send_q"].is_null(),
                "the backlog is unknown in /proc: {p}"
            );
            assert!(n["send_q"].as_u64().unwrap() > 0);
        } else {
            assert_eq!(n["send_q"], p["send_q"]);
        }
        assert!(p["cookie"].is_null() && n["cookie"].is_string());
        // Timers: milliseconds from netlink, ticks (10 ms) from /proc.
        assert_eq!(n["timer"]["kind"], p["timer"]["kind"], "{n} vs {p}");
        assert_eq!(n["timer"]["retrans"], p["timer"]["retrans"], "{n} vs {p}");
        if let (Some(a), Some(b)) = (
            n["timer"]["expires_ms"].as_i64(),
            p["timer"]["expires_ms"].as_i64(),
        ) {
            assert!((a - b).abs() <= 20, "{n} vs {p}");
        }
    }
}

#[test]
fn fixture_covers_every_state() {
    let got = expected("basic", "expected-netlink.jsonl");
    for state in [
        "LISTEN",
        "ESTABLISHED",
        "SYN_RECV",
        "FIN_WAIT2",
        "CLOSE_WAIT",
        "TIME_WAIT",
        "UNCONN",
    ] {
        assert!(got.iter().any(|r| r["state"] == state), "no {state} row");
    }
    assert!(got.iter().any(|r| r["local"]["addr"] == "::ffff:127.0.0.1"));
    assert!(got.iter().any(|r| r["v6only"] == true));
    assert!(got.iter().any(|r| r["v6only"] == false));
}

#[test]
fn replay_applies_the_state_selection() {
    let rec = fixture("basic").join("netlink.bin");
    let rec = rec.to_str().unwrap();
    let all = run(&["-tuan", "--jsonl", "--replay", rec]);
    let listening = run(&["-tln", "--jsonl", "--replay", rec]);
    assert!(!listening.is_empty());
    assert!(listening.iter().all(|r| r["state"] == "LISTEN"));
    let n = all
        .iter()
        .filter(|r| r["state"] == "LISTEN" && r["proto"] == "tcp")
        .count();
    assert_eq!(listening.len(), n);
    // default: connected sockets only, as ss
    let default = run(&["-t", "--jsonl", "--replay", rec]);
    assert!(default.iter().all(|r| {
        !["LISTEN", "TIME_WAIT", "SYN_RECV", "UNCONN"].contains(&r["state"].as_str().unwrap())
    }));
    assert!(default.iter().any(|r| r["state"] == "CLOSE_WAIT"));
    let v6 = run(&["-tan6", "--jsonl", "--replay", rec]);
    assert!(!v6.is_empty() && v6.iter().all(|r| r["family"] == "inet6"));
}

/// A fake /proc tree (fixtures/owners: two nginx processes sharing a
/// listener, one vanished pid, a queued connection) exercises the owner
/// walk without live processes.
#[test]
fn fake_proc_tree_gives_owners_and_queue() {
    let dir = fixture("owners");
    for (args, file) in [
        (&["-tanp"][..], "expected-tanp.txt"),
        (&["who", "80"][..], "expected-who-80.txt"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(args)
            .args(["--source", "proc", "--proc-root"])
            .arg(&dir)
            .env_remove("SOCKSCOPE_PROC_ROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["who", "81", "--source", "proc", "--proc-root"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// sockscope with no data-source variable inherited.
fn bare() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD");
    c
}

/// A fresh directory under the temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("sockscope-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Issue 12 item 15: `--record` (and SOCKSCOPE_NETLINK_RECORD) never
/// follows a planted symbolic link, never replaces an existing file unless
/// --record-overwrite says so (and then only a regular file, still not
/// through a link), and creates the file with mode 0600 whatever the umask.
#[test]
fn record_is_created_exclusively_without_following_links() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let tmp = TempDir::new("record");
    let replay = fixture("basic").join("netlink.bin");
    let victim = tmp.0.join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, tmp.0.join("link")).unwrap();
    std::fs::write(tmp.0.join("old"), "old recording\n").unwrap();
    let record = |file: &str, extra: &[&str], via_env: bool| {
        let mut c = bare();
        c.args(["-tan", "--jsonl", "--replay"]).arg(&replay);
        if via_env {
            c.env("SOCKSCOPE_NETLINK_RECORD", tmp.0.join(file));
        } else {
            c.arg("--record").arg(tmp.0.join(file));
        }
        c.args(extra);
        // SAFETY: umask is async-signal-safe.
        unsafe {
            c.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
        c.output().unwrap()
    };
    for via_env in [false, true] {
        for extra in [&[][..], &["--record-overwrite"][..]] {
            let out = record("link", extra, via_env);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{extra:?} {via_env}: {err}");
            assert!(err.contains("is a symbolic link"), "{err}");
            assert!(out.stdout.is_empty());
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
        }
        let out = record("old", &[], via_env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("already exists (--record-overwrite"), "{err}");
        assert_eq!(
            std::fs::read_to_string(tmp.0.join("old")).unwrap(),
            "old recording\n"
        );
    }
    let mode = |f: &str| {
        std::fs::metadata(tmp.0.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    std::fs::set_permissions(tmp.0.join("old"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = record("old", &["--record-overwrite"], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode("old"), 0o600);
    let out = record("new", &[], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode("new"), 0o600);
    // What was recorded replays to the same rows.
    let again = bare()
        .args(["-tan", "--jsonl", "--replay"])
        .arg(tmp.0.join("new"))
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(
        std::fs::read(tmp.0.join("old")).unwrap(),
        std::fs::read(tmp.0.join("new")).unwrap()
    );
}

/// Issue 12 item 16: a path from --replay, --record, --proc-root or their
/// environment variables is escaped in error messages like any other input.
#[test]
fn paths_in_error_messages_are_escaped() {
    let evil = "/nonexistent/a\x1b[2Jb\nsockscope: fake";
    let cases: Vec<(Vec<String>, Option<&str>)> = vec![
        (vec!["-tan".into(), "--replay".into(), evil.into()], None),
        (vec!["-tan".into(), "--record".into(), evil.into()], None),
        (
            vec![
                "-tan".into(),
                "--source".into(),
                "proc".into(),
                "--proc-root".into(),
                evil.into(),
            ],
            None,
        ),
        (vec!["-tan".into()], Some("SOCKSCOPE_NETLINK_REPLAY")),
        (
            vec!["-tan".into(), "--source".into(), "proc".into()],
            Some("SOCKSCOPE_PROC_ROOT"),
        ),
    ];
    for (args, var) in cases {
        let mut c = bare();
        c.args(&args);
        if let Some(v) = var {
            c.env(v, evil);
        }
        let out = c.output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?} {var:?}: {err}");
        assert!(
            err.contains("/nonexistent/a\\x1b[2Jb\\x0asockscope: fake"),
            "{args:?} {var:?}: {err}"
        );
        // No raw escape, and the newline did not start a line of its own.
        assert!(
            !err.contains('\x1b') && !err.lines().any(|l| l.starts_with("sockscope: fake")),
            "{args:?} {var:?}: raw control characters in {err:?}"
        );
    }
}

/// Issue 12 item 17: an environment variable that swaps the data source is
/// said on stderr (one line naming it and the escaped path); the same
/// option on the command line is not; a command-line flag wins over the
/// variable. stdout is the same either way.
#[test]
fn environment_variables_that_swap_the_source_are_said() {
    let replay = fixture("basic").join("netlink.bin");
    let proc_root = fixture("basic");
    let flag = bare()
        .args(["-tan", "--jsonl", "--replay"])
        .arg(&replay)
        .output()
        .unwrap();
    assert!(flag.status.success() && flag.stderr.is_empty());
    let env = bare()
        .args(["-tan", "--jsonl"])
        .env("SOCKSCOPE_NETLINK_REPLAY", &replay)
        .output()
        .unwrap();
    assert!(env.status.success());
    assert_eq!(env.stdout, flag.stdout);
    assert_eq!(
        String::from_utf8(env.stderr).unwrap(),
        format!(
            "sockscope: SOCKSCOPE_NETLINK_REPLAY={}: reading a netlink recording, not the kernel\n",
            replay.display()
        )
    );
    // The flag wins: no note, the flag's file is read.
    let both = bare()
        .args(["-tan", "--jsonl", "--replay"])
        .arg(&replay)
        .env("SOCKSCOPE_NETLINK_REPLAY", "/nonexistent")
        .output()
        .unwrap();
    assert!(both.status.success() && both.stderr.is_empty());
    assert_eq!(both.stdout, flag.stdout);
    // SOCKSCOPE_PROC_ROOT, also with a subcommand; an escaped path.
    let out = bare()
        .args(["-tan", "--jsonl", "--source", "proc"])
        .env("SOCKSCOPE_PROC_ROOT", &proc_root)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "sockscope: SOCKSCOPE_PROC_ROOT={}: reading /proc from there, not the live /proc\n",
            proc_root.display()
        )
    );
    let out = bare()
        .args(["who", "80", "--source", "proc"])
        .env("SOCKSCOPE_PROC_ROOT", "/nonexistent/\x1b]0;x\x07")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(
            "sockscope: SOCKSCOPE_PROC_ROOT=/nonexistent/\\x1b]0;x\\x07: reading /proc from there"
        ),
        "{err}"
    );
    let tmp = TempDir::new("record-env");
    let out = bare()
        .args(["-tan", "--replay"])
        .arg(&replay)
        .env("SOCKSCOPE_NETLINK_RECORD", tmp.0.join("rec"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "sockscope: SOCKSCOPE_NETLINK_RECORD={}: recording the netlink requests and replies there\n",
            tmp.0.join("rec").display()
        )
    );
}

/// Issue 12 item 9: a recording answers only the requests it covers. A
/// `-tln` recording replayed with `-tan` (states not recorded), with `-i`
/// (attributes not recorded) or a recording made through a kernel filter
/// replayed without it exits 3 naming what is missing, instead of showing
/// the recorded rows as if they were all.
#[test]
fn replay_refuses_what_the_recording_does_not_cover() {
    let tmp = TempDir::new("replay-cover");
    let full = fixture("basic").join("netlink.bin");
    let record = |name: &str, args: &[&str]| {
        let path = tmp.0.join(name);
        let out = bare()
            .args(args)
            .args(["--jsonl", "--replay"])
            .arg(&full)
            .arg("--record")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (path, out.stdout)
    };
    let replay = |path: &Path, args: &[&str]| {
        bare()
            .args(args)
            .args(["--jsonl", "--replay"])
            .arg(path)
            .output()
            .unwrap()
    };
    let (tln, tln_rows) = record("tln.bin", &["-tln"]);
    let again = replay(&tln, &["-tln"]);
    assert!(again.status.success() && again.stderr.is_empty());
    assert_eq!(again.stdout, tln_rows);
    for (args, says) in [
        (&["-tan"][..], "states ESTABLISHED, SYN_SENT, SYN_RECV,"),
        (&["-t"][..], "states ESTABLISHED,"),
        (&["-tlni"][..], "without the extension attributes"),
    ] {
        let out = replay(&tln, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("cannot answer the inet/tcp dump asked for") && err.contains(says),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let (filtered, filtered_rows) = record("sport.bin", &["-tan", "sport", ">", ":1024"]);
    let same = replay(&filtered, &["-tan", "sport", ">", ":1024"]);
    assert!(same.status.success());
    assert_eq!(same.stdout, filtered_rows);
    let out = replay(&filtered, &["-tan"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another kernel filter"));
}
