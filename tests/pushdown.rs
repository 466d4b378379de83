//! `who`, `why-bind` and `ports` ask the kernel for what they use (the
//! port, the ephemeral range) instead of dumping every socket, and give the
//! same answers as ss's rows for that port or range. The ephemeral range is
//! the one of the --proc-root tree, for `ports` and `autobound` alike.

pub mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use common::run::command;
use common::{Env, Row, Sandbox, Scenario, endpoint_port, ss_rows};
use serde_json::Value;

fn run(env: &Env, args: &[&str]) -> Output {
    command(env).args(args).output().expect("run sockscope")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// N in `--verbose`'s "read N sockets".
fn sockets_read(out: &Output) -> usize {
    let err = String::from_utf8_lossy(&out.stderr);
    let at = err
        .find("read ")
        .unwrap_or_else(|| panic!("no \"read N sockets\" in: {err}"));
    err[at + 5..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count after \"read\" in: {err}"))
}

fn rows_of(v: &Value) -> Vec<Row> {
    let mut rows: Vec<Row> = v
        .as_array()
        .expect("an array of sockets")
        .iter()
        .map(common::run::row_of)
        .collect();
    rows.sort();
    rows
}

/// Writes the private namespace's ip_local_port_range.
fn set_port_range(lo: u16, hi: u16) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/thread-self/../../sys/net/ipv4/ip_local_port_range")
        .or_else(|_| {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/proc/sys/net/ipv4/ip_local_port_range")
        })
        .expect("open ip_local_port_range");
    f.write_all(format!("{lo} {hi}\n").as_bytes())
        .expect("write ip_local_port_range");
}

/// A listener with three accepted connections and one waiting in its
/// accept queue, next to 300 connections to another listener; its address.
fn port_and_others(sc: &mut Scenario) -> std::net::SocketAddr {
    let target = sc.listen_v4();
    for _ in 0..3 {
        sc.established_pair(target);
    }
    sc.unaccepted(target);
    sc.bulk(300);
    target
}

/// `who PORT` reads the sockets on PORT only (the listener, its
/// connections, the one waiting in its accept queue, and the clients'
/// ends connected to it), not the 600 others, and lists exactly ss's
/// `sport = :PORT` rows as holders and its `dport = :PORT` rows as
/// clients.
#[test]
fn who_reads_its_port_only() {
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip("who_reads_its_port_only: needs a private namespace; skipped");
            return;
        }
        let mut sc = Scenario::new();
        let port = port_and_others(&mut sc).port().to_string();
        let want = ss_rows(env, &["-tua", &format!("sport = :{port}")]);
        // listener, 3 pairs' server sides, the queued server side
        assert_eq!(want.len(), 5, "{want:?}");
        // issue 18, who: the 3 pairs' client sides and the queued one's.
        let clients = ss_rows(env, &["-tua", &format!("dport = :{port}")]);
        assert_eq!(clients.len(), 4, "{clients:?}");
        let total = ss_rows(env, &["-tua"]).len();
        assert!(total > 600, "{total}");

        let out = run(env, &["who", &port, "--json", "--verbose"]);
        assert_eq!(out.status.code(), Some(0));
        let v = json(&out);
        assert_eq!(rows_of(&v["sockets"]), want, "{v}");
        assert_eq!(rows_of(&v["clients"]), clients, "{v}");
        assert!(
            v["summary"]
                .as_str()
                .unwrap()
                .contains("1 connection waiting to be accepted"),
            "{v}"
        );
        assert_eq!(
            sockets_read(&out),
            want.len() + clients.len(),
            "who reads the sockets on its port only ({total} in the namespace)"
        );
        // /proc cannot be asked for one port: the rest is dropped as read.
        let proc = run(
            env,
            &["who", &port, "--json", "--verbose", "--source", "proc"],
        );
        assert_eq!(rows_of(&json(&proc)["sockets"]), want);
        assert_eq!(rows_of(&json(&proc)["clients"]), clients);
        assert_eq!(
            sockets_read(&proc),
            want.len() + clients.len(),
            "who keeps its port only"
        );
    });
}

