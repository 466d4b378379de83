//! `--ss-format` against the installed ss (iproute2 6.1), on random
//! populations in a private network namespace: listeners (IPv4, IPv6
//! v6only, dual-stack), established pairs, connections waiting unaccepted,
//! SYN_RECV (TCP_DEFER_ACCEPT), TIME_WAIT, FIN_WAIT1 with data queued,
//! CLOSE_WAIT/FIN_WAIT2, UDP bound and connected, and UNIX stream, dgram
//! and seqpacket sockets with paths and an abstract name, all held by real
//! processes. For each command line, `ss ARGS` and `sockscope --ss-format
//! ARGS` run inside the namespace; every line split on white space must
//! give the same fields in the same order (both read the same kernel
//! tables in the same order, so rows are compared in order, not as sets).
//! Only timer values may differ, by at most a second, and the tcp_info
//! time counters ([`VOLATILE`], -i). Also: a link named
//! `ss` to the binary prints the ss format.

pub mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::Scenario;
use common::netns::{NsProc, TestNetns, is_root, populate, say};

/// The command lines compared (the brief's list and filtered forms).
const ARGS: &[&[&str]] = &[
    &["-tan"],
    &["-tanp"],
    &["-tlnp"],
    &["-tulpn"],
    &["-uan"],
    &["-xa"],
    &["-xap"],
    &["-tano"],
    &["-tane"],
    &["-tlne"],
    &["-s"],
    &["-tan", "state", "established"],
    &["-tn", "state", "time-wait"],
    &["-tan4"],
    &["-tan6"],
    &["-uan4"],
    &["-tanm"],
    &["-tanoe", "-O"],
    &["-tulnH"],
    &["-tani"],
    &["-tanio"],
    &["-ta"],
    &["-uae", "--tos"],
    &["-tan", "--tos"],
    &["-tan", "--cgroup"],
    &["-tuan", "--inet-sockopt"],
    &["-tlnO", "--inet-sockopt", "-e"],
    &["-xae"],
    &["-xam"],
    &["-tanT"],
    &["-xapT"],
    // Plain ss: every table (UNIX before the inet ones), connected states.
    &["-n"],
    &["-np"],
    &["-n", "dst", "127.0.0.1"],
    &["-n", "src", "[::1]"],
];

/// tcp_info items that count time (since the last send, receive and ack;
/// busy and window-limited time of a socket sending into a zero window):
/// they grow between the two runs, so only their names are compared.
const VOLATILE: &[&str] = &[
    "lastsnd:",
    "lastrcv:",
    "lastack:",
    "busy:",
    "rwnd_limited:",
    "sndbuf_limited:",
];

/// A small xorshift generator: the population differs from run to run, and
/// the seed is printed so a failure can be replayed (SS_FORMAT_SEED).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("SS_FORMAT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        say(&format!(
            "ss_format: population seed {seed} (SS_FORMAT_SEED)"
        ));
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random inet sockets: each kind 0-2 times (listeners at least once).
fn inet_population(ns: &TestNetns, rng: &mut Rng) -> Vec<NsProc> {
    let counts: Vec<u64> = (0..12).map(|_| rng.below(3)).collect();
    let pop = populate(ns, move |sc: &mut Scenario| {
        let v4 = sc.listen_v4_any();
        let dual = sc.listen_dual();
        let v6 = sc.listen_v6_only();
        let lo6 = sc.listen_v6_loopback();
        for _ in 0..counts[0] {
            sc.established_pair(v4);
        }
        for _ in 0..counts[1] {
            sc.established_v4_to_dual(dual);
        }
        for _ in 0..counts[2] {
            sc.established_pair(lo6);
        }
        for _ in 0..counts[3] {
            sc.time_wait(v4);
        }
        for _ in 0..counts[4] {
            sc.syn_recv("127.0.0.1".parse().unwrap());
        }
        for _ in 0..counts[5] {
            sc.fin_wait1(v4);
        }
        for _ in 0..counts[6] {
            sc.close_wait_fin_wait2(v6);
        }
        for _ in 0..counts[7] {
            sc.udp_bound_v4();
        }
        for _ in 0..counts[8] {
            sc.udp_bound_dual();
        }
        for _ in 0..counts[9] {
            sc.udp_pair_v4();
        }
        for _ in 0..counts[10] {
            sc.udp_bound_v6_only_any();
        }
        // Unaccepted last: accept is FIFO on the listener.
        for _ in 0..counts[11] {
            sc.unaccepted(v4);
        }
    });
    pop.procs
}

