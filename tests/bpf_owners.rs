//! Owners from the kernel's BPF `task_file` iterator (issue 19), end to end
//! with the built binary, as root:
//!
//! - real populations in a private network namespace (sockets shared after
//!   fork, an SO_REUSEPORT group over three processes, a multi-threaded
//!   holder, a few hundred connections, UDP): the iterator's owners equal
//!   the /proc walk's exactly and `ss -tuanp`'s pids on every row, with
//!   `--owners-source bpf` and with the default `auto`;
//! - processes coming and going during the runs;
//! - child pid namespaces (one and two levels): the pids are the reader's;
//! - every fallback (a seccomp filter denying bpf(2), a missing or corrupt
//!   `--btf`, an unprivileged user) gives the walk's answer in silence, `-v`
//!   says why, and `--owners-source bpf` fails with exit 3 and the reason;
//! - nothing stays behind: no program, link, map or pinned object, after
//!   runs, a `watch` stopped by SIGINT and runs killed by SIGKILL.
//!
//! The tests of this file take one lock: a child forked by one test holds
//! copies of every descriptor until its exec, and would show up as an extra
//! owner in another test's snapshot.

pub mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::netns::{NsProc, OwnedRow, diff_owned, parse_owned, run_bounded};
use common::run::{Holder, inherit, row_of};
use common::{Env, Row, Sandbox, Scenario, can_run, poll_until};
use serde_json::Value;
use socket2::{Domain, Socket, Type};

/// What `-v` says when the iterator was used.
const ITER: &str = "from the kernel's task_file iterator";
/// What `-v` says when the walk was used instead.
const INSTEAD: &str = "(owners from /proc, not the BPF iterator: ";
/// What a run with `--owners-source bpf` says when it cannot be used.
const CANNOT: &str = "sockscope: the BPF iterator for owners cannot run here: ";
const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
/// Every run of a tool is bounded by this (killed past it).
const LIMIT: Duration = Duration::from_secs(60);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the iterator needs that may be missing here.
fn missing() -> Option<String> {
    if !common::netns::is_root() {
        return Some("not root: the iterator needs CAP_BPF and CAP_PERFMON".into());
    }
    if !Path::new(VMLINUX).exists() {
        return Some(format!("no BTF at {VMLINUX}"));
    }
    None
}

