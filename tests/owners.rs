//! Owners with real processes: child processes spawned by the test hold the
//! sockets (they inherit chosen descriptors and exec `sleep`), and sockscope
//! -p must name them, agree with `ss -tanp` on every row, tie unaccepted
//! connections to their listener's owners, and answer `who`.

pub mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::run::Holder;
use common::{Env, Row, Sandbox, Scenario, canonical_endpoint};
use serde_json::Value;

fn run(env: &Env, args: &[&str]) -> Output {
    common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope")
}

fn records(env: &Env, args: &[&str]) -> Vec<Value> {
    let out = run(env, args);
    assert!(
        out.status.success(),
        "sockscope {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn row_of(r: &Value) -> Row {
    let ep = |e: &Value| {
        canonical_endpoint(
            e["addr"].as_str().unwrap(),
            e["port"].as_u64().unwrap() as u16,
        )
    };
    Row::new(
        r["proto"].as_str().unwrap(),
        r["state"].as_str().unwrap(),
        &ep(&r["local"]),
        &ep(&r["remote"]),
    )
}

/// The owners' pids, less passing copies: another test of this binary that
/// forks a child (which holds every descriptor until its exec) may be
/// caught in the act. The owners these tests make are this process and
/// `sleep` holders; a child caught before its exec is neither (it still
/// has the forking thread's name).
fn pids(list: &Value) -> BTreeSet<u32> {
    let me = u64::from(std::process::id());
    list.as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["pid"].as_u64() == Some(me) || o["comm"] == "sleep")
                .map(|o| o["pid"].as_u64().unwrap() as u32)
                .collect()
        })
        .unwrap_or_default()
}

fn find<'a>(
    recs: &'a [Value],
    state: &str,
    local: SocketAddr,
    remote: Option<SocketAddr>,
) -> &'a Value {
    recs.iter()
        .find(|r| {
            r["state"] == state
                && r["local"]["port"] == local.port()
                && remote.is_none_or(|p| r["remote"]["port"] == p.port())
        })
        .unwrap_or_else(|| panic!("no {state} row for {local}"))
}

/// A socket held only by a child, one shared after fork by the test and a
/// child, and one the test accept()ed: each with its real pid and fd.
#[test]
fn owners_are_the_processes_holding_the_fds() {
    Sandbox::run(|env| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let lfd = listener.as_raw_fd();
        let sfd = server.as_raw_fd();
        let child = Holder::spawn(env, &[lfd, udp.as_raw_fd()]);
        let shared = Holder::spawn(env, &[sfd]);
        let udp_addr = udp.local_addr().unwrap();
        drop(udp); // now held by the child alone
        let me = std::process::id();

        let recs = records(env, &["-tuanp", "--jsonl"]);
        let l = find(&recs, "LISTEN", addr, None);
        assert_eq!(pids(&l["owners"]), BTreeSet::from([me, child.pid()]), "{l}");
        let u = find(&recs, "UNCONN", udp_addr, None);
        assert_eq!(pids(&u["owners"]), BTreeSet::from([child.pid()]), "{u}");
        assert_eq!(u["owners"][0]["comm"], "sleep");
        let s = find(
            &recs,
            "ESTABLISHED",
            addr,
            Some(client.local_addr().unwrap()),
        );
        assert_eq!(
            pids(&s["owners"]),
            BTreeSet::from([me, shared.pid()]),
            "{s}"
        );
        for o in s["owners"].as_array().unwrap() {
            assert_eq!(o["fd"], sfd, "the accepted socket's real fd: {o}");
        }
        assert!(s["queue"].is_null());
        let c = find(&recs, "ESTABLISHED", client.local_addr().unwrap(), None);
        assert_eq!(pids(&c["owners"]), BTreeSet::from([me]));
        assert_eq!(c["owners"][0]["fd"], client.as_raw_fd());

        // The table shows name/pid fd=N.
        let out = run(env, &["-tlnp"]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("sleep/{} fd={lfd}", child.pid())),
            "{text}"
        );
        // --cmdline adds the command line.
        let out = run(env, &["-ulnp", "--cmdline"]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("[sleep 120]"), "{text}");
    });
}

/// Connections the kernel completed but nobody accepted belong to the
/// listener's owners until accept(); then to the accepting process.
#[test]
fn accept_queue_is_attributed_to_the_listener() {
    Sandbox::run(|env| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let holder = Holder::spawn(env, &[listener.as_raw_fd()]);
        let waiting = TcpStream::connect(addr).unwrap();
        let me = std::process::id();

        let recs = records(env, &["-tnp", "--jsonl"]);
        assert!(
            !recs.iter().any(|r| r["state"] == "LISTEN"),
            "the listener is read for attribution, not shown"
        );
        let q = find(
            &recs,
            "ESTABLISHED",
            addr,
            Some(waiting.local_addr().unwrap()),
        );
        assert_eq!(q["queue"], "accept", "{q}");
        assert_eq!(q["owners"], serde_json::json!([]), "{q}");
        assert_eq!(
            pids(&q["listener_owners"]),
            BTreeSet::from([me, holder.pid()])
        );
        let out = run(env, &["-tnp"]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("(accept queue of "), "{text}");
        // Selecting the holder by name keeps its queued connection.
        let recs = records(env, &["-tnp", "--jsonl", "--comm", "sleep"]);
        assert_eq!(recs.len(), 1, "{recs:?}");

        let (accepted, _) = listener.accept().unwrap();
        let recs = records(env, &["-tnp", "--jsonl"]);
        let a = find(
            &recs,
            "ESTABLISHED",
            addr,
            Some(waiting.local_addr().unwrap()),
        );
        assert!(a["queue"].is_null(), "{a}");
        assert_eq!(pids(&a["owners"]), BTreeSet::from([me]));
        assert_eq!(a["owners"][0]["fd"], accepted.as_raw_fd());
    });
}

