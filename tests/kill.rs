//! `-K/--kill` end to end, in private network namespaces made by the test:
//! real connections between the test and a holder process it starts (the
//! server side, accepted here, is handed to a `sleep`); sockscope kills one
//! with a filter, the client sees the reset, the other connection survives
//! (ESTABLISHED per ss); `--dry-run` kills nothing and lists what `ss -K`
//! would; a listener, TIME_WAIT, SYN_RECV and UDP sockets are killed as this
//! kernel allows; without CAP_NET_ADMIN the kernel refuses (exit 1, EPERM);
//! `-K` without a selection exits 2. Without root no namespace can be made:
//! those tests say so on stderr.

pub mod common;

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::netns::{NsProc, TestNetns, is_root};
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

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// sockscope -N NS ARGS; it must exit `code`.
fn run_in(ns: &TestNetns, args: &[&str], code: i32) -> Output {
    let out = bin()
        .args(["-N", &ns.selector()])
        .args(args)
        .output()
        .expect("run sockscope");
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", show(&out));
    out
}

/// The rows of a `--json` answer, sorted.
fn json_rows(out: &Output) -> Vec<Row> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let mut rows: Vec<Row> = v
        .as_array()
        .expect("an array")
        .iter()
        .map(common::run::row_of)
        .collect();
    rows.sort();
    rows
}

/// ss's rows (no owners) inside the namespace.
fn ss_rows(ns: &TestNetns, args: &[&str]) -> Vec<Row> {
    ns.ss(args).into_iter().map(|o| o.row).collect()
}

