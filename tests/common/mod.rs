//! Shared harness for sockscope's integration tests.
//!
//! Three parts:
//!
//! 1. [`Sandbox`]: runs a closure on a fresh thread that (when root) lives in its
//!    own, private network namespace with `lo` up. Sockets created on that thread,
//!    and child processes spawned from it (via [`Env::command`]), see only that
//!    namespace. Without root it falls back to the shared namespace and says so on
//!    stderr; tests then keep only their own sockets' rows ([`Scenario::ours`]).
//! 2. [`Scenario`]: builders that put loopback sockets into known TCP/UDP states
//!    (LISTEN, ESTABLISHED, SYN_RECV, SYN_SENT, FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK,
//!    CLOSING, TIME_WAIT, UDP UNCONN/ESTABLISHED, ...) and record the [`Row`]s
//!    that `ss` is expected to show for them.
//! 3. [`ss_rows`]: runs the real `ss -Hn ...` and parses its table into [`Row`]s in
//!    the canonical form shared with the sockscope side ([`canonical_endpoint`]).
//!
//! Use it with `mod common;` from any file under `tests/`.
#![allow(dead_code)]

pub mod run;

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

/// Environment variable that forces the shared-namespace fallback even as root
/// (useful to exercise the non-root code path).
pub const FORCE_SHARED_ENV: &str = "SOCKSCOPE_TEST_SHARED_NS";

/// How long builders wait for the kernel to reach an expected TCP state.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------
// Sandbox
// ---------------------------------------------------------------------------

/// What a sandboxed closure gets: whether it runs in a private namespace, and a
/// way to spawn commands that share the thread's namespace.
#[derive(Debug, Clone)]
pub struct Env {
    /// `true` when the closure runs in a fresh network namespace of its own: then
    /// every socket visible there was created by the test.
    pub private_ns: bool,
    /// Why the shared namespace is used (`None` when `private_ns`).
    pub shared_reason: Option<String>,
}

impl Env {
    /// A `Command` for `program`. It must be spawned from the sandbox thread (the
    /// one that runs the closure) so that the child inherits its namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        Command::new(program)
    }
}

/// Runs test bodies inside a private network namespace when possible.
pub struct Sandbox;

impl Sandbox {
    /// Runs `f` on a fresh thread. As root, that thread first unshares its network
    /// namespace and brings `lo` up, so `f` sees only its own sockets
    /// (`env.private_ns == true`). Otherwise (not root, `unshare` refused, or
    /// [`FORCE_SHARED_ENV`] set) one line explaining why is written to stderr and
    /// `f` runs in the shared namespace (`env.private_ns == false`).
    ///
    /// Panics inside `f` are propagated to the caller.
    pub fn run<T, F>(f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        Self::spawn(false, f)
    }

    /// Like [`Sandbox::run`] but always uses the shared namespace (for testing the
    /// fallback path as root). Prints the same one-line notice.
    pub fn run_shared<T, F>(f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        Self::spawn(true, f)
    }

    fn spawn<T, F>(force_shared: bool, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Env) -> T + Send + 'static,
    {
        raise_nofile_limit();
        let handle = std::thread::Builder::new()
            .name("sockscope-sandbox".into())
            .spawn(move || {
                let env = enter_sandbox(force_shared);
                f(&env)
            })
            .expect("spawn sandbox thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn enter_sandbox(force_shared: bool) -> Env {
    let reason = if force_shared {
        Some("shared namespace requested by the test".to_string())
    } else if std::env::var_os(FORCE_SHARED_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        Some(format!("{FORCE_SHARED_ENV} is set"))
    } else if unsafe { libc::geteuid() } != 0 {
        Some("not root".to_string())
    } else if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        Some(format!(
            "unshare(CLONE_NEWNET) failed: {}",
            io::Error::last_os_error()
        ))
    } else {
        None
    };
    match reason {
        None => {
            if let Err(e) = bring_lo_up() {
                panic!("private network namespace created but bringing lo up failed: {e}");
            }
            Env {
                private_ns: true,
                shared_reason: None,
            }
        }
        Some(reason) => {
            // Written straight to stderr (not eprintln!) so libtest's capture does
            // not hide it; once per process is enough.
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                let _ = writeln!(
                    io::stderr(),
                    "sockscope tests: {reason}: using the shared loopback namespace, \
                     results filtered to each test's own sockets"
                );
            });
            Env {
                private_ns: false,
                shared_reason: Some(reason),
            }
        }
    }
}

/// Sets `IFF_UP` on `lo` in the calling thread's network namespace (what
/// `ip link set lo up` does), with the SIOCGIFFLAGS/SIOCSIFFLAGS ioctls.
fn bring_lo_up() -> io::Result<()> {
    let fd = new_socket(libc::AF_INET, libc::SOCK_DGRAM)?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: valid fd and a properly initialised ifreq.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (once per process) and
/// returns the resulting soft limit.
pub fn raise_nofile_limit() -> libc::rlim_t {
    static RAISE: Once = Once::new();
    RAISE.call_once(|| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid pointer to an rlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0
            && lim.rlim_cur < lim.rlim_max
        {
            lim.rlim_cur = lim.rlim_max;
            // SAFETY: as above. Failure just leaves the old limit.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        }
    });
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid pointer to an rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}

// ---------------------------------------------------------------------------
// Rows and canonical formatting
// ---------------------------------------------------------------------------

/// One socket as a table row, in the canonical form both sides are converted to.
///
/// * `proto`: `"tcp"` or `"udp"`.
/// * `state`: kernel spelling: `ESTABLISHED`, `LISTEN`, `SYN_SENT`, `SYN_RECV`,
///   `FIN_WAIT1`, `FIN_WAIT2`, `TIME_WAIT`, `CLOSE_WAIT`, `LAST_ACK`, `CLOSING`,
///   `CLOSE` (tcp) and `UNCONN` (udp socket in kernel state CLOSE).
/// * `local`/`remote`: see [`canonical_endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// `"tcp"` or `"udp"`.
    pub proto: String,
    /// Kernel state name (see the type docs).
    pub state: String,
    /// Local endpoint, canonical form.
    pub local: String,
    /// Remote endpoint, canonical form.
    pub remote: String,
}

impl Row {
    /// Builds a row from its four parts (taken as given: no normalisation).
    pub fn new(proto: &str, state: &str, local: &str, remote: &str) -> Row {
        Row {
            proto: proto.to_string(),
            state: state.to_string(),
            local: local.to_string(),
            remote: remote.to_string(),
        }
    }