/// A SOCK_SEQPACKET listener on `path`.
fn seqpacket_listener(path: &Path) -> OwnedFd {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: plain socket calls on a descriptor made here; the address is
    // zeroed and filled within sun_path's length.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_bytes();
        assert!(bytes.len() < addr.sun_path.len());
        for (i, b) in bytes.iter().enumerate() {
            addr.sun_path[i] = *b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len as u32),
            0
        );
        assert_eq!(libc::listen(fd, 4), 0);
        OwnedFd::from_raw_fd(fd)
    }
}

/// UNIX sockets made inside the namespace and handed to one holder.
fn unix_population(ns: &TestNetns, dir: PathBuf, rng: &mut Rng) -> NsProc {
    let pairs = rng.below(3);
    ns.enter(move || {
        let listener = UnixListener::bind(dir.join("stream.sock")).unwrap();
        let mut keep: Vec<OwnedFd> = Vec::new();
        for _ in 0..pairs {
            let client = UnixStream::connect(dir.join("stream.sock")).unwrap();
            let (server, _) = listener.accept().unwrap();
            keep.push(client.into());
            keep.push(server.into());
        }
        let abs = std::os::unix::net::SocketAddr::from_abstract_name(
            format!("sockscope-ssfmt-{}", std::process::id()).as_bytes(),
        )
        .unwrap();
        keep.push(UnixDatagram::bind_addr(&abs).unwrap().into());
        keep.push(UnixDatagram::bind(dir.join("dgram.sock")).unwrap().into());
        keep.push(UnixDatagram::unbound().unwrap().into());
        keep.push(seqpacket_listener(&dir.join("seq.sock")));
        keep.push(listener.into());
        let fds: Vec<i32> = keep.iter().map(AsRawFd::as_raw_fd).collect();
        NsProc::hold(&fds, false)
    })
}