/// Runs sockscope with `args` from the calling thread (so in its network
/// namespace), bounded.
fn sockscope(env: &Env, args: &[&str]) -> Output {
    run_bounded(common::run::command(env).args(args), LIMIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A run that must succeed; its stdout parsed as one JSON array.
fn json(out: &Output, what: &str) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{what}: {}: {}",
        out.status,
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", text(&out.stdout)));
    v.as_array().expect("a JSON array").clone()
}

/// A socket's identity in the JSON: its row and inode.
type Key = (Row, u64);

/// Each socket's `owners` and `listener_owners`, exactly as printed.
fn owners(recs: &[Value]) -> BTreeMap<Key, (Value, Value)> {
    recs.iter()
        .map(|r| {
            (
                (row_of(r), r["inode"].as_u64().expect("inode")),
                (r["owners"].clone(), r["listener_owners"].clone()),
            )
        })
        .collect()
}

/// Each socket's owner pids, as ss shows them.
fn owned_rows(recs: &[Value]) -> Vec<OwnedRow> {
    let mut rows: Vec<OwnedRow> = recs
        .iter()
        .map(|r| OwnedRow {
            row: row_of(r),
            pids: r["owners"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o["pid"].as_u64())
                        .map(|p| p as u32)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    rows.sort();
    rows
}

/// The lines of `a` and `b` that differ, for a failure message.
fn diff_maps<K: std::fmt::Debug + Ord, V: std::fmt::Debug + PartialEq>(
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
) -> String {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(k) != b.get(k))
        .map(|k| format!("  {k:?}:\n    {:?}\n    {:?}\n", a.get(k), b.get(k)))
        .collect()
}

/// The socket's inode (its /proc/self/fd link).
fn inode_of(fd: RawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("readlink");
    let link = link.to_string_lossy();
    link.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap_or_else(|_| panic!("fd {fd} is not a socket: {link}"))
}

/// `perl` with four threads (the leader and three more), holding `fds`.
fn threaded_holder(fds: &[RawFd]) -> NsProc {
    let mut cmd = Command::new("perl");
    cmd.args([
        "-Mthreads",
        "-e",
        "my @t = map { threads->create(sub { sleep 120 }) } 1..3; sleep 120",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    inherit(&mut cmd, fds);
    let holder = NsProc::adopt(cmd.spawn().expect("spawn perl"));
    let pid = holder.pid();
    let threads = poll_until(Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| s.lines().any(|l| l == "Threads:\t4"))
    });
    assert!(threads, "perl {pid} did not start its three threads");
    holder
}

/// An SO_REUSEPORT listener on `addr`.
fn reuseport_listener(addr: SocketAddr) -> Socket {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None).expect("socket");
    s.set_reuse_port(true).expect("SO_REUSEPORT");
    s.bind(&addr.into()).expect("bind");
    s.listen(16).expect("listen");
    s
}

/// The iterator's owners equal the /proc walk's exactly and ss's pids on
/// every row: sockets shared by this (multi-threaded) test process and a
/// forked child, three holders splitting 150 connections, an SO_REUSEPORT
/// group of three listeners in three processes, a perl process with four
/// threads (one owner: the process), UDP bound and connected.
#[test]
fn iterator_owners_equal_the_walk_and_ss() {
    if !can_run(missing(), "iterator_owners_equal_the_walk_and_ss") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        assert!(env.private_ns, "as root the sandbox is a private namespace");
        let mut sc = Scenario::new();
        let l4 = sc.listen_v4();
        let l6 = sc.listen_v6_loopback();
        sc.established_pair(l4);
        sc.established_pair(l6);
        sc.unaccepted(l4);
        sc.bulk(150);
        sc.udp_bound_v4();
        sc.udp_bound_v6();
        sc.udp_pair_v4();
        // Three holders, each sharing a third of the sockets with this
        // process (which keeps its copies: two owners each).
        let fds = sc.fds();
        let holders: Vec<Holder> = (0..3)
            .map(|i| {
                let mine: Vec<RawFd> = fds.iter().copied().skip(i).step_by(3).collect();
                Holder::spawn(env, &mine)
            })
            .collect();
        // SO_REUSEPORT: three listeners on one port, one per process.
        let first = reuseport_listener("127.0.0.1:0".parse().unwrap());
        let port_addr = first.local_addr().unwrap().as_socket().unwrap();
        let group = [
            first,
            reuseport_listener(port_addr),
            reuseport_listener(port_addr),
        ];
        let group_holders: Vec<Holder> = group
            .iter()
            .map(|s| Holder::spawn(env, &[s.as_raw_fd()]))
            .collect();
        let group_inodes: Vec<u64> = group.iter().map(|s| inode_of(s.as_raw_fd())).collect();
        drop(group);
        // A listener and a UDP socket held by a four-thread perl alone.
        let threaded_l = TcpListener::bind("127.0.0.1:0").unwrap();
        let threaded_u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let threaded_inodes = [
            inode_of(threaded_l.as_raw_fd()),
            inode_of(threaded_u.as_raw_fd()),
        ];
        let perl = threaded_holder(&[threaded_l.as_raw_fd(), threaded_u.as_raw_fd()]);
        drop((threaded_l, threaded_u));

        let args = ["-tuanp", "--json"];
        let bpf_out = sockscope(
            env,
            &[&args[..], &["--owners-source", "bpf", "-v"]].concat(),
        );
        let bpf = json(&bpf_out, "--owners-source bpf");
        let err = text(&bpf_out.stderr);
        assert!(err.contains(ITER), "the iterator was not used: {err}");
        assert!(!err.contains("warning"), "{err}");
        let proc_out = sockscope(env, &[&args[..], &["--owners-source", "proc"]].concat());
        let walk = json(&proc_out, "--owners-source proc");
        assert_eq!(text(&proc_out.stderr), "", "the walk said something");
        let auto_out = sockscope(env, &[&args[..], &["-v"]].concat());
        let auto = json(&auto_out, "auto");
        let err = text(&auto_out.stderr);
        assert!(err.contains(ITER), "auto did not use the iterator: {err}");
        let quiet = sockscope(env, &[&args[..], &["--owners-source", "bpf"]].concat());
        let quiet_recs = json(&quiet, "--owners-source bpf without -v");
        assert_eq!(text(&quiet.stderr), "", "nothing on stderr without -v");

        let (bpf_o, walk_o) = (owners(&bpf), owners(&walk));
        assert!(bpf_o.len() >= 310, "only {} sockets", bpf_o.len());
        assert!(
            bpf_o == walk_o,
            "iterator (first) and walk (second) differ:\n{}",
            diff_maps(&bpf_o, &walk_o)
        );
        for (name, other) in [("auto", &auto), ("bpf without -v", &quiet_recs)] {
            let o = owners(other);
            assert!(
                o == bpf_o,
                "{name} and bpf differ:\n{}",
                diff_maps(&o, &bpf_o)
            );
        }

        // ss, run inside the namespace, is the oracle for pids.
        let ss = run_bounded(env.command("ss").args(["-Htuanp"]), LIMIT);
        assert!(ss.status.success(), "ss: {}", text(&ss.stderr));
        let oracle = parse_owned(&["-tuan"], &text(&ss.stdout)).expect("parse ss");
        let ours = owned_rows(&bpf);
        let diff = diff_owned(&oracle, &ours);
        assert!(
            diff.is_empty(),
            "ss (missing) and the iterator (extra):\n{diff}"
        );

        // The cases named above, one by one.
        let me = u64::from(std::process::id());
        let by_inode: BTreeMap<u64, &Value> = bpf
            .iter()
            .map(|r| (r["inode"].as_u64().unwrap(), &r["owners"]))
            .collect();
        let pids_of = |inode: u64| -> BTreeSet<u64> {
            by_inode[&inode]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["pid"].as_u64().unwrap())
                .collect()
        };
        for (i, fd) in fds.iter().enumerate() {
            let inode = inode_of(*fd);
            if inode == 0 || !by_inode.contains_key(&inode) {
                continue;
            }
            let want = BTreeSet::from([me, u64::from(holders[i % 3].pid())]);
            assert_eq!(pids_of(inode), want, "fd {fd} (inode {inode})");
            for o in by_inode[&inode].as_array().unwrap() {
                assert_eq!(o["fd"], *fd, "a forked copy keeps the fd number: {o}");
            }
        }
        for (inode, h) in group_inodes.iter().zip(&group_holders) {
            assert_eq!(pids_of(*inode), BTreeSet::from([u64::from(h.pid())]));
        }
        for inode in threaded_inodes {
            let list = by_inode[&inode].as_array().unwrap();
            assert_eq!(list.len(), 1, "one owner for four threads: {list:?}");
            assert_eq!(list[0]["pid"], perl.pid());
            assert_eq!(list[0]["comm"], "perl");
        }
        drop((holders, group_holders, perl));
    });
}

