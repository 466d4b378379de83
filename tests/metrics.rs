//! `sockscope metrics` end to end (issue 17): the built binary against real
//! sockets in a private network namespace, every series value checked
//! exactly, and the exposition checked by the real `promtool`.
//!
//! Root is needed for the private namespaces (and to see every owner); a
//! test that cannot run says why on stderr, and fails instead when CI=true
//! (in CI everything is there). The same goes for a missing `promtool`.

pub mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::netns::{TestNetns, is_root, say};
use common::{Env, ListenOpts, Named, Sandbox, Scenario, poll_until};

/// One sample of an exposition: its name, its labels (unescaped by the
/// exposition's rules only), its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text exposition (comments skipped).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| parse_sample(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return Err("no value".into()),
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            if chars.next() != Some('"') {
                return Err("label value without a quote".into());
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            }
            labels.insert(key.trim_start_matches(',').to_owned(), value);
            match chars.next() {
                Some(',') if chars.peek() == Some(&'}') => {
                    chars.next();
                    break;
                }
                Some(',') => {}
                Some('}') => break,
                other => return Err(format!("after a label: {other:?}")),
            }
        }
    }
    let value: String = chars.collect();
    let value = value.trim();
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().map_err(|e| format!("value {v:?}: {e}"))?,
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The samples named `name`.
fn named<'a>(all: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    all.iter().filter(|s| s.name == name).collect()
}

/// The one sample named `name` whose labels include `want`.
fn value(all: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let hits: Vec<&Sample> = all
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(hits.len() <= 1, "{name} {want:?}: {hits:?}");
    hits.first().map(|s| s.value)
}

/// Whether a test that needs `what` can run; says why not on stderr, or
/// fails under CI.
fn can_run(ok: bool, what: &str) -> bool {
    if !ok {
        let line = format!("metrics tests: skipped: {what}");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{line} (CI=true)"
        );
        say(&line);
    }
    ok
}

fn private(env: &Env) -> bool {
    can_run(
        env.private_ns,
        &format!(
            "no private network namespace ({})",
            env.shared_reason.as_deref().unwrap_or("?")
        ),
    )
}

/// `sockscope ARGS`, run from the calling thread (in its namespace).
fn sockscope(env: &Env, args: &[&str]) -> Output {
    common::run::command(env)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run sockscope")
}

/// `sockscope metrics ARGS`: must succeed quietly; its stdout.
fn metrics(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["metrics"];
    all.extend_from_slice(args);
    let out = sockscope(env, &all);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "sockscope {all:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the exposition is UTF-8")
}

/// `promtool check metrics` on `text` (stdin): its status and output;
/// `None` when promtool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            can_run(false, &format!("promtool: {e}"));
            return None;
        }
    };
    let mut stdin = child.stdin.take().expect("promtool stdin");
    let text = text.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let done = poll_until(Duration::from_secs(30), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !done {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("wait for promtool");
    let _ = writer.join();
    assert!(done, "promtool took more than 30 s: killed");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

/// promtool accepts the 0.0.4 exposition outright; of the OpenMetrics one
/// (which it reads as 0.0.4: it has no OpenMetrics parser) it says only
/// that the counters lack help, since their HELP lines name the family
/// without `_total` as OpenMetrics has it.
fn check_with_promtool(prometheus: &str, openmetrics: &str) {
    let Some((ok, said)) = promtool(prometheus) else {
        return;
    };
    assert!(ok, "promtool check metrics (0.0.4):\n{said}\n{prometheus}");
    let Some((_, said)) = promtool(openmetrics) else {
        return;
    };
    let counters: Vec<String> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .map(|name| format!("{name}_total no help text"))
        .collect();
    for line in said.lines() {
        assert!(
            counters.iter().any(|c| c == line),
            "promtool on OpenMetrics said {line:?}:\n{said}"
        );
    }
}

/// The test binary's own comm (the owner of the sockets it holds).
fn own_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .expect("read own comm")
        .trim_end_matches('\n')
        .to_owned()
}

/// This namespace's ephemeral port range (the sandbox thread's: the
/// sysctls under /proc/sys/net are the calling thread's namespace's).
fn set_port_range(lo: u16, hi: u16) {
    std::fs::write(
        "/proc/sys/net/ipv4/ip_local_port_range",
        format!("{lo} {hi}\n"),
    )
    .expect("set ip_local_port_range in the private namespace");
}

/// `n` connections accepted on `listener`, handed to a child named `comm`
/// (the only holder of the server sides), then closed by their clients:
/// the server sides stay CLOSE_WAIT, owned by the child; the clients are
/// orphaned FIN_WAIT2. Returns the child and the clients' local addresses.
fn close_wait_owned_by(listener: &TcpListener, n: usize, comm: &[u8]) -> (Named, Vec<SocketAddr>) {
    let target = listener.local_addr().unwrap();
    let mut clients = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..n {
        let c = TcpStream::connect(target).expect("connect");
        let (s, _) = listener.accept().expect("accept");
        clients.push(c);
        servers.push(s);
    }
    let fds: Vec<RawFd> = servers.iter().map(AsRawFd::as_raw_fd).collect();
    let child = Named::fork(comm, &fds);
    drop(servers);
    let addrs: Vec<SocketAddr> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
    drop(clients);
    (child, addrs)
}

/// A UNIX stream socket bound to `sun_path` (a leading NUL: abstract) and
/// listening with `backlog`.
fn unix_listener(sun_path: &[u8], backlog: i32) -> OwnedFd {
    // SAFETY: plain syscalls on a fresh descriptor and a zeroed sockaddr_un.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        assert!(sun_path.len() <= addr.sun_path.len());
        for (d, s) in addr.sun_path.iter_mut().zip(sun_path) {
            *d = *s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + sun_path.len();
        let r = libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        );
        assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
        assert_eq!(libc::listen(fd.as_raw_fd(), backlog), 0);
        fd
    }
}

