//! The binary's contract at the edge: usage errors, exit codes, closed pipes.

pub mod common;

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
    let out = sockscope().arg("-tanP").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown option '-P'"), "{err}");
    assert!(err.contains("ports are numeric"), "{err}");
    assert!(!err.contains("-- -P"), "{err}");
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

/// Issue 12 item 19: a full disk is reported as a failure to write the
/// output (exit 3), whichever path wrote: streamed rows, a collected JSON
/// array, the `-s` summary, a subcommand.
#[test]
fn full_disk_says_it_was_writing_the_output() {
    let replay = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/basic/netlink.bin");
    for args in [
        &["-tan"][..],
        &["-tan", "--json"][..],
        &["-tanp", "--jsonl"][..],
        &["-s"][..],
        &["listeners"][..],
    ] {
        let out = sockscope()
            .args(args)
            .args(["--replay", replay])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        // -p walks the real /proc: a process whose descriptors even root
        // may not read (a sandbox's supervisor) adds the owners hint first.
        let err = String::from_utf8_lossy(&out.stderr);
        let (hints, last) = err
            .trim_end()
            .rsplit_once('\n')
            .unwrap_or(("", err.trim_end()));
        assert_eq!(
            last, "sockscope: writing the output: No space left on device (os error 28)",
            "{args:?}"
        );
        assert!(
            hints.lines().all(|l| l.contains("no visible owner")),
            "{args:?}: {err}"
        );
    }
}

/// Runs sockscope with `setup` (shell commands) run first inside a private
/// mount namespace whose /etc is an empty tmpfs; `None` when not root.
fn with_private_etc(setup: &str, args: &[&str]) -> Option<std::process::Output> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        common::skip("not root: private /etc cases skipped");
        return None;
    }
    let script = format!("set -e; mount -t tmpfs none /etc; {setup}; exec \"$@\"");
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .arg(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .output()
        .unwrap();
    Some(out)
}

/// Issue 12 item 7: /etc/services and /etc/passwd are read as bytes; a
/// line that is not UTF-8 costs only that line (a Latin-1 comment or GECOS
/// field costs nothing), and a file that cannot be read is said to be
/// unreadable, naming it, instead of "no such service".
#[test]
fn services_and_passwd_with_bytes_that_are_not_utf8() {
    let replay = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/basic/netlink.bin");
    let files = r"printf 'ssh 22/tcp # caf\351\n\377bad 1/tcp\nfixtureport 47805/tcp\n' > /etc/services; printf 'root:x:0:0:r\351sum\351:/root:/bin/sh\n' > /etc/passwd";
    let Some(out) = with_private_etc(files, &["-tlne", "-r", "--replay", replay]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("127.0.0.4:fixtureport"), "{text}");
    assert!(text.contains(" root "), "{text}");
    let out =
        with_private_etc(files, &["-tln", "--replay", replay, "sport = :fixtureport"]).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    // A services "file" that cannot be read: a directory.
    let dir = "mkdir /etc/services";
    let out = with_private_etc(dir, &["-tln", "--replay", replay, "sport = :ssh"]).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read /etc/services: a directory, not a regular file"),
        "{err}"
    );
    assert!(!err.contains("neither"), "{err}");
    let out = with_private_etc(dir, &["who", "ssh", "--replay", replay]).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read /etc/services: a directory, not a regular file"),
        "{err}"
    );
    let out = with_private_etc(dir, &["-tln", "-r", "--replay", replay]).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot read /etc/services: a directory, not a regular file"),
        "{err}"
    );
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
            // (a prefix length: no host name lookup)
            &["-tan", "dst", "not-an/address"][..],
            "not-an/address",
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

/// Where a bad-filter message must point.
#[derive(Debug, Clone, Copy)]
enum Caret {
    /// Not a filter error: no caret lines.
    No,
    /// Under this token of the repeated filter (as shown, escaped).
    Under(&'static str),
    /// Just after the filter: something is missing at its end.
    AtEnd,
}

/// One bad input: the arguments (bytes: some are not UTF-8), words the
/// message must hold, and where its caret points.
type BadInput = (&'static [&'static [u8]], &'static [&'static str], Caret);