/// `ss -tanp` is the oracle: the same pids on every row, on a namespace with
/// a few hundred sockets spread over several processes.
#[test]
fn owner_pids_equal_ss_on_every_row() {
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        sc.unaccepted(l);
        let l2 = sc.listen_v6_loopback();
        sc.established_pair(l2);
        sc.syn_recv("127.0.0.1".parse().unwrap());
        let lt = sc.listen_v4();
        sc.time_wait(lt);
        sc.bulk(150);
        let fds = sc.fds();
        let holders: Vec<Holder> = (0..4)
            .map(|i| {
                let mine: Vec<RawFd> = fds.iter().copied().skip(i).step_by(3).collect();
                Holder::spawn(env, &mine)
            })
            .collect();
        assert_eq!(holders.len(), 4);
        // Other tests of this binary fork children while this one runs;
        // between fork and exec such a child holds copies of every
        // descriptor, so the two snapshots (ours and ss's, taken moments
        // apart) may each see one. Only this process and the holders count.
        let known: BTreeSet<u32> = holders
            .iter()
            .map(Holder::pid)
            .chain([std::process::id()])
            .collect();
        let pids =
            |list: &Value| -> BTreeSet<u32> { pids(list).intersection(&known).copied().collect() };

        let ours: BTreeMap<Row, BTreeSet<u32>> = records(env, &["-tanp", "--jsonl"])
            .iter()
            .map(|r| (row_of(r), pids(&r["owners"])))
            .filter(|(row, _)| env.private_ns || sc.ours(row))
            .collect();
        let ss = env.command("ss").args(["-tanpH"]).output().expect("run ss");
        let text = String::from_utf8(ss.stdout).unwrap();
        let mut oracle: BTreeMap<Row, BTreeSet<u32>> = BTreeMap::new();
        for line in text.lines() {
            let rows = common::parse_ss_output(&["-tanpH"], line).expect("ss line");
            let row = rows.into_iter().next().expect("one row");
            if !env.private_ns && !sc.ours(&row) {
                continue;
            }
            let pids: BTreeSet<u32> = line
                .split("pid=")
                .skip(1)
                .map(|p| p.split(',').next().unwrap().parse().unwrap())
                .filter(|p| known.contains(p))
                .collect();
            oracle.insert(row, pids);
        }
        assert!(oracle.len() >= 300, "only {} rows", oracle.len());
        let differ: Vec<String> = oracle
            .iter()
            .filter(|(row, pids)| ours.get(*row) != Some(*pids))
            .map(|(row, pids)| format!("{row}: ss {pids:?}, sockscope {:?}", ours.get(row)))
            .collect();
        assert!(
            differ.is_empty(),
            "{} rows differ:\n{}",
            differ.len(),
            differ.join("\n")
        );
        assert_eq!(ours.len(), oracle.len());
    });
}

/// `who`: a LISTEN port, a port held only by TIME_WAIT, a UDP port, and a
/// free port (exit 1).
#[test]
fn who_answers_with_exit_codes() {
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let listen = sc.listen_v4();
        let tw = sc.listen_v4();
        let conn = sc.time_wait(tw);
        let udp = sc.udp_bound_v4();
        let me = std::process::id();

        let out = run(env, &["who", &listen.port().to_string()]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.contains("LISTEN") && first.contains(&format!("/{me}")),
            "{text}"
        );

        // The client side of the closed connection holds its local port in
        // TIME_WAIT only.
        let port = conn.client.port().to_string();
        let out = run(env, &["who", &format!(":{port}"), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["held"], true);
        let states: Vec<&str> = v["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["state"].as_str().unwrap())
            .collect();
        assert!(states.contains(&"TIME_WAIT"), "{v}");
        assert!(v["summary"].as_str().unwrap().contains("TIME_WAIT"), "{v}");

        let out = run(env, &["who", "-u", &format!("127.0.0.1:{}", udp.port())]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("udp") && text.contains("UNCONN"), "{text}");

        // A port nothing holds: bind one, note it, let it go.
        let free = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let u = UdpSocket::bind(l.local_addr().unwrap());
            let p = l.local_addr().unwrap().port();
            drop(u);
            p
        };
        if env.private_ns {
            let out = run(env, &["who", &free.to_string()]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("nothing holds it"));
        }
        let out = run(env, &["who", "70000"]);
        assert_eq!(out.status.code(), Some(2));
    });
}

