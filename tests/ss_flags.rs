//! Every option ss has is accepted: it works, or it answers with a message
//! that names it and says why (a kernel without the family, SELinux off,
//! -K without a selection). Never "unknown option" or clap's "unexpected
//! argument", never a panic.
//!
//! As root, the walk is made twice: as typed, and again with `-N NAME` of
//! a namespace the test makes (every option composes with -N).
//!
//! The list is iproute2 7.1's (misc/ss.c's long_opts, the facts only); a
//! second test checks that the installed ss's `--help` names no option the
//! list lacks, so the list follows the oracle this machine has.

pub mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One ss option: long name, short letter, and a value it needs here.
struct SsOption {
    long: &'static str,
    short: Option<char>,
    value: Option<Value>,
}

/// A value for an option that takes one.
#[derive(Clone, Copy)]
enum Value {
    /// A word, as given.
    Word(&'static str),
    /// A file the test writes first (its contents).
    File(&'static str),
    /// A path that must not exist yet (a file the run writes).
    NewFile,
    /// The test process's own network namespace, /proc/PID/ns/net.
    OwnNetns,
}

const fn opt(long: &'static str, short: Option<char>) -> SsOption {
    SsOption {
        long,
        short,
        value: None,
    }
}

const fn with(long: &'static str, short: Option<char>, value: Value) -> SsOption {
    SsOption {
        long,
        short,
        value: Some(value),
    }
}

/// iproute2 7.1's options (misc/ss.c long_opts).
const SS_OPTIONS: &[SsOption] = &[
    opt("numeric", Some('n')),
    opt("resolve", Some('r')),
    opt("options", Some('o')),
    opt("extended", Some('e')),
    opt("memory", Some('m')),
    opt("info", Some('i')),
    opt("processes", Some('p')),
    opt("threads", Some('T')),
    opt("bpf", Some('b')),
    opt("events", Some('E')),
    opt("dccp", Some('d')),
    opt("tcp", Some('t')),
    opt("sctp", Some('S')),
    opt("udp", Some('u')),
    opt("raw", Some('w')),
    opt("unix", Some('x')),
    opt("tipc", None),
    opt("vsock", None),
    opt("all", Some('a')),
    opt("listening", Some('l')),
    opt("bound-inactive", Some('B')),
    opt("ipv4", Some('4')),
    opt("ipv6", Some('6')),
    opt("packet", Some('0')),
    with("family", Some('f'), Value::Word("inet")),
    with("socket", Some('A'), Value::Word("tcp")),
    with("query", Some('A'), Value::Word("tcp,udp")),
    opt("summary", Some('s')),
    with("diag", Some('D'), Value::NewFile),
    with("filter", Some('F'), Value::File("state listening\n")),
    opt("version", Some('V')),
    opt("help", Some('h')),
    opt("context", Some('Z')),
    opt("contexts", Some('z')),
    with("net", Some('N'), Value::OwnNetns),
    opt("tipcinfo", None),
    opt("tos", None),
    opt("cgroup", None),
    opt("kill", Some('K')),
    opt("no-header", Some('H')),
    opt("no-queues", Some('Q')),
    opt("xdp", None),
    opt("mptcp", Some('M')),
    opt("oneline", Some('O')),
    opt("inet-sockopt", None),
    opt("bpf-maps", None),
    with("bpf-map-id", None, Value::Word("1")),
];

/// Options that run until stopped: they get this long, then SIGTERM.
const STREAMING: &[&str] = &["events"];

struct Ran {
    code: Option<i32>,
    stderr: String,
    stopped: bool,
}

fn run(args: &[String], streaming: bool) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sockscope");
    let limit = if streaming {
        Duration::from_millis(700)
    } else {
        Duration::from_secs(30)
    };
    let started = Instant::now();
    let mut stopped = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            // Our own child, by pid.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            stopped = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr);
    Ran {
        code: status.code(),
        stderr,
        stopped,
    }
}

/// The arguments for `o` spelt `spelling` (`--long` or `-s`), in `dir`.
fn args_for(o: &SsOption, spelling: &str, dir: &std::path::Path, n: usize) -> Vec<String> {
    let mut args = Vec::new();
    // -K and -E get a selection that holds nothing, so nothing is killed
    // and the run is about the option.
    if o.long == "kill" {
        args.extend(["-t".into(), "sport".into(), "=".into(), ":1".into()]);
    }
    args.push(spelling.to_owned());
    match o.value {
        None => {}
        Some(Value::Word(w)) => args.push(w.to_owned()),
        Some(Value::File(text)) => {
            let path = dir.join(format!("value-{n}"));
            std::fs::write(&path, text).expect("write value file");
            args.push(path.display().to_string());
        }
        Some(Value::NewFile) => {
            let path = dir.join(format!("new-{n}"));
            let _ = std::fs::remove_file(&path);
            args.push(path.display().to_string());
        }
        Some(Value::OwnNetns) => args.push(format!("/proc/{}/ns/net", std::process::id())),
    }
    args
}

#[test]
fn every_ss_option_is_accepted_or_named_with_a_reason() {
    walk(&[]);
}

#[test]
fn every_ss_option_composes_with_a_namespace() {
    if !common::netns::is_root() {
        common::skip(
            "ss_flags: not root, so no namespace can be made: -N with every option is not walked",
        );
        return;
    }
    let ns = common::netns::TestNetns::named();
    let name = ns.name().expect("a named namespace").to_owned();
    walk(&["-N".to_owned(), name]);
}

/// Runs every option with `prefix` before it.
fn walk(prefix: &[String]) {
    let dir = std::env::temp_dir().join(format!(
        "sockscope-ssflags-{}-{}",
        std::process::id(),
        prefix.len()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut failures = Vec::new();
    let mut n = 0;
    for o in SS_OPTIONS {
        let mut spellings = vec![format!("--{}", o.long)];
        if let Some(c) = o.short {
            spellings.push(format!("-{c}"));
        }
        for spelling in spellings {
            n += 1;
            let mut args = prefix.to_vec();
            args.extend(args_for(o, &spelling, &dir, n));
            let ran = run(&args, STREAMING.contains(&o.long));
            let err = &ran.stderr;
            let named = err.contains(&spelling)
                || err.contains(&format!("--{}", o.long))
                || o.short.is_some_and(|c| err.contains(&format!("-{c}")));
            let problem = if err.contains("unknown option") || err.contains("unexpected argument") {
                Some("refused as unknown")
            } else if err.contains("panicked") {
                Some("panicked")
            } else if ran.stopped && !STREAMING.contains(&o.long) {
                Some("did not finish in 30 s")
            } else if ran.code == Some(2) && !named {
                Some("usage error that does not name the option")
            } else if ran.code.is_none() && !ran.stopped {
                Some("killed by a signal")
            } else {
                None
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "sockscope {}: {problem} (exit {:?}): {}",
                    args.join(" "),
                    ran.code,
                    err.trim()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The installed ss's `--help` names no option the list above lacks.
#[test]
fn the_list_covers_the_installed_ss() {
    let out = match Command::new("ss").arg("--help").output() {
        Ok(out) => out,
        Err(e) => {
            common::skip(&format!(
                "ss_flags: no ss to compare with ({e}); the 7.1 list alone is checked"
            ));
            return;
        }
    };
    let help =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut missing = Vec::new();
    for word in help.split(|c: char| c.is_whitespace() || c == ',' || c == '=') {
        if let Some(long) = word.strip_prefix("--") {
            if !long.is_empty() && !SS_OPTIONS.iter().any(|o| o.long == long) {
                missing.push(word.to_owned());
            }
        } else if let Some(short) = word.strip_prefix('-') {
            let mut chars = short.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && c.is_ascii_alphanumeric()
                && !SS_OPTIONS.iter().any(|o| o.short == Some(c))
            {
                missing.push(word.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ss --help has options the list lacks: {missing:?}"
    );
}
