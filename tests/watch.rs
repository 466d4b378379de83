//! `watch` end to end: the built binary against real sockets made in a
//! private network namespace, between its ticks.
//!
//! The ticks are driven, not timed: the run is asked for `-v`, whose one
//! stderr line a tick says that tick's dump is done; the test then stops
//! the process (SIGSTOP), makes its change, waits until the kernel shows
//! it, and lets the process go on (SIGCONT): the next tick sees exactly
//! that change. The interval (1 s) only has to outlast the few
//! microseconds between reading the line and stopping the process.

pub mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::netns::{TestNetns, is_root, say};
use common::{Env, Sandbox, poll_until, proc_tcp_rows};
use serde_json::Value;

/// How long anything may take before the test fails (never a timing
/// assertion: a bound so a broken run cannot hang the suite).
const BOUND: Duration = Duration::from_secs(30);

/// A running `sockscope watch`, its ticks read from its `-v` lines.
struct Watch {
    child: Child,
    stdout: Option<ChildStdout>,
    ticks: Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Watch {
    fn start(env: &Env, args: &[&str]) -> Watch {
        let mut child = common::run::command(env)
            .arg("watch")
            .args(args)
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sockscope watch");
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().expect("stderr");
        let (tx, ticks) = mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let all = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("sockscope: tick ") {
                    let _ = tx.send(line.clone());
                }
                all.lock().unwrap().push(line);
            }
        });
        Watch {
            child,
            stdout,
            ticks,
            stderr: lines,
        }
    }

    /// Waits for the next tick's line, then stops the process.
    fn tick_then_stop(&mut self) -> String {
        let line = self
            .ticks
            .recv_timeout(BOUND)
            .unwrap_or_else(|_| panic!("no tick line; stderr: {:?}", self.stderr.lock().unwrap()));
        self.signal(libc::SIGSTOP);
        line
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, sig) },
            0
        );
    }

    fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// Lets the process run to its end (it is bounded by --count) and
    /// returns its event lines.
    fn finish(mut self) -> Vec<Value> {
        self.resume();
        let mut text = String::new();
        self.stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut text)
            .expect("read stdout");
        let status = wait_bounded(&mut self.child);
        assert!(
            status.success(),
            "watch failed: {status:?}; stderr: {:?}",
            self.stderr.lock().unwrap()
        );
        text.lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child`, killing it past [`BOUND`].
fn wait_bounded(child: &mut Child) -> std::process::ExitStatus {
    let mut status = None;
    let done = poll_until(BOUND, || {
        status = child.try_wait().expect("wait");
        status.is_some()
    });
    if !done {
        let _ = child.kill();
        panic!("sockscope did not end within {BOUND:?}");
    }
    status.expect("status")
}

/// Waits until the kernel shows a TCP socket on `local` to `remote` in
/// `state` (or none at all when `state` is `None`).
fn settle(local: SocketAddr, remote: SocketAddr, state: Option<&str>) {
    let (l, r) = (local.to_string(), remote.to_string());
    let ok = poll_until(BOUND, || {
        let rows = proc_tcp_rows().expect("read /proc/thread-self/net/tcp");
        let found = rows
            .iter()
            .find(|row| row.local == l && row.remote == r)
            .map(|row| row.state.clone());
        found.as_deref() == state
    });
    assert!(ok, "{l} -> {r} never reached {state:?}");
}

/// One event as (event, state, local, remote, previous state).
fn event_of(v: &Value) -> (String, String, String, String, String) {
    let s = &v["socket"];
    let ep = |e: &Value| format!("{}:{}", e["addr"].as_str().unwrap(), e["port"]);
    (
        v["event"].as_str().unwrap().to_owned(),
        s["state"].as_str().unwrap().to_owned(),
        ep(&s["local"]),
        ep(&s["remote"]),
        v["previous"]["state"].as_str().unwrap_or("").to_owned(),
    )
}

fn events_of(lines: &[Value]) -> Vec<(String, String, String, String, String)> {
    let mut v: Vec<_> = lines.iter().map(event_of).collect();
    v.sort();
    v
}

fn ev(
    event: &str,
    state: &str,
    local: SocketAddr,
    remote: &str,
    was: &str,
) -> (String, String, String, String, String) {
    (
        event.to_owned(),
        state.to_owned(),
        local.to_string(),
        remote.to_owned(),
        was.to_owned(),
    )
}

/// Skips (loudly) outside a private namespace: the counts would include
/// every other socket of the machine.
fn private(env: &Env, test: &str) -> bool {
    if !env.private_ns {
        say(&format!(
            "watch::{test}: not checked: {} (the exact counts need a private network namespace, i.e. root)",
            env.shared_reason.as_deref().unwrap_or("shared namespace")
        ));
    }
    env.private_ns
}

/// A connection's whole life across four ticks: opens, the half-close's
/// states on both sides, then TIME_WAIT on the side that closed first and
/// the close of the other. Every event made, and nothing else.
#[test]
fn watch_sees_every_open_state_change_and_close_made() {
    Sandbox::run(|env| {
        if !private(env, "watch_sees_every_open_state_change_and_close_made") {
            return;
        }
        let mut w = Watch::start(
            env,
            &["-tan", "--jsonl", "--count", "3", "--interval", "1s"],
        );
        // Tick 0, the baseline: nothing here yet.
        w.tick_then_stop();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let l = listener.local_addr().unwrap();
        let client = TcpStream::connect(l).unwrap();
        let (server, _) = listener.accept().unwrap();
        let c = client.local_addr().unwrap();
        settle(c, l, Some("ESTABLISHED"));
        w.resume();
        w.tick_then_stop();
        // The client closes first.
        drop(client);
        settle(c, l, Some("FIN_WAIT2"));
        settle(l, c, Some("CLOSE_WAIT"));
        w.resume();
        w.tick_then_stop();
        drop(server);
        settle(c, l, Some("TIME_WAIT"));
        settle(l, c, None);
        let lines = w.finish();
        let (ls, cs) = (l.to_string(), c.to_string());
        let mut expected = vec![
            ev("open", "LISTEN", l, "0.0.0.0:0", ""),
            ev("open", "ESTABLISHED", c, &ls, ""),
            ev("open", "ESTABLISHED", l, &cs, ""),
            ev("state", "FIN_WAIT2", c, &ls, "ESTABLISHED"),
            ev("state", "CLOSE_WAIT", l, &cs, "ESTABLISHED"),
            ev("state", "TIME_WAIT", c, &ls, "FIN_WAIT2"),
            ev("close", "CLOSE_WAIT", l, &cs, ""),
        ];
        expected.sort();
        assert_eq!(events_of(&lines), expected, "{lines:#?}");
        // The contract's fields, in order, on every line.
        for line in &lines {
            let keys: Vec<&str> = line
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(&keys[..4], ["event", "time", "netns", "socket"], "{line}");
            assert!(line["time"].as_str().unwrap().ends_with('Z'));
            assert!(line["socket"]["cookie"].is_string(), "netlink: cookies");
        }
        drop(listener);
    });
}

/// The filter narrows the events: of two listeners opened, only the one on
/// the port asked for is reported.
#[test]
fn the_filter_narrows_the_events() {
    Sandbox::run(|env| {
        if !private(env, "the_filter_narrows_the_events") {
            return;
        }
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        drop(a);
        let sport = format!("sport = :{port}");
        let mut w = Watch::start(
            env,
            &[
                "-tan",
                "--jsonl",
                "--count",
                "1",
                "--interval",
                "1s",
                &sport,
            ],
        );
        w.tick_then_stop();
        let wanted = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let lines = w.finish();
        assert_eq!(
            events_of(&lines),
            vec![ev(
                "open",
                "LISTEN",
                wanted.local_addr().unwrap(),
                "0.0.0.0:0",
                ""
            )]
        );
        drop(other);
    });
}

/// From /proc there is no cookie: identity is the four-tuple, state and
/// inode, so a state change is a close and an open.
#[test]
fn proc_identity_makes_a_state_change_a_close_and_an_open() {
    Sandbox::run(|env| {
        if !private(
            env,
            "proc_identity_makes_a_state_change_a_close_and_an_open",
        ) {
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let l = listener.local_addr().unwrap();
        let client = TcpStream::connect(l).unwrap();
        let (server, _) = listener.accept().unwrap();
        let c = client.local_addr().unwrap();
        let mut w = Watch::start(
            env,
            &[
                "-tn",
                "--jsonl",
                "--count",
                "1",
                "--interval",
                "1s",
                "--source",
                "proc",
            ],
        );
        w.tick_then_stop();
        drop(client);
        settle(c, l, Some("FIN_WAIT2"));
        settle(l, c, Some("CLOSE_WAIT"));
        let lines = w.finish();
        let (ls, cs) = (l.to_string(), c.to_string());
        let mut expected = vec![
            ev("close", "ESTABLISHED", c, &ls, ""),
            ev("open", "FIN_WAIT2", c, &ls, ""),
            ev("close", "ESTABLISHED", l, &cs, ""),
            ev("open", "CLOSE_WAIT", l, &cs, ""),
        ];
        expected.sort();
        assert_eq!(events_of(&lines), expected, "{lines:#?}");
        assert!(lines.iter().all(|l| l["socket"]["cookie"].is_null()));
        drop(server);
    });
}

/// The seed's handshake before accept(): with -p the completed connection
/// waits in the listener's accept queue (attributed to it) and the
/// listener's queue is no longer idle; accept() gives it an owner and
/// empties the queue.
#[test]
fn accept_queue_and_accept_are_queue_events() {
    Sandbox::run(|env| {
        if !private(env, "accept_queue_and_accept_are_queue_events") {
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let l = listener.local_addr().unwrap();
        let mut w = Watch::start(
            env,
            &["-tanp", "--jsonl", "--count", "2", "--interval", "1s"],
        );
        w.tick_then_stop();
        let client = TcpStream::connect(l).unwrap();
        let c = client.local_addr().unwrap();
        settle(l, c, Some("ESTABLISHED"));
        w.resume();
        w.tick_then_stop();
        let (server, _) = listener.accept().unwrap();
        let lines = w.finish();
        let (ls, cs) = (l.to_string(), c.to_string());
        let mut expected = vec![
            ev("open", "ESTABLISHED", c, &ls, ""),
            ev("open", "ESTABLISHED", l, &cs, ""),
            ev("queue", "LISTEN", l, "0.0.0.0:0", ""),
            ev("queue", "ESTABLISHED", l, &cs, ""),
            ev("queue", "LISTEN", l, "0.0.0.0:0", ""),
        ];
        expected.sort();
        assert_eq!(events_of(&lines), expected, "{lines:#?}");
        let queued = lines
            .iter()
            .find(|v| v["event"] == "open" && v["socket"]["local"]["port"] == l.port())
            .unwrap();
        assert_eq!(queued["socket"]["queue"], "accept", "{queued}");
        let accepted = lines
            .iter()
            .find(|v| v["event"] == "queue" && v["socket"]["state"] == "ESTABLISHED")
            .unwrap();
        assert_eq!(accepted["change"], "owners");
        assert_eq!(accepted["socket"]["queue"], Value::Null);
        let listens: Vec<&Value> = lines
            .iter()
            .filter(|v| v["event"] == "queue" && v["socket"]["state"] == "LISTEN")
            .collect();
        assert_eq!(listens[0]["change"], "queue");
        assert_eq!(listens[0]["previous"]["recv_q"], 0);
        assert_eq!(listens[0]["level"], "queued");
        assert_eq!(listens[1]["previous"]["recv_q"], 1);
        assert_eq!(listens[1]["level"], "idle");
        drop((client, server));
    });
}

/// `--json` with a bound: one array of the same objects, at the end.
#[test]
fn json_is_one_array_at_the_end() {
    Sandbox::run(|env| {
        if !private(env, "json_is_one_array_at_the_end") {
            return;
        }
        let mut w = Watch::start(env, &["-tan", "--json", "--count", "1", "--interval", "1s"]);
        w.tick_then_stop();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        w.resume();
        let mut text = String::new();
        w.stdout.take().unwrap().read_to_string(&mut text).unwrap();
        assert!(wait_bounded(&mut w.child).success());
        let v: Value = serde_json::from_str(&text).expect("one JSON document");
        let events = v.as_array().expect("an array");
        assert_eq!(events.len(), 1, "{text}");
        assert_eq!(events[0]["event"], "open");
        assert_eq!(
            events[0]["socket"]["local"]["port"],
            listener.local_addr().unwrap().port()
        );
    });
}

/// Bad input exits 2 with the reason.
#[test]
fn bad_input_is_a_usage_error() {
    Sandbox::run(|env| {
        for (args, says) in [
            (&["watch", "--interval", "0"][..], "interval"),
            (&["watch", "--interval=-1"][..], "negative"),
            (&["watch", "--count", "x"][..], "count"),
            (&["watch", "--duration", "soon"][..], "duration"),
            (&["watch", "--json"][..], "--count or --duration"),
            (&["-c", "--json", "-tan"][..], "--count or --duration"),
        ] {
            let out = common::run::command(env).args(args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    });
}

/// A reader that goes away ends the run with 0, quietly: in the table (a
/// header to write) and in JSON lines (nothing to write: stdout is polled).
#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    Sandbox::run(|env| {
        for format in ["--jsonl", "-H"] {
            let mut child = common::run::command(env)
                .args(["watch", "-tan", "--interval", "50ms", format])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stdout.take());
            let status = wait_bounded(&mut child);
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert_eq!(status.code(), Some(0), "{format}: {err}");
            assert!(err.is_empty(), "{format}: {err}");
        }
    });
}

/// `-c` is watch: in a pipe, one table line per event.
#[test]
fn continuous_in_a_pipe_prints_one_line_per_event() {
    Sandbox::run(|env| {
        if !private(env, "continuous_in_a_pipe_prints_one_line_per_event") {
            return;
        }
        let mut child = common::run::command(env)
            .args(["-c", "-tan", "--count", "1", "--interval", "1s", "-v"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.starts_with("sockscope: tick 0: "), "{first}");
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGSTOP) };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGCONT) };
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(wait_bounded(&mut child).success());
        assert!(!text.contains('\x1b'), "{text:?}");
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].starts_with("Time"), "{text}");
        let port = format!(":{}", listener.local_addr().unwrap().port());
        assert!(
            rows[1].contains(" open ") && rows[1].contains("LISTEN") && rows[1].contains(&port),
            "{text}"
        );
    });
}

/// Ctrl-C on a real terminal: tmux runs watch in a pane of a shell, C-c
/// stops it, and the pane shows the shell's prompt and what was there
/// before watch (the alternate screen left), the exit status 130, and the
/// escape sequences watch wrote are balanced.
#[test]
fn ctrl_c_gives_the_terminal_back() {
    if Command::new("tmux").arg("-V").output().is_err() {
        common::skip("watch::ctrl_c_gives_the_terminal_back: not checked: tmux is not installed");
        return;
    }
    let session = format!("sockscope-watch-{}", std::process::id());
    let log = std::env::temp_dir().join(format!("{session}.log"));
    let _ = std::fs::remove_file(&log);
    /// The session and its log, removed however the test ends.
    struct Kill(String, std::path::PathBuf);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["kill-session", "-t", &self.0])
                .output();
            let _ = std::fs::remove_file(&self.1);
        }
    }
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux").args(args).output().expect("tmux");
        assert!(out.status.success(), "tmux {args:?}: {:?}", out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "30",
        "bash --norc --noprofile",
    ]);
    let _kill = Kill(session.clone(), log.clone());
    let pane = |text: &str| tmux(&["send-keys", "-t", &session, text, "Enter"]);
    pane("PS1='READY$ '; echo before-watch-marker");
    let shown = |tmux: &dyn Fn(&[&str]) -> String, what: &str| {
        poll_until(BOUND, || {
            tmux(&["capture-pane", "-p", "-t", &session]).contains(what)
        })
    };
    assert!(
        shown(&tmux, "before-watch-marker\nREADY$"),
        "the shell never started"
    );
    tmux(&[
        "pipe-pane",
        "-o",
        "-t",
        &session,
        &format!("cat >> {}", log.display()),
    ]);
    pane(&format!(
        "{} watch -tan --interval 100ms",
        env!("CARGO_BIN_EXE_sockscope")
    ));
    assert!(
        shown(&tmux, "sockscope watch"),
        "the watch screen never came"
    );
    assert!(shown(&tmux, "tick 2"), "the screen is not redrawn");
    tmux(&["send-keys", "-t", &session, "C-c"]);
    // bash drops the rest of a line whose job died by SIGINT: ask after
    // (typed ahead, the line waits in the terminal for the shell).
    pane("echo exit=$?");
    assert!(shown(&tmux, "exit=130"), "watch did not die by SIGINT");
    let screen = tmux(&["capture-pane", "-p", "-t", &session]);
    assert!(screen.contains("before-watch-marker"), "{screen}");
    assert!(
        !screen.contains("sockscope watch  "),
        "the watch screen stayed: {screen}"
    );
    assert!(screen.contains("READY$ "), "{screen}");
    tmux(&["pipe-pane", "-t", &session]);
    let raw = std::fs::read(&log).unwrap_or_default();
    let count = |needle: &[u8]| raw.windows(needle.len()).filter(|w| *w == needle).count();
    assert_eq!(
        count(b"\x1b[?1049h"),
        1,
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    // tmux may rewrite what it relays: the leaving sequence must be there
    // as often as the entering one.
    assert_eq!(
        count(b"\x1b[?1049l"),
        1,
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(count(b"\x1b[?25l"), count(b"\x1b[?25h"));
    let _ = std::fs::remove_file(&log);
    let _ = std::io::stderr().flush();
}

/// Many namespaces: one snapshot across them a tick, the namespace part of
/// identity. The same listener address made in two namespaces is two
/// opens, each with its namespace.
#[test]
fn namespaces_are_part_of_identity() {
    if !is_root() {
        common::skip(
            "watch::namespaces_are_part_of_identity: not checked: not root (namespaces need it)",
        );
        return;
    }
    let (a, b) = (TestNetns::named(), TestNetns::named());
    let env = Env {
        private_ns: false,
        shared_reason: None,
    };
    let mut w = Watch::start(
        &env,
        &[
            "-tan",
            "--jsonl",
            "--count",
            "1",
            "--interval",
            "1s",
            "-N",
            &a.selector(),
            "-N",
            &b.selector(),
        ],
    );
    w.tick_then_stop();
    let la = a.enter(|| TcpListener::bind("127.0.0.1:7000").unwrap());
    let lb = b.enter(|| TcpListener::bind("127.0.0.1:7000").unwrap());
    let lines = w.finish();
    let mut seen: Vec<(String, u64, String)> = lines
        .iter()
        .map(|v| {
            (
                v["event"].as_str().unwrap().to_owned(),
                v["netns"]["inode"].as_u64().unwrap(),
                event_of(v).2,
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        ("open".to_owned(), a.inode(), "127.0.0.1:7000".to_owned()),
        ("open".to_owned(), b.inode(), "127.0.0.1:7000".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{lines:#?}");
    for line in &lines {
        assert_eq!(line["netns"], line["socket"]["netns"], "{line}");
    }
    drop((la, lb));
}

/// SIGTERM and SIGINT end the run by the signal itself (the shell sees
/// 128 + N), after what is held is written: a bounded `--json` run stopped
/// early still prints its (empty) array.
#[test]
fn stop_signals_end_the_run_by_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    Sandbox::run(|env| {
        for (sig, format) in [(libc::SIGTERM, "--jsonl"), (libc::SIGINT, "--json")] {
            let mut w = Watch::start(env, &["-tan", format, "--count", "100", "--interval", "1s"]);
            w.tick_then_stop();
            w.signal(sig);
            w.resume();
            let mut text = String::new();
            w.stdout.take().unwrap().read_to_string(&mut text).unwrap();
            let status = wait_bounded(&mut w.child);
            assert_eq!(status.signal(), Some(sig), "{format}: {status:?}");
            if format == "--json" {
                assert_eq!(text, "[]\n");
            }
        }
    });
}

/// `--duration` ends the run by itself (how many ticks fit is the clock's
/// business: only that it ends, with the baseline at least).
#[test]
fn duration_ends_the_run() {
    Sandbox::run(|env| {
        let mut child = common::run::command(env)
            .args([
                "watch",
                "-tan",
                "--jsonl",
                "--duration",
                "300ms",
                "--interval",
                "100ms",
                "-v",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(wait_bounded(&mut child).success(), "{err}");
        assert!(err.starts_with("sockscope: tick 0: "), "{err}");
    });
}

/// In a pipe whose reader stalls, a tick's write blocks: Ctrl-C still ends
/// the run at once, by the signal (it is blocked only between ticks).
#[test]
fn sigint_ends_a_write_blocked_on_a_stalled_reader() {
    use std::os::unix::process::ExitStatusExt;
    Sandbox::run(|env| {
        if !private(env, "sigint_ends_a_write_blocked_on_a_stalled_reader") {
            return;
        }
        let mut w = Watch::start(
            env,
            &["-tan", "--jsonl", "--count", "5", "--interval", "1s"],
        );
        w.tick_then_stop();
        // 400 opens of ~600 bytes: more than a pipe holds (64 KiB). The
        // kernel names the wait pipe_write (anon_pipe_write on 6.18).
        let listeners: Vec<TcpListener> = (0..400)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        w.resume();
        let pid = w.child.id();
        let blocked = poll_until(BOUND, || {
            std::fs::read_dir(format!("/proc/{pid}/task"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|t| {
                    std::fs::read_to_string(t.path().join("wchan"))
                        .is_ok_and(|w| w.trim().ends_with("pipe_write"))
                })
        });
        assert!(blocked, "watch never blocked on its full pipe");
        w.signal(libc::SIGINT);
        let status = wait_bounded(&mut w.child);
        assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
        drop(listeners);
    });
}