    /// Builds a row from socket addresses, formatting them canonically.
    pub fn from_addrs(proto: &str, state: &str, local: SocketAddr, remote: SocketAddr) -> Row {
        Row::new(
            proto,
            state,
            &canonical_addr(local),
            &canonical_addr(remote),
        )
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} -> {}",
            self.proto, self.state, self.local, self.remote
        )
    }
}

/// Canonical `ADDR:PORT` text: IPv4 plain (`127.0.0.1:80`), IPv6 in brackets with
/// `Ipv6Addr`'s Display (`[::1]:80`, `[::ffff:127.0.0.1]:80`), port 0 as `0`.
pub fn canonical_ip(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// [`canonical_ip`] for a `SocketAddr` (scope id and flow info are dropped).
pub fn canonical_addr(addr: SocketAddr) -> String {
    canonical_ip(addr.ip(), addr.port())
}

/// Canonical endpoint from an address text and a port.
///
/// `addr` may be `127.0.0.1`, `::1`, `[::1]`, `::ffff:127.0.0.1`, ss's `*`
/// (meaning the IPv6 wildcard, canonicalised to `[::]`), and may carry a
/// `%ifname`/`%scope` suffix, which is dropped. Panics on anything else.
pub fn canonical_endpoint(addr: &str, port: u16) -> String {
    match parse_host(addr) {
        Ok(ip) => canonical_ip(ip, port),
        Err(e) => panic!("canonical_endpoint: {e}"),
    }
}

fn parse_host(host: &str) -> Result<IpAddr, String> {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unbalanced '[' in address {host:?}"))?;
        if !after.is_empty() && !after.starts_with('%') {
            return Err(format!("junk after ']' in address {host:?}"));
        }
        inner
    } else {
        host
    };
    let bare = bare.split_once('%').map_or(bare, |(h, _)| h);
    if bare == "*" {
        return Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    bare.parse::<IpAddr>()
        .map_err(|e| format!("bad address {host:?}: {e}"))
}

/// Parses one of ss's `ADDR:PORT` columns (`127.0.0.1:5000`, `[::1]:5000`,
/// `*:5004`, `0.0.0.0:*`, `127.0.0.1%lo:53`, `[::1]%lo:53`, `*:*`) into the
/// canonical form.
pub fn parse_ss_endpoint(token: &str) -> Result<String, String> {
    let (host, port) = token
        .rsplit_once(':')
        .ok_or_else(|| format!("no ':' in endpoint {token:?}"))?;
    let port: u16 = if port == "*" {
        0
    } else {
        port.parse()
            .map_err(|e| format!("bad port in endpoint {token:?}: {e}"))?
    };
    Ok(canonical_ip(parse_host(host)?, port))
}

/// Maps one of ss's state names (`ESTAB`, `SYN-RECV`, `UNCONN`, ...) to the kernel
/// spelling used in [`Row::state`]. `UNCONN` becomes `UNCONN` for udp and `CLOSE`
/// for anything else.
pub fn kernel_state_from_ss(proto: &str, ss_state: &str) -> Option<&'static str> {
    Some(match ss_state {
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN_SENT",
        "SYN-RECV" => "SYN_RECV",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "TIME-WAIT" => "TIME_WAIT",
        "UNCONN" if proto == "udp" => "UNCONN",
        "UNCONN" => "CLOSE",
        "CLOSE-WAIT" => "CLOSE_WAIT",
        "LAST-ACK" => "LAST_ACK",
        "LISTEN" => "LISTEN",
        "CLOSING" => "CLOSING",
        _ => return None,
    })
}

/// Kernel state name for a numeric TCP state (`/proc/net/tcp`'s `st`, inet_diag's
/// `idiag_state`). State 7 (CLOSE) is `CLOSE` for tcp and `UNCONN` for udp.
pub fn kernel_state_from_number(proto: &str, state: u8) -> Option<&'static str> {
    Some(match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 | 12 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 if proto == "udp" => "UNCONN",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => return None,
    })
}

