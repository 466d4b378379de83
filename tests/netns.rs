//! Network namespaces end to end: real namespaces made by the test (named
//! under /run/netns, and one kept only by a process, reached as `pid:PID`),
//! populated with listeners, connections, TIME_WAIT and UDP sockets held by
//! child processes; sockscope's rows, owners and namespace tags must equal
//! `ss -tuanp` run inside each namespace (`ip netns exec NAME ss`, `nsenter
//! -t PID -n ss`), row for row. Also: a namespace kept only by its bind
//! mount, a socket passed over SCM_RIGHTS from one namespace to a process in
//! another, who/listeners/why-bind/ports/-s across namespaces, bad `-N`
//! values, and a run as nobody.
//!
//! Tests run in parallel threads and `--all-netns` sees every namespace on
//! the machine (the host's, other tests'), so rows are always selected by
//! the inodes of the test's own namespaces. Without root no namespace can be
//! made: each test says so on stderr and checks what a plain user can.

pub mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::netns::{NsProc, OwnedRow, TestCgroup, TestNetns, diff_owned, is_root, populate, say};
use common::{ListenOpts, Row, canonical_endpoint};
use serde_json::Value;

// ----- running sockscope ----------------------------------------------------

/// The built sockscope, run from a test thread (the host namespace),
/// without the variables that would swap its data source.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .stdin(Stdio::null());
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run sockscope")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs sockscope; it must exit `code`.
fn run_expect(args: &[&str], code: i32) -> Output {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "sockscope {args:?}: {}",
        show(&out)
    );
    out
}

/// Every JSON value in `bytes`: one document, or one per line.
fn json_values(bytes: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// The socket records of a listing (`--json`: one array; `--jsonl`: one
/// object per line).
fn records(out: &Output) -> Vec<Value> {
    json_values(&out.stdout)
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(a) => a,
            other => vec![other],
        })
        .collect()
}

