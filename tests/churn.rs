//! Churn (issue #8): while a bounded load opens and closes thousands of
//! loopback connections a second, 200 consecutive runs each of `-tanp`,
//! `--json -tan` and `listeners` exit 0, every JSON document parses, no row
//! appears twice within a run, and `-v` counts the interrupted dumps retried.
//!
//! Kernel fact: sock_diag dumps never carry NLM_F_DUMP_INTR. The flag is
//! set only by `nl_dump_check_consistent()` (include/net/netlink.h), when
//! `cb->prev_seq` is non-zero and differs from `cb->seq`, a generation
//! counter the dumper itself must store (rtnetlink stores `dev_base_seq`,
//! for one). The TCP walk (inet_diag.c, moved to tcp_diag.c in 2025),
//! udp_diag.c and net/unix/diag.c never set `cb->seq`: it stays 0, so the
//! check af_netlink.c runs on NLMSG_DONE never fires. Seen here too: no
//! retry in 600 runs under churn on Linux 6.18. A dump longer than one
//! datagram resumes from a (bucket, position) kept in `cb->args`, so under
//! churn it can skip or repeat a socket without any flag. The churn test
//! reports the retries it sees and any duplicate; the retry path itself is
//! tested on recordings whose dumps carry the flag.

pub mod common;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::run::count_before;
use common::{Env, ListenOpts, Sandbox, Scenario};

/// Runs of each command.
const RUNS: usize = 200;
/// The runs stop early past this (a machine busy with someone else's
/// million sockets makes every `-p` walk slow); at least `MIN_RUNS` must
/// have been made by then.
const RUN_BUDGET: Duration = Duration::from_secs(75);
const MIN_RUNS: usize = 20;
/// The load stops by itself after this long or this many connections,
/// whichever comes first, even if the test never tells it to.
const CHURN_MAX_TIME: Duration = Duration::from_secs(90);
const CHURN_MAX_CONNECTIONS: u64 = 400_000;
/// Connections a second each of the two clients aims at: thousands in
/// all, and the two cores still left to the runs (unpaced, the load takes
/// both, over 13 000 a second, and each run takes ten times longer).
const PACE_PER_CLIENT: f64 = 2000.0;
/// Connections each client keeps open before closing the oldest, so there
/// are ESTABLISHED, CLOSE_WAIT and FIN_WAIT rows to see, not only SYNs.
const RING: usize = 32;
/// In a private namespace, one connection in this many closes gracefully
/// (a TIME_WAIT row); the rest reset. Never in the shared namespace.
const GRACEFUL_EVERY: u64 = 8;
/// TIME_WAIT cap set inside the private namespace (only there).
const MAX_TW_BUCKETS: &str = "1000";

fn sockscope(env: &Env, args: &[&str]) -> Output {
    common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope")
}

