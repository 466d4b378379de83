//! Fitting the terminal (issue 18, width), on a real terminal: tmux panes
//! of 80 and 120 columns run sockscope inside a private network namespace
//! whose sockets are held by a process with a hostile name (an escape
//! sequence and a TAB in its comm, shown escaped) and a long command line
//! (`--cmdline`), with a UNIX listener on a long path and a TCP listener on
//! a long IPv6 address.
//!
//! For `-tlnp --cmdline`, `-xlp`, `listeners` and `why-bind`: no line the
//! terminal wrapped (tmux's plain capture equals its `-J` capture, which
//! joins wrapped lines), no line wider than the pane, the `…` marker where
//! the table cut a name; `listeners` prints the long address whole on its
//! own line; `why-bind`'s sentences are the pipe's words, wrapped. The same
//! commands in a pipe print whole rows (the command line whole, no marker);
//! `-W` on the terminal prints whole rows (the terminal wraps them);
//! COLUMNS wins over the pane's size (60 for why-bind's sentences, 100 for
//! the table in an 80-column pane).

pub mod common;

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::netns::{TestNetns, is_root, run_bounded, say};
use common::{Named, poll_until};
use unicode_width::UnicodeWidthStr;

const BIN: &str = env!("CARGO_BIN_EXE_sockscope");
const BOUND: Duration = Duration::from_secs(20);
/// An IPv6 address long enough to be wider than the listeners' address
/// column (45 columns with its port).
const LONG_V6: &str = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1";
/// The holder's comm: ESC and TAB (shown `\x1b`, `\x09`) and a space.
const COMM: &[u8] = b"\x1b[31mev\til nm";
const COMM_SHOWN: &str = r#""\x1b[31mev\x09il nm""#;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the test can go on: says why not on stderr, or fails in CI.
fn can_run(test: &str) -> bool {
    let missing = if !is_root() {
        Some("not root: a private network namespace needs root".to_owned())
    } else if Command::new("tmux").arg("-V").output().is_err() {
        Some("tmux is not installed (.ci/setup installs it)".to_owned())
    } else {
        None
    };
    match missing {
        None => true,
        Some(why) if in_ci() => panic!("{test}: {why} (CI=true: everything must be there)"),
        Some(why) => {
            say(&format!("width::{test}: not run: {why}"));
            false
        }
    }
}