/// One record as a row with its owners' pids.
fn owned_row(r: &Value) -> OwnedRow {
    let ep = |e: &Value| {
        canonical_endpoint(
            e["addr"].as_str().expect("addr"),
            e["port"].as_u64().expect("port") as u16,
        )
    };
    OwnedRow {
        row: Row::new(
            r["proto"].as_str().expect("proto"),
            r["state"].as_str().expect("state"),
            &ep(&r["local"]),
            &ep(&r["remote"]),
        ),
        pids: r["owners"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| o["pid"].as_u64().expect("owner pid") as u32)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn netns_inode(r: &Value) -> Option<u64> {
    r["netns"]["inode"].as_u64()
}

/// The records tagged with namespace `inode`.
fn tagged(recs: &[Value], inode: u64) -> Vec<&Value> {
    recs.iter()
        .filter(|r| netns_inode(r) == Some(inode))
        .collect()
}

/// [`tagged`] as sorted owned rows.
fn rows_in(recs: &[Value], inode: u64) -> Vec<OwnedRow> {
    let mut v: Vec<OwnedRow> = tagged(recs, inode).into_iter().map(owned_row).collect();
    v.sort();
    v
}

/// Says whether a `netns.name` is the right one for a namespace.
type NameCheck<'a> = dyn Fn(&str) -> bool + 'a;

/// Asserts that sockscope's rows for `ns` equal `oracle` (rows and owner
/// pids), that each is tagged with `ns`'s name as `name_ok` accepts, and
/// carries `"container": null`.
fn assert_ns_rows(
    what: &str,
    recs: &[Value],
    ns: &TestNetns,
    oracle: &[OwnedRow],
    name_ok: &NameCheck<'_>,
) {
    let ours = rows_in(recs, ns.inode());
    let diff = diff_owned(oracle, &ours);
    assert!(
        diff.is_empty(),
        "{what}: namespace {} (inode {}): sockscope vs ss inside it:\n{diff}",
        ns.selector(),
        ns.inode()
    );
    for r in tagged(recs, ns.inode()) {
        let name = r["netns"]["name"].as_str().unwrap_or("<null>");
        assert!(
            name_ok(name),
            "{what}: row tagged with the wrong name {name:?} (namespace {}): {r}",
            ns.selector()
        );
        assert!(
            r.get("container").is_some_and(Value::is_null),
            "{what}: {r}"
        );
    }
}

/// Without root no namespace can be made: says so, and checks that a plain
/// user's `--all-netns` run lists its own namespace, tags every row and
/// exits 0. Returns true when the caller must stop there.
fn fallback_without_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    say(&format!(
        "netns::{test}: not root: no namespace can be made (ip netns add, unshare -n need \
         CAP_SYS_ADMIN); checking only that --all-netns runs as this user, exits 0 and tags \
         every row"
    ));
    let out = run_expect(&["-tuan", "--all-netns", "--json"], 0);
    for r in records(&out) {
        assert!(netns_inode(&r).is_some(), "{r}");
    }
    true
}

// ----- 1. every namespace equals ss inside it -------------------------------

/// Two named namespaces and one kept only by a process (`pid:PID`), each
/// with a different set of sockets: `--all-netns` gives, per namespace,
/// exactly the rows and owner pids of `ss -tuanp` run inside it, tagged with
/// its inode and name; `-N NAME`, `-N /run/netns/NAME`, `-N pid:PID` and
/// `-N /proc/PID/ns/net` give that namespace's rows and no others.
#[test]
fn every_namespace_agrees_with_ss_inside_it() {
    if fallback_without_root("every_namespace_agrees_with_ss_inside_it") {
        return;
    }
    let a = TestNetns::named();
    let b = TestNetns::named();
    let c = TestNetns::unnamed();
    // Different shapes and counts, so that a mix-up shows.
    let pa = populate(&a, |sc| {
        let l = sc.listen_v4();
        sc.established_pair(l);
        sc.time_wait(l);
        sc.udp_pair_v4();
    });
    let pb = populate(&b, |sc| {
        let l = sc.listen_dual();
        sc.established_v4_to_dual(l);
        sc.established_pair(l);
        sc.listen_v6_loopback();
        sc.udp_bound_v6();
    });
    let pc = populate(&c, |sc| {
        let l = sc.listen_v4_any();
        sc.established_pair(l);
        sc.established_pair(l);
        sc.time_wait(l);
        sc.time_wait(l);
        sc.udp_bound_v4();
    });
    assert_eq!(pa.expected.len(), 6, "A: LISTEN, 2 ESTAB, TIME_WAIT, 2 UDP");
    assert_eq!(pb.expected.len(), 7, "B: 2 LISTEN, 4 ESTAB, UDP");
    assert_eq!(pc.expected.len(), 8, "C: LISTEN, 4 ESTAB, 2 TIME_WAIT, UDP");

    // The oracle side: ss inside each namespace sees exactly what was made.
    let mut oracle = Vec::new();
    for (ns, pop) in [(&a, &pa), (&b, &pb), (&c, &pc)] {
        let seen = ns.ss(&["-tua"]);
        let diff = diff_owned(&pop.expected, &seen);
        assert!(diff.is_empty(), "ss inside {}: {diff}", ns.selector());
        oracle.push(seen);
    }

    let c_pid = c.anchor_pid().expect("anchor");
    let mut c_pids = pc.pids();
    c_pids.insert(c_pid);
    let a_name = a.name().expect("named").to_string();
    let b_name = b.name().expect("named").to_string();
    let is_a = move |n: &str| n == a_name;
    let is_b = move |n: &str| n == b_name;
    let is_c = move |n: &str| {
        n.strip_prefix("pid:")
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| c_pids.contains(&p))
    };

    // One socket of ours on the host, so its namespace has a row.
    let on_host = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("udp on the host");
    for args in [
        &["-tuanp", "--all-netns", "--json"][..],
        &["-tuanp", "--all-netns", "--jsonl"][..],
    ] {
        let out = run_expect(args, 0);
        let recs = records(&out);
        let what = format!("sockscope {}", args.join(" "));
        assert_ns_rows(&what, &recs, &a, &oracle[0], &is_a);
        assert_ns_rows(&what, &recs, &b, &oracle[1], &is_b);
        assert_ns_rows(&what, &recs, &c, &oracle[2], &is_c);
        // The host (this process's namespace) is listed too, as "host" when
        // it is PID 1's, or when PID 1's cannot be read (here PID 1 has
        // capabilities this process lacks: its ns links are refused even
        // to root).
        let host = common::netns::own_inode();
        match common::netns::ns_inode(Path::new("/proc/1/ns/net")) {
            Ok(init) if init != host => say(&format!(
                "netns: this test runs outside PID 1's network namespace: the name \
                 \"host\" is not checked ({what})"
            )),
            _ => {
                let rows = tagged(&recs, host);
                let port = on_host.local_addr().expect("local_addr").port();
                assert!(
                    rows.iter().any(|r| r["local"]["port"] == port),
                    "{what}: our UDP socket on the host is not listed in its namespace"
                );
                for r in rows {
                    assert_eq!(r["netns"]["name"], "host", "{what}: {r}");
                }
            }
        }
    }

    // -N selects exactly one namespace, whichever way it is written.
    let a_path = a.path().display().to_string();
    let c_path = c.path().display().to_string();
    let c_sel = c.selector();
    let cases: [(&str, &TestNetns, &[OwnedRow], &NameCheck<'_>); 4] = [
        (a.name().expect("named"), &a, &oracle[0], &is_a),
        (&a_path, &a, &oracle[0], &is_a),
        (&c_sel, &c, &oracle[2], &is_c),
        (&c_path, &c, &oracle[2], &is_c),
    ];
    for (sel, ns, want, name_ok) in cases {
        let args = ["-tuanp", "-N", sel, "--json"];
        let out = run_expect(&args, 0);
        let recs = records(&out);
        let what = format!("sockscope {}", args.join(" "));
        assert_ns_rows(&what, &recs, ns, want, name_ok);
        let others: Vec<&Value> = recs
            .iter()
            .filter(|r| netns_inode(r) != Some(ns.inode()))
            .collect();
        assert!(
            others.is_empty(),
            "{what}: rows of other namespaces: {others:?}"
        );
        assert_eq!(recs.len(), want.len(), "{what}");
    }

    // -N repeated: exactly those two.
    let args = [
        "-tuanp",
        "-N",
        a.name().expect("named"),
        "-N",
        &c_sel,
        "--json",
    ];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    let what = format!("sockscope {}", args.join(" "));
    assert_ns_rows(&what, &recs, &a, &oracle[0], &is_a);
    assert_ns_rows(&what, &recs, &c, &oracle[2], &is_c);
    assert_eq!(recs.len(), oracle[0].len() + oracle[2].len(), "{what}");

    // --pid of a holder in B, without choosing a namespace: its rows in B.
    let holder = pb.procs[1].pid();
    let want: Vec<OwnedRow> = oracle[1]
        .iter()
        .filter(|r| r.pids.contains(&holder))
        .cloned()
        .collect();
    assert_eq!(want.len(), 4, "B's connections holder: 4 ESTAB");
    let hp = holder.to_string();
    let args = ["-tuanp", "--pid", &hp, "--json"];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(recs.len(), want.len(), "{args:?}: {}", show(&out));
    assert_ns_rows(&format!("{args:?}"), &recs, &b, &want, &is_b);

    // The same namespace twice (by name and by path): listed once.
    let args = [
        "-tuanp",
        "-N",
        a.name().expect("named"),
        "-N",
        &a_path,
        "--json",
    ];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_ns_rows(&format!("{args:?}"), &recs, &a, &oracle[0], &is_a);
    assert_eq!(recs.len(), oracle[0].len(), "{args:?}: {}", show(&out));

    // A filter applies in every namespace: A's listener port, against ss
    // inside each namespace with the same filter.
    let port = pa
        .expected
        .iter()
        .find(|r| r.row.state == "LISTEN")
        .and_then(|r| common::endpoint_port(&r.row.local))
        .expect("A's listener");
    let filter = format!("( sport = :{port} or dport = :{port} )");
    let fwords: Vec<&str> = filter.split(' ').collect();
    let mut args = vec!["-tuanp", "--all-netns", "--json"];
    args.extend(&fwords);
    let out = run_expect(&args, 0);
    let recs = records(&out);
    let mut ss_args = vec!["-tua"];
    ss_args.extend(&fwords);
    let a_f = a.ss(&ss_args);
    assert_eq!(
        a_f.len(),
        4,
        "ss in A with {filter}: LISTEN, 2 ESTAB, TIME_WAIT"
    );
    assert_ns_rows(&format!("{args:?}"), &recs, &a, &a_f, &is_a);
    assert_ns_rows(&format!("{args:?}"), &recs, &b, &b.ss(&ss_args), &is_b);
    assert_ns_rows(&format!("{args:?}"), &recs, &c, &c.ss(&ss_args), &is_c);

    // With more than one namespace the table has Netns and Container columns.
    let out = run_expect(&["-tuan", "-N", a.name().expect("named"), "-N", &c_sel], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().next().unwrap_or("");
    assert!(
        header.contains("Netns") && header.contains("Container"),
        "table header: {text}"
    );
    assert!(text.contains(a.name().expect("named")), "{text}");
    drop((pa, pb, pc));
}

// ----- 2. a namespace kept only by its bind mount ---------------------------

/// The process holding a listener exits; the namespace lives on by its
/// /run/netns bind mount alone, with three TIME_WAIT sockets in it:
/// `--all-netns` and `-N NAME` still list them, under its name.
#[test]
fn bind_mount_only_namespace_keeps_its_time_wait() {
    if fallback_without_root("bind_mount_only_namespace_keeps_its_time_wait") {
        return;
    }
    let k = TestNetns::named();
    let pop = populate(&k, |sc| {
        let l = sc.listen_v4();
        for _ in 0..3 {
            sc.time_wait(l);
        }
    });
    assert_eq!(pop.expected.len(), 4, "LISTEN and 3 TIME_WAIT");
    let mut want: Vec<OwnedRow> = pop
        .expected
        .iter()
        .filter(|r| r.row.state == "TIME_WAIT")
        .cloned()
        .collect();
    want.sort();
    assert_eq!(want.len(), 3);
    drop(pop); // the holder is killed: no process left in the namespace
    let inside: Vec<u32> = std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            common::netns::ns_inode(Path::new(&format!("/proc/{pid}/ns/net")))
                .is_ok_and(|i| i == k.inode())
        })
        .collect();
    assert!(
        inside.is_empty(),
        "processes still in the namespace: {inside:?}"
    );

    let oracle = k.ss(&["-tua"]);
    let diff = diff_owned(&want, &oracle);
    assert!(diff.is_empty(), "ss inside {}: {diff}", k.selector());
    let name = k.name().expect("named").to_string();
    let is_k = |n: &str| n == name;
    for args in [
        &["-tuanp", "--all-netns", "--json"][..],
        &["-tuanp", "-N", &name, "--json"][..],
    ] {
        let out = run_expect(args, 0);
        let recs = records(&out);
        assert_ns_rows(&format!("sockscope {args:?}"), &recs, &k, &oracle, &is_k);
    }
}

// ----- 3. a socket passed to a process in another namespace -----------------

const RECEIVER: &str = r#"
import socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(1); srv.settimeout(20)
print("ready", flush=True)
c, _ = srv.accept(); c.settimeout(20)
msg, fds, flags, addr = socket.recv_fds(c, 16, 8)
c.close(); srv.close()
print(" ".join(map(str, fds)), flush=True)
sys.stdin.read()
"#;