/// Bad input of every kind exits 2 with a message that names the problem,
/// never panics, prints nothing on stdout, and for a filter repeats it with
/// carets under the offending token. The cases are counted.
#[test]
fn bad_input_exits_2_naming_the_problem() {
    use Caret::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let cases: &[BadInput] = &[
        // Filters: states, ports, addresses, prefixes, syntax.
        (
            &[b"-tan", b"state", b"bogus"],
            &["unknown state \"bogus\""],
            Under("bogus"),
        ),
        (
            &[b"-tan", b"exclude", b"listen-ish"],
            &["unknown state"],
            Under("listen-ish"),
        ),
        (&[b"-tan", b"state"], &["needs a state name"], AtEnd),
        (
            &[b"-tan", b"sport", b"=", b":99999"],
            &["port 99999 is out of range"],
            Under(":99999"),
        ),
        (
            &[b"-tan", b"sport = :abc"],
            &["\"abc\" is neither a port number nor a service"],
            Under(":abc"),
        ),
        (
            &[b"-tan", b"dport", b"=", b":-1"],
            &["\"-1\" is neither a port number"],
            Under(":-1"),
        ),
        (
            &[b"-tan", b"sport", b"<>", b":22"],
            &["\"<>\""],
            Under("<>"),
        ),
        (
            &[b"-tan", b"src", b"[::1]:99999"],
            &["out of range"],
            Under("[::1]:99999"),
        ),
        (
            &[b"-tan", b"dst", b"10.0.0.0/33"],
            &["bad prefix length /33", "/32"],
            Under("10.0.0.0/33"),
        ),
        (
            &[b"-tan", b"dst", b"[::1/129]"],
            &["bad prefix length /129", "/128"],
            Under("[::1/129]"),
        ),
        (
            // (1.2.3 is iproute2's 1.2.3.0; a prefix: no host lookup)
            &[b"-tan", b"dst", b"1.2.3.4.5/8"],
            &["\"1.2.3.4.5\" is not an IP address"],
            Under("1.2.3.4.5/8"),
        ),
        (
            &[b"-tan", b"dst", b"[::1"],
            &["'[' without ']'"],
            Under("[::1"),
        ),
        (
            &[b"-tan", b"dst", b"/8"],
            &["not an IP address"],
            Under("/8"),
        ),
        (
            &[b"-tan", b"( sport = :22"],
            &["unbalanced '('"],
            Under("("),
        ),
        (
            &[b"-tan", b"sport = :22 )"],
            &["unbalanced ')'"],
            Under(")"),
        ),
        (&[b"-tan", b"()"], &["empty parentheses"], Under("(")),
        (
            &[b"-tan", b"state", b"established", b"dprot", b"=", b":443"],
            &["unknown word \"dprot\""],
            Under("dprot"),
        ),
        (
            &[b"-tan", b"sport = :22 extra"],
            &["unknown word \"extra\""],
            Under("extra"),
        ),
        (&[b"-tan", b"sport"], &["'sport' needs a value"], AtEnd),
        (
            &[b"-tan", b"sport = :22 and"],
            &["nothing after 'and'"],
            Under("and"),
        ),
        (&[b"-tan", b"not"], &["nothing after 'not'"], Under("not")),
        (
            &[b"-tan", b"sport", b":1", b"state", b"listening"],
            &["'state' must come before the expression"],
            Under("state"),
        ),
        (
            &[b"-tan", b"uid", b"=", b"abc"],
            &["\"abc\" is not a uid"],
            Under("abc"),
        ),
        (
            &[b"-tan", b"dev", b"nosuch0"],
            &["no network interface \"nosuch0\""],
            Under("nosuch0"),
        ),
        // A control sequence in a filter is repeated escaped, not raw.
        (
            &[b"-tan", b"\x1b[2J"],
            &["unknown word \"\\u{1b}[2J\""],
            Under("\\x1b[2J"),
        ),
        (
            &[b"-x", b"sport", b">", b":22"],
            &["UNIX sockets have no ports to compare"],
            Under(":22"),
        ),
        (
            &[b"-tan", b"fwmark", b"=", b"0xZZ"],
            &["\"0xZZ\" is not a mark"],
            Under("0xZZ"),
        ),
        (
            &[b"-tan", b"cgroup", b"/no/such/sockscope/group"],
            &["/no/such/sockscope/group"],
            Under("/no/such/sockscope/group"),
        ),
        (
            &[b"-tan", b"src", b"link:ip"],
            &["link: addresses are not supported"],
            Under("link:ip"),
        ),
        (
            &[b"-tan", b"-F", b"/no/such/sockscope-filter"],
            &["cannot read filter file /no/such/sockscope-filter"],
            No,
        ),
        // who, why-bind, ports, listeners.
        (
            &[b"who", b":99999"],
            &["invalid port \":99999\"", "at most 65535"],
            No,
        ),
        (
            &[b"who", b":abc"],
            &["invalid port \":abc\"", "service name"],
            No,
        ),
        (
            &[b"who", b"1.2.3:80"],
            &["invalid port \"1.2.3:80\"", "IPv4 address or [IPv6]"],
            No,
        ),
        (&[b"who", b"0"], &["port 0 is never held"], No),
        (&[b"who", b""], &["invalid port \"\": no port"], No),
        (&[b"who"], &["required arguments", "[ADDR]:PORT"], No),
        (&[b"who", b"80", b"81"], &["unexpected argument '81'"], No),
        (
            &[b"who", b"\x1b]0;x\x07"],
            &["invalid port \"\\u{1b}]0;x\\u{7}\""],
            No,
        ),
        (&[b"why-bind"], &["required arguments"], No),
        (&[b"why-bind", b":99999"], &["at most 65535"], No),
        (
            &[b"why-bind", b"abc:80"],
            &["invalid port \"abc:80\"", "IPv4 address"],
            No,
        ),
        (
            &[b"why-bind", b"80", b"--bogus"],
            &["unknown option '--bogus'"],
            No,
        ),
        (&[b"ports", b"extra"], &["unexpected argument 'extra'"], No),
        (&[b"ports", b"--bogus"], &["unknown option '--bogus'"], No),
        (
            &[b"listeners", b"extra"],
            &["unexpected argument 'extra'"],
            No,
        ),
        // Options.
        (
            &[b"--pid", b"abc"],
            &["invalid value 'abc' for '--pid <PID>'"],
            No,
        ),
        (&[b"--pid", b"1,,2"], &["invalid value '' for '--pid"], No),
        (
            &[b"--pid", b"99999999999"],
            &["invalid value '99999999999'"],
            No,
        ),
        (
            &[b"--process", b"("],
            &["invalid --process regex \"(\"", "unclosed group"],
            No,
        ),
        (
            &[b"--process", b"\x1b[31m("],
            &["invalid --process regex", "\\x1b[31m("],
            No,
        ),
        (
            &[b"--source", b"kernel"],
            &["invalid value 'kernel'", "netlink, proc"],
            No,
        ),
        (&[b"--source"], &["a value is required for '--source"], No),
        (
            &[b"--json", b"--jsonl"],
            &["'--json' cannot be used with '--jsonl'"],
            No,
        ),
        (&[b"-tanP"], &["unknown option '-P'"], No),
        (
            &[b"--bogus\x1b[2J"],
            &["unknown option '--bogus\\x1b[2J'"],
            No,
        ),
        (&[b"-tan", b"\xff"], &["invalid UTF-8"], No),
    ];
    for (args, words, caret) in cases {
        let args: Vec<&OsStr> = args.iter().map(|a| OsStr::from_bytes(a)).collect();
        let out = sockscope().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", out.stdout);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            err.starts_with("sockscope: ") || err.starts_with("error: "),
            "{args:?}: {err}"
        );
        for w in *words {
            assert!(err.contains(w), "{args:?}: {w:?} not in {err}");
        }
        // Whatever the input, no control character but the line ends.
        assert!(
            !err.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: raw control in {err:?}"
        );
        let lines: Vec<&str> = err.lines().collect();
        match caret {
            No => assert!(!err.contains("bad filter"), "{args:?}: {err}"),
            Under(token) => {
                assert!(err.starts_with("sockscope: bad filter: "), "{err}");
                assert_eq!(lines.len(), 3, "{args:?}: {err}");
                let col = lines[2].find('^').expect("a caret");
                assert_eq!(
                    lines[1].get(col..col + token.len()),
                    Some(*token),
                    "{args:?}: {err}"
                );
                assert_eq!(lines[2][col..].len(), token.chars().count(), "{err}");
            }
            AtEnd => {
                assert_eq!(lines.len(), 3, "{args:?}: {err}");
                assert_eq!(lines[2].find('^'), Some(lines[1].len()), "{err}");
                assert_eq!(lines[2].trim_start(), "^", "{err}");
            }
        }
    }
    let filters = cases
        .iter()
        .filter(|(_, _, c)| !matches!(c, Caret::No))
        .count();
    let _ = writeln!(
        std::io::stderr(),
        "bad input: {} cases exit 2 with the problem named ({filters} filters with a caret)",
        cases.len()
    );
}

