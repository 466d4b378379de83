//! `-E/--events` end to end, in a private network namespace made by the
//! test: `sockscope -N NS -E -t FILTER --jsonl` and `ss -E -t FILTER` run at
//! the same time (both owned by the test, ended by pid, bounded); a
//! connection is opened and closed inside, and both print the same rows for
//! the sockets the kernel destroys. Also: SIGINT ends it as every sockscope
//! run ends (killed by the signal), a closed stdout ends it with 0, and
//! `--json` is refused. Without root: said on stderr.
//!
//! iproute2 6.1's ss -E does not flush stdout after each event (7.1 does),
//! so it runs under `stdbuf -oL` here.

pub mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::netns::{TestNetns, is_root};
use common::{Row, poll_until};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .stdin(Stdio::null());
    c
}

/// A child killed by pid and reaped on drop, whatever the test did.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines a child writes to stdout, read on a thread.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Up to `n` lines, waiting at most `limit` in all.
fn take(rx: &mpsc::Receiver<String>, n: usize, limit: Duration) -> Vec<String> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => got.push(line),
            Err(_) => break,
        }
    }
    got
}

/// NETLINK_SOCK_DIAG sockets bound to multicast groups in a
/// `/proc/.../net/netlink` table (Eth 4, Groups not zero); 0 when it
/// cannot be read.
fn subscribers_listed(table: &str) -> usize {
    std::fs::read_to_string(table)
        .map(|t| {
            t.lines()
                .skip(1)
                .filter(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    f.get(1) == Some(&"4") && f.get(3).is_some_and(|g| *g != "00000000")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Subscribers in the namespace of `pid`.
fn subscribers(pid: u32) -> usize {
    subscribers_listed(&format!("/proc/{pid}/net/netlink"))
}

#[test]
fn events_show_destroyed_sockets_as_ss_does() {
    if !is_root() {
        common::skip(
            "events_show_destroyed_sockets_as_ss_does: not root: no namespace, no events (they need CAP_NET_ADMIN)",
        );
        return;
    }
    let ns = TestNetns::named();
    let filter = ["sport", "=", ":5000"];
    let mut ours = Owned(
        bin()
            .args(["-N", &ns.selector(), "-E", "-t", "--jsonl"])
            .args(filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sockscope -E"),
    );
    let mut theirs = Owned(
        ns.exec("stdbuf")
            .args(["-oL", "ss", "-E", "-H", "-n", "-t"])
            .args(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ss -E"),
    );
    let ss_pid = theirs.0.id();
    assert!(
        poll_until(Duration::from_secs(10), || subscribers(ss_pid) >= 2),
        "sockscope -E and ss -E did not both subscribe"
    );
    let our_lines = lines_of(&mut ours.0);
    let their_lines = lines_of(&mut theirs.0);
    // Inside: a connection to :5000 opened and closed (its server side and
    // the listener match the filter, the client side does not), another
    // to :5001 and a UDP socket on :5000 (neither matches -t sport = :5000).
    ns.enter(|| {
        for port in [5000, 5001] {
            let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
            let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (s, _) = l.accept().unwrap();
            drop(c);
            drop(s);
            drop(l);
        }
        drop(UdpSocket::bind("127.0.0.1:5000").unwrap());
    });
    let ours_got = take(&our_lines, 2, Duration::from_secs(10));
    let theirs_got = take(&their_lines, 2, Duration::from_secs(10));
    // Nothing more comes (the other sockets are filtered out).
    let extra = take(&our_lines, 1, Duration::from_millis(500));
    assert!(extra.is_empty(), "unexpected: {extra:?}");
    let mut our_rows: Vec<Row> = ours_got
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(v["tcp_info"].is_null(), "tcp_info without -i: {l}");
            common::run::row_of(&v)
        })
        .collect();
    our_rows.sort();
    let mut their_rows =
        common::parse_ss_output(&["-t"], &theirs_got.join("\n")).expect("parse ss -E");
    their_rows.sort();
    assert_eq!(our_rows.len(), 2, "{ours_got:?}");
    assert_eq!(our_rows, their_rows, "ss -E printed {theirs_got:?}");
    // Destroyed TCP sockets are reported in state CLOSE.
    assert!(our_rows.iter().all(|r| r.state == "CLOSE"), "{our_rows:?}");

    // SIGINT ends the run as any sockscope run: killed by the signal.
    // SAFETY: a pid of our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(ours.0.id() as i32, libc::SIGINT) }, 0);
    let status = ours.0.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    let mut err = String::new();
    if let Some(mut e) = ours.0.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(err.is_empty(), "stderr: {err}");
}

#[test]
fn events_end_when_stdout_closes_and_refuse_json() {
    let out = bin().args(["-E", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jsonl"));
    if !is_root() {
        common::skip(
            "events_end_when_stdout_closes_and_refuse_json: not root: cannot subscribe; only --json's refusal checked",
        );
        return;
    }
    let ns = TestNetns::named();
    let mut run = Owned(
        bin()
            .args(["-N", &ns.selector(), "-E"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The header comes at once; then the reader goes away.
    let mut stdout = run.0.stdout.take().unwrap();
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"Netid");
    drop(stdout);
    let ended = poll_until(Duration::from_secs(5), || {
        matches!(run.0.try_wait(), Ok(Some(_)))
    });
    assert!(ended, "sockscope -E kept running after stdout closed");
    let status = run.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn events_from_several_namespaces_are_tagged() {
    if !is_root() {
        common::skip("events_from_several_namespaces_are_tagged: not root: no namespace made");
        return;
    }
    let (a, b) = (TestNetns::named(), TestNetns::named());
    let mut run = Owned(
        bin()
            .args(["-N", &a.selector(), "-N", &b.selector()])
            .args(["-E", "-t", "--jsonl", "state", "all", "sport", "=", ":5000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Its two subscriptions live in a and b: each namespace lists one.
    let listed = subscribers_in;
    assert!(
        poll_until(Duration::from_secs(10), || listed(&a) == 1
            && listed(&b) == 1),
        "sockscope -E did not subscribe in both namespaces"
    );
    let lines = lines_of(&mut run.0);
    for ns in [&a, &b] {
        // A listener bound and closed: destroyed in its namespace.
        ns.enter(|| drop(TcpListener::bind("127.0.0.1:5000").unwrap()));
    }
    let got = take(&lines, 2, Duration::from_secs(10));
    let mut names: Vec<String> = got
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["netns"]["name"].as_str().unwrap_or("?").to_owned()
        })
        .collect();
    names.sort();
    let mut want = vec![a.name().unwrap().to_owned(), b.name().unwrap().to_owned()];
    want.sort();
    assert_eq!(names, want, "{got:?}");
}

/// Issue 16: `events` (the subcommand) with --count ends by itself after
/// that many close events, each a live-view event line with the socket
/// nested (and its fields kept at the top, as -E printed them), with -i the
/// connection's final tcp_info (bytes sent and received); --json with
/// --duration prints one array at the end.
#[test]
fn events_subcommand_counts_and_carries_final_tcp_info() {
    if !is_root() {
        common::skip(
            "events_subcommand_counts_and_carries_final_tcp_info: not root: cannot subscribe",
        );
        return;
    }
    let ns = TestNetns::named();
    let mut run = Owned(
        bin()
            .args([
                "-N",
                &ns.selector(),
                "events",
                "-t",
                "-i",
                "--jsonl",
                "--count",
                "2",
            ])
            .args(["dport", "=", ":5000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(
        poll_until(Duration::from_secs(10), || subscribers_in(&ns) >= 1),
        "events did not subscribe"
    );
    let lines = lines_of(&mut run.0);
    ns.enter(|| {
        let l = TcpListener::bind("127.0.0.1:5000").unwrap();
        for _ in 0..3 {
            let mut c = TcpStream::connect("127.0.0.1:5000").unwrap();
            let (mut s, _) = l.accept().unwrap();
            std::io::Write::write_all(&mut c, &[7u8; 1000]).unwrap();
            let mut got = [0u8; 1000];
            s.read_exact(&mut got).unwrap();
            drop(c);
            drop(s);
        }
    });
    let got = take(&lines, 3, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "--count 2 printed {got:?}");
    for l in &got {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["event"], "close", "{l}");
        assert!(
            v["time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
            "{l}"
        );
        assert_eq!(v["socket"]["remote"]["port"], 5000, "{l}");
        assert_eq!(v["remote"]["port"], 5000, "{l}");
        // The client sent 1000 bytes and received none: the peer's FIN
        // takes one sequence number, which tcpi_bytes_received counts.
        assert_eq!(v["socket"]["tcp_info"]["bytes_sent"], 1000, "{l}");
        assert_eq!(v["socket"]["tcp_info"]["bytes_received"], 1, "{l}");
    }
    let ended = poll_until(Duration::from_secs(5), || {
        matches!(run.0.try_wait(), Ok(Some(_)))
    });
    assert!(ended, "events --count 2 did not end by itself");
    assert_eq!(run.0.wait().unwrap().code(), Some(0));

    let out = bin()
        .args([
            "-N",
            &ns.selector(),
            "events",
            "--json",
            "--duration",
            "300ms",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, Value::Array(Vec::new()));
}

/// NETLINK_SOCK_DIAG multicast subscribers in `ns`.
fn subscribers_in(ns: &TestNetns) -> usize {
    ns.enter(|| subscribers_listed("/proc/thread-self/net/netlink"))
}

/// The kernel lets any user join sock_diag's destroy groups (README said
/// CAP_NET_ADMIN was needed): `events` run as `nobody` hears a close.
#[test]
fn events_need_no_privilege() {
    if !is_root() {
        common::skip(
            "events_need_no_privilege: not root: cannot make a namespace or become nobody",
        );
        return;
    }
    let ns = TestNetns::named();
    let mut run = Owned(
        ns.exec("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args([
                "events", "-t", "--jsonl", "--count", "1", "sport", "=", ":5000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(
        poll_until(Duration::from_secs(10), || subscribers_in(&ns) == 1),
        "events as nobody did not subscribe"
    );
    let lines = lines_of(&mut run.0);
    ns.enter(|| drop(TcpListener::bind("127.0.0.1:5000").unwrap()));
    let got = take(&lines, 1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "nothing heard as nobody");
    let v: Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(v["socket"]["local"]["port"], 5000, "{}", got[0]);
    assert!(poll_until(Duration::from_secs(5), || matches!(
        run.0.try_wait(),
        Ok(Some(_))
    )));
    assert_eq!(run.0.wait().unwrap().code(), Some(0));
}