const SENDER: &str = r#"
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(sys.argv[1])
socket.send_fds(c, [b"x"], [l.fileno(), u.fileno()])
print(l.getsockname()[1], u.getsockname()[1], flush=True)
"#;

/// Removes a file on drop.
struct RmOnDrop(String);

impl Drop for RmOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A TCP listener and a UDP socket made in namespace A are passed over a
/// UNIX socket (SCM_RIGHTS) to a python3 process living in namespace B,
/// and the sender exits: both rows are tagged with A (where the sockets
/// live) and owned by the process in B, as `ss -tuap` inside A says; B has
/// no TCP/UDP rows. Also `--pid` of that process finds them without
/// `--all-netns` (the issue: its sockets' namespaces are read automatically).
#[test]
fn passed_socket_stays_in_its_namespace_owned_by_the_receiver() {
    if fallback_without_root("passed_socket_stays_in_its_namespace_owned_by_the_receiver") {
        return;
    }
    let a = TestNetns::named();
    let b = TestNetns::named();
    let sock = RmOnDrop(format!(
        "/tmp/{}-{}.sock",
        b.name().expect("named"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&sock.0);
    let child = b
        .exec("/usr/bin/python3")
        .args(["-c", RECEIVER, &sock.0])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the receiver");
    let mut receiver = NsProc::adopt(child);
    let rpid = receiver.pid();
    let stdout = receiver.child_mut().stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut next_line = || {
        lines
            .next()
            .expect("receiver output")
            .expect("receiver output")
    };
    assert_eq!(next_line(), "ready");
    let mut send = a.exec("/usr/bin/python3");
    send.args(["-c", SENDER, &sock.0]).stdin(Stdio::null());
    let out = send.output().expect("run the sender");
    assert!(out.status.success(), "sender: {}", show(&out));
    let ports: Vec<u16> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|p| p.parse().expect("port"))
        .collect();
    assert_eq!(ports.len(), 2, "sender: {}", show(&out));
    let fds = next_line();
    assert_eq!(fds.split_whitespace().count(), 2, "received fds: {fds}");

    let mut want = vec![
        OwnedRow {
            row: Row::new(
                "tcp",
                "LISTEN",
                &format!("127.0.0.1:{}", ports[0]),
                "0.0.0.0:0",
            ),
            pids: BTreeSet::from([rpid]),
        },
        OwnedRow {
            row: Row::new(
                "udp",
                "UNCONN",
                &format!("127.0.0.1:{}", ports[1]),
                "0.0.0.0:0",
            ),
            pids: BTreeSet::from([rpid]),
        },
    ];
    want.sort();
    let oracle_a = a.ss(&["-tua"]);
    let diff = diff_owned(&want, &oracle_a);
    assert!(diff.is_empty(), "ss inside A: {diff}");
    assert_eq!(b.ss(&["-tua"]), vec![], "ss inside B");

    let a_name = a.name().expect("named").to_string();
    let is_a = |n: &str| n == a_name;
    let out = run_expect(&["-tuanp", "--all-netns", "--json"], 0);
    let recs = records(&out);
    assert_ns_rows("--all-netns", &recs, &a, &oracle_a, &is_a);
    assert_eq!(rows_in(&recs, b.inode()), vec![], "--all-netns: rows in B");

    // The receiver's sockets, asked for by its pid alone.
    let args = ["-tuanp", "--pid", &rpid.to_string(), "--json"];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(recs.len(), 2, "{args:?}: {}", show(&out));
    assert_ns_rows(&format!("{args:?}"), &recs, &a, &oracle_a, &is_a);
    // And by --process, a regex over its command line (which names B's
    // socket path): the namespaces of the matching processes' sockets.
    let b_name = b.name().expect("named").to_string();
    let args = ["-tuanp", "--process", &b_name, "--json"];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(recs.len(), 2, "{args:?}: {}", show(&out));
    assert_ns_rows(&format!("{args:?}"), &recs, &a, &oracle_a, &is_a);
}

// ----- 4. the views across namespaces ---------------------------------------

/// A port number free on the host right now (bound and released).
fn host_free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind on the host");
    l.local_addr().expect("local_addr").port()
}

/// A listener on 0.0.0.0:PORT held only inside a new namespace W (PORT
/// free on the host), with one connection to it (an outgoing connection
/// for `ports`): W, its population (LISTEN and 2 ESTAB) and PORT.
fn port_held_in_a_namespace() -> (TestNetns, common::netns::Population, u16) {
    let w = TestNetns::named();
    let port = host_free_port();
    let pop = populate(&w, move |sc| {
        let l = sc.listen_with(
            SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port),
            ListenOpts::default(),
        );
        sc.established_pair(l);
    });
    assert_eq!(pop.expected.len(), 3, "LISTEN and 2 ESTAB");
    let oracle = w.ss(&["-tua"]);
    let diff = diff_owned(&pop.expected, &oracle);
    assert!(diff.is_empty(), "ss inside {}: {diff}", w.selector());
    (w, pop, port)
}

/// The JSON documents (one per namespace with `--all-netns`) whose
/// `netns` is `ns`, each checked to carry its name.
fn docs_of<'a>(docs: &'a [Value], ns: &TestNetns, what: &str) -> Vec<&'a Value> {
    let mine: Vec<&Value> = docs
        .iter()
        .filter(|d| d["netns"]["inode"].as_u64() == Some(ns.inode()))
        .collect();
    for d in &mine {
        assert_eq!(
            d["netns"]["name"].as_str(),
            ns.name(),
            "{what}: the document about {} names it wrongly",
            ns.selector()
        );
    }
    mine
}

/// `who PORT` on the host: nothing holds it (exit 1); with `--all-netns`
/// the answer about W (its document says `netns` W, the text a heading
/// naming W) holds W's listener; `-N W` finds it too.
#[test]
fn who_finds_a_port_held_in_a_namespace() {
    if fallback_without_root("who_finds_a_port_held_in_a_namespace") {
        return;
    }
    let (w, _pop, port) = port_held_in_a_namespace();
    let name = w.name().expect("named").to_string();
    let p = port.to_string();
    let listens = |d: &Value| -> usize {
        d["sockets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["state"] == "LISTEN" && s["local"]["port"] == port)
            .count()
    };
    let out = run_expect(&["who", &p, "--json"], 1);
    let v = &json_values(&out.stdout)[0];
    assert_eq!(v["held"], false, "who {p} on the host: {}", show(&out));

    let args = ["who", &p, "--all-netns", "--json"];
    let out = run_expect(&args, 0);
    let docs = json_values(&out.stdout);
    let mine = docs_of(&docs, &w, "who --all-netns");
    assert_eq!(mine.len(), 1, "{args:?}: {}", show(&out));
    assert_eq!(mine[0]["held"], true, "{args:?}: {}", mine[0]);
    assert_eq!(listens(mine[0]), 1, "{args:?}: {}", mine[0]);
    assert!(mine[0]["container"].is_null(), "{args:?}: {}", mine[0]);
    let elsewhere: usize = docs
        .iter()
        .filter(|d| d["netns"]["inode"].as_u64() != Some(w.inode()))
        .map(listens)
        .sum();
    assert_eq!(
        elsewhere,
        0,
        "{args:?}: W's listener outside W's answer: {}",
        show(&out)
    );

    let out = run_expect(&["who", &p, "-N", &name, "--json"], 0);
    let docs = json_values(&out.stdout);
    assert_eq!(docs.len(), 1, "who -N: {}", show(&out));
    assert_eq!(docs[0]["held"], true, "who -N: {}", show(&out));
    assert_eq!(listens(&docs[0]), 1, "who -N: {}", show(&out));

    let out = run_expect(&["who", &p, "--all-netns"], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("== netns {name} (inode {}) ==", w.inode())),
        "who {p} --all-netns does not name the namespace: {}",
        show(&out)
    );
}