/// `why-bind PORT` reads the TCP sockets on PORT only, and names them all
/// as holders.
#[test]
fn why_bind_reads_its_port_only() {
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip("why_bind_reads_its_port_only: needs a private namespace; skipped");
            return;
        }
        let mut sc = Scenario::new();
        let port = port_and_others(&mut sc).port().to_string();
        let want = ss_rows(env, &["-ta", &format!("sport = :{port}")]);
        assert_eq!(want.len(), 5, "{want:?}");
        let total = ss_rows(env, &["-ta"]).len();

        let out = run(env, &["why-bind", &port, "--json", "--verbose"]);
        assert_eq!(out.status.code(), Some(1));
        let v = json(&out);
        assert_eq!(rows_of(&v["holders"]), want, "{v}");
        assert_eq!(
            sockets_read(&out),
            want.len(),
            "why-bind reads the sockets on its port only ({total} TCP sockets in the namespace)"
        );
        let proc = run(
            env,
            &["why-bind", &port, "--json", "--verbose", "--source", "proc"],
        );
        assert_eq!(rows_of(&json(&proc)["holders"]), want);
        assert_eq!(
            sockets_read(&proc),
            want.len(),
            "why-bind keeps its port only"
        );
    });
}

/// `ports` reads the sockets whose local port is in ip_local_port_range
/// (its listeners once more, in a dump of their own), not the server sides
/// of connections to a port below the range, and counts them as before.
#[test]
fn ports_reads_the_ephemeral_range_only() {
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip(
                "ports_reads_the_ephemeral_range_only: needs a private namespace to set ip_local_port_range; skipped",
            );
            return;
        }
        let (lo, hi) = (40000u16, 41999u16);
        set_port_range(lo, hi);
        let mut sc = Scenario::new();
        // A server below the range: its clients' ports are in the range,
        // its own sides are not.
        let low = std::net::TcpListener::bind("127.0.0.1:9311").expect("bind 127.0.0.1:9311");
        let mut held = Vec::new();
        for _ in 0..200 {
            let c = std::net::TcpStream::connect("127.0.0.1:9311").unwrap();
            let (s, _) = low.accept().unwrap();
            held.push((c, s));
        }
        // A server inside the range (port 0: an ephemeral one): neither
        // its listener's port nor its accepted sides are outgoing.
        sc.bulk(100);
        // An IPv6-only listener on a port in the range, and an IPv4 client
        // bound to that same port: not outgoing (the port is a listening
        // port), though the IPv4 table, dumped first, holds no listener on it.
        let v6 = sc.listen_v6_only();
        let bound = connect_from(v6.port(), "127.0.0.1:9311".parse().unwrap());
        let (bound_server, _) = low.accept().unwrap();
        let range = format!("sport >= :{lo} and sport <= :{hi}");
        let in_range = ss_rows(env, &["-ta", &range]);
        let listening: Vec<&Row> = in_range.iter().filter(|r| r.state == "LISTEN").collect();
        // What the old analysis counts, from ss's rows: connected, port in
        // range, not a listening port; per (local address, destination).
        let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &in_range {
            let p = endpoint_port(&r.local).unwrap();
            if r.state == "LISTEN"
                || endpoint_port(&r.remote) == Some(0)
                || listening.iter().any(|l| endpoint_port(&l.local) == Some(p))
            {
                continue;
            }
            let ip = common::endpoint_ip(&r.local).unwrap().to_string();
            *want.entry((ip, r.remote.clone())).or_default() += 1;
        }
        assert_eq!(want.values().sum::<u64>(), 300, "{want:?}");
        let total = ss_rows(env, &["-ta"]).len();

        let out = run(env, &["ports", "--json", "--verbose"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v = json(&out);
        assert_eq!(v["range"], serde_json::json!([lo, hi]), "{v}");
        assert_eq!(v["outgoing"], 300, "{v}");
        let mut got: BTreeMap<(String, String), u64> = BTreeMap::new();
        for d in v["destinations"].as_array().unwrap() {
            let remote = common::canonical_endpoint(
                d["remote"]["addr"].as_str().unwrap(),
                d["remote"]["port"].as_u64().unwrap() as u16,
            );
            got.insert(
                (d["local"].as_str().unwrap().to_owned(), remote),
                d["count"].as_u64().unwrap(),
            );
        }
        assert_eq!(got, want, "{v}");
        assert_eq!(
            sockets_read(&out),
            listening.len() + in_range.len(),
            "ports reads the sockets in the range ({total} TCP sockets in the namespace)"
        );
        drop((held, bound, bound_server));
    });
}