/// A human-readable diff of two row multisets (empty string when equal).
pub fn diff_rows(expected: &[Row], actual: &[Row]) -> String {
    let mut exp: Vec<&Row> = expected.iter().collect();
    let mut act: Vec<&Row> = actual.iter().collect();
    exp.sort();
    act.sort();
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < exp.len() || j < act.len() {
        match (exp.get(i), act.get(j)) {
            (Some(e), Some(a)) if e == a => {
                i += 1;
                j += 1;
            }
            (Some(e), Some(a)) if e < a => {
                out.push_str(&format!("  missing: {e}\n"));
                i += 1;
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                out.push_str(&format!("  extra:   {a}\n"));
                j += 1;
            }
            (Some(e), None) => {
                out.push_str(&format!("  missing: {e}\n"));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

// ---------------------------------------------------------------------------
// ss runner and parser
// ---------------------------------------------------------------------------

/// Runs `ss -H -n <args>` (from the calling thread, so inside the sandbox's
/// namespace) and parses its rows; sorted. Panics if ss fails or prints
/// something unparsable. Only tcp and udp rows are supported.
///
/// Example: `ss_rows(env, &["-tua"])`.
pub fn ss_rows(env: &Env, args: &[&str]) -> Vec<Row> {
    let out = env
        .command("ss")
        .arg("-H")
        .arg("-n")
        .args(args)
        .output()
        .expect("failed to run ss");
    assert!(
        out.status.success(),
        "ss -Hn {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    match parse_ss_output(args, &text) {
        Ok(mut rows) => {
            rows.sort();
            rows
        }
        Err(e) => panic!(
            "parsing `ss -Hn {}`: {e}\n--- output ---\n{text}",
            args.join(" ")
        ),
    }
}

/// [`ss_rows`] as a set (duplicates collapse; use [`ss_rows`] when counts matter).
pub fn ss_row_set(env: &Env, args: &[&str]) -> BTreeSet<Row> {
    ss_rows(env, args).into_iter().collect()
}

/// Parses the output of `ss -H -n <args>` (no header). `args` are only consulted
/// when a column is missing: without a Netid column (one protocol selected) the
/// protocol comes from `-t`/`-u`; without a State column (one state selected) the
/// state comes from `state NAME` or from ss's defaults (`ss -u` without `-a`/`-l`
/// lists connected sockets only). Continuation lines (starting with whitespace,
/// e.g. from `-i`) are skipped, as is anything after the peer column (Process,
/// `-e`, `-o` extras).
pub fn parse_ss_output(args: &[&str], text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with(char::is_whitespace) {
            continue;
        }
        rows.push(parse_ss_line(args, line).map_err(|e| format!("{e} in line {line:?}"))?);
    }
    Ok(rows)
}

fn is_ss_state(tok: &str) -> bool {
    kernel_state_from_ss("tcp", tok).is_some() || tok == "UNKNOWN"
}

fn parse_ss_line(args: &[&str], line: &str) -> Result<Row, String> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let mut i = 0;
    let first = *toks.first().ok_or("empty line")?;
    let proto = if !is_ss_state(first) && first.parse::<u64>().is_err() {
        i += 1;
        first.to_string()
    } else {
        implied_proto(args)?.to_string()
    };
    if proto != "tcp" && proto != "udp" {
        return Err(format!("unsupported netid {proto:?} (only tcp and udp)"));
    }
    let tok = |i: usize| -> Result<&str, String> {
        toks.get(i)
            .copied()
            .ok_or_else(|| "too few columns".to_string())
    };
    let state = if is_ss_state(tok(i)?) {
        i += 1;
        kernel_state_from_ss(&proto, tok(i - 1)?)
            .ok_or_else(|| format!("unknown state {:?}", tok(i - 1).unwrap_or("")))?
            .to_string()
    } else {
        implied_state(args, &proto)?.to_string()
    };
    for what in ["Recv-Q", "Send-Q"] {
        tok(i)?
            .parse::<u64>()
            .map_err(|_| format!("expected a number for {what}, got {:?}", tok(i)))?;
        i += 1;
    }
    let local = parse_ss_endpoint(tok(i)?)?;
    let remote = parse_ss_endpoint(tok(i + 1)?)?;
    Ok(Row {
        proto,
        state,
        local,
        remote,
    })
}

/// Which protocol tables the ss arguments select (only what matters here).
#[derive(Default)]
struct Selected {
    tcp: bool,
    udp: bool,
    other: bool,
}

fn selected_protocols(args: &[&str]) -> Selected {
    let mut sel = Selected::default();
    let query = |list: &str, sel: &mut Selected| {
        for q in list.split(',') {
            match q.trim_start_matches('!') {
                "tcp" => sel.tcp = true,
                "udp" => sel.udp = true,
                _ => sel.other = true,
            }
        }
    };
    let mut it = args.iter();
    while let Some(&arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            match long {
                "tcp" => sel.tcp = true,
                "udp" => sel.udp = true,
                "raw" | "unix" | "dccp" | "sctp" | "mptcp" | "packet" | "vsock" | "tipc"
                | "xdp" | "inet-sockopt" => sel.other = true,
                "query" | "socket" => {
                    if let Some(v) = it.next() {
                        query(v, &mut sel);
                    }
                }
                _ => {
                    if let Some(v) = long
                        .strip_prefix("query=")
                        .or_else(|| long.strip_prefix("socket="))
                    {
                        query(v, &mut sel);
                    }
                }
            }
        } else if let Some(short) = arg.strip_prefix('-') {
            for (pos, c) in short.char_indices() {
                match c {
                    't' => sel.tcp = true,
                    'u' => sel.udp = true,
                    'w' | 'x' | 'd' | 'S' | 'M' | '0' => sel.other = true,
                    'A' => {
                        let rest = &short[pos + 1..];
                        if rest.is_empty() {
                            if let Some(v) = it.next() {
                                query(v, &mut sel);
                            }
                        } else {
                            query(rest, &mut sel);
                        }
                        break;
                    }
                    // Options whose value is the rest of the word or the next arg.
                    'f' | 'F' | 'N' => {
                        if short[pos + 1..].is_empty() {
                            it.next();
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    sel
}

fn implied_proto(args: &[&str]) -> Result<&'static str, String> {
    let sel = selected_protocols(args);
    match (sel.tcp, sel.udp, sel.other) {
        (true, false, false) => Ok("tcp"),
        (false, true, false) => Ok("udp"),
        _ => Err(
            "row has no Netid column and the arguments do not select exactly one of \
                  -t/-u"
                .to_string(),
        ),
    }
}

fn implied_state(args: &[&str], proto: &str) -> Result<&'static str, String> {
    let words: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut named = Vec::new();
    for w in words.windows(2) {
        if w[0] == "state" {
            named.push(w[1]);
        }
    }
    let unknown = || {
        format!(
            "row has no State column and the state cannot be inferred from the \
             arguments {args:?}"
        )
    };
    if words.contains(&"exclude") || named.len() > 1 {
        return Err(unknown());
    }
    if let Some(&name) = named.first() {
        return Ok(match name {
            "established" => "ESTABLISHED",
            "syn-sent" => "SYN_SENT",
            "syn-recv" => "SYN_RECV",
            "fin-wait-1" => "FIN_WAIT1",
            "fin-wait-2" => "FIN_WAIT2",
            "time-wait" => "TIME_WAIT",
            "closed" if proto == "udp" => "UNCONN",
            "closed" => "CLOSE",
            "close-wait" => "CLOSE_WAIT",
            "last-ack" => "LAST_ACK",
            "listening" if proto == "tcp" => "LISTEN",
            "closing" => "CLOSING",
            _ => return Err(unknown()),
        });
    }
    let all_or_listening = args.iter().any(|a| {
        *a == "--all"
            || *a == "--listening"
            || (a.starts_with('-') && !a.starts_with("--") && (a.contains('a') || a.contains('l')))
    });
    let sel = selected_protocols(args);
    if !all_or_listening && sel.udp && !sel.tcp && !sel.other {
        // `ss -u` without -a/-l: only connected UDP sockets, state column omitted.
        return Ok("ESTABLISHED");
    }
    Err(unknown())
}

// ---------------------------------------------------------------------------
// /proc/thread-self/net/{tcp,tcp6}: a second view used to wait for states
// ---------------------------------------------------------------------------

/// The calling thread's TCP sockets as listed in `/proc/thread-self/net/tcp` and
/// `tcp6` (that is, in the thread's network namespace): listeners, connections,
/// TIME_WAIT/orphaned FIN_WAIT2 and SYN_RECV request sockets. Unsorted.
pub fn proc_tcp_rows() -> io::Result<Vec<Row>> {
    proc_tcp_rows_on_ports(None)
}

/// [`proc_tcp_rows`] restricted to sockets whose local port is in `ports` (cheap
/// pre-filter, useful in a busy shared namespace).
pub fn proc_tcp_rows_on_ports(ports: Option<&BTreeSet<u16>>) -> io::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for file in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))?;
        for line in text.lines().skip(1) {
            let mut it = line.split_whitespace();
            let f: [&str; 4] = match [it.next(), it.next(), it.next(), it.next()] {
                [Some(a), Some(b), Some(c), Some(d)] => [a, b, c, d],
                _ => continue,
            };
            if let Some(ports) = ports {
                let local_port = f[1]
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
                if !local_port.is_some_and(|p| ports.contains(&p)) {
                    continue;
                }
            }
            let (Some(local), Some(remote), Ok(st)) = (
                parse_proc_endpoint(f[1]),
                parse_proc_endpoint(f[2]),
                u8::from_str_radix(f[3], 16),
            ) else {
                continue;
            };
            let state = kernel_state_from_number("tcp", st).unwrap_or("UNKNOWN");
            rows.push(Row::new("tcp", state, &local, &remote));
        }
    }
    Ok(rows)
}

fn parse_proc_endpoint(field: &str) -> Option<String> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // Each 8-digit group is a 32-bit word of the address as it sits in memory.
    let mut bytes = Vec::with_capacity(16);
    for k in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(k..k + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?)),
        _ => return None,
    };
    Some(canonical_ip(ip, port))
}