/// Short-lived processes open and close sockets (bash's /dev/tcp and
/// /dev/udp) while sockscope runs: every run exits 0 without a word, and
/// every socket of the stable holder has exactly its owner.
#[test]
fn processes_exiting_during_the_runs() {
    if !can_run(missing(), "processes_exiting_during_the_runs") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        for _ in 0..20 {
            sc.established_pair(l);
        }
        let u = sc.udp_bound_v4();
        let holder = Holder::spawn(env, &sc.fds());
        let stable: BTreeMap<Row, (u32, u32)> = sc
            .expected_sockets()
            .iter()
            .filter(|e| e.ss_visible)
            .filter_map(|e| e.fd.map(|fd| (e.row.clone(), (holder.pid(), fd as u32))))
            .collect();
        assert!(stable.len() >= 42, "{stable:?}");
        drop(sc); // the holder alone owns them now
        let churn_script = format!(
            "exec 3<>/dev/tcp/127.0.0.1/{} 4<>/dev/udp/127.0.0.1/{}; sleep 0.0$((RANDOM % 5))",
            l.port(),
            u.port()
        );
        let start = Instant::now();
        let hard_stop = start + Duration::from_secs(60);
        let mut churn: Vec<Child> = Vec::new();
        let mut runs = 0;
        while runs < 20 && Instant::now() < hard_stop {
            for _ in 0..6 {
                churn.push(
                    env.command("bash")
                        .args(["-c", &churn_script])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("spawn bash"),
                );
            }
            let verbose = runs % 2 == 1;
            let mut args = vec!["-tuanp", "--json", "--owners-source", "bpf"];
            if verbose {
                args.push("-v");
            }
            let out = sockscope(env, &args);
            let recs = json(&out, "a run during churn");
            let err = text(&out.stderr);
            if verbose {
                assert!(err.contains(ITER), "{err}");
                assert!(!err.contains("warning"), "{err}");
            } else {
                assert_eq!(err, "", "run {runs} said something");
            }
            let seen: BTreeMap<Row, Vec<(u32, u32)>> = recs
                .iter()
                .map(|r| {
                    let list = r["owners"].as_array().unwrap();
                    let owners = list
                        .iter()
                        .map(|o| {
                            (
                                o["pid"].as_u64().unwrap() as u32,
                                o["fd"].as_u64().unwrap() as u32,
                            )
                        })
                        .collect();
                    (row_of(r), owners)
                })
                .collect();
            for (row, owner) in &stable {
                assert_eq!(seen.get(row), Some(&vec![*owner]), "run {runs}: {row}");
            }
            runs += 1;
            churn.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
        }
        for mut c in churn {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert_eq!(runs, 20, "only {runs} runs within a minute");
    });
}

/// The pids of `pid` in each pid namespace from the outermost to its own
/// (/proc/PID/status NSpid).
fn nspids(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .expect("NSpid")
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect()
}

/// The child of `parent` (scanning /proc/*/stat: this kernel has no
/// /proc/PID/task/TID/children), once it runs `comm`.
fn child_of(parent: u32, comm: &str) -> Option<u32> {
    let mut found = None;
    let ok = poll_until(Duration::from_secs(10), || {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return false;
        };
        found = dir.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, ends at ')'.
            let (head, tail) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1;
            let ppid: u32 = tail.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent && name == comm).then_some(pid)
        });
        found.is_some()
    });
    ok.then_some(found).flatten()
}

/// A command that runs `program` in the pid namespace of `pid` (nsenter
/// forks it there) and the mount namespace of `mnt`, whose /proc must be
/// that pid namespace's.
fn inside(pid: u32, mnt: u32, program: &str) -> Command {
    let mut c = Command::new("nsenter");
    c.args(["-t", &pid.to_string(), "-p"])
        .arg(format!("--mount=/proc/{mnt}/ns/mnt"))
        .args(["--", program]);
    c
}

/// The owner pids of the listener on `port`, as sockscope (iterator and
/// walk) and ss show them from inside the namespaces of `pid`.
fn listener_pids_inside(pid: u32, mnt: u32, port: u16, level: &str) -> BTreeSet<u32> {
    let port = port.to_string();
    let sport = format!("sport = :{port}");
    let read = |source: &str| -> BTreeSet<u32> {
        let mut cmd = inside(pid, mnt, env!("CARGO_BIN_EXE_sockscope"));
        cmd.args(["-tlnp", "--json", "-v", "--owners-source", source, &sport]);
        let out = run_bounded(&mut cmd, LIMIT);
        let recs = json(&out, &format!("{level}: --owners-source {source}"));
        let err = text(&out.stderr);
        if source == "bpf" {
            assert!(err.contains(ITER), "{level}: {err}");
        }
        assert_eq!(recs.len(), 1, "{level}: {recs:?}");
        owned_rows(&recs).remove(0).pids
    };
    let bpf = read("bpf");
    let walk = read("proc");
    let mut ss = inside(pid, mnt, "ss");
    ss.args(["-Htlnp", &sport]);
    let out = run_bounded(&mut ss, LIMIT);
    assert!(out.status.success(), "{level}: ss: {}", text(&out.stderr));
    let oracle = parse_owned(&["-tln"], &text(&out.stdout)).expect("parse ss");
    assert_eq!(oracle.len(), 1, "{level}: {oracle:?}");
    assert_eq!(bpf, walk, "{level}: the iterator and the walk differ");
    assert_eq!(bpf, oracle[0].pids, "{level}: the iterator and ss differ");
    bpf
}

