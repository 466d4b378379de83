//! Socket kinds and families (issue 15): -w/--raw, -M/--mptcp, -A/--query,
//! -f/--family, -B/--bound-inactive, and the families this kernel lacks,
//! each against the installed ss run in the same private namespace (or,
//! for -B, which ss 6.1 lacks, against the kernel's own answer: a bind()
//! that fails with EADDRINUSE).
//!
//! The sockets are made by a python3 holder started inside the namespace
//! (raw and MPTCP sockets need socket(2) arguments std does not have); it
//! is killed by pid when the test ends, and the namespace deleted. Without
//! root nothing here can run: each test says so on stderr.

pub mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};

use common::netns::{TestNetns, is_root, say};
use common::{canonical_endpoint, parse_ss_endpoint};
use serde_json::Value;

/// The sockets of the tests: raw (ICMP, ICMPv6, one connected UDP-protocol
/// socket), MPTCP (a listener, a connection, an IPv6 listener), plain TCP
/// and UDP, a UNIX stream listener, two TCP sockets bound and never
/// listened on (7003, [::]:7004), and packet sockets (every protocol, with
/// a one-instruction BPF filter; ETH_P_IP datagrams; ETH_P_ARP on lo).
const HOLDER: &str = r#"
import socket, sys, time
keep = []
def add(s):
    keep.append(s)
    return s
add(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
add(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
add(socket.socket(socket.AF_INET, socket.SOCK_RAW, 17)).connect(("127.0.0.1", 0))
m = add(socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262))
m.bind(("127.0.0.1", 7001)); m.listen(5)
add(socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)).connect(("127.0.0.1", 7001))
add(m.accept()[0])
m6 = add(socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 262))
m6.bind(("::", 7002)); m6.listen(5)
t = add(socket.socket()); t.bind(("127.0.0.1", 7010)); t.listen(5)
add(socket.socket()).connect(("127.0.0.1", 7010))
add(t.accept()[0])
add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)).bind(("127.0.0.1", 7020))
add(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)).bind(("::1", 7021))
u = add(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)); u.bind("\0sockscope-families"); u.listen(1)
add(socket.socket()).bind(("127.0.0.1", 7003))
add(socket.socket(socket.AF_INET6, socket.SOCK_STREAM)).bind(("::", 7004))
p1 = add(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)))
add(socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800)))
add(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))).bind(("lo", 0x0806))
# SO_ATTACH_FILTER (26): one instruction, `ret #-1` (accept everything)
import ctypes, struct
insn = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0xffffffff))
p1.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HxxxxxxQ", 1, ctypes.addressof(insn)))
print("ready", flush=True)
time.sleep(120)
"#;

/// A namespace with the holder's sockets in it; the holder is killed (by
/// pid) before the namespace is deleted.
struct Populated {
    holder: Child,
    ns: TestNetns,
}