/// The filter terms `netns NAME` and `netns != NAME`, without
/// `--all-netns` (the term reads every namespace by itself): exactly W's
/// rows, as ss inside W, or none of them; a namespace ruled out is not
/// even read (the `-v` line counts the sockets read).
#[test]
fn netns_filter_term_selects_before_reading() {
    if fallback_without_root("netns_filter_term_selects_before_reading") {
        return;
    }
    let (w, _pop, port) = port_held_in_a_namespace();
    let name = w.name().expect("named").to_string();
    let oracle = w.ss(&["-tua"]);
    let is_w = |n: &str| n == name;
    let args = ["-tuanp", "--json", "netns", &name];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(recs.len(), oracle.len(), "{args:?}: {}", show(&out));
    assert_ns_rows(&format!("{args:?}"), &recs, &w, &oracle, &is_w);
    // Only W was read: the sockets read are W's.
    let out = run_expect(&["-tuan", "-v", "netns", &name], 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("read {} sockets", oracle.len())),
        "netns {name} -v: {}",
        show(&out)
    );
    // The complement holds none of W's rows, and still W's port nowhere.
    let args = ["-tuan", "--json", "netns", "!=", &name];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(rows_in(&recs, w.inode()), vec![], "{args:?}");
    assert!(
        !recs.iter().any(|r| r["local"]["port"] == port),
        "{args:?}: W's port outside W: {}",
        show(&out)
    );
}

/// `listeners --all-netns`: W's document holds W's listener and no other
/// holds it; the table shows it under W's heading.
#[test]
fn listeners_all_netns_shows_a_namespace_listener() {
    if fallback_without_root("listeners_all_netns_shows_a_namespace_listener") {
        return;
    }
    let (w, pop, port) = port_held_in_a_namespace();
    let name = w.name().expect("named").to_string();
    let on_port = |d: &Value| -> Vec<Value> {
        d["listeners"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["local"]["port"] == port)
            .cloned()
            .collect()
    };
    let out = run_expect(&["listeners", "--all-netns", "--json"], 0);
    let docs = json_values(&out.stdout);
    let mine = docs_of(&docs, &w, "listeners --all-netns");
    assert_eq!(mine.len(), 1, "listeners --all-netns: {}", show(&out));
    let l = on_port(mine[0]);
    assert_eq!(l.len(), 1, "listeners --all-netns in W: {}", mine[0]);
    assert_eq!(l[0]["accept_queue"], 0, "{}", l[0]);
    let holder = pop.procs[0].pid();
    assert_eq!(owned_row_pids(&l[0]), BTreeSet::from([holder]), "{}", l[0]);
    let elsewhere: usize = docs
        .iter()
        .filter(|d| d["netns"]["inode"].as_u64() != Some(w.inode()))
        .map(|d| on_port(d).len())
        .sum();
    // Another namespace may hold the same port number; W's listener is
    // told apart by its owner.
    let stray: Vec<Value> = docs
        .iter()
        .filter(|d| d["netns"]["inode"].as_u64() != Some(w.inode()))
        .flat_map(on_port)
        .filter(|l| owned_row_pids(l).contains(&holder))
        .collect();
    assert!(
        stray.is_empty(),
        "W's listener outside W ({elsewhere} on the port): {stray:?}"
    );
    let out = run_expect(&["listeners", "--all-netns"], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    let heading = format!("== netns {name} (inode {}) ==", w.inode());
    let section = text
        .split("== netns ")
        .find(|part| format!("== netns {part}").starts_with(&heading))
        .unwrap_or_else(|| panic!("listeners --all-netns: no heading {heading:?}: {text}"));
    assert!(
        section.contains(&format!("0.0.0.0:{port}")),
        "listeners --all-netns: W's listener not under W's heading: {text}"
    );
}

/// `why-bind PORT --try -N W`: busy (the bind is tried inside W, exit 1);
/// on the host the same port is free (exit 0).
#[test]
fn why_bind_try_binds_inside_the_namespace() {
    if fallback_without_root("why_bind_try_binds_inside_the_namespace") {
        return;
    }
    let (w, _pop, port) = port_held_in_a_namespace();
    let name = w.name().expect("named").to_string();
    let p = port.to_string();
    let out = run_expect(&["why-bind", &p, "--try", "-N", &name, "--json"], 1);
    let v = &json_values(&out.stdout)[0];
    assert_eq!(v["free"], false, "why-bind in W: {}", show(&out));
    assert_eq!(v["reason"], "in_use", "why-bind in W: {}", show(&out));
    assert!(
        v["tries"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["plain_ok"] == false)),
        "why-bind in W: every real bind inside W fails: {}",
        show(&out)
    );
    let out = run_expect(&["why-bind", &p, "--try", "--json"], 0);
    let v = &json_values(&out.stdout)[0];
    assert_eq!(v["free"], true, "why-bind on the host: {}", show(&out));
}

/// `-s --all-netns` and `ports --all-netns` exit 0 and give one part per
/// namespace: W's JSON document is about W (its sockstat counts W's three
/// TCP sockets; its ports list W's one outgoing connection to PORT), and
/// the text names W in a heading.
#[test]
fn summary_and_ports_name_each_namespace() {
    if fallback_without_root("summary_and_ports_name_each_namespace") {
        return;
    }
    let (w, _pop, port) = port_held_in_a_namespace();
    let name = w.name().expect("named").to_string();
    let heading = format!("== netns {name} (inode {}) ==", w.inode());

    let out = run_expect(&["-s", "--all-netns", "--json"], 0);
    let docs = json_values(&out.stdout);
    let mine = docs_of(&docs, &w, "-s --all-netns");
    assert_eq!(mine.len(), 1, "-s --all-netns: {}", show(&out));
    // /proc/net/sockstat of W: LISTEN and both ends in use, nothing else.
    assert_eq!(mine[0]["sockstat"]["tcp"]["inuse"], 3, "{}", mine[0]);

    let out = run_expect(&["ports", "--all-netns", "--json"], 0);
    let docs = json_values(&out.stdout);
    let mine = docs_of(&docs, &w, "ports --all-netns");
    assert_eq!(mine.len(), 1, "ports --all-netns: {}", show(&out));
    assert_eq!(mine[0]["outgoing"], 1, "{}", mine[0]);
    assert_eq!(
        mine[0]["destinations"][0]["remote"]["port"], port,
        "{}",
        mine[0]
    );

    for args in [&["-s", "--all-netns"][..], &["ports", "--all-netns"][..]] {
        let out = run_expect(args, 0);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&heading),
            "sockscope {args:?} does not say which namespace: {}",
            show(&out)
        );
    }
}

// ----- 5. bad -N values -----------------------------------------------------

/// Entries under /run/netns a bad selector could have made (other
/// sessions make and remove their own namespaces meanwhile, so the whole
/// listing is not compared).
fn made_from_selectors() -> Vec<String> {
    const SUSPECTS: [&str; 7] = [
        "no-such-name",
        "passwd",
        "etc",
        "999999999",
        "abc",
        "pid:999999999",
        "pid:abc",
    ];
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| SUSPECTS.contains(&n.as_str()) || n.starts_with("pid:"))
                .collect()
        })
        .unwrap_or_default()
}

