//! The oracles: what the system itself says exists, in [`Row`]s. The real
//! `ss -Hn ...` run and its table parsed ([`ss_rows`]), and the calling
//! thread's `/proc/thread-self/net/tcp{,6}`, the second view the scenario
//! builders wait on ([`wait_for_tcp`]); [`poll_until`] for any other wait.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::rows::{Row, canonical_ip, endpoint_port, parse_host};
use super::sandbox::Env;

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
            "syn-recv" | "syn-rcv" | "SYN-RCV" => "SYN_RECV",
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

// The calling thread's /proc/thread-self/net/tcp{,6}: a second view, used to wait
// for states.

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
