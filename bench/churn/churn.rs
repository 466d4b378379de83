//! churn: loopback connection churn for the `trace` benchmark (issue 16).
//!
//! Makes `--rate` connections per second for `--seconds`: each one
//! connects to the listener this program holds on `0.0.0.0:--port`, sends a
//! few bytes and closes, the client first; the server side reads to the end
//! of the stream and closes after it, so both ends make their whole
//! sequence of TCP states (client SYN_SENT .. FIN_WAIT2 and TIME_WAIT,
//! server SYN_RECV .. CLOSE_WAIT, LAST_ACK, CLOSE).
//!
//! Why a compiled program: a Python loop reaches ~2000 connections/s on one
//! core here; the benchmark asks for 10000/s on a 2-core machine shared
//! with the tracer being measured. Blocking threads over the standard
//! library are enough: a loopback `connect()` completes the handshake inside
//! the syscall, so a client thread makes a connection in ~30-60 µs.
//!
//! Destinations rotate over `--dests` addresses 127.200.x.y, so the
//! four-tuples of the TIME_WAIT sockets left behind (one per connection,
//! 60 s each) never collide and the ephemeral ports never run out; the
//! source address is the kernel's choice (127.0.0.1).
//!
//! Bounded: nothing starts before the word `go` on stdin (given within
//! 60 s); connections are issued on a fixed schedule and never after
//! `--seconds`; the program ends when stdin closes or says `exit`, and a
//! watchdog ends it in any case `--seconds` + 120 s after it started. It
//! only ever touches loopback addresses, and it is meant to run in a
//! private network namespace that the benchmark made.
//!
//! Protocol on stdout, one line each: `ready` once the listener is up, then
//! after the churn one JSON object (the counts below).
//!
//! Built by the benchmark with `rustc -O` (standard library only).

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const PAYLOAD: &[u8] = b"churn: 16 bytes\n";
const MAX_RATE: u64 = 100_000;
const MAX_SECONDS: f64 = 300.0;
const MAX_TOTAL: u64 = 10_000_000;
const BACKLOG: i32 = 4096;

extern "C" {
    /// listen(2). The standard library listens with a backlog of 128;
    /// calling listen() again on a listening socket changes its backlog
    /// (net/ipv4/af_inet.c inet_listen: "Really, if the socket is already
    /// in listen state we can only allow the backlog to be adjusted").
    fn listen(fd: i32, backlog: i32) -> i32;
}

struct Args {
    rate: u64,
    seconds: f64,
    port: u16,
    clients: usize,
    servers: usize,
    dests: u32,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!(
        "churn: {msg}\nusage: churn --rate N --seconds S --port P \
         [--clients 2] [--servers 2] [--dests 256]"
    );
    ExitCode::from(2)
}