/// An unknown name, a file that is not a namespace (a plain file, another
/// kind of namespace, a missing path), a pid that does not exist and ones
/// that are not a pid: exit 2, a message naming the problem, and nothing
/// made under /run/netns. Also an unknown `--container` and `-N` with
/// `--all-netns`.
#[test]
fn bad_netns_selectors_exit_2() {
    if !is_root() {
        say(
            "netns::bad_netns_selectors_exit_2: not root: checking the exits as this user \
             (the same answers are expected)",
        );
    }
    for (sel, named) in [
        ("no-such-name", "no-such-name"),
        ("/etc/passwd", "/etc/passwd"),
        ("pid:999999999", "999999999"),
        ("pid:abc", "abc"),
        ("pid:", "pid:"),
        ("pid:0", "pid:0"),
        ("/proc/self/ns/mnt", "/proc/self/ns/mnt"),
        ("/nonexistent/sstest-ns", "/nonexistent/sstest-ns"),
    ] {
        let out = run_expect(&["-tuan", "-N", sel], 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(named),
            "-N {sel}: message does not name it: {err}"
        );
        assert!(out.stdout.is_empty(), "-N {sel}: {}", show(&out));
        let made = made_from_selectors();
        assert!(made.is_empty(), "-N {sel}: made under /run/netns: {made:?}");
    }
    let name = format!("{}no-such-container", common::netns::NAME_PREFIX);
    let out = run_expect(&["-tuan", "--container", &name], 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&name),
        "--container {name}: {}",
        show(&out)
    );
    // -N and --all-netns together: a usage error.
    run_expect(&["-tuan", "--all-netns", "-N", "x"], 2);
}

// ----- 6. as nobody -----------------------------------------------------------

/// As nobody (setpriv): namespace V holds a listener owned by a process
/// running as nobody, unnamed namespace U (kept by a root process) a UDP
/// socket held as nobody, namespace H only a root process's listener.
/// sockscope `--all-netns` lists V's and U's sockets (read through the
/// visible processes, U named `pid:` of nobody's process), names H on
/// stderr as unreadable, and exits 0. `-N V` reads V; `-N H` exits 3
/// naming H.
#[test]
fn all_netns_as_nobody_lists_what_it_can() {
    if !is_root() {
        say(
            "netns::all_netns_as_nobody_lists_what_it_can: not root: no namespace can be \
             made and setpriv cannot switch user; running --all-netns as this user instead",
        );
        let out = run_expect(&["-tuanp", "--all-netns", "--json"], 0);
        for r in records(&out) {
            assert!(netns_inode(&r).is_some(), "{r}");
        }
        return;
    }
    let v = TestNetns::named();
    let h = TestNetns::named();
    let (nobody_proc, v_addr) = v.enter(|| {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen in V");
        let addr = l.local_addr().expect("local_addr");
        let p = NsProc::hold(&[l.as_raw_fd()], true);
        (p, addr)
    });
    // U: unnamed, kept by root's anchor, with a UDP socket held as nobody.
    let u = TestNetns::unnamed();
    let (u_proc, u_addr) = u.enter(|| {
        let s = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("udp in U");
        let addr = s.local_addr().expect("local_addr");
        let p = NsProc::hold(&[s.as_raw_fd()], true);
        (p, addr)
    });
    let u_want = vec![OwnedRow {
        row: Row::new("udp", "UNCONN", &u_addr.to_string(), "0.0.0.0:0"),
        pids: BTreeSet::from([u_proc.pid()]),
    }];
    let u_oracle = u.ss(&["-tua"]);
    assert_eq!(u_oracle, u_want, "ss inside U");
    let ph = populate(&h, |sc| {
        sc.listen_v4();
    });
    assert_eq!(ph.expected.len(), 1);
    let want = vec![OwnedRow {
        row: Row::new("tcp", "LISTEN", &v_addr.to_string(), "0.0.0.0:0"),
        pids: BTreeSet::from([nobody_proc.pid()]),
    }];
    let oracle = v.ss(&["-tua"]);
    assert_eq!(oracle, want, "ss inside V");

    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(args)
            .env_remove("SOCKSCOPE_PROC_ROOT")
            .env_remove("SOCKSCOPE_NETLINK_REPLAY")
            .env_remove("SOCKSCOPE_NETLINK_RECORD")
            .stdin(Stdio::null())
            .output()
            .expect("run sockscope as nobody")
    };
    let out = as_nobody(&["-tuanp", "--all-netns", "--json"]);
    assert_eq!(out.status.code(), Some(0), "as nobody: {}", show(&out));
    let recs = records(&out);
    let v_name = v.name().expect("named").to_string();
    let is_v = |n: &str| n == v_name;
    assert_ns_rows("as nobody", &recs, &v, &oracle, &is_v);
    assert_eq!(rows_in(&recs, h.inode()), vec![], "as nobody: rows of H");
    // U is found through nobody's own process in it, and named after it
    // (the anchor's namespace link is root's, unreadable to nobody).
    let u_pid = u_proc.pid();
    assert_ns_rows("as nobody", &recs, &u, &u_oracle, &|n: &str| {
        n == format!("pid:{u_pid}")
    });
    let err = String::from_utf8_lossy(&out.stderr);
    let h_name = h.name().expect("named");
    assert!(
        err.contains(h_name),
        "as nobody: stderr does not say that {h_name} could not be read: {}",
        show(&out)
    );

    // -N: V is read through nobody's process (exit 0, its row); H cannot be
    // read at all: exit 3 naming it.
    let out = as_nobody(&["-tuanp", "-N", &v_name, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "as nobody, -N V: {}",
        show(&out)
    );
    let recs = records(&out);
    assert_ns_rows("as nobody, -N V", &recs, &v, &oracle, &is_v);
    assert_eq!(recs.len(), 1, "as nobody, -N V: {}", show(&out));
    let out = as_nobody(&["-tuanp", "-N", h_name, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "as nobody, -N H: {}",
        show(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(h_name),
        "as nobody, -N H: {}",
        show(&out)
    );
    drop(nobody_proc);
    drop(u_proc);
    drop(ph);
}

// ----- 7. a container from a real cgroup --------------------------------------

/// A 64-hex container id of this run's own.
fn fake_container_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        0x5e55_c0de_u64,
        u64::from(std::process::id()),
        nanos,
        0x7e57_u64
    )
}