/// SO_LINGER {on, 0}: close() resets the connection, leaving no TIME_WAIT.
fn reset_on_close(s: &impl AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid fd, pointer and length describe a linger struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

/// The load: clients that connect to one loopback listener and close as
/// fast as they can, and a thread that accepts and closes. Every thread
/// stops on `stop`, at `CHURN_MAX_TIME` or at `CHURN_MAX_CONNECTIONS`.
struct Churn {
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

impl Churn {
    /// Must be called on the sandbox thread: the threads it starts inherit
    /// its network namespace.
    fn start(listener: TcpListener, private_ns: bool) -> Churn {
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + CHURN_MAX_TIME;
        let mut threads = Vec::new();
        listener.set_nonblocking(true).unwrap();
        {
            let stop = Arc::clone(&stop);
            threads.push(std::thread::spawn(move || {
                let mut ring: VecDeque<TcpStream> = VecDeque::new();
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((s, _)) => {
                            if !private_ns {
                                reset_on_close(&s);
                            }
                            ring.push_back(s);
                            if ring.len() > RING {
                                ring.pop_front();
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            let mut pfd = libc::pollfd {
                                fd: listener.as_raw_fd(),
                                events: libc::POLLIN,
                                revents: 0,
                            };
                            // SAFETY: one valid pollfd.
                            unsafe { libc::poll(&mut pfd, 1, 20) };
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
                for s in &ring {
                    reset_on_close(s);
                }
            }));
        }
        for _ in 0..2 {
            let (stop, connections, failures) = (
                Arc::clone(&stop),
                Arc::clone(&connections),
                Arc::clone(&failures),
            );
            threads.push(std::thread::spawn(move || {
                let mut ring: VecDeque<(TcpStream, bool)> = VecDeque::new();
                let mut made = 0u64;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    // Ahead of the pace: wait for it.
                    let due = started.elapsed().as_secs_f64() * PACE_PER_CLIENT;
                    if made as f64 > due {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    made += 1;
                    let n = connections.fetch_add(1, Ordering::Relaxed);
                    if n >= CHURN_MAX_CONNECTIONS {
                        break;
                    }
                    match TcpStream::connect(addr) {
                        Ok(s) => {
                            let graceful = private_ns && n % GRACEFUL_EVERY == 0;
                            if !graceful {
                                reset_on_close(&s);
                            }
                            ring.push_back((s, graceful));
                            if ring.len() > RING {
                                ring.pop_front();
                            }
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                }
                for (s, _) in &ring {
                    reset_on_close(s);
                }
            }));
        }
        Churn {
            stop,
            connections,
            failures,
            threads,
            started,
        }
    }

    fn connections(&self) -> u64 {
        self.connections
            .load(Ordering::Relaxed)
            .min(CHURN_MAX_CONNECTIONS)
    }

    /// Stops the load; returns (connections, failed connects, seconds).
    fn stop(self) -> (u64, u64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64();
        let made = self.connections();
        for t in self.threads {
            t.join().expect("churn thread");
        }
        (made, self.failures.load(Ordering::Relaxed), secs)
    }
}

/// What one command's runs came to.
#[derive(Default)]
struct Tally {
    runs: usize,
    clean: usize,
    retries: u64,
    rows: usize,
    /// Wall time of the runs, and the longest.
    took: Duration,
    longest: Duration,
    /// Rows by state, over all runs.
    states: BTreeMap<String, usize>,
    /// Duplicated rows, by state.
    duplicates: BTreeMap<String, usize>,
    problems: Vec<String>,
}

impl Tally {
    fn time(&mut self, run: impl FnOnce() -> Output) -> Output {
        let start = Instant::now();
        let out = run();
        let took = start.elapsed();
        self.took += took;
        self.longest = self.longest.max(took);
        out
    }

    fn record(&mut self, problems: Vec<String>) {
        self.runs += 1;
        if problems.is_empty() {
            self.clean += 1;
        }
        // Enough to diagnose; the count says the rest.
        for p in problems {
            if self.problems.len() < 5 {
                self.problems.push(p);
            }
        }
    }

    fn duplicate(&mut self, state: &str, what: String, problems: &mut Vec<String>) {
        *self.duplicates.entry(state.to_owned()).or_default() += 1;
        problems.push(format!("row twice: {what}"));
    }
}

/// Checks stderr: the `-v` line (whose retry count is added up) and, when
/// not root, the hint about owners that cannot be seen; nothing else.
fn check_stderr(out: &Output, tally: &mut Tally, problems: &mut Vec<String>) {
    let err = String::from_utf8_lossy(&out.stderr);
    let mut verbose = 0;
    for line in err.lines() {
        // "read N sockets ... (K interrupted dumps retried)", after the
        // walk's figures when owners are streamed.
        if line.contains(" interrupted dump") {
            verbose += 1;
            match count_before(line, " interrupted dump") {
                Some(n) => tally.retries += n,
                None => problems.push(format!("no retry count in {line:?}")),
            }
        } else if !line.contains("no visible owner") {
            problems.push(format!("unexpected stderr line {line:?}"));
        }
    }
    if verbose != 1 {
        problems.push(format!("{verbose} -v lines in {err:?}"));
    }
}

/// `-tanp`: the table's rows (state, local, peer) are unique. Without
/// inodes in the table, LISTEN rows could repeat legitimately in an
/// SO_REUSEPORT group; the private namespace has none, and in the shared
/// one the run is filtered to the churn's port, which has none either.
fn check_table(out: &Output, tally: &mut Tally) {
    let mut problems = Vec::new();
    if !out.status.success() {
        problems.push(format!("exit {:?}", out.status.code()));
    }
    check_stderr(out, tally, &mut problems);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    if !lines.next().is_some_and(|h| h.starts_with("State")) {
        problems.push("no header".to_owned());
    }
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for line in lines {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 5 {
            problems.push(format!("short row {line:?}"));
            continue;
        }
        tally.rows += 1;
        *tally.states.entry(t[0].to_owned()).or_default() += 1;
        let n = seen.entry((t[0], t[3], t[4])).or_default();
        *n += 1;
        if *n == 2 {
            tally.duplicate(t[0], line.to_owned(), &mut problems);
        }
    }
    tally.record(problems);
}

/// `--json -tan`: one JSON document; (proto, state, local, remote) unique
/// (a reuseport group aside: LISTEN rows with different inodes), and every
/// non-zero inode once.
fn check_json(out: &Output, tally: &mut Tally) {
    let mut problems = Vec::new();
    if !out.status.success() {
        problems.push(format!("exit {:?}", out.status.code()));
    }
    check_stderr(out, tally, &mut problems);
    let records = match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(Value::Array(records)) => records,
        Ok(_) => {
            problems.push("not a JSON array".to_owned());
            Vec::new()
        }
        Err(e) => {
            problems.push(format!("JSON does not parse: {e}"));
            Vec::new()
        }
    };
    let mut by_key: HashMap<String, Vec<u64>> = HashMap::new();
    let mut by_inode: HashMap<u64, String> = HashMap::new();
    for r in &records {
        tally.rows += 1;
        let state = r["state"].as_str().unwrap_or("?");
        *tally.states.entry(state.to_owned()).or_default() += 1;
        let ep = |e: &Value| format!("{}:{}", e["addr"], e["port"]);
        let key = format!(
            "{} {state} {} {}",
            r["proto"],
            ep(&r["local"]),
            ep(&r["remote"])
        );
        let inode = r["inode"].as_u64().unwrap_or(0);
        let same = by_key.entry(key.clone()).or_default();
        let reuseport = state == "LISTEN" && inode != 0 && !same.contains(&inode);
        let first_inode = if inode == 0 {
            None
        } else {
            by_inode.insert(inode, key.clone())
        };
        if !same.is_empty() && !reuseport {
            tally.duplicate(state, format!("{key} inode {inode}"), &mut problems);
        } else if let Some(first) = first_inode {
            tally.duplicate(
                state,
                format!("inode {inode} as {first} and as {key}"),
                &mut problems,
            );
        }
        same.push(inode);
    }
    tally.record(problems);
}

/// `listeners`: exit 0 (no accept queue is full: the backlog is 4096 and a
/// thread accepts at once), and the churn listener listed once. In the
/// shared namespace another program's full queue may make it exit 1; that
/// is accepted when the FULL row is not ours.
fn check_listeners(out: &Output, ours: SocketAddr, private_ns: bool, tally: &mut Tally) {
    let mut problems = Vec::new();
    check_stderr(out, tally, &mut problems);
    let text = String::from_utf8_lossy(&out.stdout);
    let ours = ours.to_string();
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    tally.rows += rows.len();
    let mine: Vec<&&str> = rows
        .iter()
        .filter(|l| l.split_whitespace().next() == Some(ours.as_str()))
        .collect();
    if mine.len() != 1 {
        problems.push(format!("the churn listener listed {} times", mine.len()));
    }
    if mine.len() > 1 {
        tally.duplicate("LISTEN", ours.clone(), &mut problems);
    }
    match out.status.code() {
        Some(0) => {}
        Some(1)
            if !private_ns
                && rows
                    .iter()
                    .filter(|l| l.contains("FULL"))
                    .all(|l| !l.contains(ours.as_str())) => {}
        code => problems.push(format!("exit {code:?}:\n{text}")),
    }
    tally.record(problems);
}

#[test]
fn churn_runs_are_clean() {
    Sandbox::run(|env| {
        let started = Instant::now();
        if env.private_ns {
            // Inside the private namespace only: this thread's netns.
            std::fs::write("/proc/sys/net/ipv4/tcp_max_tw_buckets", MAX_TW_BUCKETS)
                .expect("cap TIME_WAIT in the private namespace");
        } else {
            let _ = writeln!(
                std::io::stderr(),
                "churn: {}: the shared namespace; the load resets every \
                 connection (no TIME_WAIT left behind) and -tanp is filtered \
                 to its port",
                env.shared_reason.as_deref().unwrap_or("?")
            );
        }
        let mut sc = Scenario::new();
        let addr = sc.listen_with(
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
            ListenOpts {
                backlog: 4096,
                ..ListenOpts::default()
            },
        );
        let listener = sc.tcp_listener(addr).unwrap().try_clone().unwrap();
        let churn = Churn::start(listener, env.private_ns);
        // Let the load get going before the first run.
        std::thread::sleep(Duration::from_millis(300));
        let at_first_run = churn.connections();
        let port_filter = format!("( sport = :{0} or dport = :{0} )", addr.port());
        let mut tanp = vec!["-tanp", "-v"];
        let mut json = vec!["--json", "-tan", "-v"];
        if !env.private_ns {
            tanp.push(&port_filter);
            json.push(&port_filter);
        }
        let (mut t_tanp, mut t_json, mut t_listen) =
            (Tally::default(), Tally::default(), Tally::default());
        let runs_started = Instant::now();
        for _ in 0..RUNS {
            if runs_started.elapsed() > RUN_BUDGET {
                break;
            }
            let out = t_tanp.time(|| sockscope(env, &tanp));
            check_table(&out, &mut t_tanp);
            let out = t_json.time(|| sockscope(env, &json));
            check_json(&out, &mut t_json);
            let out = t_listen.time(|| sockscope(env, &["listeners", "-v"]));
            check_listeners(&out, addr, env.private_ns, &mut t_listen);
        }
        let runs_took = runs_started.elapsed().as_secs_f64();
        let at_last_run = churn.connections();
        let (connections, failed, secs) = churn.stop();
        let rate = connections as f64 / secs;
        let report = format!(
            "churn: {connections} connections in {secs:.1} s ({rate:.0}/s, {failed} failed \
             connects), {} during the runs; runs took {runs_took:.1} s, test {:.1} s\n{}",
            at_last_run - at_first_run,
            started.elapsed().as_secs_f64(),
            [
                ("-tanp", &t_tanp),
                ("--json -tan", &t_json),
                ("listeners", &t_listen)
            ]
            .iter()
            .map(|(name, t)| format!(
                "  {name}: {}/{} runs clean, {} rows in all, {:.0} ms a run (longest {:.0}), \
                 {} interrupted dumps retried, duplicates by state {:?}{}{}",
                t.clean,
                t.runs,
                t.rows,
                t.took.as_secs_f64() * 1000.0 / t.runs.max(1) as f64,
                t.longest.as_secs_f64() * 1000.0,
                t.retries,
                t.duplicates,
                if t.states.is_empty() {
                    String::new()
                } else {
                    format!("\n    rows by state: {:?}", t.states)
                },
                if t.problems.is_empty() {
                    String::new()
                } else {
                    format!("\n    first problems: {:#?}", t.problems)
                }
            ))
            .collect::<Vec<_>>()
            .join("\n")
        );
        let _ = writeln!(std::io::stderr(), "{report}");
        if t_tanp.runs < RUNS {
            let _ = writeln!(
                std::io::stderr(),
                "churn: stopped after {} runs of each command: the {RUN_BUDGET:?} budget \
                 ran out (a busy machine)",
                t_tanp.runs
            );
        }
        assert!(t_tanp.runs >= MIN_RUNS, "{report}");
        assert!(
            at_last_run - at_first_run >= 1000,
            "the load barely ran during the runs\n{report}"
        );
        for t in [&t_tanp, &t_json, &t_listen] {
            assert_eq!(t.clean, t.runs, "{report}");
        }
    });
}

// ---------------------------------------------------------------------------
// The retry path, on recorded dumps that carry NLM_F_DUMP_INTR
// ---------------------------------------------------------------------------

/// include/uapi/linux/netlink.h
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLMSG_DONE: u16 = 3;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The netlink messages of a recording, each with its padding.
fn messages(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let len = u32::from_ne_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let end = ((pos + len + 3) & !3).min(bytes.len());
        out.push(bytes[pos..end].to_vec());
        pos = end;
    }
    out
}

fn flags(msg: &[u8]) -> u16 {
    u16::from_ne_bytes([msg[6], msg[7]])
}

fn add_flag(msg: &mut [u8], flag: u16) {
    let f = (flags(msg) | flag).to_ne_bytes();
    msg[6..8].copy_from_slice(&f);
}

/// A recording made from fixtures/basic's: each inet/tcp dump is preceded
/// by `flagged` copies of itself that carry NLM_F_DUMP_INTR (on NLMSG_DONE
/// only, where af_netlink would set it, or on every message).
fn interrupted_recording(flagged: usize, on_every_message: bool) -> Vec<u8> {
    let original = std::fs::read(fixture("basic").join("netlink.bin")).unwrap();
    // Split at the requests: (request, replies).
    let mut dumps: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    for m in messages(&original) {
        if flags(&m) & NLM_F_REQUEST != 0 {
            dumps.push((m, Vec::new()));
        } else {
            dumps.last_mut().expect("a request first").1.push(m);
        }
    }
    let mut out = Vec::new();
    for (request, replies) in &dumps {
        // inet_diag_req_v2 after the 16-byte header: family, protocol.
        if (request[16], request[17]) == (libc::AF_INET as u8, libc::IPPROTO_TCP as u8) {
            for _ in 0..flagged {
                out.extend_from_slice(request);
                for r in replies {
                    let mut r = r.clone();
                    let kind = u16::from_ne_bytes([r[4], r[5]]);
                    if on_every_message || kind == NLMSG_DONE {
                        add_flag(&mut r, NLM_F_DUMP_INTR);
                    }
                    out.extend_from_slice(&r);
                }
            }
        }
        out.extend_from_slice(request);
        for r in replies {
            out.extend_from_slice(r);
        }
    }
    out
}

/// Runs sockscope on a recording (owners from the fixture's empty tree).
fn replay(recording: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .arg("--replay")
        .arg(recording)
        .arg("--proc-root")
        .arg(fixture("basic"))
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .output()
        .expect("run sockscope")
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("sockscope-churn-{tag}-{}.bin", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A dump flagged NLM_F_DUMP_INTR is dropped and asked for again where
/// the rows are gathered before they are shown (`listeners`): `-v` counts
/// one retry and the rows are the clean dump's, once.
#[cfg(target_endian = "little")]
#[test]
fn interrupted_dump_is_retried_and_counted() {
    let clean = fixture("basic").join("netlink.bin");
    let flagged = TempFile::new("intr1", &interrupted_recording(1, false));
    let args = ["listeners", "-v"];
    let want = replay(&clean, &args);
    let got = replay(&flagged.0, &args);
    assert!(want.status.success(), "{}", stderr_of(&want));
    assert_eq!(got.status.code(), want.status.code());
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "the retried dump's rows, once"
    );
    let err = stderr_of(&got);
    assert_eq!(err.lines().count(), 1, "only the -v line: {err}");
    assert!(err.contains("(1 interrupted dump retried)"), "{err}");
    assert!(stderr_of(&want).contains("(0 interrupted dumps retried)"));
}

/// Streamed listings (`-tanp`, `--json -tan`) cannot take rows back once
/// written: they either retry before writing or keep their one attempt
/// and warn. Either way every row is shown once.
#[cfg(target_endian = "little")]
#[test]
fn interrupted_streamed_dump_is_shown_once() {
    let clean = fixture("basic").join("netlink.bin");
    let flagged = TempFile::new("intr1s", &interrupted_recording(1, false));
    for args in [&["-tanp", "-v"][..], &["--json", "-tan", "-v"][..]] {
        let want = replay(&clean, args);
        let got = replay(&flagged.0, args);
        assert!(got.status.success(), "{args:?}: {}", stderr_of(&got));
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{args:?}"
        );
        let err = stderr_of(&got);
        let retried = err.contains("(1 interrupted dump retried)");
        let warned = err.contains("the inet/tcp table changed during the dump;");
        assert!(retried != warned, "{args:?}: a retry or a warning: {err}");
    }
}

/// Flagged every time: after 4 attempts the last dump is used, once, with
/// one warning; `-v` counts the 3 retries.
#[cfg(target_endian = "little")]
#[test]
fn dump_interrupted_every_time_is_used_with_a_warning() {
    let clean = fixture("basic").join("netlink.bin");
    let flagged = TempFile::new("intr4", &interrupted_recording(4, true));
    let args = ["listeners", "-v"];
    let want = replay(&clean, &args);
    let got = replay(&flagged.0, &args);
    assert_eq!(got.status.code(), want.status.code(), "{}", stderr_of(&got));
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout)
    );
    let err = stderr_of(&got);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.contains("the inet/tcp table changed during each of 4 dumps"),
        "{err}"
    );
    assert!(err.contains("(3 interrupted dumps retried)"), "{err}");
}