impl Drop for Populated {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn populated() -> Option<Populated> {
    if !is_root() {
        return None;
    }
    let ns = TestNetns::named();
    let mut holder = ns
        .exec("python3")
        .args(["-c", HOLDER])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the python3 holder");
    let mut line = String::new();
    let stdout = holder.stdout.take().expect("holder stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the holder");
    assert_eq!(line.trim(), "ready", "the holder did not start");
    Some(Populated { holder, ns })
}

fn skip(test: &str) {
    say(&format!(
        "{test}: skipped, not root: making a network namespace needs root"
    ));
}

/// Runs `program ARGS` inside the namespace, bounded by `timeout(1)`.
fn run_in(ns: &TestNetns, program: &str, args: &[&str]) -> Output {
    ns.exec("timeout")
        .arg("20")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run in the namespace")
}

fn sockscope(ns: &TestNetns, args: &[&str]) -> Output {
    run_in(ns, env!("CARGO_BIN_EXE_sockscope"), args)
}

/// One row, compared across ss and sockscope: Netid, state (the kernel's
/// spelling; UNCONN for unconnected UDP and raw sockets), local, peer.
/// UNIX rows keep Netid and state only (ss shows their paths and inodes
/// where the endpoints go).
type Row = (String, String, String, String);

fn kernel_state(netid: &str, ss: &str) -> String {
    match ss {
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN_SENT",
        "SYN-RECV" => "SYN_RECV",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "TIME-WAIT" => "TIME_WAIT",
        "UNCONN" if matches!(netid, "udp" | "raw") => "UNCONN",
        "UNCONN" => "CLOSE",
        "CLOSE-WAIT" => "CLOSE_WAIT",
        "LAST-ACK" => "LAST_ACK",
        other => other,
    }
    .to_string()
}

/// ss prints an IPv6 wildcard that also takes IPv4 as `*`; sockscope's
/// /proc rows (raw6) cannot tell and print `[::]`: both are `[::]` here.
fn endpoint(text: &str) -> String {
    let text = text.replacen("*:", "[::]:", 1);
    parse_ss_endpoint(&text).unwrap_or_else(|e| panic!("{e}"))
}

const STATES: &[&str] = &[
    "ESTAB",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "UNCONN",
    "CLOSE-WAIT",
    "LAST-ACK",
    "LISTEN",
    "CLOSING",
];

/// `ss -Hn ARGS`'s rows. Without a Netid column the kind is `netid`;
/// without a State column the state is `state`.
fn ss_rows(ns: &TestNetns, args: &[&str], netid: &str, state: &str) -> (Vec<Row>, Output) {
    let mut full = vec!["-H", "-n"];
    full.extend_from_slice(args);
    let out = run_in(ns, "ss", &full);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with(char::is_whitespace)) {
        let mut f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let kind = if STATES.contains(&f[0]) || f[0].parse::<u64>().is_ok() {
            netid.to_string()
        } else {
            f.remove(0).to_string()
        };
        let st = if STATES.contains(&f[0]) {
            kernel_state(&kind, f.remove(0))
        } else {
            state.to_string()
        };
        if matches!(kind.as_str(), "nl" | "p_raw" | "p_dgr") {
            // Compared as text by `same_link_rows`.
            continue;
        }
        if kind.starts_with("u_") {
            rows.push((kind, st, String::new(), String::new()));
        } else {
            rows.push((kind, st, endpoint(f[2]), endpoint(f[3])));
        }
    }
    rows.sort();
    (rows, out)
}

/// sockscope's rows for ARGS, from its JSON.
fn our_rows(ns: &TestNetns, args: &[&str]) -> (Vec<Row>, Output) {
    let mut full = args.to_vec();
    full.push("--json");
    let out = sockscope(ns, &full);
    assert!(
        out.status.success(),
        "sockscope {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ep = |e: &Value| {
        let host = e["addr"].as_str().expect("addr");
        let host = if host == "::" { "::" } else { host };
        canonical_endpoint(host, e["port"].as_u64().expect("port") as u16)
    };
    let mut rows: Vec<Row> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| {
            let proto = r["proto"].as_str().expect("proto").to_string();
            let state = r["state"].as_str().expect("state").to_string();
            if matches!(proto.as_str(), "nl" | "p_raw" | "p_dgr") {
                // Compared as text by `same_link_rows`.
                None
            } else if proto.starts_with("u_") {
                Some((proto, state, String::new(), String::new()))
            } else {
                Some((proto, state, ep(&r["local"]), ep(&r["remote"])))
            }
        })
        .collect();
    rows.sort();
    (rows, out)
}

fn show(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("  {} {} {} {}\n", r.0, r.1, r.2, r.3))
        .collect()
}

/// sockscope's rows equal ss's for `args`; the kinds ss lists that
/// sockscope does not read (netlink, packet) are left out of ss's side.
fn same_rows(ns: &TestNetns, args: &[&str], netid: &str, state: &str) -> usize {
    let (theirs, _) = ss_rows(ns, args, netid, state);
    let (ours, _) = our_rows(ns, args);
    assert_eq!(
        ours,
        theirs,
        "sockscope {args:?} differs from ss:\nsockscope:\n{}ss:\n{}",
        show(&ours),
        show(&theirs)
    );
    ours.len()
}