/// A UNIX stream client connected to `sun_path`, never accepted.
fn unix_connect(sun_path: &[u8]) -> OwnedFd {
    // SAFETY: as in unix_listener.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in addr.sun_path.iter_mut().zip(sun_path) {
            *d = *s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + sun_path.len();
        let r = libc::connect(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        );
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        fd
    }
}

/// A private directory, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d =
            std::env::temp_dir().join(format!("sockscope-metrics-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Every family of a known population, exactly: a full accept queue, a
/// half-open request, established pairs, TIME_WAIT to one remote,
/// CLOSE_WAIT held by a named process, outgoing connections against a
/// 100-port range.
#[test]
fn every_family_of_a_known_population() {
    Sandbox::run(|env| {
        if !private(env) || !can_run(is_root(), "not root") {
            return;
        }
        set_port_range(40000, 40099);
        let me = own_comm();
        let mut sc = Scenario::new();
        // Backlog 0, one unaccepted connection (queue 1 > backlog 0: full),
        // one client whose SYNs are dropped (SYN_SENT).
        let full = sc.syn_sent(Ipv4Addr::new(127, 0, 0, 5).into());
        // TCP_DEFER_ACCEPT: one half-open request socket.
        let defer = sc.syn_recv(Ipv4Addr::new(127, 0, 0, 6).into());
        let svc = sc.listen_v4_on(Ipv4Addr::new(127, 0, 0, 2));
        let pairs: Vec<_> = (0..3).map(|_| sc.established_pair(svc)).collect();
        let waits: Vec<_> = (0..2).map(|_| sc.time_wait(svc)).collect();
        let closer = sc.listen_v4_on(Ipv4Addr::new(127, 0, 0, 3));
        let (_leaky, orphans) = close_wait_owned_by(sc.tcp_listener(closer).unwrap(), 2, b"leaky");
        let settled = poll_until(Duration::from_secs(5), || {
            let text = metrics(env, &[]);
            value(&samples(&text), "sockscope_close_wait_sockets", &[]).is_some()
        });
        assert!(settled, "the CLOSE_WAIT sockets did not show");

        let text = metrics(env, &[]);
        let all = samples(&text);
        let state = |s: &str| {
            value(
                &all,
                "sockscope_sockets",
                &[("protocol", "tcp"), ("family", "ipv4"), ("state", s)],
            )
        };
        assert_eq!(state("listen"), Some(4.0), "{text}");
        // 1 unaccepted pair (2) + the deferred client + 3 pairs (6).
        assert_eq!(state("established"), Some(9.0), "{text}");
        assert_eq!(state("syn_sent"), Some(1.0));
        assert_eq!(state("syn_recv"), Some(1.0));
        assert_eq!(state("time_wait"), Some(2.0));
        assert_eq!(state("close_wait"), Some(2.0));
        assert_eq!(state("fin_wait2"), Some(2.0));
        assert_eq!(named(&all, "sockscope_sockets").len(), 7, "{text}");

        let listener = |name: &str, l: SocketAddr| {
            value(
                &all,
                name,
                &[
                    ("protocol", "tcp"),
                    ("address", &l.ip().to_string()),
                    ("port", &l.port().to_string()),
                    ("process", &me),
                    ("container", ""),
                ],
            )
        };
        let of = |l: SocketAddr| {
            [
                "sockscope_listener_accept_queue",
                "sockscope_listener_backlog",
                "sockscope_listener_full",
                "sockscope_listener_half_open",
                "sockscope_listener_unaccepted",
            ]
            .map(|n| listener(n, l))
        };
        let some = |v: [f64; 5]| v.map(Some);
        assert_eq!(of(full.listener), some([1.0, 0.0, 1.0, 0.0, 1.0]), "{text}");
        assert_eq!(
            of(defer.listener),
            some([0.0, 1024.0, 0.0, 1.0, 0.0]),
            "{text}"
        );
        assert_eq!(of(svc), some([0.0, 1024.0, 0.0, 0.0, 0.0]), "{text}");
        assert_eq!(of(closer), some([0.0, 1024.0, 0.0, 0.0, 0.0]), "{text}");
        // The full listener comes first.
        let first = named(&all, "sockscope_listener_full")[0];
        assert_eq!(first.labels["port"], full.listener.port().to_string());

        // Outgoing connections per destination, against 100 ports.
        assert_eq!(
            value(&all, "sockscope_ephemeral_port_range_size", &[]),
            Some(100.0)
        );
        let mut want: BTreeMap<(String, String, u16), u64> = BTreeMap::new();
        let mut add = |local: SocketAddr, dest: SocketAddr| {
            *want
                .entry((local.ip().to_string(), dest.ip().to_string(), dest.port()))
                .or_default() += 1;
        };
        for c in pairs.iter().chain(&waits) {
            add(c.client, c.listener);
        }
        for &o in &orphans {
            add(o, closer);
        }
        add(full.client, full.listener);
        add(defer.client, defer.listener);
        // The unaccepted connection's client, from 127.0.0.1 as the rest.
        add(SocketAddr::new(LO, 0), full.listener);
        let got: BTreeMap<(String, String, u16), u64> =
            named(&all, "sockscope_ephemeral_ports_used")
                .iter()
                .map(|s| {
                    (
                        (
                            s.labels["local_address"].clone(),
                            s.labels["destination_address"].clone(),
                            s.labels["destination_port"].parse().unwrap(),
                        ),
                        s.value as u64,
                    )
                })
                .collect();
        assert_eq!(got, want, "{text}");
        assert_eq!(
            got[&("127.0.0.1".into(), "127.0.0.2".into(), svc.port())],
            5
        );
        assert_eq!(
            value(
                &all,
                "sockscope_ephemeral_ports_used_ratio",
                &[("destination_address", "127.0.0.2")]
            ),
            Some(0.05)
        );

        assert_eq!(
            value(
                &all,
                "sockscope_time_wait_sockets",
                &[("remote_address", "127.0.0.2")]
            ),
            Some(2.0)
        );
        assert_eq!(named(&all, "sockscope_time_wait_sockets").len(), 1);
        assert_eq!(
            value(
                &all,
                "sockscope_close_wait_sockets",
                &[("process", "leaky"), ("container", "")]
            ),
            Some(2.0)
        );
        // The dropped SYNs of the full listener's third client.
        let overflows = value(&all, "sockscope_tcp_listen_overflows_total", &[]).unwrap();
        let drops = value(&all, "sockscope_tcp_listen_drops_total", &[]).unwrap();
        assert!(overflows >= 1.0 && drops >= overflows, "{text}");
        for own in [
            ("sockscope_scrape_sockets_read", 21.0),
            ("sockscope_kernel_reads_total", 1.0),
            ("sockscope_scrape_errors_total", 0.0),
        ] {
            assert_eq!(value(&all, own.0, &[]), Some(own.1), "{}", own.0);
        }
        assert_eq!(
            value(
                &all,
                "sockscope_series_dropped_total",
                &[("family", "sockscope_listener_accept_queue")]
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &all,
                "sockscope_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            ),
            Some(1.0)
        );
        // No tcp-info families unless asked for.
        assert!(!text.contains("# TYPE sockscope_tcp_rtt_seconds"));
        assert!(!text.contains("# TYPE sockscope_tcp_retransmitted_segments"));

        let openmetrics = metrics(env, &["--openmetrics"]);
        assert!(openmetrics.ends_with("# EOF\n"));
        assert!(!text.contains("# EOF"));
        assert!(openmetrics.contains("# TYPE sockscope_kernel_reads counter\n"));
        assert!(text.contains("# TYPE sockscope_kernel_reads_total counter\n"));
        check_with_promtool(&text, &openmetrics);

        // --tcp-info: one rtt observation per full connection socket (the
        // 9 established, the 2 CLOSE_WAIT and the SYN_SENT client),
        // retransmits per remote.
        let info = metrics(env, &["--tcp-info"]);
        let all = samples(&info);
        let count = |remote: &str| {
            value(
                &all,
                "sockscope_tcp_rtt_seconds_count",
                &[("remote_address", remote)],
            )
        };
        // To 127.0.0.2: 3 clients (TIME_WAIT has no tcp_info); to
        // 127.0.0.3 none (orphaned FIN_WAIT2 is a timewait socket); to
        // 127.0.0.5: the unaccepted client and the SYN_SENT one; to
        // 127.0.0.6: 1; to 127.0.0.1: the server sides (3 pairs, the
        // unaccepted one, the 2 CLOSE_WAIT).
        assert_eq!(count("127.0.0.2"), Some(3.0), "{info}");
        assert_eq!(count("127.0.0.3"), None, "{info}");
        assert_eq!(count("127.0.0.1"), Some(6.0), "{info}");
        assert_eq!(count("127.0.0.5"), Some(2.0), "{info}");
        assert_eq!(count("127.0.0.6"), Some(1.0), "{info}");
        let inf = value(
            &all,
            "sockscope_tcp_rtt_seconds_bucket",
            &[("remote_address", "127.0.0.2"), ("le", "+Inf")],
        );
        assert_eq!(inf, Some(3.0));
        assert!(
            value(
                &all,
                "sockscope_tcp_retransmitted_segments",
                &[("remote_address", "127.0.0.2")]
            )
            .is_some()
        );
        if let Some((ok, said)) = promtool(&info) {
            assert!(ok, "promtool on --tcp-info:\n{said}");
        }
        drop(sc);
    });
}

/// A process name and UNIX paths with an escape sequence, a newline, a
/// double quote, a backslash, a bidi override and invalid UTF-8 come out
/// as visible escapes; promtool still reads the exposition, and no raw
/// control or bidi character reaches it.
#[test]
fn hostile_names_come_out_escaped() {
    Sandbox::run(|env| {
        if !private(env) || !can_run(is_root(), "not root") {
            return;
        }
        let comm: &[u8] = b"q\"b\\s\n\x1b[2J\xe2\x80\xae\xff";
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let _child = Named::fork(comm, &[l.as_raw_fd()]);
        drop(l);
        let dir = Dir::new("hostile");
        let mut path = dir.path().as_os_str().as_encoded_bytes().to_vec();
        path.extend_from_slice(b"/a\"\\\n\x1b]0;x\x07\xe2\x80\xae\xfe");
        let _file = unix_listener(&path, 3);
        let _abstract = unix_listener(b"\0evil\"\n\x1b[31m\xe2\x80\xaez", 7);
        // Two connections waiting in the abstract listener's queue.
        let _pending: Vec<OwnedFd> = (0..2)
            .map(|_| unix_connect(b"\0evil\"\n\x1b[31m\xe2\x80\xaez"))
            .collect();

        let text = metrics(env, &[]);
        for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(bad), "raw {bad:?} in:\n{text}");
        }
        let all = samples(&text);
        let process = named(&all, "sockscope_listener_backlog")
            .into_iter()
            .find(|s| s.labels["port"] == port.to_string())
            .unwrap_or_else(|| panic!("no listener on {port}:\n{text}"))
            .labels["process"]
            .clone();
        // The exposition's own escaping undone: sockscope's visible escapes.
        assert_eq!(process, "q\"b\\\\s\\x0a\\x1b[2J\\u{202e}\u{fffd}");
        // ... as the exposition writes them.
        assert!(
            text.contains(r#"process="q\"b\\\\s\\x0a\\x1b[2J\\u{202e}�""#),
            "{text}"
        );
        let unix = |address: &str| {
            [
                "sockscope_listener_accept_queue",
                "sockscope_listener_backlog",
                "sockscope_listener_full",
                "sockscope_listener_unaccepted",
            ]
            .map(|n| {
                value(
                    &all,
                    n,
                    &[("protocol", "unix"), ("address", address), ("port", "")],
                )
            })
        };
        let shown = format!(
            "{}/a\"\\\\\\x0a\\x1b]0;x\\x07\\u{{202e}}\\xfe",
            dir.path().display()
        );
        assert_eq!(
            unix(&shown),
            [Some(0.0), Some(3.0), Some(0.0), Some(0.0)],
            "{text}"
        );
        assert_eq!(
            unix("@evil\"\\x0a\\x1b[31m\\u{202e}z"),
            [Some(2.0), Some(7.0), Some(0.0), Some(2.0)],
            "{text}"
        );
        assert_eq!(
            value(
                &all,
                "sockscope_sockets",
                &[
                    ("protocol", "unix"),
                    ("family", "unix"),
                    ("state", "listen")
                ]
            ),
            Some(2.0)
        );
        let openmetrics = metrics(env, &["--openmetrics"]);
        check_with_promtool(&text, &openmetrics);
        // -t leaves UNIX sockets out.
        let tcp = metrics(env, &["-t"]);
        assert!(!tcp.contains("protocol=\"unix\""), "{tcp}");
    });
}

/// --top keeps the N largest of each family, --max-series cuts the least
/// important families first; both count what they left out.
#[test]
fn top_and_max_series_cut_and_count() {
    Sandbox::run(|env| {
        if !private(env) || !can_run(is_root(), "not root") {
            return;
        }
        let mut sc = Scenario::new();
        // Five listeners; the one with two unaccepted connections (fill
        // 2/1000) comes first, then one with one.
        let ls: Vec<SocketAddr> = (0..5)
            .map(|_| {
                sc.listen_with(
                    SocketAddr::new(LO, 0),
                    ListenOpts {
                        backlog: 1000,
                        ..ListenOpts::default()
                    },
                )
            })
            .collect();
        sc.unaccepted(ls[3]);
        sc.unaccepted(ls[3]);
        sc.unaccepted(ls[1]);
        // TIME_WAIT to three remotes: two, one and one.
        let remotes: Vec<SocketAddr> = (2..5)
            .map(|i| sc.listen_v4_on(Ipv4Addr::new(127, 0, 1, i)))
            .collect();
        sc.time_wait(remotes[0]);
        sc.time_wait(remotes[0]);
        sc.time_wait(remotes[1]);
        sc.time_wait(remotes[2]);

        let text = metrics(env, &["--top", "2"]);
        let all = samples(&text);
        let ports: Vec<String> = named(&all, "sockscope_listener_accept_queue")
            .iter()
            .map(|s| s.labels["port"].clone())
            .collect();
        assert_eq!(ports, [ls[3].port().to_string(), ls[1].port().to_string()]);
        let tw: Vec<(String, f64)> = named(&all, "sockscope_time_wait_sockets")
            .iter()
            .map(|s| (s.labels["remote_address"].clone(), s.value))
            .collect();
        // Ties by label: 127.0.1.3 before 127.0.1.4.
        assert_eq!(tw, [("127.0.1.2".into(), 2.0), ("127.0.1.3".into(), 1.0)]);
        let dropped = |all: &[Sample], f: &str| {
            value(all, "sockscope_series_dropped_total", &[("family", f)])
        };
        // 8 listeners (5 + 3 TIME_WAIT targets) less 2; 3 remotes less 2;
        // destinations: 5 (ls[3]'s, ls[1]'s, the 3 TIME_WAIT ones) less 2.
        assert_eq!(dropped(&all, "sockscope_listener_accept_queue"), Some(6.0));
        assert_eq!(dropped(&all, "sockscope_listener_backlog"), Some(6.0));
        assert_eq!(dropped(&all, "sockscope_time_wait_sockets"), Some(1.0));
        let destinations =
            named(&metrics_samples(env, &[]), "sockscope_ephemeral_ports_used").len();
        assert_eq!(destinations, 5);
        assert_eq!(dropped(&all, "sockscope_ephemeral_ports_used"), Some(3.0));
        assert_eq!(
            dropped(&all, "sockscope_ephemeral_ports_used_ratio"),
            Some(3.0)
        );

        // --max-series: the fixed families, then 2 listeners (10 series)
        // and one more series: no destination (2 each) fits, CLOSE_WAIT has
        // none, one TIME_WAIT remote does.
        let fixed = all
            .iter()
            .filter(|s| {
                !s.name.starts_with("sockscope_listener_")
                    && !s.name.starts_with("sockscope_ephemeral_ports_used")
                    && s.name != "sockscope_time_wait_sockets"
            })
            .count();
        let max = (fixed + 11).to_string();
        let text = metrics(env, &["--max-series", &max]);
        let all = samples(&text);
        assert_eq!(all.len(), fixed + 11, "{text}");
        assert_eq!(named(&all, "sockscope_listener_accept_queue").len(), 2);
        assert_eq!(named(&all, "sockscope_ephemeral_ports_used").len(), 0);
        assert_eq!(named(&all, "sockscope_time_wait_sockets").len(), 1);
        assert_eq!(dropped(&all, "sockscope_listener_full"), Some(6.0));
        assert_eq!(dropped(&all, "sockscope_ephemeral_ports_used"), Some(5.0));
        assert_eq!(dropped(&all, "sockscope_time_wait_sockets"), Some(2.0));
        if let Some((ok, said)) = promtool(&text) {
            assert!(ok, "{said}");
        }
        drop(sc);
    });
}

fn metrics_samples(env: &Env, args: &[&str]) -> Vec<Sample> {
    samples(&metrics(env, args))
}

/// --output FILE: the exposition lands whole under FILE by a rename (a
/// reader of the old file keeps the old content), no temporary file is
/// left, and the errors name the path: a missing directory is the user's
/// (exit 2), an unwritable target the system's (exit 3).
#[test]
fn output_file_is_written_atomically() {
    Sandbox::run(|env| {
        let dir = Dir::new("output");
        let file = dir.path().join("sockscope.prom");
        std::fs::write(&file, "old\n").unwrap();
        let old = std::fs::File::open(&file).unwrap();
        let path = file.to_str().unwrap();
        let out = sockscope(env, &["metrics", "--output", path]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("# TYPE sockscope_build_info gauge"), "{text}");
        assert_eq!(
            std::io::read_to_string(&old).unwrap(),
            "old\n",
            "the old file was replaced, not rewritten"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("sockscope.prom")]);
        if let Some((ok, said)) = promtool(&text) {
            assert!(ok, "{said}");
        }

        let missing = dir.path().join("no/such/dir/x.prom");
        let out = sockscope(env, &["metrics", "--output", missing.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("no/such/dir/x.prom.tmp-"), "{err}");
        assert!(err.contains("No such file or directory"), "{err}");

        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken/inside"), "").unwrap();
        let taken = dir.path().join("taken");
        let out = sockscope(env, &["metrics", "--output", taken.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("taken: renaming the temporary file over it"),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    });
}

/// -N with two namespaces: every family of socket data carries `netns`
/// (and `container`), each namespace counted apart, TcpExt per namespace.
#[test]
fn namespaces_label_their_series() {
    if !can_run(is_root(), "not root: -N needs namespaces of its own") {
        return;
    }
    let a = TestNetns::named();
    let b = TestNetns::named();
    let (na, nb) = (a.name().unwrap().to_owned(), b.name().unwrap().to_owned());
    let la = a.enter(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let lb: Vec<TcpListener> = b.enter(|| {
        (0..2)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect()
    });
    let env = Env {
        private_ns: false,
        shared_reason: None,
    };
    let text = metrics(&env, &["-N", &na, "-N", &nb, "-t"]);
    let all = samples(&text);
    let listening = |ns: &str| {
        value(
            &all,
            "sockscope_sockets",
            &[("netns", ns), ("container", ""), ("state", "listen")],
        )
    };
    assert_eq!(listening(&na), Some(1.0), "{text}");
    assert_eq!(listening(&nb), Some(2.0), "{text}");
    let port = la.local_addr().unwrap().port().to_string();
    assert!(
        value(
            &all,
            "sockscope_listener_backlog",
            &[("netns", &na), ("port", &port)]
        )
        .is_some(),
        "{text}"
    );
    for ns in [&na, &nb] {
        assert_eq!(
            value(
                &all,
                "sockscope_tcp_listen_overflows_total",
                &[("netns", ns)]
            ),
            Some(0.0),
            "{text}"
        );
        assert!(
            value(
                &all,
                "sockscope_ephemeral_port_range_size",
                &[("netns", ns)]
            )
            .is_some()
        );
    }
    // Every sample of socket data is tagged.
    for s in &all {
        let own = s.name.starts_with("sockscope_scrape_")
            || s.name.starts_with("sockscope_kernel_")
            || s.name.starts_with("sockscope_series_")
            || s.name == "sockscope_build_info";
        assert_eq!(s.labels.contains_key("netns"), !own, "{s:?}");
    }
    if let Some((ok, said)) = promtool(&text) {
        assert!(ok, "{said}");
    }
    drop((la, lb));
}