/// Polls (bounded by `timeout`) until every row in `present` is listed in
/// `/proc/thread-self/net/tcp*` with its state, and no (local, remote) pair in
/// `absent` is listed at all. Returns a description of the last mismatch on
/// timeout.
pub fn wait_for_tcp(
    present: &[Row],
    absent: &[(String, String)],
    timeout: Duration,
) -> Result<(), String> {
    let ports: BTreeSet<u16> = present
        .iter()
        .map(|r| r.local.as_str())
        .chain(absent.iter().map(|(l, _)| l.as_str()))
        .filter_map(endpoint_port)
        .collect();
    let start = Instant::now();
    let mut delay = Duration::from_millis(1);
    loop {
        let rows = proc_tcp_rows_on_ports(Some(&ports))
            .map_err(|e| format!("reading /proc/thread-self/net/tcp: {e}"))?;
        let missing: Vec<&Row> = present.iter().filter(|r| !rows.contains(r)).collect();
        let lingering: Vec<&Row> = rows
            .iter()
            .filter(|r| absent.iter().any(|(l, p)| *l == r.local && *p == r.remote))
            .collect();
        if missing.is_empty() && lingering.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            let seen: Vec<String> = missing
                .iter()
                .flat_map(|m| {
                    rows.iter()
                        .filter(|r| r.local == m.local && r.remote == m.remote)
                        .map(|r| r.to_string())
                })
                .collect();
            return Err(format!(
                "after {timeout:?}: missing {missing:?} (same endpoints seen as {seen:?}), \
                 still present {lingering:?}"
            ));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

/// Polls `f` until it returns true, at most `timeout`; returns the last result.
pub fn poll_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    let mut delay = Duration::from_millis(1);
    loop {
        if f() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// Low-level socket helpers (libc for options that must be set before bind/listen)
// ---------------------------------------------------------------------------

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn new_socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is owned right away.
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: fd is a fresh, valid descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: pointer/length describe a valid c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn family(addr: SocketAddr) -> libc::c_int {
    if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    }
}

/// Options for [`Scenario::listen_with`].
#[derive(Debug, Clone, Copy)]
pub struct ListenOpts {
    /// IPV6_V6ONLY for IPv6 listeners (`None`: system default).
    pub v6only: Option<bool>,
    /// TCP_DEFER_ACCEPT in seconds.
    pub defer_accept_secs: Option<i32>,
    /// listen(2) backlog.
    pub backlog: i32,
}

impl Default for ListenOpts {
    fn default() -> Self {
        ListenOpts {
            v6only: None,
            defer_accept_secs: None,
            backlog: 1024,
        }
    }
}

fn make_tcp_listener(addr: SocketAddr, opts: ListenOpts) -> io::Result<TcpListener> {
    let fd = new_socket(family(addr), libc::SOCK_STREAM)?;
    let raw = fd.as_raw_fd();
    if let (Some(v6only), true) = (opts.v6only, addr.is_ipv6()) {
        set_int_opt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v6only as libc::c_int,
        )?;
    }
    if let Some(secs) = opts.defer_accept_secs {
        set_int_opt(raw, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, secs)?;
    }
    let (sa, len) = to_sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr.
    cvt(unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_storage).cast(), len) })?;
    // SAFETY: plain syscall on a valid fd.
    cvt(unsafe { libc::listen(raw, opts.backlog) })?;
    Ok(TcpListener::from(fd))
}

fn make_udp_socket(
    addr: SocketAddr,
    v6only: Option<bool>,
    device: Option<&str>,
) -> io::Result<UdpSocket> {
    let fd = new_socket(family(addr), libc::SOCK_DGRAM)?;
    let raw = fd.as_raw_fd();
    if let (Some(v6only), true) = (v6only, addr.is_ipv6()) {
        set_int_opt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v6only as libc::c_int,
        )?;
    }
    if let Some(dev) = device {
        // SAFETY: pointer/length describe the device name bytes.
        cvt(unsafe {
            libc::setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                dev.as_ptr().cast(),
                dev.len() as libc::socklen_t,
            )
        })?;
    }
    let (sa, len) = to_sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr.
    cvt(unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(UdpSocket::from(fd))
}

/// Starts a non-blocking connect; returns the socket (still connecting).
fn connect_nonblocking(target: SocketAddr) -> io::Result<TcpStream> {
    let fd = new_socket(family(target), libc::SOCK_STREAM | libc::SOCK_NONBLOCK)?;
    let (sa, len) = to_sockaddr(target);
    // SAFETY: sa/len describe a valid sockaddr.
    let ret = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
    }
    Ok(TcpStream::from(fd))
}

/// Waits up to `ms` milliseconds for `fd` to become writable.
fn poll_writable(fd: RawFd, ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = cvt(unsafe { libc::poll(&mut pfd, 1, ms) })?;
    Ok(n > 0)
}