/// `unshare --pid --fork --mount-proc` twice: a listener held by the
/// inner `unshare` (level 1) and by `sleep` (level 2, its child). Read from
/// each level, the owners are the pids that level sees (NSpid), equal to
/// the walk's and ss's there, and not the global ones. Each level is read
/// with the /proc mounted for it: the outer unshare's mount namespace has
/// level 1's, the inner one's (where level 1's pid 1 itself lives) level 2's.
#[test]
fn child_pid_namespaces_show_the_readers_pids() {
    if !can_run(missing(), "child_pid_namespaces_show_the_readers_pids") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut cmd = env.command("unshare");
        let ns = ["--pid", "--fork", "--mount-proc", "--kill-child"];
        cmd.args(ns)
            .arg("unshare")
            .args(ns)
            .args(["sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        inherit(&mut cmd, &[listener.as_raw_fd()]);
        let outer = NsProc::adopt(cmd.spawn().expect("spawn unshare"));
        drop(listener);
        // outer unshare (global only) → inner unshare (level 1's pid 1) →
        // sleep (level 2's pid 1); all three hold the listener.
        let level1 = child_of(outer.pid(), "unshare").expect("the inner unshare");
        let sleeper = child_of(level1, "sleep").expect("the sleep in level 2");
        let l1 = nspids(level1);
        let s = nspids(sleeper);
        assert_eq!((l1.len(), s.len()), (2, 3), "NSpid {l1:?} {s:?}");

        let global = {
            let out = sockscope(
                env,
                &[
                    "-tlnp",
                    "--json",
                    "--owners-source",
                    "bpf",
                    &format!("sport = :{port}"),
                ],
            );
            owned_rows(&json(&out, "global")).remove(0).pids
        };
        assert_eq!(global, BTreeSet::from([outer.pid(), level1, sleeper]));
        let seen1 = listener_pids_inside(level1, outer.pid(), port, "level 1");
        assert_eq!(seen1, BTreeSet::from([l1[1], s[1]]), "level 1");
        let seen2 = listener_pids_inside(sleeper, sleeper, port, "level 2");
        assert_eq!(seen2, BTreeSet::from([s[2]]), "level 2");
        assert!(seen2.is_disjoint(&global), "level 2 shows global pids");
        drop(outer); // --kill-child takes the rest along
        let gone = poll_until(Duration::from_secs(10), || {
            !Path::new(&format!("/proc/{sleeper}")).exists()
        });
        assert!(
            gone,
            "the sleep in level 2 ({sleeper}) outlived its namespace"
        );
    });
}

/// `levels` nested `unshare --pid --fork --mount-proc`, the innermost
/// running `sleep` and all of them holding a new listener: the outermost
/// unshare (killed on drop, the rest follow by --kill-child), the sleep's
/// global pid and the listener's port.
fn nested_pid_namespaces(env: &Env, levels: usize) -> (NsProc, u32, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ns = ["--pid", "--fork", "--mount-proc", "--kill-child"];
    let mut cmd = env.command("unshare");
    cmd.args(ns);
    for _ in 1..levels {
        cmd.arg("unshare").args(ns);
    }
    cmd.args(["sleep", "120"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    inherit(&mut cmd, &[listener.as_raw_fd()]);
    let outer = NsProc::adopt(cmd.spawn().expect("spawn unshare"));
    drop(listener);
    let mut pid = outer.pid();
    for _ in 1..levels {
        pid = child_of(pid, "unshare").expect("a nested unshare");
    }
    let sleeper = child_of(pid, "sleep").expect("the innermost sleep");
    assert_eq!(nspids(sleeper).len(), levels + 1, "NSpid of {sleeper}");
    (outer, sleeper, port)
}

/// The program reads a pid at the reader's level up to level 7
/// (layout::MAX_LEVELS): seven nested pid namespaces still use the
/// iterator (pid 1, as the walk and ss there); eight fall back to the walk,
/// and `-v` says why.
#[test]
fn deep_pid_namespaces_fall_back_past_the_levels_read() {
    if !can_run(
        missing(),
        "deep_pid_namespaces_fall_back_past_the_levels_read",
    ) {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let (outer, sleeper, port) = nested_pid_namespaces(env, 7);
        let seen = listener_pids_inside(sleeper, sleeper, port, "level 7");
        assert_eq!(seen, BTreeSet::from([1]), "level 7");
        drop(outer);

        let (outer, sleeper, port) = nested_pid_namespaces(env, 8);
        let sport = format!("sport = :{port}");
        let read = |more: &[&str]| -> Output {
            let mut c = inside(sleeper, sleeper, env!("CARGO_BIN_EXE_sockscope"));
            c.args(["-tlnp", "--json", &sport]).args(more);
            run_bounded(&mut c, LIMIT)
        };
        let walk = read(&["--owners-source", "proc"]);
        let walk_o = owners(&json(&walk, "level 8: proc"));
        let auto = read(&["-v"]);
        let auto_o = owners(&json(&auto, "level 8: auto"));
        assert!(
            auto_o == walk_o,
            "level 8: auto (first) and the walk (second) differ:\n{}",
            diff_maps(&auto_o, &walk_o)
        );
        let err = text(&auto.stderr);
        assert!(
            err.contains(INSTEAD) && err.contains("nested deeper than the 8 levels"),
            "level 8: {err}"
        );
        let bpf = read(&["--owners-source", "bpf"]);
        assert_eq!(bpf.status.code(), Some(3), "{}", text(&bpf.stderr));
        drop(outer);
    });
}

/// Regression: in a child pid namespace that kept its parent's /proc
/// (`unshare --pid --fork` without --mount-proc, a sandbox that does not
/// remount /proc), the iterator's pids (the namespace's) were looked up in
/// a /proc that numbers processes otherwise: the listener's owner came out
/// as `process_api/1` (the machine's PID 1, by the /proc of the parent)
/// instead of `sleep/PID`. /proc is what ss, the walk and the user see
/// there: the iterator must not be used then, and `-v` says why.
#[test]
fn pid_namespace_with_its_parents_proc_uses_the_walk() {
    if !can_run(
        missing(),
        "pid_namespace_with_its_parents_proc_uses_the_walk",
    ) {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut cmd = env.command("unshare");
        cmd.args(["--pid", "--fork", "--kill-child", "sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        inherit(&mut cmd, &[listener.as_raw_fd()]);
        let outer = NsProc::adopt(cmd.spawn().expect("spawn unshare"));
        drop(listener);
        let sleeper = child_of(outer.pid(), "sleep").expect("the sleep");
        assert_eq!(
            nspids(sleeper).len(),
            2,
            "sleep is in a child pid namespace"
        );
        let sport = format!("sport = :{port}");
        let read = |more: &[&str]| -> Output {
            let mut c = Command::new("nsenter");
            c.args(["-t", &sleeper.to_string(), "-p", "--"])
                .arg(env!("CARGO_BIN_EXE_sockscope"))
                .args(["-tlnp", "--json", &sport])
                .args(more);
            run_bounded(&mut c, LIMIT)
        };
        let walk = read(&["--owners-source", "proc"]);
        let walk_o = owners(&json(&walk, "proc"));
        let auto = read(&["-v"]);
        let auto_o = owners(&json(&auto, "auto"));
        assert!(
            auto_o == walk_o,
            "auto (first) and the walk (second) differ:\n{}",
            diff_maps(&auto_o, &walk_o)
        );
        let pids: BTreeSet<u32> = walk_o
            .values()
            .flat_map(|(o, _)| o.as_array().cloned().unwrap_or_default())
            .filter_map(|o| o["pid"].as_u64())
            .map(|p| p as u32)
            .collect();
        assert_eq!(pids, BTreeSet::from([outer.pid(), sleeper]), "the walk");
        let err = text(&auto.stderr);
        assert!(
            err.contains(INSTEAD) && err.contains("pid namespace"),
            "-v does not say why: {err}"
        );
        let bpf = read(&["--owners-source", "bpf"]);
        let err = text(&bpf.stderr);
        assert_eq!(bpf.status.code(), Some(3), "{err}");
        assert!(
            err.starts_with(CANNOT) && err.contains("pid namespace"),
            "{err}"
        );
    });
}

/// A temporary directory of this test process, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("sockscope-bpf-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("mkdir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a fallback case runs sockscope.
struct Case<'a> {
    name: &'a str,
    /// Arguments before the listing's (`--btf PATH`).
    extra: Vec<String>,
    /// Applied to every command of the case (a seccomp filter, setpriv).
    wrap: &'a dyn Fn(&Env, &[&str]) -> Command,
    /// What `-v` and the exit-3 error name as the reason.
    reason: &'a str,
}

/// sockscope itself, with `args`.
fn plain(env: &Env, args: &[&str]) -> Command {
    let mut c = common::run::command(env);
    c.args(args);
    c
}

/// The records without their namespace's name: a namespace no name
/// refers to is named `pid:PID` after a process in it, which may be the
/// run itself (a different pid on every run).
fn comparable(mut recs: Vec<Value>) -> Vec<Value> {
    for r in &mut recs {
        if let Some(o) = r.as_object_mut() {
            o.remove("netns");
        }
    }
    recs
}

/// `text` with every digit as `N`: the non-root hint counts the machine's
/// unreadable processes, which come and go between two runs.
fn digitless(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { 'N' } else { c })
        .collect()
}