/// A TCP connection to `to` from 127.0.0.1:`port`, bound before connect().
fn connect_from(port: u16, to: std::net::SocketAddrV4) -> std::net::TcpStream {
    use std::os::fd::FromRawFd;
    let sa = |a: std::net::SocketAddrV4| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let local = sa(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::LOCALHOST,
        port,
    ));
    let remote = sa(to);
    // SAFETY: plain socket/bind/connect on a fresh descriptor, with valid
    // sockaddr_in structures of the given length; the descriptor is owned
    // by the returned stream.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = std::net::TcpStream::from_raw_fd(fd);
        let p = &local as *const libc::sockaddr_in as *const libc::sockaddr;
        assert_eq!(
            libc::bind(fd, p, len),
            0,
            "bind 127.0.0.1:{port}: {}",
            std::io::Error::last_os_error()
        );
        let p = &remote as *const libc::sockaddr_in as *const libc::sockaddr;
        assert_eq!(
            libc::connect(fd, p, len),
            0,
            "connect {to}: {}",
            std::io::Error::last_os_error()
        );
        stream
    }
}

/// The ephemeral range comes from the --proc-root tree for `ports` and for
/// `autobound` alike (fixtures/owners: 50001-50099, which holds the
/// TIME_WAIT client port 50002 but not the ESTABLISHED client port 50000;
/// the live default, 32768-60999, holds both).
#[test]
fn proc_root_port_range_serves_ports_and_autobound() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/owners");
    let sockscope = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(args)
            .args(["--source", "proc", "--proc-root"])
            .arg(&dir)
            .env_remove("SOCKSCOPE_PROC_ROOT")
            .env_remove("SOCKSCOPE_NETLINK_REPLAY")
            .output()
            .expect("run sockscope")
    };
    let out = sockscope(&["ports", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    assert_eq!(v["range"], serde_json::json!([50001, 50099]), "{v}");
    assert_eq!(v["range_size"], 99, "{v}");
    assert_eq!(v["outgoing"], 1, "{v}");
    assert_eq!(v["destinations"][0]["time_wait"], 1, "{v}");

    let out = sockscope(&["-tan", "--jsonl", "autobound"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let ports: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["local"]["port"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ports, vec![50002], "autobound follows the tree's range");
}

/// `ports --record` makes one recording that `ports --replay` answers the
/// same from, though ports reads twice (listeners, then every socket).
#[test]
fn ports_recording_replays_the_same() {
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip("ports_recording_replays_the_same: needs a private namespace; skipped");
            return;
        }
        let mut sc = Scenario::new();
        sc.bulk(20);
        let dir = std::env::temp_dir().join(format!("sockscope-ports-rec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let rec = dir.join("ports.rec");
        let rec_arg = rec.to_str().unwrap();
        let live = run(env, &["ports", "--json", "--record", rec_arg]);
        assert_eq!(live.status.code(), Some(0), "{live:?}");
        assert_eq!(json(&live)["outgoing"], 20, "{}", json(&live));
        let replayed = run(env, &["ports", "--json", "--replay", rec_arg]);
        assert_eq!(replayed.status.code(), Some(0), "{replayed:?}");
        assert_eq!(json(&replayed), json(&live));
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