/// The holders of a namespace's sockets are moved into the cgroup Docker's
/// cgroupfs driver makes on a cgroup v1 host (`name=systemd:/docker/<id>`,
/// the kind of host this is): every row of that namespace carries
/// `"container": {"runtime": "docker", "id": <12 chars>, "full_id": <64>}`
/// (no name: no Docker metadata here), keeps its `ip netns` name, and
/// `--container ID` (short or full) selects exactly those rows. With a fake
/// Docker data root (`--host-root`), the container and the namespace take
/// the name from its `config.v2.json`, `--container NAME` selects it, and
/// `who PORT --all-netns` says the port is held in that container.
#[test]
fn container_attributed_from_a_real_cgroup() {
    if fallback_without_root("container_attributed_from_a_real_cgroup") {
        return;
    }
    let id = fake_container_id();
    let cg = match TestCgroup::new(&format!("docker/{id}")) {
        Ok(cg) => cg,
        Err(why) => {
            common::skip(&format!(
                "netns::container_attributed_from_a_real_cgroup: {why}: no cgroup can be \
                 made, container attribution not checked here"
            ));
            return;
        }
    };
    let d = TestNetns::named();
    let pop = populate(&d, |sc| {
        let l = sc.listen_v4();
        sc.established_pair(l);
        sc.udp_bound_v4();
    });
    assert_eq!(pop.expected.len(), 4, "LISTEN, 2 ESTAB, UDP");
    for p in &pop.procs {
        cg.add(p.pid());
        let line = std::fs::read_to_string(format!("/proc/{}/cgroup", p.pid())).expect("cgroup");
        assert!(
            line.contains(&format!(":name=systemd:/docker/{id}\n")),
            "{line}"
        );
    }
    let oracle = d.ss(&["-tua"]);
    let diff = diff_owned(&pop.expected, &oracle);
    assert!(diff.is_empty(), "ss inside {}: {diff}", d.selector());

    let name = d.name().expect("named").to_string();
    let d_inode = d.inode();
    let is_d = |n: &str| n == name;
    let check = |what: &str, recs: &[Value]| {
        let ours = rows_in(recs, d.inode());
        let diff = diff_owned(&oracle, &ours);
        assert!(
            diff.is_empty(),
            "{what}: sockscope vs ss inside {name}:\n{diff}"
        );
        for r in tagged(recs, d.inode()) {
            assert!(
                is_d(r["netns"]["name"].as_str().unwrap_or("")),
                "{what}: {r}"
            );
            let c = &r["container"];
            assert_eq!(c["runtime"], "docker", "{what}: {r}");
            assert_eq!(c["id"], &id[..12], "{what}: {r}");
            assert_eq!(c["full_id"], id.as_str(), "{what}: {r}");
            assert!(c["name"].is_null(), "{what}: no metadata, no name: {r}");
            assert!(
                c["pod"].is_null() && c["pod_namespace"].is_null(),
                "{what}: {r}"
            );
        }
    };
    let out = run_expect(&["-tuanp", "--all-netns", "--json"], 0);
    check("--all-netns", &records(&out));
    for sel in [&id[..12], id.as_str()] {
        let args = ["-tuanp", "--container", sel, "--json"];
        let out = run_expect(&args, 0);
        let recs = records(&out);
        check(&format!("{args:?}"), &recs);
        assert_eq!(recs.len(), oracle.len(), "{args:?}: {}", show(&out));
    }

    // Docker's metadata (a fake data root under --host-root, where
    // /run/netns is empty): the container gets its name, the namespace
    // (no ip netns name there) is called after the container, and
    // --container NAME selects it.
    let root = std::env::temp_dir().join(format!("{name}-root"));
    let _cleanup = RmTreeOnDrop(root.clone());
    let meta = root.join(format!("var/lib/docker/containers/{id}"));
    std::fs::create_dir_all(&meta).expect("mkdir the fake docker root");
    let cname = format!("{name}-web");
    std::fs::write(
        meta.join("config.v2.json"),
        format!(r#"{{"ID":"{id}","Name":"/{cname}","Config":{{"Hostname":"x"}}}}"#),
    )
    .expect("write config.v2.json");
    let root_s = root.display().to_string();
    for args in [
        &["-tuanp", "--all-netns", "--host-root", &root_s, "--json"][..],
        &[
            "-tuanp",
            "--container",
            &cname,
            "--host-root",
            &root_s,
            "--json",
        ][..],
    ] {
        let out = run_expect(args, 0);
        let recs = records(&out);
        let ours = rows_in(&recs, d.inode());
        let diff = diff_owned(&oracle, &ours);
        assert!(
            diff.is_empty(),
            "{args:?}: sockscope vs ss inside {name}:\n{diff}"
        );
        for r in tagged(&recs, d.inode()) {
            assert_eq!(r["container"]["name"], cname.as_str(), "{args:?}: {r}");
            assert_eq!(r["container"]["id"], &id[..12], "{args:?}: {r}");
            assert_eq!(r["netns"]["name"], cname.as_str(), "{args:?}: {r}");
        }
        if args.contains(&"--container") {
            assert_eq!(recs.len(), oracle.len(), "{args:?}: {}", show(&out));
        }
    }
    // who: the answer about D is said to be in that container (JSON and
    // text); the table's Container column names it.
    let lport = oracle
        .iter()
        .find(|r| r.row.state == "LISTEN")
        .and_then(|r| common::endpoint_port(&r.row.local))
        .expect("D's listener")
        .to_string();
    let args = [
        "who",
        &lport,
        "--all-netns",
        "--host-root",
        &root_s,
        "--json",
    ];
    let out = run_expect(&args, 0);
    let docs = json_values(&out.stdout);
    let mine: Vec<&Value> = docs
        .iter()
        .filter(|d| d["netns"]["inode"].as_u64() == Some(d_inode))
        .collect();
    assert_eq!(mine.len(), 1, "{args:?}: {}", show(&out));
    assert_eq!(mine[0]["held"], true, "{args:?}: {}", mine[0]);
    assert_eq!(
        mine[0]["container"]["name"],
        cname.as_str(),
        "{args:?}: {}",
        mine[0]
    );
    let args = ["who", &lport, "--all-netns", "--host-root", &root_s];
    let out = run_expect(&args, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&cname) && text.contains(&id[..12]),
        "{args:?}: the container (name and id) is not said: {}",
        show(&out)
    );
    let args = ["-tuan", "--all-netns", "--host-root", &root_s];
    let out = run_expect(&args, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.contains(&format!(":{lport} ")) && l.contains("LISTEN"))
        .unwrap_or_else(|| panic!("{args:?}: no row for D's listener: {text}"));
    assert!(row.contains(&cname), "{args:?}: Container column: {row}");
    drop(pop);
    drop(cg);
}

/// Removes a directory tree on drop.
struct RmTreeOnDrop(std::path::PathBuf);

impl Drop for RmTreeOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ----- 8. namespaces vanishing mid-run ----------------------------------------

/// While one thread keeps making and deleting namespaces (named ones, and
/// unnamed ones whose only process is killed), every `--all-netns` run
/// exits 0 with parsable JSON: a namespace gone between discovery and
/// reading is skipped with a note, never an error.
#[test]
fn vanishing_namespaces_are_skipped() {
    if fallback_without_root("vanishing_namespaces_are_skipped") {
        return;
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut made = 0u32;
            // Bounded: at most 400 namespaces, stopped by the runs' end.
            while !stop.load(Ordering::Relaxed) && made < 400 {
                let named = TestNetns::named();
                let unnamed = TestNetns::unnamed();
                drop(named);
                drop(unnamed);
                made += 2;
            }
            made
        })
    };
    let mut noted = 0;
    let mut half_made = 0;
    let mut problems = Vec::new();
    for _ in 0..20 {
        let out = run(&["-tuanp", "--all-netns", "--json"]);
        if out.status.code() != Some(0) {
            problems.push(show(&out));
            continue;
        }
        let _ = records(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("vanished") {
            noted += 1;
        }
        // Anything else said about one of ours: only a /run/netns entry
        // caught half made or half removed (`ip netns add` creates the
        // file before the bind mount, `delete` unmounts before unlinking).
        for line in err.lines() {
            if !line.contains(common::netns::NAME_PREFIX) || line.contains("vanished") {
                continue;
            }
            if line.contains("is not a network namespace") {
                half_made += 1;
            } else {
                problems.push(format!("unexpected note: {line}"));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let made = churn.join().expect("churn thread");
    say(&format!(
        "netns::vanishing_namespaces_are_skipped: {made} namespaces made and removed; \
         {noted} of 20 runs noted a vanished namespace on stderr; {half_made} notes of a \
         /run/netns entry caught half made or removed (\"not a network namespace\")"
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(made >= 2, "the churn thread made no namespace");
}

// ----- 9. UNIX sockets: abstract names are per namespace ----------------------

/// The pids on the lines of `ss -H -n -x -a -p` inside `ns` that show
/// `name`, one set per line.
fn ss_unix_owners(ns: &TestNetns, name: &str) -> Vec<BTreeSet<u32>> {
    let out = ns
        .exec("ss")
        .args(["-H", "-n", "-x", "-a", "-p"])
        .stdin(Stdio::null())
        .output()
        .expect("run ss -xap");
    assert!(out.status.success(), "ss -xap: {}", show(&out));
    let pid_re = regex::Regex::new(r",pid=(\d+),fd=\d+\)").expect("regex");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == name))
        .map(|l| {
            pid_re
                .captures_iter(l)
                .filter_map(|c| c[1].parse().ok())
                .collect()
        })
        .collect()
}

/// The same abstract UNIX name bound in two namespaces (each has its own
/// abstract namespace) by two holders: `-xap --all-netns` lists it twice,
/// once per namespace with that namespace's holder as owner, as `ss -xap`
/// inside each says; `-N A` lists it once.
#[test]
fn abstract_unix_names_are_per_namespace() {
    if fallback_without_root("abstract_unix_names_are_per_namespace") {
        return;
    }
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener};
    let a = TestNetns::named();
    let b = TestNetns::named();
    let abstract_name = format!("{}-uds", a.name().expect("named"));
    let shown = format!("@{abstract_name}");
    let mut holders = Vec::new();
    for ns in [&a, &b] {
        let n = abstract_name.clone();
        holders.push(ns.enter(move || {
            let addr = UnixAddr::from_abstract_name(n.as_bytes()).expect("abstract address");
            let l = UnixListener::bind_addr(&addr).expect("bind the abstract name");
            NsProc::hold(&[l.as_raw_fd()], false)
        }));
    }
    for (ns, h) in [(&a, &holders[0]), (&b, &holders[1])] {
        assert_eq!(
            ss_unix_owners(ns, &shown),
            vec![BTreeSet::from([h.pid()])],
            "ss -xap inside {}",
            ns.selector()
        );
    }
    let out = run_expect(&["-xap", "--all-netns", "--json"], 0);
    let recs = records(&out);
    let named: Vec<&Value> = recs
        .iter()
        .filter(|r| r["local"]["path"] == shown.as_str())
        .collect();
    assert_eq!(named.len(), 2, "-xap --all-netns: {named:?}");
    for (ns, h) in [(&a, &holders[0]), (&b, &holders[1])] {
        let mine: Vec<&&Value> = named
            .iter()
            .filter(|r| netns_inode(r) == Some(ns.inode()))
            .collect();
        assert_eq!(mine.len(), 1, "{}: {named:?}", ns.selector());
        assert_eq!(mine[0]["netns"]["name"], ns.name().expect("named"));
        assert_eq!(
            owned_row_pids(mine[0]),
            BTreeSet::from([h.pid()]),
            "{}",
            mine[0]
        );
        assert_eq!(mine[0]["state"], "LISTEN", "{}", mine[0]);
    }
    let out = run_expect(&["-xap", "-N", a.name().expect("named"), "--json"], 0);
    let recs = records(&out);
    let named: Vec<&Value> = recs
        .iter()
        .filter(|r| r["local"]["path"] == shown.as_str())
        .collect();
    assert_eq!(named.len(), 1, "-xap -N A: {named:?}");
    assert_eq!(netns_inode(named[0]), Some(a.inode()));
    drop(holders);
}

/// The owner pids of one record.
fn owned_row_pids(r: &Value) -> BTreeSet<u32> {
    r["owners"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["pid"].as_u64())
                .map(|p| p as u32)
                .collect()
        })
        .unwrap_or_default()
}