/// One fallback: `auto` gives exactly the walk's JSON (and the same
/// stderr: nothing but the non-root hint), `-v` names the reason, and
/// `--owners-source bpf` exits 3 saying it.
fn fallback(env: &Env, case: &Case<'_>) {
    let name = case.name;
    // -T has no JSON form (owners there carry no thread): its table then.
    let table = case.extra.iter().any(|a| a == "-T");
    let listing: &[&str] = if table {
        &["-tuanp"]
    } else {
        &["-tuanp", "--json"]
    };
    let answer = |out: &Output, what: &str| -> Value {
        if table {
            assert!(out.status.success(), "{what}: {}", text(&out.stderr));
            Value::String(text(&out.stdout))
        } else {
            Value::Array(comparable(json(out, what)))
        }
    };
    let run = |more: &[&str]| -> Output {
        let mut args: Vec<&str> = case.extra.iter().map(String::as_str).collect();
        args.extend_from_slice(listing);
        args.extend_from_slice(more);
        run_bounded(&mut (case.wrap)(env, &args), LIMIT)
    };
    let walk = run(&["--owners-source", "proc"]);
    let walk_recs = answer(&walk, &format!("{name}: proc"));
    let auto = run(&[]);
    let auto_recs = answer(&auto, &format!("{name}: auto"));
    assert_eq!(
        auto_recs, walk_recs,
        "{name}: auto is not the walk's answer"
    );
    assert_eq!(
        digitless(&text(&auto.stderr)),
        digitless(&text(&walk.stderr)),
        "{name}: auto said more than the walk"
    );
    assert!(
        text(&auto.stderr)
            .lines()
            .all(|l| l.contains("no visible owner")),
        "{name}: {}",
        text(&auto.stderr)
    );
    let verbose = run(&["-v"]);
    answer(&verbose, &format!("{name}: auto -v"));
    let err = text(&verbose.stderr);
    assert!(
        err.contains(&format!("{INSTEAD}{}", case.reason)),
        "{name}: -v does not say why: {err}"
    );
    let bpf = run(&["--owners-source", "bpf"]);
    let err = text(&bpf.stderr);
    assert_eq!(bpf.status.code(), Some(3), "{name}: {err}");
    assert!(
        err.starts_with(&format!("{CANNOT}{}", case.reason)),
        "{name}: {err}"
    );
    assert!(bpf.stdout.is_empty(), "{name}: {}", text(&bpf.stdout));
}

/// A population for the fallbacks: sockets shared by this process and a
/// root holder, and some held by a holder running as nobody.
fn fallback_population() -> (Scenario, Vec<NsProc>) {
    let mut sc = Scenario::new();
    let l = sc.listen_v4();
    for _ in 0..5 {
        sc.established_pair(l);
    }
    sc.udp_bound_v4();
    let fds = sc.fds();
    let (a, b) = fds.split_at(fds.len() / 2);
    let holders = vec![NsProc::hold(a, false), NsProc::hold(b, true)];
    (sc, holders)
}

/// include/uapi/linux/filter.h: BPF_STMT and BPF_JUMP.
#[cfg(target_arch = "x86_64")]
fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