/// `ss -K -Hn ARGS` inside the namespace: its rows.
fn ss_kill(ns: &TestNetns, args: &[&str]) -> Vec<Row> {
    let out = ns
        .exec("ss")
        .args(["-K", "-H", "-n"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ss -K");
    assert!(out.status.success(), "ss -K {args:?}: {}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = common::parse_ss_output(args, &text).expect("parse ss -K");
    rows.sort();
    rows
}

/// A listener on 127.0.0.1 and `n` connections to it, made inside `ns`:
/// the client streams stay here; the listener and the accepted sides go to
/// a holder process.
struct Conns {
    clients: Vec<TcpStream>,
    listen: SocketAddr,
    _holder: NsProc,
}

fn connections(ns: &TestNetns, n: usize) -> Conns {
    connections_on(ns, 0, n)
}

/// [`connections`] to a listener on `port` (0: any).
fn connections_on(ns: &TestNetns, port: u16, n: usize) -> Conns {
    ns.enter(move || {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
        let listen = l.local_addr().unwrap();
        let mut clients = Vec::new();
        let mut served: Vec<OwnedFd> = Vec::new();
        for _ in 0..n {
            let c = TcpStream::connect(listen).expect("connect");
            let (s, _) = l.accept().expect("accept");
            clients.push(c);
            served.push(s.into());
        }
        let mut fds: Vec<i32> = served.iter().map(|f| f.as_raw_fd()).collect();
        fds.push(l.as_raw_fd());
        let holder = NsProc::hold(&fds, false);
        Conns {
            clients,
            listen,
            _holder: holder,
        }
    })
}

fn port(c: &TcpStream) -> u16 {
    c.local_addr().unwrap().port()
}

fn root_or_say(test: &str) -> bool {
    if !is_root() {
        common::skip(&format!(
            "{test}: not root: no network namespace can be made, nothing killed; \
             only the refusal of -K without a selection was checked"
        ));
    }
    is_root()
}

#[test]
fn kill_without_a_selection_is_refused() {
    for args in [
        &["-K"][..],
        &["-K", "-ta"],
        &["-K", "-tl"],
        &["-K", "-t", "--dry-run"],
        &["--kill", "-u4"],
    ] {
        let out = bin().args(args).output().expect("run sockscope");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("-K destroys every socket it selects") && err.contains("state word"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = bin().args(["-K", "-x", "state", "all"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

#[test]
fn kill_resets_the_selected_connection_and_nothing_else() {
    if !root_or_say("kill_resets_the_selected_connection_and_nothing_else") {
        return;
    }
    let ns = TestNetns::named();
    let mut conns = connections(&ns, 3);
    let (p0, p1, p2) = (
        port(&conns.clients[0]),
        port(&conns.clients[1]),
        port(&conns.clients[2]),
    );
    let sel0 = format!("dport = :{p0}");
    // --dry-run: the rows ss lists for the selection, nothing killed.
    let dry = run_in(&ns, &["-K", "--dry-run", "-tn", &sel0, "--json"], 0);
    let listed = ss_rows(&ns, &["-t", &sel0]);
    assert_eq!(json_rows(&dry), listed);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(String::from_utf8_lossy(&dry.stderr).contains("would kill 1 socket"));
    let established = ss_rows(&ns, &["-t", "state", "established"]);
    assert_eq!(established.len(), 6, "{established:?}");

    // The kill: the one selected row, printed; its client sees the reset.
    let killed = run_in(&ns, &["-K", "-tn", &sel0, "--json"], 0);
    assert_eq!(json_rows(&killed), listed);
    let err = String::from_utf8_lossy(&killed.stderr);
    assert!(err.contains("killed 1 socket"), "{err}");
    let c0 = &mut conns.clients[0];
    c0.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    let got = c0.read(&mut buf);
    assert_eq!(
        got.as_ref().map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionReset),
        "{got:?}"
    );
    // The others survive: both of their ends still ESTABLISHED.
    let after = ss_rows(&ns, &["-t", "state", "established"]);
    let ports = |rows: &[Row]| -> Vec<String> { rows.iter().map(|r| r.to_string()).collect() };
    assert_eq!(after.len(), 4, "{:?}", ports(&after));
    for p in [p1, p2] {
        let ends = after
            .iter()
            .filter(|r| r.local.ends_with(&format!(":{p}")) || r.remote.ends_with(&format!(":{p}")))
            .count();
        assert_eq!(ends, 2, "connection from port {p}: {:?}", ports(&after));
    }
    assert!(
        !after
            .iter()
            .any(|r| r.local.ends_with(&format!(":{p0}")) || r.remote.ends_with(&format!(":{p0}")))
    );

    // ss -K on the same kind of selection prints the rows sockscope's
    // dry run listed: compare on the second connection.
    let sel1 = format!("dport = :{p1}");
    let dry1 = run_in(&ns, &["-K", "--dry-run", "-tn", &sel1, "--json"], 0);
    let by_ss = ss_kill(&ns, &["-t", &sel1]);
    assert_eq!(json_rows(&dry1), by_ss);
    assert_eq!(by_ss.len(), 1);
    // Already dead: a second kill finds nothing to do.
    let again = run_in(&ns, &["-K", "-tn", &sel1], 0);
    assert!(String::from_utf8_lossy(&again.stderr).contains("killed 0 sockets"));

    // The listener: gone from the table, new connections refused.
    let listen = conns.listen;
    let sel_l = format!("sport = :{}", listen.port());
    let out = run_in(
        &ns,
        &["-K", "-tn", "state", "listening", &sel_l, "--json"],
        0,
    );
    let rows = json_rows(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].state, "LISTEN");
    assert!(ss_rows(&ns, &["-t", "state", "listening"]).is_empty());
    let refused = ns.enter(move || TcpStream::connect(listen).map(|_| ()).map_err(|e| e.kind()));
    assert_eq!(refused, Err(ErrorKind::ConnectionRefused));
    // The third connection lives on without its listener.
    assert_eq!(ss_rows(&ns, &["-t", "state", "established"]).len(), 2);
}

#[test]
fn kill_time_wait_syn_recv_and_udp() {
    if !root_or_say("kill_time_wait_syn_recv_and_udp") {
        return;
    }
    let ns = TestNetns::named();
    // TIME_WAIT on the client side (it closes first); SYN_RECV behind a
    // TCP_DEFER_ACCEPT listener; a bound UDP socket.
    let (tw_port, syn_port, udp_port, _keep) = ns.enter(|| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let tw_port = port(&c);
        drop(c);
        std::thread::sleep(Duration::from_millis(100));
        drop(s);
        let d = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let v: libc::c_int = 30;
        // SAFETY: a valid socket and a c_int option value of its size.
        unsafe {
            libc::setsockopt(
                d.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        d.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        d.listen(8).unwrap();
        let daddr = d.local_addr().unwrap().as_socket().unwrap();
        let half = TcpStream::connect(daddr).unwrap();
        // The namespace is the test's own: port 6000 is free.
        let u = UdpSocket::bind("127.0.0.1:6000").unwrap();
        let auto = UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_port = auto.local_addr().unwrap().port();
        (tw_port, daddr.port(), udp_port, (l, d, half, u, auto))
    });
    assert!(poll_until(Duration::from_secs(5), || !ss_rows(
        &ns,
        &["-t", "state", "syn-recv"]
    )
    .is_empty()));
    // TIME_WAIT: destroyed, gone from the table.
    let tw = format!("sport = :{tw_port}");
    let out = run_in(&ns, &["-K", "-tn", "state", "time-wait", &tw, "--json"], 0);
    assert_eq!(json_rows(&out).len(), 1, "{}", show(&out));
    assert!(ss_rows(&ns, &["-t", "state", "time-wait", &tw]).is_empty());
    // SYN_RECV (a request socket): destroyed.
    let syn = format!("sport = :{syn_port}");
    let out = run_in(&ns, &["-K", "-tn", "state", "syn-recv", &syn, "--json"], 0);
    assert_eq!(json_rows(&out).len(), 1, "{}", show(&out));
    assert!(ss_rows(&ns, &["-t", "state", "syn-recv", &syn]).is_empty());
    // UDP: the kernel destroys both (each owner's next receive fails with
    // ECONNABORTED); one bound to a port asked for stays in the table
    // (udp_abort unhashes only sockets whose port the kernel chose).
    let out = run_in(
        &ns,
        &[
            "-K",
            "-un",
            "-a",
            "sport",
            "=",
            ":6000",
            "or",
            "sport",
            "=",
            &format!(":{udp_port}"),
            "--json",
        ],
        0,
    );
    assert_eq!(json_rows(&out).len(), 2, "{}", show(&out));
    for u in [&_keep.3, &_keep.4] {
        u.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            u.recv(&mut buf).map_err(|e| e.kind()),
            Err(ErrorKind::ConnectionAborted)
        );
    }
    assert_eq!(ss_rows(&ns, &["-u", "-a", "sport", "=", ":6000"]).len(), 1);
    let auto = format!("sport = :{udp_port}");
    assert!(ss_rows(&ns, &["-u", "-a", &auto]).is_empty());
}

#[test]
fn kill_without_cap_net_admin_is_refused_by_the_kernel() {
    if !root_or_say("kill_without_cap_net_admin_is_refused_by_the_kernel") {
        return;
    }
    let ns = TestNetns::named();
    let conns = connections(&ns, 1);
    let sel = format!("dport = :{}", port(&conns.clients[0]));
    let bin_path = env!("CARGO_BIN_EXE_sockscope");
    let out = ns
        .exec("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            bin_path,
            "-K",
            "-tn",
            &sel,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run sockscope as nobody");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("killed 0 sockets") && err.contains("EPERM") && err.contains("CAP_NET_ADMIN"),
        "{err}"
    );
    assert_eq!(ss_rows(&ns, &["-t", "state", "established"]).len(), 2);
}

#[test]
fn kill_in_several_namespaces_each_in_its_own() {
    if !root_or_say("kill_in_several_namespaces_each_in_its_own") {
        return;
    }
    let (a, b) = (TestNetns::named(), TestNetns::named());
    // The same four-tuple in both: only the namespace tells them apart.
    let mut ca = connections_on(&a, 5000, 1);
    let mut cb = connections_on(&b, 5000, 1);
    let out = bin()
        .args(["-N", &a.selector(), "-N", &b.selector()])
        .args([
            "-K",
            "-tn",
            "state",
            "established",
            "sport",
            "=",
            ":5000",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["netns"]["name"].as_str().unwrap_or("?"))
        .collect();
    names.sort();
    let mut want = vec![a.name().unwrap(), b.name().unwrap()];
    want.sort();
    assert_eq!(names, want);
    assert!(String::from_utf8_lossy(&out.stderr).contains("killed 2 sockets"));
    for c in [&mut ca.clients[0], &mut cb.clients[0]] {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(
            c.read(&mut buf).map_err(|e| e.kind()),
            Err(ErrorKind::ConnectionReset)
        );
    }
}

#[test]
fn kill_goes_on_when_stdout_closes() {
    if !root_or_say("kill_goes_on_when_stdout_closes") {
        return;
    }
    let ns = TestNetns::named();
    let mut conns = connections_on(&ns, 5000, 3);
    // A pipe nobody reads: the first row written fails (EPIPE).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin()
        .args(["-N", &ns.selector()])
        .args(["-K", "-tn", "state", "established", "sport", "=", ":5000"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("killed 3 sockets"), "{err}");
    for c in conns.clients.iter_mut() {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(
            c.read(&mut buf).map_err(|e| e.kind()),
            Err(ErrorKind::ConnectionReset)
        );
    }
}