#[test]
fn raw_rows_equal_ss() {
    let Some(p) = populated() else {
        return skip("raw_rows_equal_ss");
    };
    let ns = &p.ns;
    // ss -w alone lists ESTAB raw sockets only (its default for raw).
    assert_eq!(same_rows(ns, &["-w"], "raw", "ESTABLISHED"), 1);
    assert_eq!(same_rows(ns, &["-wa"], "raw", ""), 3);
    assert_eq!(same_rows(ns, &["-wl"], "raw", "UNCONN"), 2);
    assert_eq!(same_rows(ns, &["-w6a"], "raw", "UNCONN"), 1);
    assert_eq!(same_rows(ns, &["--raw", "-a", "-4"], "raw", ""), 2);
    assert_eq!(same_rows(ns, &["-A", "raw", "-a"], "raw", ""), 3);
    // /proc/net/raw and netlink agree (this kernel has no raw_diag: both
    // read /proc; on one with raw_diag this compares the two).
    let (net, _) = our_rows(ns, &["-wa"]);
    let (proc, _) = our_rows(ns, &["-wa", "--source", "proc"]);
    assert_eq!(net, proc);
    // No fallback warning: ss falls back to /proc in silence too.
    let out = sockscope(ns, &["-wa"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mptcp_rows_equal_ss() {
    let Some(p) = populated() else {
        return skip("mptcp_rows_equal_ss");
    };
    let ns = &p.ns;
    assert_eq!(same_rows(ns, &["-M"], "mptcp", ""), 2);
    assert_eq!(same_rows(ns, &["-Ma"], "mptcp", ""), 4);
    assert_eq!(same_rows(ns, &["-Ml"], "mptcp", "LISTEN"), 2);
    assert_eq!(
        same_rows(ns, &["--mptcp", "-a", "-6"], "mptcp", "LISTEN"),
        1
    );
    assert_eq!(same_rows(ns, &["-A", "mptcp", "-a"], "mptcp", ""), 4);
    // Over /proc there is no MPTCP table: none, and said when asked for.
    let out = sockscope(ns, &["-Ma", "--source", "proc", "-H"]);
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MPTCP sockets are listed over netlink only"),
        "{err}"
    );
}

#[test]
fn query_and_family_combinations_equal_ss() {
    let Some(p) = populated() else {
        return skip("query_and_family_combinations_equal_ss");
    };
    let ns = &p.ns;
    // ss 6.1 does not ask for bound-inactive sockets; sockscope's -a does
    // (as 7.1's): those two are left out of the comparison with `state`.
    let cases: &[(&[&str], &str, &str)] = &[
        (&["-A", "inet"], "", ""),
        (&["-A", "inet", "-l"], "", ""),
        (&["-A", "tcp,udp", "-l"], "", ""),
        (&["-A", "inet,!tcp", "-l"], "", ""),
        (&["-A", "udp,raw", "-a"], "", ""),
        (&["-t", "-A", "udp", "-l"], "udp", "UNCONN"),
        (&["-A", "udp", "-t", "-l"], "", ""),
        (&["-f", "inet", "-l"], "", ""),
        (&["-f", "inet6", "-l"], "", ""),
        (&["-4", "-l"], "", ""),
        (&["-6"], "", ""),
        (&["-t", "-w", "-l"], "", ""),
        (&["-f", "inet6", "-t", "-l"], "tcp", "LISTEN"),
        (&["-x", "-l"], "", "LISTEN"),
        (&["-A", "unix_stream", "-l"], "u_str", "LISTEN"),
        (&["-A", "unix_dgram,raw", "-l"], "", "UNCONN"),
        (&["-t", "-x", "-l"], "", ""),
        (&["-f", "unix", "-f", "inet", "-l"], "", ""),
        (&["-A", "all", "-l"], "", ""),
    ];
    let mut total = 0;
    for (args, netid, state) in cases {
        total += same_rows(ns, args, netid, state);
    }
    assert!(
        total > 30,
        "the population shows in the cases ({total} rows)"
    );
    // Established rows too (-a would add the bound-inactive sockets).
    for args in [
        &["-A", "inet"][..],
        &["-f", "inet"],
        &["-4"],
        &["-A", "all"],
    ] {
        let mut full = args.to_vec();
        full.extend(["state", "established"]);
        same_rows(ns, &full, "", "ESTABLISHED");
    }
}

/// -B against the kernel's truth: the sockets bound to 7003 and [::]:7004
/// and never listened on are exactly what -B and `state bound-inactive`
/// list, -ta, `state all`, the default and ss 6.1 do not, and a
/// second bind() to 7003 fails with EADDRINUSE, which why-bind explains.
#[test]
fn bound_inactive_matches_the_kernel() {
    let Some(p) = populated() else {
        return skip("bound_inactive_matches_the_kernel");
    };
    let ns = &p.ns;
    let bound = vec![
        (
            "tcp".to_string(),
            "BOUND_INACTIVE".to_string(),
            canonical_endpoint("127.0.0.1", 7003),
            canonical_endpoint("0.0.0.0", 0),
        ),
        (
            "tcp".to_string(),
            "BOUND_INACTIVE".to_string(),
            canonical_endpoint("::", 7004),
            canonical_endpoint("::", 0),
        ),
    ];
    let (b, _) = our_rows(ns, &["-B"]);
    assert_eq!(b, bound);
    let (b, _) = our_rows(ns, &["--bound-inactive", "-t"]);
    assert_eq!(b, bound);
    let (s, _) = our_rows(ns, &["-t", "state", "bound-inactive"]);
    assert_eq!(s, bound);
    // -a and `state all` leave them out, as ss 6.1 (asking for them makes
    // the kernel walk its whole bind table: src/model/states.rs).
    let (all, _) = our_rows(ns, &["-ta"]);
    assert!(bound.iter().all(|r| !all.contains(r)), "{}", show(&all));
    let (all, _) = our_rows(ns, &["-t", "state", "all"]);
    assert!(bound.iter().all(|r| !all.contains(r)), "{}", show(&all));
    let (conn, _) = our_rows(ns, &["-t"]);
    assert!(conn.iter().all(|r| r.1 != "BOUND_INACTIVE"));
    // ss 6.1 never asks for state bit 13.
    let (theirs, _) = ss_rows(ns, &["-ta"], "tcp", "");
    assert!(
        theirs.iter().all(|r| !r.2.ends_with(":7003")),
        "{}",
        show(&theirs)
    );
    // The kernel: a second socket cannot bind 127.0.0.1:7003.
    let out = run_in(
        ns,
        "python3",
        &[
            "-c",
            "import socket,errno\ns=socket.socket()\ntry:\n s.bind(('127.0.0.1',7003)); print('bound')\nexcept OSError as e: print(errno.errorcode[e.errno])",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "EADDRINUSE");
    // why-bind names the socket as the reason, and its real bind agrees.
    let out = sockscope(ns, &["why-bind", "127.0.0.1:7003", "--try", "--json"]);
    assert_eq!(out.status.code(), Some(1), "busy");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let causes = v["causes"].as_array().expect("causes");
    assert!(
        causes.iter().any(|c| c["kind"] == "bound_inactive"),
        "{causes:?}"
    );
    let text = String::from_utf8_lossy(&sockscope(ns, &["why-bind", "7003"]).stdout).into_owned();
    assert!(text.contains("neither listening nor connected"), "{text}");
}

/// The families this kernel has no diagnostics for: ss lists nothing and
/// exits 0; so does sockscope, saying why on stderr.
#[test]
fn absent_families_answer_as_ss() {
    let Some(p) = populated() else {
        return skip("absent_families_answer_as_ss");
    };
    let ns = &p.ns;
    let cases: &[(&[&str], &str)] = &[
        (&["-S", "-a"], "sctp_diag"),
        (&["-d", "-a"], "dccp_diag"),
        (&["--vsock", "-a"], "vsock_diag"),
        (&["--tipc", "-a"], "tipc_diag"),
        (&["--xdp", "-a"], "xsk_diag"),
        (&["-A", "sctp", "-a"], "sctp_diag"),
        (&["-A", "vsock_dgram", "-a"], "vsock_diag"),
        (&["-f", "vsock", "-a"], "vsock_diag"),
        (&["-f", "tipc", "-a"], "tipc_diag"),
    ];
    for (args, module) in cases {
        let mut full = vec!["-H"];
        full.extend_from_slice(args);
        let theirs = run_in(ns, "ss", &full);
        assert_eq!(theirs.status.code(), Some(0), "ss {full:?}");
        assert!(theirs.stdout.is_empty(), "ss {full:?} listed rows");
        let ours = sockscope(ns, &full);
        assert_eq!(ours.status.code(), Some(0), "sockscope {full:?}");
        assert!(ours.stdout.is_empty(), "sockscope {full:?} listed rows");
        let err = String::from_utf8_lossy(&ours.stderr);
        assert!(
            err.contains(&format!("this kernel has no {module}")),
            "sockscope {full:?}: {err}"
        );
    }
    // Words ss refuses, sockscope refuses (exit 2, naming the word); a
    // query that leaves nothing is ss's message and exit 0.
    let mut words: BTreeMap<&str, Output> = BTreeMap::new();
    words.insert("-A", sockscope(ns, &["-A", "bogus"]));
    words.insert("-f", sockscope(ns, &["-f", "bogus"]));
    for (flag, out) in &words {
        assert_eq!(out.status.code(), Some(2), "{flag} bogus");
        assert!(String::from_utf8_lossy(&out.stderr).contains("\"bogus\""));
    }
    let out = sockscope(ns, &["-A", "tcp,!tcp"]);
    let theirs = run_in(ns, "ss", &["-A", "tcp,!tcp"]);
    assert_eq!(out.status.code(), theirs.status.code());
    assert!(String::from_utf8_lossy(&theirs.stderr).contains("no socket tables to show"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no socket tables to show"));
    assert!(out.stdout.is_empty());
}

/// The packet and netlink rows of a table (`-H -n`), as text: Netid,
/// state, local and peer end, as both print them; each tool's own
/// sock_diag socket (netlink family 4, a nonzero port id) is left out.
fn link_rows(text: &str, netid: &str) -> Vec<[String; 4]> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with(char::is_whitespace)) {
        let mut f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        // A Netid is a word; without that column the kind is `netid`.
        let kind = if f[0] == "UNCONN" || f[0].starts_with(|c: char| c.is_ascii_digit()) {
            netid.to_string()
        } else {
            f.remove(0).to_string()
        };
        // ss leaves State out when one state is listed (their one: UNCONN).
        if f.first() != Some(&"UNCONN") {
            f.insert(0, "UNCONN");
        }
        if !matches!(kind.as_str(), "nl" | "p_raw" | "p_dgr") || f.len() < 5 {
            continue;
        }
        if kind == "nl" && f[3].starts_with("4:") && f[3] != "4:0" {
            continue;
        }
        rows.push([kind, f[0].to_string(), f[3].to_string(), f[4].to_string()]);
    }
    rows.sort();
    rows
}

fn same_link_rows(ns: &TestNetns, args: &[&str], netid: &str) -> usize {
    let mut full = vec!["-H", "-n"];
    full.extend_from_slice(args);
    let theirs = run_in(ns, "ss", &full);
    let ours = sockscope(ns, &full);
    assert!(ours.status.success(), "sockscope {full:?}");
    let (t, o) = (
        link_rows(&String::from_utf8_lossy(&theirs.stdout), netid),
        link_rows(&String::from_utf8_lossy(&ours.stdout), netid),
    );
    assert_eq!(o, t, "sockscope {full:?} differs from ss");
    o.len()
}

/// Packet sockets (packet_diag) and netlink sockets (netlink_diag): the
/// same rows as ss's for -0, -f link, -A packet*, -f netlink, -A netlink;
/// -b shows the BPF program as ss does; -p names the holder.
#[test]
fn packet_and_netlink_rows_equal_ss() {
    let Some(p) = populated() else {
        return skip("packet_and_netlink_rows_equal_ss");
    };
    let ns = &p.ns;
    assert_eq!(same_link_rows(ns, &["-0"], ""), 3);
    assert_eq!(same_link_rows(ns, &["-0a"], ""), 3);
    assert_eq!(same_link_rows(ns, &["-f", "link"], ""), 3);
    assert_eq!(same_link_rows(ns, &["-A", "packet", "-a"], ""), 3);
    // ss's netlink path does not check the type of a packet socket
    // against -A packet_raw / packet_dgram (misc/ss.c: packet_show_sock;
    // its /proc path does): it lists all three. sockscope lists the type
    // asked for: the rows of -0a with that Netid.
    let table = |args: &[&str]| {
        let mut full = vec!["-H", "-n"];
        full.extend_from_slice(args);
        String::from_utf8_lossy(&sockscope(ns, &full).stdout).into_owned()
    };
    let all = link_rows(&table(&["-0a"]), "");
    for (word, netid, n) in [("packet_raw", "p_raw", 2), ("p_dgr", "p_dgr", 1)] {
        let ours = link_rows(&table(&["-A", word, "-a"]), netid);
        let want: Vec<_> = all.iter().filter(|r| r[0] == netid).cloned().collect();
        assert_eq!((ours.len(), &ours), (n, &want), "-A {word}");
    }
    // ss's -A sets the connected states: no packet rows without -a.
    assert_eq!(same_link_rows(ns, &["-A", "packet"], ""), 0);
    let nl = same_link_rows(ns, &["-f", "netlink"], "nl");
    assert!(nl >= 3, "the kernel's netlink sockets ({nl})");
    assert_eq!(same_link_rows(ns, &["-A", "netlink", "-a"], "nl"), nl);
    same_link_rows(ns, &["-A", "all", "-a"], "");
    // -b: the program, as ss prints it.
    let line = |out: Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("bpf filter"))
            .map(|l| l.trim().to_string())
    };
    let theirs = line(run_in(ns, "ss", &["-H", "-n", "-0b"]));
    assert_eq!(
        theirs.as_deref(),
        Some("bpf filter (1):  0x06 0 0 4294967295,")
    );
    assert_eq!(line(sockscope(ns, &["-H", "-0b"])), theirs);
    // ss's format: the same text, field for field (ss -n; the holder's
    // users:, -e's ino:/sk:, -b's program). Netlink rows leave out
    // sockscope's and ss's own sock_diag sockets (each tool sees its own).
    for args in [
        &["-0an"][..],
        &["-0anpe"],
        &["-0anb"],
        &["-A", "netlink", "-an"],
    ] {
        let fields = |out: Output| -> Vec<Vec<String>> {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with("UNCONN") || !l.contains(" 4:"))
                .map(|l| l.split_whitespace().map(str::to_owned).collect())
                .collect()
        };
        let theirs = fields(run_in(ns, "ss", args));
        let mut with = vec!["--ss-format"];
        with.extend_from_slice(args);
        assert_eq!(fields(sockscope(ns, &with)), theirs, "--ss-format {args:?}");
    }
    // JSON: the program as data, the holder as owner.
    let out = sockscope(ns, &["-0bp", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = v.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    let with_bpf: Vec<&Value> = rows.iter().filter(|r| !r["bpf"].is_null()).collect();
    assert_eq!(with_bpf.len(), 1);
    assert_eq!(with_bpf[0]["bpf"][0]["k"], 4294967295u64);
    assert!(rows.iter().all(|r| r["owners"][0]["comm"] == "python3"));
    // /proc is not read for them: said, none listed.
    let out = sockscope(ns, &["-0", "--source", "proc", "-H"]);
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("read over netlink only"));
}