#[cfg(target_arch = "x86_64")]
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Installs, in the calling process, a seccomp filter that answers
/// bpf(2) with EPERM and allows everything else (after no_new_privs, as an
/// unprivileged container runtime would).
#[cfg(target_arch = "x86_64")]
fn deny_bpf() -> std::io::Result<()> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    /// include/uapi/linux/audit.h: AUDIT_ARCH_X86_64.
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    /// include/uapi/linux/seccomp.h: struct seccomp_data { int nr; __u32
    /// arch; ... }.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let filter = [
        stmt(BPF_LD | BPF_W | BPF_ABS, ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(BPF_LD | BPF_W | BPF_ABS, NR),
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_bpf as u32, 0, 1),
        stmt(
            BPF_RET | BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prctl with integer arguments changes only this process.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `prog` points at `filter`, both alive for the call; the
    // kernel copies the program.
    if unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A seccomp filter denying bpf(2) with EPERM: the walk, silently.
#[cfg(target_arch = "x86_64")]
#[test]
fn seccomp_denying_bpf_falls_back_to_the_walk() {
    if !can_run(missing(), "seccomp_denying_bpf_falls_back_to_the_walk") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let (_sc, _holders) = fallback_population();
        let wrap = |env: &Env, args: &[&str]| -> Command {
            let mut c = plain(env, args);
            // SAFETY: prctl only between fork and exec (no allocation:
            // the filter lives on the stack).
            unsafe { c.pre_exec(deny_bpf) };
            c
        };
        fallback(
            env,
            &Case {
                name: "seccomp",
                extra: Vec::new(),
                wrap: &wrap,
                reason: "bpf(2) was refused (Operation not permitted (os error 1)): a seccomp filter is installed",
            },
        );
    });
}

/// `--btf` naming a missing file, a truncated copy of the kernel's BTF and
/// random bytes: the walk, silently.
#[test]
fn missing_or_corrupt_btf_falls_back_to_the_walk() {
    if !can_run(missing(), "missing_or_corrupt_btf_falls_back_to_the_walk") {
        return;
    }
    let _serial = serial();
    let tmp = TempDir::new("btf");
    let vmlinux = std::fs::read(VMLINUX).expect("read vmlinux BTF");
    let truncated = tmp.0.join("truncated");
    std::fs::write(&truncated, &vmlinux[..vmlinux.len() / 2]).unwrap();
    let header_only = tmp.0.join("header-only");
    std::fs::write(&header_only, &vmlinux[..24.min(vmlinux.len())]).unwrap();
    let random = tmp.0.join("random");
    // xorshift64: the same bytes on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&random, bytes).unwrap();
    let cases: Vec<(String, String)> = vec![
        (
            "/nonexistent/vmlinux".into(),
            "no BTF at /nonexistent/vmlinux (No such file or directory (os error 2))".into(),
        ),
        (
            truncated.display().to_string(),
            format!("the BTF at {} is not usable: ", truncated.display()),
        ),
        (
            header_only.display().to_string(),
            format!("the BTF at {} is not usable: ", header_only.display()),
        ),
        (
            random.display().to_string(),
            format!("the BTF at {} is not usable: ", random.display()),
        ),
    ];
    Sandbox::run(move |env| {
        let (_sc, _holders) = fallback_population();
        for (path, reason) in &cases {
            fallback(
                env,
                &Case {
                    name: path,
                    extra: vec!["--btf".into(), path.clone()],
                    wrap: &plain,
                    reason,
                },
            );
        }
    });
    drop(tmp);
}

/// Regression: in a user namespace (`unshare --user --map-root-user`, a
/// rootless container) sockscope has every capability of that namespace,
/// but bpf(2) wants them in the initial one: the walk was used, as it
/// must, but `-v` blamed "a security module or sysctl".
#[test]
fn user_namespace_falls_back_and_says_so() {
    if !can_run(missing(), "user_namespace_falls_back_and_says_so") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let (_sc, _holders) = fallback_population();
        let userns = |env: &Env, args: &[&str]| -> Command {
            let mut c = env.command("unshare");
            c.args(["--user", "--map-root-user"])
                .arg(env!("CARGO_BIN_EXE_sockscope"))
                .args(args);
            c
        };
        fallback(
            env,
            &Case {
                name: "user namespace",
                extra: Vec::new(),
                wrap: &userns,
                reason: "its capabilities are those of a user namespace, not of the initial one that bpf(2) checks",
            },
        );
    });
}

/// `-T` (every thread's descriptors) and `--proc-root` (another tree than
/// this kernel's /proc, here /proc itself by another name): the walk.
#[test]
fn threads_and_proc_root_use_the_walk() {
    if !can_run(missing(), "threads_and_proc_root_use_the_walk") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        // Held by the (one-thread) holders alone: -T would also list this
        // process's threads, which come and go between two runs.
        let (sc, _holders) = fallback_population();
        drop(sc);
        let cases = [
            (
                vec!["-T".to_owned()],
                "-T lists every thread's descriptors, the iterator one table per process",
            ),
            (
                vec!["--proc-root".to_owned(), "/proc/1/..".to_owned()],
                "--proc-root names a recorded tree, not this kernel's processes",
            ),
        ];
        for (extra, reason) in cases {
            let name = extra.join(" ");
            fallback(
                env,
                &Case {
                    name: &name,
                    extra,
                    wrap: &plain,
                    reason,
                },
            );
        }
    });
}

/// `setpriv` to nobody, with `caps` (e.g. `+bpf,+perfmon`) inheritable and
/// ambient when given.
fn as_nobody(env: &Env, caps: Option<&str>, args: &[&str]) -> Command {
    let mut c = env.command("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    if let Some(caps) = caps {
        c.arg(format!("--inh-caps={caps}"))
            .arg(format!("--ambient-caps={caps}"));
    }
    c.arg(env!("CARGO_BIN_EXE_sockscope")).args(args);
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD");
    c
}