fn run(ns: &TestNetns, program: &str, args: &[&str]) -> Output {
    let out = ns
        .exec(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `timer:(KIND,VALUE,N)` → (KIND, N, VALUE in ms).
fn timer_parts(field: &str) -> Option<(String, String, u64)> {
    let inner = field.strip_prefix("timer:(")?.strip_suffix(')')?;
    let mut parts = inner.split(',');
    let (kind, value, n) = (parts.next()?, parts.next()?, parts.next()?);
    Some((kind.to_owned(), n.to_owned(), ms_of(value)?))
}

/// ss's print_ms_timer read back: `1min30sec`, `59sec`, `1.500ms`, `048ms`,
/// `` (0).
fn ms_of(text: &str) -> Option<u64> {
    let mut ms = 0;
    let mut rest = text;
    if let Some((m, r)) = rest.split_once("min") {
        ms += m.parse::<u64>().ok()? * 60_000;
        rest = r;
    }
    if let Some((s, r)) = rest.split_once("sec") {
        ms += s.parse::<u64>().ok()? * 1000;
        rest = r;
    }
    if let Some((s, r)) = rest.split_once('.') {
        ms += s.parse::<u64>().ok()? * 1000;
        rest = r;
    }
    if let Some(m) = rest.strip_suffix("ms") {
        ms += m.parse::<u64>().ok()?;
    } else if !rest.is_empty() {
        return None;
    }
    Some(ms)
}

/// Two fields agree: equal, or both timers of the same kind and count whose
/// values differ by at most a second.
fn same_field(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if VOLATILE
        .iter()
        .any(|key| a.starts_with(key) && b.starts_with(key))
    {
        return true;
    }
    match (timer_parts(a), timer_parts(b)) {
        (Some((ka, na, va)), Some((kb, nb, vb))) => ka == kb && na == nb && va.abs_diff(vb) <= 1000,
        _ => false,
    }
}

/// Every line's fields, in order; `Err` names the first difference.
fn compare(args: &[&str], ss: &str, ours: &str) -> Result<(), String> {
    let a: Vec<&str> = ss.lines().collect();
    let b: Vec<&str> = ours.lines().collect();
    if a.len() != b.len() {
        return Err(format!(
            "{args:?}: ss printed {} lines, sockscope {}\n--- ss\n{ss}--- sockscope\n{ours}",
            a.len(),
            b.len()
        ));
    }
    for (i, (la, lb)) in a.iter().zip(&b).enumerate() {
        let fa: Vec<&str> = la.split_whitespace().collect();
        let fb: Vec<&str> = lb.split_whitespace().collect();
        // -s's `TCP:` line counts sockets machine-wide (sockets_allocated,
        // orphans: global counters every other test and process moves), so
        // only its words are compared there.
        let global = args.contains(&"-s") && la.starts_with("TCP:");
        let word = |f: &str| {
            f.trim_matches(|c: char| c.is_ascii_digit() || c == ',' || c == ')')
                .to_owned()
        };
        let differs = if global {
            fa.iter().zip(&fb).any(|(x, y)| word(x) != word(y))
        } else {
            fa.iter().zip(&fb).any(|(x, y)| !same_field(x, y))
        };
        if fa.len() != fb.len() || differs {
            return Err(format!(
                "{args:?} line {}:\n  ss:        {la}\n  sockscope: {lb}\n--- ss\n{ss}--- sockscope\n{ours}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// `ss ARGS` and `PROGRAM PREFIX ARGS` inside `ns` agree ([`compare`]);
/// tried three times, as a socket may change between the two runs (a
/// send queue still draining, a SYN-ACK retransmitted, a timer firing).
fn agree(ns: &TestNetns, program: &str, prefix: &[&str], args: &[&str]) -> Result<(), String> {
    let mut result = Ok(());
    for _ in 0..3 {
        let ss = run(ns, "ss", args);
        let mut ours_args = prefix.to_vec();
        ours_args.extend_from_slice(args);
        let ours = run(ns, program, &ours_args);
        result = compare(
            args,
            &String::from_utf8_lossy(&ss.stdout),
            &String::from_utf8_lossy(&ours.stdout),
        );
        if result.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    result
}

/// A private directory for UNIX socket paths, removed on drop.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn ss_format_matches_ss_field_for_field() {
    if !is_root() {
        common::skip(
            "ss_format: not root, so no private namespace can be made: the ss-format comparison was NOT run",
        );
        return;
    }
    let ns = TestNetns::named();
    // The namespace's default congestion control (BBR on this machine:
    // ss -i prints its bbr:(...) item).
    let mut rng = Rng::new();
    let dir = Dir(std::env::temp_dir().join(format!("sockscope-ssfmt-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let _inet = inet_population(&ns, &mut rng);
    let _unix = unix_population(&ns, dir.0.clone(), &mut rng);
    let bin = env!("CARGO_BIN_EXE_sockscope");
    let mut failures = Vec::new();
    for args in ARGS {
        if let Err(e) = agree(&ns, bin, &["--ss-format"], args) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_link_named_ss_prints_the_ss_format() {
    if !is_root() {
        common::skip(
            "ss_format: not root, so no private namespace can be made: the link test was NOT run",
        );
        return;
    }
    let ns = TestNetns::named();
    let mut rng = Rng::new();
    let _inet = inet_population(&ns, &mut rng);
    let dir =
        Dir(std::env::temp_dir().join(format!("sockscope-ssfmt-link-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let link = dir.0.join("ss");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sockscope"), &link).unwrap();
    for args in [&["-tlnp"][..], &["-tan"], &["-tane"]] {
        agree(&ns, link.to_str().unwrap(), &[], args).unwrap_or_else(|e| panic!("{e}"));
    }
    // Under its own name, the binary keeps its own table.
    let own = run(&ns, env!("CARGO_BIN_EXE_sockscope"), &["-tlnp"]);
    let own = String::from_utf8_lossy(&own.stdout);
    assert!(own.contains("sleep/") && !own.contains("users:(("), "{own}");
}