/// As root, a run as an unprivileged user still lists every socket, shows
/// the owners it can see, and says why the rest are missing.
#[test]
fn unprivileged_run_lists_sockets_and_hints() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "unprivileged_run_lists_sockets_and_hints: not root, so this run is the unprivileged one"
        );
    }
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        sc.established_pair(l);
        let as_root = records(env, &["-tanp", "--jsonl"]);
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let out = env
            .command("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(["-tanp", "--jsonl"])
            .output()
            .expect("run setpriv");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let rows: BTreeSet<Row> = text
            .lines()
            .map(|l| row_of(&serde_json::from_str(l).unwrap()))
            .collect();
        let root_rows: BTreeSet<Row> = as_root.iter().map(row_of).collect();
        assert_eq!(rows, root_rows, "the same sockets, owners or not");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("no visible owner") && err.contains("root"),
            "{err}"
        );
    });
}

/// Regression: with CAP_DAC_READ_SEARCH alone a process's fd directory
/// opens but its links do not (reading them needs ptrace access), and
/// those owners went missing without the hint (found with the systemd
/// unit's capabilities, issue 17).
#[test]
fn unreadable_links_are_said_like_an_unreadable_directory() {
    if unsafe { libc::geteuid() } != 0 {
        common::skip(
            "unreadable_links_are_said_like_an_unreadable_directory: not root: cannot run as nobody with one capability",
        );
        return;
    }
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        sc.established_pair(l);
        let out = env
            .command("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args([
                "--inh-caps=+dac_read_search",
                "--ambient-caps=+dac_read_search",
            ])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(["-tanp", "--jsonl"])
            .output()
            .expect("run setpriv");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains("no visible owner") && err.contains("root"),
            "{err}"
        );
    });
}

/// Processes exiting during the walk never fail a run.
#[test]
fn processes_exiting_during_the_walk_are_normal() {
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        sc.established_pair(l);
        // At least 5 runs (a busy machine makes each -p walk slower), at most
        // 40, and never past 30 s.
        let start = Instant::now();
        let deadline = start + Duration::from_secs(3);
        let hard_stop = start + Duration::from_secs(30);
        let mut runs = 0;
        let mut churn: Vec<Child> = Vec::new();
        while runs < 40 && Instant::now() < hard_stop && (runs < 5 || Instant::now() < deadline) {
            // Short-lived processes that come and go while sockscope walks.
            for _ in 0..8 {
                churn.push(
                    Command::new("sleep")
                        .arg("0.02")
                        .stdin(Stdio::null())
                        .spawn()
                        .expect("spawn sh"),
                );
            }
            let out = run(env, &["-tanp", "--jsonl"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // Only the non-root hint may appear: nothing about vanished pids.
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.lines().all(|l| l.contains("no visible owner")), "{err}");
            runs += 1;
            churn.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
        }
        for mut c in churn {
            let _ = c.wait();
        }
        assert!(runs >= 5, "only {runs} runs");
    });
}

/// A process name with an ESC sequence, a newline and BEL: the table shows
/// it escaped on one line, JSON carries it exactly.
#[test]
fn hostile_process_names_are_escaped() {
    use std::os::unix::process::CommandExt;
    Sandbox::run(|env| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let fd = listener.as_raw_fd();
        // A shell names itself (only a process may rename itself), keeps the
        // inherited listener and waits (with a sleep that inherits it too);
        // SIGTERM at the end ends both.
        let mut cmd = env.command("sh");
        cmd.args([
            "-c",
            "printf 'e\\033[2Jx\\ny\\007' > /proc/$$/comm; sleep 60 & trap 'kill $!; exit 0' TERM; wait",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        drop(listener);
        let hostile = "e\x1b[2Jx\ny\x07";
        let pid = child.id();
        let named = common::poll_until(Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with('e'))
        });
        assert!(named, "the shell did not rename itself");
        let out = run(env, &["-tlnp", "src", &addr.to_string()]);
        let text = String::from_utf8(out.stdout).unwrap();
        let recs = records(env, &["-tlnp", "--jsonl", "src", &addr.to_string()]);
        // TERM: the shell ends its sleep, then itself.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        let _ = child.wait();
        assert_eq!(recs.len(), 1, "{text:?} {recs:?}");
        let comms: Vec<&str> = recs[0]["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["comm"].as_str().unwrap())
            .collect();
        assert!(
            comms.contains(&hostile),
            "JSON keeps the exact name: {comms:?}"
        );
        assert!(
            !text.contains('\x1b') && !text.contains('\x07'),
            "raw control bytes: {text:?}"
        );
        assert_eq!(text.lines().count(), 2, "one header, one row: {text:?}");
        assert!(
            text.contains(&format!("e\\x1b[2Jx\\x0ay\\x07/{pid}")),
            "{text:?}"
        );
    });
}