/// As nobody: the walk (which shows nobody's own processes only), the
/// capabilities named as the reason. As nobody with CAP_BPF and
/// CAP_PERFMON (ambient): the iterator runs, and sees every process's
/// sockets, as root's walk does.
#[test]
fn unprivileged_user_falls_back_to_the_walk() {
    if !can_run(missing(), "unprivileged_user_falls_back_to_the_walk") {
        return;
    }
    let _serial = serial();
    Sandbox::run(|env| {
        let (_sc, holders) = fallback_population();
        let nobody = |env: &Env, args: &[&str]| as_nobody(env, None, args);
        fallback(
            env,
            &Case {
                name: "nobody",
                extra: Vec::new(),
                wrap: &nobody,
                reason: "it needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (run as root)",
            },
        );
        // nobody's walk shows its own holder only.
        let out = run_bounded(
            &mut as_nobody(env, None, &["-tuanp", "--json", "--owners-source", "proc"]),
            LIMIT,
        );
        let pids: BTreeSet<u32> = owned_rows(&json(&out, "nobody"))
            .into_iter()
            .flat_map(|r| r.pids)
            .collect();
        assert_eq!(pids, BTreeSet::from([holders[1].pid()]));

        // With CAP_BPF and CAP_PERFMON: the iterator, with root's walk's
        // owners (it is not limited by ptrace access as the walk is).
        let out = run_bounded(
            &mut as_nobody(
                env,
                Some("+bpf,+perfmon"),
                &["-tuanp", "--json", "--owners-source", "bpf", "-v"],
            ),
            LIMIT,
        );
        let with_caps = json(&out, "nobody with CAP_BPF and CAP_PERFMON");
        let err = text(&out.stderr);
        assert!(err.contains(ITER), "{err}");
        let root_walk = json(
            &sockscope(env, &["-tuanp", "--json", "--owners-source", "proc"]),
            "root's walk",
        );
        let (a, b) = (owners(&with_caps), owners(&root_walk));
        assert!(
            a == b,
            "nobody+caps (first), root's walk (second):\n{}",
            diff_maps(&a, &b)
        );
    });
}

/// The system's BPF objects, through bpf(2) as bpftool lists them.
mod objects {
    use std::os::fd::{FromRawFd, OwnedFd};

    /// include/uapi/linux/bpf.h: enum bpf_cmd.
    const BPF_PROG_GET_NEXT_ID: libc::c_long = 11;
    const BPF_MAP_GET_NEXT_ID: libc::c_long = 12;
    const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
    const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
    const BPF_LINK_GET_FD_BY_ID: libc::c_long = 30;
    const BPF_LINK_GET_NEXT_ID: libc::c_long = 31;

    /// union bpf_attr for the GET_NEXT_ID and GET_FD_BY_ID commands:
    /// { start_id (or prog_id, map_id, link_id), next_id, open_flags }.
    #[repr(C)]
    #[derive(Default)]
    struct IdAttr {
        id: u32,
        next_id: u32,
        open_flags: u32,
    }

    /// union bpf_attr for BPF_OBJ_GET_INFO_BY_FD: { bpf_fd, info_len, info }.
    #[repr(C)]
    struct InfoAttr {
        bpf_fd: u32,
        info_len: u32,
        info: u64,
    }

    fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> libc::c_long {
        // SAFETY: `attr` is a live #[repr(C)] prefix of union bpf_attr of
        // the size passed; a pointer inside it (info) points at a buffer
        // of the length given beside it, alive for the call.
        unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                attr as *mut T as *mut libc::c_void,
                std::mem::size_of::<T>() as libc::c_uint,
            )
        }
    }

    fn ids(cmd: libc::c_long) -> Vec<u32> {
        let mut out = Vec::new();
        let mut attr = IdAttr::default();
        // Bounded: ids only grow; stop at a million objects.
        while out.len() < 1_000_000 && bpf(cmd, &mut attr) == 0 {
            out.push(attr.next_id);
            attr.id = attr.next_id;
        }
        out
    }

    /// The next program id after `id`, if any.
    pub fn next_program(id: u32) -> Option<u32> {
        let mut attr = IdAttr {
            id,
            ..IdAttr::default()
        };
        (bpf(BPF_PROG_GET_NEXT_ID, &mut attr) == 0).then_some(attr.next_id)
    }

    pub fn programs() -> Vec<u32> {
        ids(BPF_PROG_GET_NEXT_ID)
    }

    pub fn links() -> Vec<u32> {
        ids(BPF_LINK_GET_NEXT_ID)
    }

    pub fn maps() -> Vec<u32> {
        ids(BPF_MAP_GET_NEXT_ID)
    }

    fn fd_by_id(cmd: libc::c_long, id: u32) -> Option<OwnedFd> {
        let mut attr = IdAttr {
            id,
            ..IdAttr::default()
        };
        let fd = bpf(cmd, &mut attr);
        // SAFETY: a new descriptor the call returned, owned by nobody else.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    fn info(fd: &OwnedFd, buf: &mut [u8]) -> bool {
        use std::os::fd::AsRawFd;
        let mut attr = InfoAttr {
            bpf_fd: fd.as_raw_fd() as u32,
            info_len: buf.len() as u32,
            info: buf.as_mut_ptr() as u64,
        };
        bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr) == 0
    }

    /// A program's name and number of maps (struct bpf_prog_info:
    /// nr_map_ids at 52, name[16] at 64), or `None` once it is gone.
    pub fn program(id: u32) -> Option<(String, u32)> {
        let fd = fd_by_id(BPF_PROG_GET_FD_BY_ID, id)?;
        let mut buf = [0u8; 80];
        if !info(&fd, &mut buf) {
            return None;
        }
        let maps = u32::from_ne_bytes(buf[52..56].try_into().ok()?);
        let name = &buf[64..80];
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Some((String::from_utf8_lossy(&name[..end]).into_owned(), maps))
    }

    /// A link's program id (struct bpf_link_info: prog_id at 8).
    pub fn link_program(id: u32) -> Option<u32> {
        let fd = fd_by_id(BPF_LINK_GET_FD_BY_ID, id)?;
        let mut buf = [0u8; 16];
        if !info(&fd, &mut buf) {
            return None;
        }
        Some(u32::from_ne_bytes(buf[8..12].try_into().ok()?))
    }
}