fn num<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("bad value for {flag}: {value}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        rate: 0,
        seconds: 0.0,
        port: 0,
        clients: 2,
        servers: 2,
        dests: 256,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        match flag.as_str() {
            "--rate" => a.rate = num(flag, value)?,
            "--seconds" => a.seconds = num(flag, value)?,
            "--port" => a.port = num(flag, value)?,
            "--clients" => a.clients = num(flag, value)?,
            "--servers" => a.servers = num(flag, value)?,
            "--dests" => a.dests = num(flag, value)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !(1..=MAX_RATE).contains(&a.rate) {
        return Err(format!("--rate must be 1..={MAX_RATE}"));
    }
    if !(a.seconds > 0.0 && a.seconds <= MAX_SECONDS) {
        return Err(format!("--seconds must be in (0, {MAX_SECONDS}]"));
    }
    if (a.rate as f64 * a.seconds) as u64 > MAX_TOTAL {
        return Err(format!("--rate x --seconds must be at most {MAX_TOTAL}"));
    }
    if a.port == 0 {
        return Err("--port is required".into());
    }
    if !(1..=64).contains(&a.clients) || !(1..=64).contains(&a.servers) {
        return Err("--clients and --servers must be 1..=64".into());
    }
    if !(1..=62_500).contains(&a.dests) {
        return Err("--dests must be 1..=62500".into());
    }
    Ok(a)
}

/// The k-th destination: 127.200.0.1 .. 127.200.x.250 (250 per /24).
fn dest(k: u64, dests: u32, port: u16) -> SocketAddrV4 {
    let j = (k % u64::from(dests)) as u32;
    let ip = Ipv4Addr::new(
        127,
        200 + (j / 250 / 256) as u8,
        (j / 250 % 256) as u8,
        (1 + j % 250) as u8,
    );
    SocketAddrV4::new(ip, port)
}

#[derive(Default)]
struct Counts {
    connected: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    accepted: AtomicU64,
    server_closed: AtomicU64,
    server_errors: AtomicU64,
    /// The largest lag behind the schedule, in microseconds.
    behind_max_us: AtomicU64,
    /// Nanoseconds from the start to the last client close.
    last_close_ns: AtomicU64,
}

fn client(i: usize, a: &Args, t0: Instant, c: &Counts, errors: &Mutex<BTreeMap<String, u64>>) {
    let total = (a.rate as f64 * a.seconds) as u64;
    let stop = Duration::from_secs_f64(a.seconds);
    let mut k = i as u64;
    while k < total {
        let due = Duration::from_secs_f64(k as f64 / a.rate as f64);
        let now = t0.elapsed();
        if now >= stop {
            break;
        }
        if due > now {
            thread::sleep(due - now);
        } else {
            let lag = (now - due).as_micros() as u64;
            c.behind_max_us.fetch_max(lag, Ordering::Relaxed);
        }
        let result = TcpStream::connect(dest(k, a.dests, a.port)).and_then(|mut s| {
            c.connected.fetch_add(1, Ordering::Relaxed);
            s.write_all(PAYLOAD)
        });
        match result {
            Ok(()) => {
                // the stream was dropped at the end of the closure: the
                // client closed first
                c.completed.fetch_add(1, Ordering::Relaxed);
                c.last_close_ns
                    .fetch_max(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut m) = errors.lock() {
                    *m.entry(format!("{:?}", e.kind())).or_insert(0) += 1;
                }
            }
        }
        k += a.clients as u64;
    }
}

fn server(l: TcpListener, done: &AtomicBool, c: &Counts) {
    let mut buf = [0u8; 256];
    loop {
        match l.accept() {
            Ok((mut s, _)) => {
                c.accepted.fetch_add(1, Ordering::Relaxed);
                // accepted sockets are blocking: read to the end of the
                // stream (the client's FIN), then close
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let ok = loop {
                    match s.read(&mut buf) {
                        Ok(0) => break true,
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break false,
                    }
                };
                drop(s);
                if ok {
                    c.server_closed.fetch_add(1, Ordering::Relaxed);
                } else {
                    c.server_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if done.load(Ordering::Relaxed) {
                    return;
                }
                thread::sleep(Duration::from_micros(200));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                c.server_errors.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let hard = Duration::from_secs_f64(a.seconds + 120.0);
    thread::spawn(move || {
        thread::sleep(hard);
        eprintln!("churn: watchdog: still running after {hard:?}, exiting");
        std::process::exit(4);
    });
    let listener = match TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, a.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("churn: bind 0.0.0.0:{}: {e}", a.port);
            return ExitCode::from(3);
        }
    };
    // SAFETY: listen(2) on a descriptor the TcpListener owns and keeps open
    // for the duration of the call; it reads no memory of ours.
    if unsafe { listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        eprintln!("churn: listen: {}", io::Error::last_os_error());
        return ExitCode::from(3);
    }
    if let Err(e) = listener.set_nonblocking(true) {
        eprintln!("churn: nonblocking listener: {e}");
        return ExitCode::from(3);
    }
    println!("ready");
    let _ = io::stdout().flush();

    // wait for "go" (bounded: the watchdog, and 60 s here)
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line.trim().to_string()).is_err() {
                return;
            }
        }
        let _ = tx.send("eof".into());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(w) if w == "go" => {}
        Ok(w) => {
            eprintln!("churn: expected 'go', got '{w}': not starting");
            return ExitCode::from(2);
        }
        Err(_) => {
            eprintln!("churn: no 'go' within 60 s: not starting");
            return ExitCode::from(2);
        }
    }

    let a = Arc::new(a);
    let counts = Arc::new(Counts::default());
    let errors = Arc::new(Mutex::new(BTreeMap::new()));
    let done = Arc::new(AtomicBool::new(false));
    let mut servers = Vec::new();
    for _ in 0..a.servers {
        let l = match listener.try_clone() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("churn: listener clone: {e}");
                return ExitCode::from(3);
            }
        };
        let (done, counts) = (Arc::clone(&done), Arc::clone(&counts));
        servers.push(thread::spawn(move || server(l, &done, &counts)));
    }
    let t0 = Instant::now();
    let mut clients = Vec::new();
    for i in 0..a.clients {
        let (a, counts, errors) = (Arc::clone(&a), Arc::clone(&counts), Arc::clone(&errors));
        clients.push(thread::spawn(move || client(i, &a, t0, &counts, &errors)));
    }
    for h in clients {
        let _ = h.join();
    }
    let issue_s = t0.elapsed().as_secs_f64();
    // the server side finishes what the clients completed (bounded)
    let drain_end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_end {
        let want = counts.completed.load(Ordering::Relaxed);
        let have = counts.server_closed.load(Ordering::Relaxed)
            + counts.server_errors.load(Ordering::Relaxed);
        if have >= want {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let drain_s = t0.elapsed().as_secs_f64() - issue_s;
    done.store(true, Ordering::Relaxed);
    for h in servers {
        let _ = h.join();
    }
    let c = &*counts;
    let completed = c.completed.load(Ordering::Relaxed);
    let last_close = c.last_close_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let errs: Vec<String> = errors
        .lock()
        .map(|m| m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect())
        .unwrap_or_default();
    println!(
        "{{\"rate_target\":{},\"seconds_target\":{},\"clients\":{},\"servers\":{},\"dests\":{},\
         \"connected\":{},\"completed\":{},\"failed\":{},\"errors\":{{{}}},\"accepted\":{},\
         \"server_closed\":{},\"server_errors\":{},\"issue_s\":{:.6},\"last_close_s\":{:.6},\
         \"drain_s\":{:.6},\"behind_max_ms\":{:.3},\"rate\":{:.1}}}",
        a.rate,
        a.seconds,
        a.clients,
        a.servers,
        a.dests,
        c.connected.load(Ordering::Relaxed),
        completed,
        c.failed.load(Ordering::Relaxed),
        errs.join(","),
        c.accepted.load(Ordering::Relaxed),
        c.server_closed.load(Ordering::Relaxed),
        c.server_errors.load(Ordering::Relaxed),
        issue_s,
        last_close,
        drain_s,
        c.behind_max_us.load(Ordering::Relaxed) as f64 / 1000.0,
        // the schedule spans --seconds (the last connection is due 1/rate
        // before its end); a late one stretches it
        completed as f64 / last_close.max(a.seconds),
    );
    let _ = io::stdout().flush();
    // keep the listener until told (or stdin closes), bounded by the
    // watchdog
    let _ = rx.recv_timeout(Duration::from_secs(60));
    drop(listener);
    ExitCode::SUCCESS
}