/// `--help` lists every exit status and the escaping rule; `-h` says the
/// exit statuses in a few words.
#[test]
fn help_documents_exit_status_and_escaping() {
    let out = sockscope().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Exit status:",
        "\n  0\n",
        "\n  1\n",
        "\n  2\n",
        "\n  3\n",
        "\n  130\n",
        "Escaping:",
        "U+202E",
    ] {
        assert!(text.contains(want), "{want:?} not in --help: {text}");
    }
    let out = sockscope().arg("-h").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Exit status: 0 ok;") && text.contains("130 interrupted"),
        "{text}"
    );
}

/// Issue 12, item 11: a flag a subcommand would ignore is refused (exit 2,
/// the flag and the view named, nothing on stdout); the ones it takes
/// work: -H drops the header line of `listeners` and `ports` too.
#[test]
fn subcommand_flags_work_or_are_refused() {
    let refused: &[(&[&str], &str, &str)] = &[
        (&["-tlnp", "listeners"], "-l", "listeners"),
        (&["listeners", "-u"], "-u", "listeners"),
        (&["listeners", "-x"], "-x", "listeners"),
        (&["-e", "listeners"], "-e", "listeners"),
        (&["--cmdline", "listeners"], "--cmdline", "listeners"),
        (&["ports", "-u"], "-u", "ports"),
        (&["ports", "-x"], "-x", "ports"),
        (&["-p", "ports"], "-p", "ports"),
        (&["--pid", "1", "ports"], "--pid", "ports"),
        (&["-a", "ports"], "-a", "ports"),
        (&["who", "-x", "80"], "-x", "who"),
        (&["-r", "who", "80"], "-r", "who"),
        (&["-l", "who", "80"], "-l", "who"),
        (&["-s", "who", "80"], "-s", "who"),
        (&["why-bind", "-x", "80"], "-x", "why-bind"),
        (&["why-bind", "-6", "80"], "-6", "why-bind"),
        (&["why-bind", "-tu", "80"], "-t with -u", "why-bind"),
        (&["--comm", "nginx", "why-bind", "80"], "--comm", "why-bind"),
    ];
    for (args, flag, view) in refused {
        let out = sockscope().args(*args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("sockscope: {flag}")) && err.contains(view),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // The fixture's /proc tree: one listener on :80 and two clients.
    let fixture = ["--source", "proc", "--proc-root", "fixtures/owners"];
    for (view, header) in [
        ("listeners", "Local Address:Port"),
        ("ports", "Local Address Destination"),
    ] {
        let run = |extra: &[&str]| {
            let out = sockscope()
                .arg(view)
                .args(fixture)
                .args(extra)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{view} {extra:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let (with, without) = (run(&[]), run(&["-H"]));
        assert!(with.contains(header), "{view}: {with}");
        assert!(!without.contains(header), "{view} -H: {without}");
        assert_eq!(with.lines().count(), without.lines().count() + 1);
        assert!(without.contains("127.0.0.1") || without.contains("0.0.0.0:80"));
    }
    // --json's help names the objects the views print.
    let out = sockscope().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("who, listeners, why-bind, ports and -s print one object"),
        "{help}"
    );
}