// ----- 10. namespaces bind-mounted elsewhere ------------------------------------

/// Two namespaces kept only by a bind mount and with two TIME_WAIT sockets
/// each: one at /run/docker/netns/<12 hex> (where Docker keeps its
/// sandboxes; --all-netns looks there), one at a path of our own under
/// /tmp (nothing looks there). `--all-netns` lists the first's rows, named,
/// and not the second's; `-N PATH` lists exactly each one's rows.
#[test]
fn bind_mounted_namespaces_by_path() {
    if fallback_without_root("bind_mounted_namespaces_by_path") {
        return;
    }
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let docker_id = format!("{:08x}{:04x}", std::process::id(), n);
    let d = TestNetns::mounted(Path::new(&format!("/run/docker/netns/{docker_id}")));
    let t = TestNetns::mounted(&std::env::temp_dir().join(format!(
        "{}{}-{n}.net",
        common::netns::NAME_PREFIX,
        std::process::id()
    )));
    let mut oracle = Vec::new();
    for ns in [&d, &t] {
        let pop = populate(ns, |sc| {
            let l = sc.listen_v4();
            sc.time_wait(l);
            sc.time_wait(l);
        });
        assert_eq!(pop.expected.len(), 3, "LISTEN and 2 TIME_WAIT");
        drop(pop); // the listener's holder: no process left inside
        let seen = ns.ss(&["-tua"]);
        assert_eq!(seen.len(), 2, "ss inside {}: {seen:?}", ns.selector());
        assert!(seen.iter().all(|r| r.row.state == "TIME_WAIT"), "{seen:?}");
        oracle.push(seen);
    }
    let any_name = |n: &str| !n.is_empty() && n != "<null>";
    let out = run_expect(&["-tuanp", "--all-netns", "--json"], 0);
    let recs = records(&out);
    assert_ns_rows("--all-netns", &recs, &d, &oracle[0], &any_name);
    assert_eq!(
        rows_in(&recs, t.inode()),
        vec![],
        "--all-netns found a namespace only bind-mounted under /tmp"
    );
    for (ns, want) in [(&d, &oracle[0]), (&t, &oracle[1])] {
        let sel = ns.selector();
        let args = ["-tuanp", "-N", &sel, "--json"];
        let out = run_expect(&args, 0);
        let recs = records(&out);
        assert_ns_rows(&format!("{args:?}"), &recs, ns, want, &|_| true);
        assert_eq!(recs.len(), want.len(), "{args:?}: {}", show(&out));
    }
}

// ----- 11. one /proc walk for every namespace -----------------------------------

/// `-tuanp --all-netns` over three namespaces of ours (and every other on
/// the machine) opens each process's /proc/PID/fd once, not once per
/// namespace (the issue: one /proc walk serves every namespace), counted
/// with strace for each of our holders; and still finds their owners.
#[test]
fn one_proc_walk_for_every_namespace() {
    if fallback_without_root("one_proc_walk_for_every_namespace") {
        return;
    }
    if Command::new("strace").arg("-V").output().is_err() {
        common::skip(
            "netns::one_proc_walk_for_every_namespace: strace is not installed: not checked",
        );
        return;
    }
    let spaces = [TestNetns::named(), TestNetns::named(), TestNetns::unnamed()];
    let pops: Vec<_> = spaces
        .iter()
        .map(|ns| {
            populate(ns, |sc| {
                let l = sc.listen_v4();
                sc.established_pair(l);
            })
        })
        .collect();
    let trace = std::env::temp_dir().join(format!(
        "{}{}-strace.txt",
        common::netns::NAME_PREFIX,
        std::process::id()
    ));
    let _rm = RmOnDrop(trace.display().to_string());
    // Under strace: the /proc walk (opens of /proc/PID/fd), then the BPF
    // iterator (bpf(2) loads), each once for the whole run.
    let traced = |source: &str| {
        let out = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=open,openat,bpf", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(["-tuanp", "--all-netns", "--json", "--owners-source", source])
            .env_remove("SOCKSCOPE_PROC_ROOT")
            .env_remove("SOCKSCOPE_NETLINK_REPLAY")
            .env_remove("SOCKSCOPE_NETLINK_RECORD")
            .stdin(Stdio::null())
            .output()
            .expect("run strace");
        assert_eq!(
            out.status.code(),
            Some(0),
            "strace sockscope --owners-source {source}: {}",
            show(&out)
        );
        let recs = records(&out);
        for (ns, pop) in spaces.iter().zip(&pops) {
            assert_eq!(
                rows_in(&recs, ns.inode()),
                pop.expected,
                "{} ({source})",
                ns.selector()
            );
            for r in recs
                .iter()
                .filter(|r| r["netns"]["inode"].as_u64() == Some(ns.inode()))
            {
                if r["state"] == "LISTEN" {
                    assert!(!owned_row_pids(r).is_empty(), "{source}: no owner: {r}");
                }
            }
        }
        std::fs::read_to_string(&trace).expect("read the trace")
    };
    let calls = traced("proc");
    for pop in &pops {
        for pid in pop.pids() {
            let needle = format!("\"/proc/{pid}/fd\"");
            let opens = calls.lines().filter(|l| l.contains(&needle)).count();
            assert_eq!(
                opens, 1,
                "/proc/{pid}/fd opened {opens} times in one run over every namespace"
            );
        }
    }
    let calls = traced("bpf");
    let loads = calls
        .lines()
        .filter(|l| l.contains("bpf(BPF_PROG_LOAD"))
        .count();
    assert_eq!(
        loads, 1,
        "BPF programs loaded in one run over every namespace"
    );
    for pop in &pops {
        for pid in pop.pids() {
            let needle = format!("\"/proc/{pid}/fd\"");
            assert!(
                !calls.lines().any(|l| l.contains(&needle)),
                "the iterator's run walked /proc/{pid}/fd"
            );
        }
    }
}