/// The namespace, its sockets, their holder: removed on drop.
struct World {
    ns: TestNetns,
    _holder: Named,
    dir: PathBuf,
    cmdline: String,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn world() -> World {
    let ns = TestNetns::named();
    let name = ns.name().expect("named").to_owned();
    let out = run_bounded(
        Command::new("ip").args([
            "-n",
            &name,
            "addr",
            "add",
            &format!("{LONG_V6}/128"),
            "dev",
            "lo",
            "nodad",
        ]),
        Duration::from_secs(10),
    );
    assert!(out.status.success(), "ip addr add: {out:?}");
    let dir = std::env::temp_dir().join(format!("sockscope-width-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("a-very-long-socket-name-{}.sock", "x".repeat(40)));
    let (v4, v6, unix) = ns.enter(move || {
        let v4 = TcpListener::bind("127.0.0.1:8080").expect("bind 127.0.0.1:8080");
        let v6: SocketAddr = format!("[{LONG_V6}]:8443").parse().expect("address");
        let v6 = TcpListener::bind(v6).expect("bind the long IPv6 address");
        let unix = UnixListener::bind(&path).expect("bind the long UNIX path");
        (v4, v6, unix)
    });
    let holder = Named::fork(COMM, &[v4.as_raw_fd(), v6.as_raw_fd(), unix.as_raw_fd()]);
    // Only the holder owns them.
    drop((v4, v6, unix));
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", holder.pid()))
        .expect("the holder's cmdline")
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    World {
        ns,
        _holder: holder,
        dir,
        cmdline,
    }
}

/// A tmux server of the test's own (`-L`), killed on drop.
struct Tmux {
    socket: String,
    runs: usize,
}

impl Tmux {
    fn new() -> Tmux {
        Tmux {
            socket: format!("sockscope-width-{}", std::process::id()),
            runs: 0,
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = run_bounded(
            Command::new("tmux").arg("-L").arg(&self.socket).args(args),
            Duration::from_secs(10),
        );
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `shell` in a new pane `width` columns wide (50 lines), waits for
    /// it to end, and returns the pane as shown and with wrapped lines
    /// joined (`capture-pane -J`).
    fn run(&mut self, width: usize, shell: &str) -> (String, String) {
        self.runs += 1;
        let session = format!("w{}", self.runs);
        let end = "__WIDTH_END__";
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &width.to_string(),
            "-y",
            "50",
            &format!("{shell}; echo {end}; sleep 300"),
        ]);
        let done = poll_until(BOUND, || {
            self.tmux(&["capture-pane", "-p", "-t", &session])
                .contains(end)
        });
        let plain = self.tmux(&["capture-pane", "-p", "-t", &session]);
        let joined = self.tmux(&["capture-pane", "-p", "-J", "-t", &session]);
        self.tmux(&["kill-session", "-t", &session]);
        assert!(done, "{shell}: did not end\n{plain}");
        // -J keeps trailing blanks: compare lines without them.
        let cut = |s: &str| {
            let text = &s[..s.find(end).unwrap_or(s.len())];
            let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
            lines.join("\n").trim_end().to_owned()
        };
        (cut(&plain), cut(&joined))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The shell line that runs sockscope `args` in the namespace, with
/// COLUMNS as given (None: unset, the pane's size decides).
fn line(w: &World, columns: Option<usize>, args: &str) -> String {
    let env = match columns {
        Some(c) => format!("env COLUMNS={c}"),
        None => "env -u COLUMNS".to_owned(),
    };
    format!(
        "ip netns exec {} {env} {BIN} {args}",
        w.ns.name().expect("named")
    )
}

/// sockscope `args` in the namespace, stdout a pipe.
fn piped(w: &World, args: &[&str]) -> String {
    let mut cmd = w.ns.exec(BIN);
    cmd.args(args).env("COLUMNS", "80");
    let out = run_bounded(&mut cmd, BOUND);
    assert!(out.status.code() != Some(2), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// No line the terminal wrapped, none wider than `width`.
fn fits(what: &str, (plain, joined): &(String, String), width: usize) {
    assert_eq!(plain, joined, "{what}: the terminal wrapped a line");
    for l in plain.lines() {
        assert!(
            l.width() <= width,
            "{what}: wider than {width}: {l:?}\n{plain}"
        );
    }
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

#[test]
fn tables_and_sentences_fit_the_terminal() {
    if !can_run("tables_and_sentences_fit_the_terminal") {
        return;
    }
    let w = world();
    let mut t = Tmux::new();
    let mut checks = 0;
    // The whole command line, as the pipe shows it (escaped: plain ASCII).
    let pipe = piped(&w, &["-tlnp", "--cmdline"]);
    assert!(pipe.contains(&w.cmdline), "{pipe}");
    assert!(pipe.contains(COMM_SHOWN) && !pipe.contains('…'), "{pipe}");
    assert_eq!(pipe.lines().count(), 3, "{pipe}");
    checks += 1;
    for width in [80, 120] {
        let shown = t.run(width, &line(&w, None, "-tlnp --cmdline"));
        fits(&format!("-tlnp --cmdline at {width}"), &shown, width);
        let text = &shown.0;
        assert!(text.contains('…') && !text.contains(&w.cmdline), "{text}");
        // The addresses are whole: at 80 columns the long one above its
        // row (it and the fixed columns leave no room), at 120 in line,
        // with the columns of the pipe up to the Process column.
        let long = format!("[{LONG_V6}]:8443");
        assert!(
            text.contains("127.0.0.1:8080") && text.contains(&long),
            "{text}"
        );
        let alone = text.lines().filter(|l| l.trim() == long).count();
        assert_eq!(alone, usize::from(width == 80), "{text}");
        assert_eq!(text.lines().count(), 3 + alone, "{text}");
        if width == 120 {
            for (mine, whole) in text.lines().zip(pipe.lines()) {
                let keep = whole.find(COMM_SHOWN).or_else(|| whole.find("Process"));
                let keep = keep.unwrap_or(0).min(mine.len());
                assert_eq!(&mine[..keep], &whole[..keep], "{text}\n---\n{pipe}");
            }
        }
        checks += 1;

        let shown = t.run(width, &line(&w, None, "-xlp"));
        fits(&format!("-xlp at {width}"), &shown, width);
        checks += 1;

        let shown = t.run(width, &line(&w, None, "listeners"));
        fits(&format!("listeners at {width}"), &shown, width);
        let text = &shown.0;
        // The long address whole on its own line; the short one's row is
        // not pushed right to it.
        let long = format!("[{LONG_V6}]:8443");
        assert!(text.lines().any(|l| l.trim() == long), "{text}");
        let short = text
            .lines()
            .find(|l| l.contains("127.0.0.1:8080"))
            .expect("the IPv4 listener");
        assert!(short.find("127.0.0.1:8080").unwrap_or(99) < 24, "{text}");
        // The same words as the pipe (the sentences wrapped, not cut).
        let whole = piped(&w, &["listeners"]);
        assert_eq!(
            words(text).iter().filter(|w| **w != "…").count(),
            words(&whole).len(),
            "{text}\n---\n{whole}"
        );
        checks += 1;

        let shown = t.run(width, &line(&w, None, "why-bind 8080"));
        fits(&format!("why-bind at {width}"), &shown, width);
        let text = &shown.0;
        let whole = piped(&w, &["why-bind", "8080"]);
        let sentences = |s: &str| s.split("\n\n").next().unwrap_or("").to_owned();
        assert_eq!(
            words(&sentences(text)),
            words(&sentences(&whole)),
            "{text}\n---\n{whole}"
        );
        assert!(
            whole.lines().any(|l| l.width() > width),
            "the pipe has a line wider than {width}: {whole}"
        );
        // A bullet's further lines hang under its first word.
        assert!(
            text.lines()
                .any(|l| l.starts_with("    ") && !l.starts_with("     "))
        );
        checks += 1;
    }
    // -W: whole rows on the terminal too (so the terminal wraps them).
    let (plain, joined) = t.run(80, &line(&w, None, "-W -tlnp --cmdline"));
    assert_ne!(plain, joined, "-W: nothing was wide");
    assert!(
        joined.contains(&w.cmdline) && !joined.contains('…'),
        "{joined}"
    );
    checks += 1;
    // COLUMNS wins over the pane's size: sentences at 60 in an 80-column
    // pane; the table at 100, so the pane wraps its 100-column lines.
    // (Its holders' table cannot: its headers and addresses alone are 71
    // columns wide; it fits the pane.)
    let shown = t.run(80, &line(&w, Some(60), "why-bind 8080"));
    fits("why-bind, COLUMNS=60", &shown, 80);
    let sentences = shown.0.split("\n\n").next().unwrap_or("");
    assert!(sentences.lines().count() > 3, "{sentences}");
    assert!(sentences.lines().all(|l| l.width() <= 60), "{sentences}");
    checks += 1;
    let (plain, joined) = t.run(80, &line(&w, Some(100), "-tlnp --cmdline"));
    assert_ne!(
        plain, joined,
        "COLUMNS=100 in 80 columns: nothing was wider"
    );
    assert!(joined.contains('…'), "{joined}");
    assert!(joined.lines().all(|l| l.width() <= 100), "{joined}");
    assert!(joined.lines().any(|l| l.width() > 80), "{joined}");
    checks += 1;
    say(&format!("width: {checks} checks on {} tmux panes", t.runs));
}