/// Writes into `stream` until the peer's receive window and our send buffer are
/// full (the peer must not be reading), so that data and any later FIN stay
/// queued. Bounded by 64 MiB and 5 s. Returns the bytes written.
pub fn fill_send_buffer(stream: &TcpStream) -> io::Result<usize> {
    set_int_opt(
        stream.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_SNDBUF,
        16 * 1024,
    )?;
    stream.set_nonblocking(true)?;
    let chunk = [0x5au8; 16 * 1024];
    let mut total = 0usize;
    let start = Instant::now();
    let mut writer = stream;
    let result = loop {
        if total > 64 << 20 || start.elapsed() > Duration::from_secs(5) {
            break Err(io::Error::other(format!(
                "send buffer never filled ({total} bytes written): is the peer reading?"
            )));
        }
        match writer.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Full for 100 ms: the window is closed and the queue is stuck.
                match poll_writable(stream.as_raw_fd(), 100) {
                    Ok(false) => break Ok(total),
                    Ok(true) => {}
                    Err(e) => break Err(e),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    result
}

// ---------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------

enum Holder {
    Listener(TcpListener),
    Stream(TcpStream),
    Udp(UdpSocket),
    Fd(OwnedFd),
}

impl Holder {
    fn raw_fd(&self) -> RawFd {
        match self {
            Holder::Listener(l) => l.as_raw_fd(),
            Holder::Stream(s) => s.as_raw_fd(),
            Holder::Udp(u) => u.as_raw_fd(),
            Holder::Fd(f) => f.as_raw_fd(),
        }
    }
}

/// One socket a [`Scenario`] expects to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The row it should produce.
    pub row: Row,
    /// The descriptor in this process that owns it, or `None` when no process
    /// owns it (TIME_WAIT, orphaned FIN_WAIT2, SYN_RECV request sockets and
    /// connections still in a listener's accept queue; ss shows inode 0 there).
    pub fd: Option<RawFd>,
    /// `false` for sockets ss 6.1 never lists (a TCP socket that is only bound).
    pub ss_visible: bool,
}

/// A listener known to a scenario.
struct ListenerInfo {
    addr: SocketAddr,
    holder: usize,
    pending: usize,
    defer_accept: bool,
}

/// The two ends of a TCP connection built by a [`Scenario`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// Client's local address.
    pub client: SocketAddr,
    /// Server side's local address (for an IPv4 client of a dual-stack listener
    /// this is the v4-mapped `[::ffff:127.0.0.1]:port`).
    pub server: SocketAddr,
    /// The listener the connection was made to.
    pub listener: SocketAddr,
}

/// A set of loopback sockets in known states plus the rows `ss` should show for
/// them. Keeps every descriptor open until dropped. Build it on the sandbox
/// thread (sockets join the namespace of the thread that creates them). Every
/// port is ephemeral, so scenarios in the shared namespace do not collide.
#[derive(Default)]
pub struct Scenario {
    holders: Vec<Holder>,
    expected: Vec<Expected>,
    listeners: Vec<ListenerInfo>,
    index: OnceCell<HashMap<String, Vec<(String, String)>>>,
}