// ----- 12. interface names are the namespace's ----------------------------------

/// A veth pair made inside namespace W (indexes 2 and 3 there; on the host
/// those indexes are other interfaces or none) and a UDP socket bound to
/// `sstv0` with SO_BINDTODEVICE: sockscope shows `%sstv0` and ifindex 3 for
/// it, with `-N W` and with `--all-netns`, as `ss` inside W does; and the
/// filter `dev = sstv0` with `-N W` selects it as `ss ... dev = sstv0`
/// inside W does (the issue: the dev filter term is read in the namespace
/// it belongs to).
#[test]
fn interface_names_are_the_namespace_s() {
    if fallback_without_root("interface_names_are_the_namespace_s") {
        return;
    }
    let w = TestNetns::named();
    let name = w.name().expect("named").to_string();
    let out = Command::new("ip")
        .args([
            "-n", &name, "link", "add", "sstv0", "type", "veth", "peer", "name", "sstv1",
        ])
        .output()
        .expect("run ip link add");
    if !out.status.success() {
        common::skip(&format!(
            "netns::interface_names_are_the_namespace_s: no veth here ({}): not checked",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return;
    }
    let pop = populate(&w, |sc| {
        sc.udp_bound_with(
            SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
            None,
            Some("sstv0"),
        );
        sc.udp_bound_v4();
    });
    assert_eq!(pop.expected.len(), 2);
    let inner_index = w.enter(|| {
        std::fs::read_to_string("/sys/class/net/lo/ifindex")
            .map(|_| ())
            .ok();
        nix::net::if_::if_nametoindex("sstv0").expect("sstv0 inside W")
    });
    let shown = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("%sstv0:"))
            .map(str::to_string)
            .collect()
    };
    // ss inside W: the bound socket shows %sstv0.
    let ss = w
        .exec("ss")
        .args(["-H", "-n", "-u", "-a"])
        .output()
        .expect("ss");
    let ss_text = String::from_utf8_lossy(&ss.stdout).to_string();
    assert_eq!(shown(&ss_text).len(), 1, "ss -uan inside W: {ss_text}");

    for args in [&["-uan", "-N", &name][..], &["-uan", "--all-netns"][..]] {
        let out = run_expect(args, 0);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let lines = shown(&text);
        assert_eq!(lines.len(), 1, "{args:?}: {}", show(&out));
    }
    let out = run_expect(&["-uan", "-N", &name, "--json"], 0);
    let recs = records(&out);
    let bound: Vec<&Value> = recs.iter().filter(|r| r["ifindex"] != 0).collect();
    assert_eq!(bound.len(), 1, "{}", show(&out));
    assert_eq!(bound[0]["ifindex"], u64::from(inner_index), "{}", bound[0]);

    // The dev filter, resolved inside W.
    let oracle = w.ss(&["-ua", "dev", "=", "sstv0"]);
    assert_eq!(oracle.len(), 1, "ss inside W with dev = sstv0");
    let args = ["-uanp", "-N", &name, "--json", "dev", "=", "sstv0"];
    let out = run_expect(&args, 0);
    let recs = records(&out);
    assert_eq!(
        rows_in(&recs, w.inode()),
        oracle,
        "{args:?}: {}",
        show(&out)
    );
    assert_eq!(recs.len(), 1, "{args:?}: {}", show(&out));
}

// ----- 13. a hostile container name ---------------------------------------------

/// A real-cgroup Docker container (as in the test above) whose
/// config.v2.json names it with an escape sequence, a bell and a newline:
/// JSON carries the exact name; the table, `who` and the namespace heading
/// print no raw control byte and no extra line.
#[test]
fn hostile_container_name_is_escaped() {
    if fallback_without_root("hostile_container_name_is_escaped") {
        return;
    }
    let id = fake_container_id();
    let cg = match TestCgroup::new(&format!("docker/{id}")) {
        Ok(cg) => cg,
        Err(why) => {
            common::skip(&format!(
                "netns::hostile_container_name_is_escaped: {why}: not checked here"
            ));
            return;
        }
    };
    let d = TestNetns::named();
    let pop = populate(&d, |sc| {
        sc.listen_v4();
    });
    for p in &pop.procs {
        cg.add(p.pid());
    }
    let lport = common::endpoint_port(&pop.expected[0].row.local)
        .expect("port")
        .to_string();
    let hostile = format!("{}-\u{1b}[31mred\u{7}\nsecond", d.name().expect("named"));
    let root = std::env::temp_dir().join(format!("{}-root", d.name().expect("named")));
    let _cleanup = RmTreeOnDrop(root.clone());
    let meta = root.join(format!("var/lib/docker/containers/{id}"));
    std::fs::create_dir_all(&meta).expect("mkdir the fake docker root");
    let config = serde_json::json!({ "ID": id, "Name": format!("/{hostile}") });
    std::fs::write(meta.join("config.v2.json"), config.to_string()).expect("write config");
    let root_s = root.display().to_string();

    let out = run_expect(
        &["-tuan", "--all-netns", "--host-root", &root_s, "--json"],
        0,
    );
    let recs = records(&out);
    let mine = tagged(&recs, d.inode());
    assert_eq!(mine.len(), 1, "{}", show(&out));
    assert_eq!(
        mine[0]["container"]["name"],
        hostile.as_str(),
        "{}",
        mine[0]
    );

    for args in [
        &["-tuan", "--all-netns", "--host-root", &root_s][..],
        &["who", &lport, "--all-netns", "--host-root", &root_s][..],
        &["listeners", "--all-netns", "--host-root", &root_s][..],
    ] {
        let out = run_expect(args, 0);
        let bad: Vec<u8> = out
            .stdout
            .iter()
            .copied()
            .filter(|b| *b == 0x1b || *b == 0x07)
            .collect();
        assert!(
            bad.is_empty(),
            "{args:?}: raw control bytes {bad:?}: {}",
            show(&out)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.lines().any(|l| l.starts_with("second")),
            "{args:?}: the name's newline split a line: {text}"
        );
        assert!(
            text.contains("red"),
            "{args:?}: the name is not shown: {text}"
        );
    }
    drop(pop);
    drop(cg);
}

/// Regression: where PID 1's namespace link cannot be read even by root
/// (this kind of sandbox's supervisor refuses it), sockscope took its own
/// private namespace for the host's and named it `host`; kthreadd (PID 2)
/// tells the initial namespace instead.
#[test]
fn a_private_namespace_is_never_called_host() {
    if !is_root() {
        common::skip("netns: not root: no private namespace to be in");
        return;
    }
    common::Sandbox::run(|env| {
        if !env.private_ns {
            common::skip("netns: the sandbox has no private namespace");
            return;
        }
        let _l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let out = common::run::sockscope(env, &["-tln", "--jsonl"]);
        let line = String::from_utf8_lossy(&out.stdout);
        let row: serde_json::Value =
            serde_json::from_str(line.lines().next().expect("one row")).expect("JSON");
        assert_ne!(row["netns"]["name"], "host", "{row}");
    });
}
