//! The binary's contract at the edge: usage errors, exit codes, closed pipes.

use std::io::Write;
use std::process::{Command, Stdio};

fn sockscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD");
    c
}

#[test]
fn unknown_flag_exits_2_with_clap_message() {
    let out = sockscope().arg("-tanZ").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_source_value_exits_2() {
    let out = sockscope().args(["--source", "kernel"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("netlink"));
}

#[test]
fn help_has_examples_and_version_prints() {
    let out = sockscope().arg("-h").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("sockscope -tan"),
        "{text}"
    );
    let out = sockscope().arg("-V").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sockscope "));
}

#[test]
fn unreadable_proc_exits_3_naming_the_path() {
    let out = sockscope()
        .args([
            "-tan",
            "--source",
            "proc",
            "--proc-root",
            "/nonexistent/sockscope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/sockscope/net/tcp"), "{err}");
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn missing_replay_file_exits_3() {
    let out = sockscope()
        .args(["-tan", "--replay", "/nonexistent/dump.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dump.bin"));
}

#[test]
fn malformed_proc_table_exits_3_with_line_number() {
    let dir = std::env::temp_dir().join(format!("sockscope-bad-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("net")).unwrap();
    let mut f = std::fs::File::create(dir.join("net/tcp")).unwrap();
    writeln!(f, "  sl  local_address rem_address   st tx_queue rx_queue").unwrap();
    writeln!(f, "   0: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000").unwrap();
    drop(f);
    let out = sockscope()
        .args(["-tan4", "--source", "proc", "--proc-root"])
        .arg(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("net/tcp:2:"), "{err}");
}

/// `sockscope -tan | head -1`: the reader goes away early; sockscope exits 0
/// and says nothing. The table is made larger than a pipe buffer so the write
/// really fails.
#[test]
fn closed_stdout_exits_quietly() {
    let dir = std::env::temp_dir().join(format!("sockscope-pipe-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("net")).unwrap();
    let mut text = String::from("  sl  local_address rem_address   st tx_queue rx_queue\n");
    for i in 0..5000u32 {
        text.push_str(&format!(
            "{i:4}: 0100007F:{:04X} 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000 0 {} 1\n",
            10000 + i,
            50000 + i
        ));
    }
    std::fs::write(dir.join("net/tcp"), text).unwrap();
    for format in [&[][..], &["--json"][..], &["--jsonl"][..]] {
        let mut child = sockscope()
            .args(["-tan4", "--source", "proc", "--proc-root"])
            .arg(&dir)
            .args(format)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line's worth, then close our end, like `head -1`.
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0u8; 64];
        std::io::Read::read(&mut stdout, &mut buf).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format:?}");
        assert!(
            out.stderr.is_empty(),
            "{format:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn head_one_in_a_shell_pipeline() {
    let bin = env!("CARGO_BIN_EXE_sockscope");
    let out = Command::new("bash")
        .args(["-c", &format!("set -o pipefail; '{bin}' -tan | head -1")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("State"));
}

/// A bad filter exits 2, repeats the expression and points at the token.
#[test]
fn bad_filters_exit_2_with_a_caret() {
    for (args, token, words) in [
        (
            &["-tan", "state", "established", "dprot", "=", ":443"][..],
            "dprot",
            "unknown word",
        ),
        (
            &["-tan", "state", "establisehd"][..],
            "establisehd",
            "unknown state",
        ),
        (
            &["-tan", "sport", "=", ":70000"][..],
            ":70000",
            "out of range",
        ),
        (&["-tan", "src", "10.0.0.0/40"][..], "10.0.0.0/40", "prefix"),
        (&["-tan", "( sport = :22"][..], "(", "unbalanced"),
        (&["-tan", "sport = :22 )"][..], ")", "unbalanced"),
        (
            &["-tan", "dst", "not-an-address"][..],
            "not-an-address",
            "not an IP address",
        ),
    ] {
        let out = sockscope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        let col = lines[2].find('^').expect("a caret");
        assert_eq!(&lines[1][col..col + token.len()], token, "{err}");
        assert_eq!(
            lines[2].matches('^').count(),
            token.chars().count(),
            "{err}"
        );
    }
}