/// The program's name as the kernel keeps it (BPF_OBJ_NAME_LEN 16).
const PROG_NAME: &str = "sockscope_own";

/// What exists of ours: sockscope programs and links to them, beyond the
/// ids that existed before.
#[derive(Debug, Default, PartialEq, Eq)]
struct Ours {
    programs: Vec<u32>,
    links: Vec<u32>,
}

fn ours_since(prog_max: u32, link_max: u32) -> Ours {
    let programs: Vec<u32> = objects::programs()
        .into_iter()
        .filter(|&id| id > prog_max)
        .filter(|&id| objects::program(id).is_some_and(|(name, _)| name == PROG_NAME))
        .collect();
    let links = objects::links()
        .into_iter()
        .filter(|&id| id > link_max)
        .filter(|&id| {
            objects::link_program(id).is_some_and(|p| programs.contains(&p) || p > prog_max)
        })
        .collect();
    Ours { programs, links }
}

/// The first sockscope program loaded after id `after` (its id and number
/// of maps), caught alive: a run keeps it for about a millisecond, so this
/// spins on BPF_PROG_GET_NEXT_ID (one cheap call) for at most `limit`.
fn catch_program(after: u32, limit: Duration) -> Option<(u32, u32)> {
    let deadline = Instant::now() + limit;
    let mut last = after;
    while Instant::now() < deadline {
        while let Some(id) = objects::next_program(last) {
            last = id;
            if let Some((name, maps)) = objects::program(id)
                && name == PROG_NAME
            {
                return Some((id, maps));
            }
        }
        std::hint::spin_loop();
    }
    None
}

fn pinned() -> BTreeSet<PathBuf> {
    std::fs::read_dir("/sys/fs/bpf")
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// SIGINT (or another signal) to a child of this test, by pid.
fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
}

/// Nothing stays behind: after several runs, a `watch` stopped by SIGINT
/// and runs killed by SIGKILL (as soon as their program is loaded), no
/// sockscope program or link remains, none had a map, and /sys/fs/bpf got
/// nothing new.
#[test]
fn nothing_is_left_behind() {
    if !can_run(missing(), "nothing_is_left_behind") {
        return;
    }
    let _serial = serial();
    let prog_max = objects::programs().into_iter().max().unwrap_or(0);
    let link_max = objects::links().into_iter().max().unwrap_or(0);
    let maps_before: BTreeSet<u32> = objects::maps().into_iter().collect();
    let pinned_before = pinned();
    let before = (objects::programs().len(), objects::links().len());
    Sandbox::run(move |env| {
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        sc.established_pair(l);
        for i in 0..5 {
            let out = sockscope(env, &["-tanp", "--owners-source", "bpf"]);
            assert!(out.status.success(), "run {i}: {}", text(&out.stderr));
            assert_eq!(text(&out.stderr), "", "run {i}");
        }
        assert_eq!(
            ours_since(prog_max, link_max),
            Ours::default(),
            "after runs"
        );

        // watch -p reads owners every tick; meanwhile its programs are
        // seen alive, each without a map.
        let mut watch = common::run::command(env)
            .args([
                "watch",
                "-tanp",
                "--owners-source",
                "bpf",
                "-v",
                "--interval",
                "0.05",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn watch");
        let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
        let mut after = prog_max;
        for _ in 0..3 {
            match catch_program(after, Duration::from_secs(10)) {
                Some((id, maps)) => {
                    seen.insert(id, maps);
                    after = id;
                }
                None => break,
            }
        }
        signal(&watch, libc::SIGINT);
        let stopped = poll_until(Duration::from_secs(10), || {
            matches!(watch.try_wait(), Ok(Some(_)))
        });
        if !stopped {
            let _ = watch.kill();
        }
        let status = watch.wait().expect("wait for watch");
        let mut err = String::new();
        if let Some(mut e) = watch.stderr.take() {
            use std::io::Read as _;
            let _ = e.read_to_string(&mut err);
        }
        assert!(stopped, "watch did not stop on SIGINT");
        assert!(
            err.contains(ITER),
            "watch did not use the iterator: {status}: {err}"
        );
        assert!(
            !seen.is_empty(),
            "no sockscope program seen while watch ran"
        );
        assert!(
            seen.values().all(|&m| m == 0),
            "programs with maps: {seen:?}"
        );

        // SIGKILL as soon as a program of the run is loaded (or at
        // once when none was seen in time), ten times.
        let mut killed_loaded = 0;
        for _ in 0..10 {
            let from = objects::programs().into_iter().max().unwrap_or(0);
            let mut run = common::run::command(env)
                .args([
                    "watch",
                    "-tanp",
                    "--owners-source",
                    "bpf",
                    "--interval",
                    "0.02",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn watch");
            let loaded = catch_program(from, Duration::from_secs(5)).is_some();
            killed_loaded += usize::from(loaded);
            signal(&run, libc::SIGKILL);
            let _ = run.wait();
        }
        assert!(
            killed_loaded > 0,
            "never caught a run with its program loaded"
        );

        // The kernel frees a program when its last descriptor closes (RCU:
        // not always at once); bounded.
        let mut left = Ours::default();
        let clean = poll_until(Duration::from_secs(10), || {
            left = ours_since(prog_max, link_max);
            left == Ours::default()
        });
        assert!(clean, "left behind: {left:?}");
        let maps_after: BTreeSet<u32> = objects::maps().into_iter().collect();
        let new_maps: Vec<&u32> = maps_after.difference(&maps_before).collect();
        assert!(new_maps.is_empty(), "new maps: {new_maps:?}");
        assert_eq!(pinned(), pinned_before, "/sys/fs/bpf changed");
        let after = (objects::programs().len(), objects::links().len());
        common::netns::say(&format!(
            "nothing_is_left_behind: programs and links before {before:?}, after {after:?}; \
             {} sockscope programs seen during watch; {killed_loaded}/10 SIGKILLs with the program loaded",
            seen.len()
        ));
    });
}