fn wildcard_peer(local: SocketAddr) -> SocketAddr {
    match local {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// Address a client should connect to for a listener bound to `addr`.
fn connect_target(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// The address as an IPv6 socket sees it: v4 becomes v4-mapped when `v6` is set.
fn as_seen_by(addr: SocketAddr, v6: bool) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if v6 => SocketAddr::new(IpAddr::V6(a.ip().to_ipv6_mapped()), a.port()),
        other => other,
    }
}

fn settle(present: &[Row], absent: &[(String, String)], what: &str) {
    if let Err(e) = wait_for_tcp(present, absent, SETTLE_TIMEOUT) {
        panic!("{what}: kernel did not reach the expected states: {e}");
    }
}

impl Scenario {
    /// An empty scenario.
    pub fn new() -> Scenario {
        Scenario::default()
    }

    fn hold(&mut self, h: Holder) -> usize {
        self.holders.push(h);
        self.holders.len() - 1
    }

    fn expect(&mut self, row: Row, fd: Option<RawFd>) -> Row {
        self.push_expected(Expected {
            row: row.clone(),
            fd,
            ss_visible: true,
        });
        row
    }

    fn push_expected(&mut self, e: Expected) {
        self.expected.push(e);
        self.index = OnceCell::new();
    }

    fn listener_mut(&mut self, addr: SocketAddr) -> &mut ListenerInfo {
        self.listeners
            .iter_mut()
            .find(|l| l.addr == addr)
            .unwrap_or_else(|| panic!("{addr} is not a listener of this scenario"))
    }

    fn listener_ref(&self, addr: SocketAddr) -> &TcpListener {
        let l = self
            .listeners
            .iter()
            .find(|l| l.addr == addr)
            .unwrap_or_else(|| panic!("{addr} is not a listener of this scenario"));
        match &self.holders[l.holder] {
            Holder::Listener(t) => t,
            _ => unreachable!("listener holder"),
        }
    }

    // ----- listeners -------------------------------------------------------

    /// A TCP listener on `addr` (use port 0) with `opts`; returns its bound address.
    /// Expected row: `LISTEN addr -> 0.0.0.0:0` (or `[::]:0`).
    pub fn listen_with(&mut self, addr: SocketAddr, opts: ListenOpts) -> SocketAddr {
        let l = make_tcp_listener(addr, opts)
            .unwrap_or_else(|e| panic!("listen on {addr} ({opts:?}): {e}"));
        let local = l.local_addr().expect("listener local_addr");
        let fd = l.as_raw_fd();
        let holder = self.hold(Holder::Listener(l));
        self.listeners.push(ListenerInfo {
            addr: local,
            holder,
            pending: 0,
            defer_accept: opts.defer_accept_secs.is_some(),
        });
        self.expect(
            Row::from_addrs("tcp", "LISTEN", local, wildcard_peer(local)),
            Some(fd),
        );
        local
    }

    /// Listener on `127.0.0.1:0`.
    pub fn listen_v4(&mut self) -> SocketAddr {
        self.listen_v4_on(Ipv4Addr::LOCALHOST)
    }

    /// Listener on `ip:0` (any 127.0.0.0/8 address works on `lo`).
    pub fn listen_v4_on(&mut self, ip: Ipv4Addr) -> SocketAddr {
        self.listen_with(SocketAddr::new(ip.into(), 0), ListenOpts::default())
    }

    /// Listener on `0.0.0.0:0` (ss: `0.0.0.0:P`); clients connect via 127.0.0.1.
    pub fn listen_v4_any(&mut self) -> SocketAddr {
        self.listen_v4_on(Ipv4Addr::UNSPECIFIED)
    }

    /// Listener on `[::1]:0`.
    pub fn listen_v6_loopback(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0),
            ListenOpts {
                v6only: Some(true),
                ..ListenOpts::default()
            },
        )
    }

    /// Listener on `[::]:0` with IPV6_V6ONLY=1 (ss: `[::]:P`).
    pub fn listen_v6_only(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            ListenOpts {
                v6only: Some(true),
                ..ListenOpts::default()
            },
        )
    }

    /// Dual-stack listener on `[::]:0` with IPV6_V6ONLY=0 (ss: `*:P`, canonical
    /// `[::]:P`: the canonical form does not distinguish it from v6-only).
    pub fn listen_dual(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            ListenOpts {
                v6only: Some(false),
                ..ListenOpts::default()
            },
        )
    }

    // ----- connections -----------------------------------------------------

    fn connect_blocking(target: SocketAddr) -> TcpStream {
        TcpStream::connect_timeout(&target, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to {target}: {e}"))
    }

    /// Accepts the connection whose peer is `client` (bounded wait).
    fn accept_from(&mut self, listener: SocketAddr, client: SocketAddr) -> TcpStream {
        let info = self.listener_mut(listener);
        assert!(
            info.pending == 0,
            "listener {listener} has {} unaccepted connection(s) queued; accept() is FIFO, \
             so use a separate listener for accepted pairs",
            info.pending
        );
        assert!(
            !info.defer_accept,
            "listener {listener} uses TCP_DEFER_ACCEPT; connections without data are never \
             accepted"
        );
        let l = self.listener_ref(listener);
        l.set_nonblocking(true).expect("listener nonblocking");
        let start = Instant::now();
        let accepted = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(
                        start.elapsed() < Duration::from_secs(5),
                        "accept on {listener}: nothing arrived within 5 s"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("accept on {listener}: {e}"),
            }
        };
        l.set_nonblocking(false).expect("listener blocking");
        accepted.set_nonblocking(false).expect("accepted blocking");
        let peer = accepted.peer_addr().expect("accepted peer_addr");
        assert_eq!(
            canonical_addr(peer),
            canonical_addr(as_seen_by(client, listener.is_ipv6())),
            "accept on {listener} returned an unexpected connection"
        );
        accepted
    }

    /// Connects to `listener` via `target` and accepts; returns both streams and the
    /// addresses (no rows recorded).
    fn raw_pair(
        &mut self,
        listener: SocketAddr,
        target: SocketAddr,
    ) -> (TcpStream, TcpStream, Conn) {
        let client = Self::connect_blocking(target);
        let client_addr = client.local_addr().expect("client local_addr");
        let server = self.accept_from(listener, client_addr);
        let server_addr = server.local_addr().expect("server local_addr");
        (
            client,
            server,
            Conn {
                client: client_addr,
                server: server_addr,
                listener,
            },
        )
    }

    fn conn_rows(conn: &Conn, client_state: &str, server_state: &str) -> (Row, Row) {
        let client_peer = as_seen_by(conn.server, false);
        // The client's view of the server: for a v4 client of a dual listener the
        // server's local address is mapped, the client sees plain v4.
        let client_peer = match (conn.client, client_peer) {
            (SocketAddr::V4(_), SocketAddr::V6(s)) => match s.ip().to_ipv4_mapped() {
                Some(v4) => SocketAddr::new(v4.into(), s.port()),
                None => client_peer,
            },
            _ => client_peer,
        };
        (
            Row::from_addrs("tcp", client_state, conn.client, client_peer),
            Row::from_addrs(
                "tcp",
                server_state,
                conn.server,
                as_seen_by(conn.client, conn.server.is_ipv6()),
            ),
        )
    }

    /// Connect + accept: both sides ESTABLISHED, both owned by this process.
    /// Connects to the listener's own address, or loopback for a wildcard one.
    pub fn established_pair(&mut self, listener: SocketAddr) -> Conn {
        self.established_pair_via(listener, connect_target(listener).ip())
    }

    /// [`Scenario::established_pair`] connecting to `ip` (e.g. 127.0.0.1 for a
    /// dual-stack listener: the server side then shows `[::ffff:127.0.0.1]`).
    pub fn established_pair_via(&mut self, listener: SocketAddr, ip: IpAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, SocketAddr::new(ip, listener.port()));
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "ESTABLISHED");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow, Some(cfd));
        self.expect(srow, Some(sfd));
        conn
    }

    /// IPv4 client (127.0.0.1) to a dual-stack listener ([`Scenario::listen_dual`]).
    pub fn established_v4_to_dual(&mut self, listener: SocketAddr) -> Conn {
        self.established_pair_via(listener, Ipv4Addr::LOCALHOST.into())
    }

    /// Connect, never accept: client ESTABLISHED (owned); server side ESTABLISHED,
    /// sitting in the accept queue, inode 0 / no owner. Later accepted pairs on
    /// the same listener are refused (accept is FIFO).
    pub fn unaccepted(&mut self, listener: SocketAddr) -> Conn {
        let target = connect_target(listener);
        let client = Self::connect_blocking(target);
        let client_addr = client.local_addr().expect("client local_addr");
        let conn = Conn {
            client: client_addr,
            server: as_seen_by(target, listener.is_ipv6()),
            listener,
        };
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "ESTABLISHED");
        self.listener_mut(listener).pending += 1;
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), None);
        settle(&[crow, srow], &[], "unaccepted");
        conn
    }

    /// A dedicated listener on `ip` with TCP_DEFER_ACCEPT (300 s) and a client that
    /// connects and sends nothing: client ESTABLISHED (owned); server side stays a
    /// SYN_RECV request socket (no owner) for minutes; listener LISTEN.
    pub fn syn_recv(&mut self, ip: IpAddr) -> Conn {
        let listener = self.listen_with(
            SocketAddr::new(ip, 0),
            ListenOpts {
                v6only: Some(true),
                defer_accept_secs: Some(300),
                ..ListenOpts::default()
            },
        );
        let client = Self::connect_blocking(listener);
        let conn = Conn {
            client: client.local_addr().expect("client local_addr"),
            server: listener,
            listener,
        };
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "SYN_RECV");
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), None);
        settle(&[crow, srow], &[], "syn_recv");
        conn
    }

    /// A dedicated listener on `ip` with backlog 0 whose accept queue is filled by
    /// one unaccepted connection (both ESTABLISHED), then a non-blocking connect
    /// whose SYNs are dropped: that client stays SYN_SENT (owned) until the
    /// kernel gives up (~2 min with tcp_syn_retries=6). Returns the SYN_SENT one.
    pub fn syn_sent(&mut self, ip: IpAddr) -> Conn {
        let listener = self.listen_with(
            SocketAddr::new(ip, 0),
            ListenOpts {
                v6only: Some(true),
                backlog: 0,
                ..ListenOpts::default()
            },
        );
        self.unaccepted(listener);
        let client = connect_nonblocking(listener)
            .unwrap_or_else(|e| panic!("non-blocking connect to {listener}: {e}"));
        let conn = Conn {
            client: client.local_addr().expect("client local_addr"),
            server: listener,
            listener,
        };
        let (crow, _) = Self::conn_rows(&conn, "SYN_SENT", "-");
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        settle(&[crow], &[], "syn_sent");
        conn
    }

    /// Accepted pair, then the client half-closes (`shutdown(Write)`, keeping its
    /// fd): client FIN_WAIT2 (owned, no timeout), server CLOSE_WAIT (owned).
    pub fn close_wait_fin_wait2(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "close_wait_fin_wait2");
        conn
    }

    /// Accepted pair, then the client close()s: client becomes an orphaned
    /// FIN_WAIT2 (kept as a timewait-type socket: no owner, inode 0, gone after
    /// tcp_fin_timeout = 60 s); server CLOSE_WAIT (owned).
    pub fn orphan_fin_wait2(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        drop(client);
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        let sfd = server.as_raw_fd();
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), None);
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "orphan_fin_wait2");
        conn
    }

    /// Accepted pair; the client closes first, then the server: the client side
    /// ends in TIME_WAIT (no owner, 60 s), the server side disappears. Waits (≤ 2 s)
    /// until that is visible.
    pub fn time_wait(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        drop(client);
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        settle(&[crow, srow.clone()], &[], "time_wait (first close)");
        drop(server);
        let (crow, _) = Self::conn_rows(&conn, "TIME_WAIT", "-");
        self.expect(crow.clone(), None);
        settle(&[crow], &[(srow.local, srow.remote)], "time_wait");
        conn
    }

    /// Accepted pair where the server does not read, the client fills its send
    /// queue and then half-closes: the FIN stays queued behind the data, so the
    /// client stays FIN_WAIT1 (owned) and the server ESTABLISHED (owned).
    pub fn fin_wait1(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&client).expect("fill client send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT1", "ESTABLISHED");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "fin_wait1");
        conn
    }

    /// Accepted pair where the client does not read and the server fills its send
    /// queue; the client half-closes (server CLOSE_WAIT), then the server
    /// half-closes with its FIN stuck behind the data: server LAST_ACK (owned),
    /// client FIN_WAIT2 (owned).
    pub fn last_ack(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&server).expect("fill server send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        settle(&[crow, srow], &[], "last_ack (client FIN)");
        server.shutdown(Shutdown::Write).expect("server shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "LAST_ACK");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "last_ack");
        conn
    }

    /// Simultaneous close: the client's FIN is stuck behind unsent data (server
    /// not reading) while the server's FIN goes through: client CLOSING (owned),
    /// server FIN_WAIT2 (owned).
    pub fn closing(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&client).expect("fill client send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        server.shutdown(Shutdown::Write).expect("server shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "CLOSING", "FIN_WAIT2");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "closing");
        conn
    }

    /// A TCP socket bound to `127.0.0.1:0` that neither listens nor connects.
    /// Kernel state CLOSE; ss 6.1 never lists it (`ss_visible == false`), but
    /// inet_diag on Linux ≥ 6.8 reports it when asked for the bound-inactive
    /// state bit. Returns its address.
    pub fn tcp_bound_inactive(&mut self) -> SocketAddr {
        let fd = new_socket(libc::AF_INET, libc::SOCK_STREAM).expect("tcp socket");
        let (sa, len) = to_sockaddr(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0));
        // SAFETY: sa/len describe a valid sockaddr.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_storage).cast(),
                len,
            )
        })
        .expect("bind");
        let s = TcpListener::from(fd);
        let local = s.local_addr().expect("local_addr");
        let raw = s.as_raw_fd();
        self.hold(Holder::Fd(OwnedFd::from(s)));
        self.push_expected(Expected {
            row: Row::from_addrs("tcp", "CLOSE", local, wildcard_peer(local)),
            fd: Some(raw),
            ss_visible: false,
        });
        local
    }

    // ----- convenience: whole setups --------------------------------------

    /// `listen_v4` + `established_pair`.
    pub fn established_v4(&mut self) -> Conn {
        let l = self.listen_v4();
        self.established_pair(l)
    }

    /// `[::1]` listener + `established_pair`.
    pub fn established_v6(&mut self) -> Conn {
        let l = self.listen_v6_loopback();
        self.established_pair(l)
    }

    /// `bulk(n)`: a dedicated 127.0.0.1 listener and `n` accepted connections
    /// (2n + 1 sockets). `n` is capped at 5000; RLIMIT_NOFILE is raised first
    /// and checked.
    pub fn bulk(&mut self, n: usize) -> Vec<Conn> {
        assert!(n <= 5000, "bulk({n}): at most 5000 connections");
        let limit = raise_nofile_limit();
        assert!(
            (2 * n + 64) as libc::rlim_t <= limit,
            "bulk({n}) needs about {} descriptors, RLIMIT_NOFILE is {limit}",
            2 * n + 64
        );
        let listener = self.listen_v4();
        (0..n).map(|_| self.established_pair(listener)).collect()
    }

    // ----- UDP ---------------------------------------------------------------

    /// A UDP socket bound to `addr` (port 0), optionally with IPV6_V6ONLY and
    /// SO_BINDTODEVICE. Expected row: `UNCONN addr -> 0.0.0.0:0` (or `[::]:0`).
    pub fn udp_bound_with(
        &mut self,
        addr: SocketAddr,
        v6only: Option<bool>,
        device: Option<&str>,
    ) -> SocketAddr {
        let u = make_udp_socket(addr, v6only, device)
            .unwrap_or_else(|e| panic!("udp bind {addr}: {e}"));
        let local = u.local_addr().expect("udp local_addr");
        let fd = u.as_raw_fd();
        self.hold(Holder::Udp(u));
        self.expect(
            Row::from_addrs("udp", "UNCONN", local, wildcard_peer(local)),
            Some(fd),
        );
        local
    }

    /// UDP on `127.0.0.1:0` (UNCONN).
    pub fn udp_bound_v4(&mut self) -> SocketAddr {
        self.udp_bound_with(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0), None, None)
    }

    /// UDP on `[::1]:0` (UNCONN).
    pub fn udp_bound_v6(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0),
            Some(true),
            None,
        )
    }

    /// UDP on `[::]:0` with IPV6_V6ONLY=1 (ss: `[::]:P`).
    pub fn udp_bound_v6_only_any(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            Some(true),
            None,
        )
    }

    /// UDP on `[::]:0` with IPV6_V6ONLY=0 (ss: `*:P` and peer `*:*`).
    pub fn udp_bound_dual(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            Some(false),
            None,
        )
    }

    /// UDP on `127.0.0.1:0` bound to device `lo` (ss: `127.0.0.1%lo:P`).
    pub fn udp_bound_to_lo(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
            None,
            Some("lo"),
        )
    }

    /// A UDP socket connected to `target` (ESTABLISHED), bound on the loopback
    /// address of `target`'s family. Returns its local address.
    pub fn udp_connected(&mut self, target: SocketAddr) -> SocketAddr {
        let bind: SocketAddr = if target.is_ipv4() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)
        } else {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0)
        };
        let u = make_udp_socket(bind, Some(true), None).expect("udp socket");
        u.connect(target)
            .unwrap_or_else(|e| panic!("udp connect {target}: {e}"));
        let local = u.local_addr().expect("udp local_addr");
        let fd = u.as_raw_fd();
        self.hold(Holder::Udp(u));
        self.expect(
            Row::from_addrs("udp", "ESTABLISHED", local, target),
            Some(fd),
        );
        local
    }

    /// A bound UDP socket on 127.0.0.1 plus a second one connected to it.
    /// Returns (bound, connected).
    pub fn udp_pair_v4(&mut self) -> (SocketAddr, SocketAddr) {
        let a = self.udp_bound_v4();
        let b = self.udp_connected(a);
        (a, b)
    }

    // ----- inspection ----------------------------------------------------------

    /// Every socket the scenario expects, with owning fd and ss visibility.
    pub fn expected_sockets(&self) -> &[Expected] {
        &self.expected
    }

    /// Sorted rows that `ss -tuan` should show for this scenario.
    pub fn expected(&self) -> Vec<Row> {
        let mut v: Vec<Row> = self
            .expected
            .iter()
            .filter(|e| e.ss_visible)
            .map(|e| e.row.clone())
            .collect();
        v.sort();
        v
    }

    /// Sorted rows including the ones ss does not show (bound-inactive TCP).
    pub fn expected_all(&self) -> Vec<Row> {
        let mut v: Vec<Row> = self.expected.iter().map(|e| e.row.clone()).collect();
        v.sort();
        v
    }

    /// All local ports used by the scenario (tcp and udp together).
    pub fn ports(&self) -> BTreeSet<u16> {
        let mut ports = BTreeSet::new();
        for e in &self.expected {
            for ep in [&e.row.local, &e.row.remote] {
                if let Some(p) = endpoint_port(ep).filter(|p| *p != 0) {
                    ports.insert(p);
                }
            }
        }
        ports
    }

    /// Index of every expected socket (including the ones ss does not show):
    /// local endpoint -> (proto, remote endpoint). Built once, reset when the
    /// scenario grows.
    fn index(&self) -> &HashMap<String, Vec<(String, String)>> {
        self.index.get_or_init(|| {
            let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for e in &self.expected {
                map.entry(e.row.local.clone())
                    .or_default()
                    .push((e.row.proto.clone(), e.row.remote.clone()));
            }
            map
        })
    }

    /// Whether `row` belongs to this scenario: its protocol, local and remote
    /// endpoints equal those of one of the scenario's sockets (the state is not
    /// compared). Port numbers alone are not enough in a shared namespace:
    /// ephemeral ports get reused by other tests' listeners on other loopback
    /// addresses and by lingering TIME_WAIT sockets. Cheap to call per row.
    pub fn ours(&self, row: &Row) -> bool {
        self.index().get(row.local.as_str()).is_some_and(|v| {
            v.iter()
                .any(|(proto, remote)| *proto == row.proto && *remote == row.remote)
        })
    }

    /// Sorted subset of `rows` that [`Scenario::ours`] accepts.
    pub fn filter_ours(&self, rows: impl IntoIterator<Item = Row>) -> Vec<Row> {
        let mut v: Vec<Row> = rows.into_iter().filter(|r| self.ours(r)).collect();
        v.sort();
        v
    }

    /// Compares `actual` (e.g. [`ss_rows`] for `-tuan`) with [`Scenario::expected`]:
    /// exactly in a private namespace, after [`Scenario::filter_ours`]
    /// otherwise. `Err` holds a readable diff.
    pub fn check(&self, env: &Env, actual: &[Row]) -> Result<(), String> {
        let actual = if env.private_ns {
            let mut v = actual.to_vec();
            v.sort();
            v
        } else {
            self.filter_ours(actual.iter().cloned())
        };
        let diff = diff_rows(&self.expected(), &actual);
        if diff.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "rows differ (private_ns = {}):\n{diff}",
                env.private_ns
            ))
        }
    }

    /// The held `TcpStream` whose local address is `local`, if any.
    pub fn tcp_stream(&self, local: SocketAddr) -> Option<&TcpStream> {
        self.holders.iter().find_map(|h| match h {
            Holder::Stream(s) if s.local_addr().ok() == Some(local) => Some(s),
            _ => None,
        })
    }

    /// The held `TcpListener` bound to `local`, if any.
    pub fn tcp_listener(&self, local: SocketAddr) -> Option<&TcpListener> {
        self.holders.iter().find_map(|h| match h {
            Holder::Listener(l) if l.local_addr().ok() == Some(local) => Some(l),
            _ => None,
        })
    }

    /// The held `UdpSocket` bound to `local`, if any.
    pub fn udp_socket(&self, local: SocketAddr) -> Option<&UdpSocket> {
        self.holders.iter().find_map(|h| match h {
            Holder::Udp(u) if u.local_addr().ok() == Some(local) => Some(u),
            _ => None,
        })
    }

    /// Raw fds of every socket the scenario holds open.
    pub fn fds(&self) -> Vec<RawFd> {
        self.holders.iter().map(Holder::raw_fd).collect()
    }
}

/// Port of a canonical endpoint (`127.0.0.1:80`, `[::1]:80`).
pub fn endpoint_port(ep: &str) -> Option<u16> {
    ep.rsplit_once(':')?.1.parse().ok()
}

/// Address of a canonical endpoint.
pub fn endpoint_ip(ep: &str) -> Option<IpAddr> {
    let host = ep.rsplit_once(':')?.0;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}
