//! Hostile names (issue #8): process names (comm, set by the process itself
//! with prctl(PR_SET_NAME)), command lines (argv[0], up to 64 KiB) and UNIX
//! socket names (abstract and filesystem, up to the 108-byte limit) holding
//! terminal escape sequences (ESC, OSC, CSI as C1 in UTF-8 and as a raw
//! byte), BEL, CR, LF, TAB, DEL, backslashes, invalid UTF-8, bidi overrides
//! and invisible characters.
//!
//! Every view that prints them (`-tanp`, `-tanp --cmdline`, `-xa`, `-xap`,
//! `-xape`, `--source proc`, `who`, `why-bind`, `listeners`) is run on real
//! sockets held by real child processes, and its table checked: no control
//! byte but the line ends, no DEL, no C1 control, no bidi or invisible
//! format character, one line per row (header + rows), and the escaped form
//! (README, "Escaping") on the row. Its JSON (`--json`, `--jsonl`) must
//! carry the exact text; where the bytes are not UTF-8 the documented
//! replacement (U+FFFD) applies to the text, and the object then also
//! carries every byte in hex (`comm_hex`, `cmdline_hex`, `path_hex`), which
//! counts as exact. Each case is counted and the counts printed.

pub mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{Env, Named, Sandbox, poll_until};
use serde_json::Value;

/// (what, bytes, how the table shows the bytes). The third column is
/// written by hand; [`shown`] computes the same from the rule and is
/// checked against it, then used for the derived names (prefixes, cuts).
const CASES: &[(&str, &[u8], &str)] = &[
    ("ESC [2J (clear screen)", b"e\x1b[2Jx", r"e\x1b[2Jx"),
    (
        "OSC 0 (set title), BEL",
        b"\x1b]0;pwned\x07",
        r"\x1b]0;pwned\x07",
    ),
    ("CSI as U+009B (UTF-8)", b"c\xc2\x9b31mx", r"c\u{009b}31mx"),
    ("CSI as raw byte 0x9b", b"c\x9b31mx", r"c\x9b31mx"),
    ("BEL", b"a\x07b", r"a\x07b"),
    ("CR", b"a\rb", r"a\x0db"),
    ("LF", b"a\nb", r"a\x0ab"),
    ("TAB", b"a\tb", r"a\x09b"),
    ("DEL", b"a\x7fb", r"a\x7fb"),
    ("backslash like an escape", b"a\\x41", r"a\\x41"),
    ("invalid UTF-8 0xff", b"a\xffb", r"a\xffb"),
    ("lone continuation byte", b"a\x80b", r"a\x80b"),
    ("truncated UTF-8 sequence", b"a\xe2\x80z", r"a\xe2\x80z"),
    (
        "RLO bidi override",
        "a\u{202e}gnp.exe".as_bytes(),
        r"a\u{202e}gnp.exe",
    ),
    (
        "LRI/PDI bidi isolates",
        "\u{2066}x\u{2069}y".as_bytes(),
        r"\u{2066}x\u{2069}y",
    ),
    (
        "zero-width space",
        "ngi\u{200b}nx".as_bytes(),
        r"ngi\u{200b}nx",
    ),
    ("line separator", "a\u{2028}b".as_bytes(), r"a\u{2028}b"),
    (
        "paragraph separator",
        "a\u{2029}b".as_bytes(),
        r"a\u{2029}b",
    ),
    ("NEL U+0085", "a\u{85}b".as_bytes(), r"a\u{0085}b"),
    ("BOM", "\u{feff}init".as_bytes(), r"\u{feff}init"),
    ("plain non-ASCII (kept)", "café-ü".as_bytes(), "café-ü"),
    (
        "16 bytes of ESC [2J",
        b"\x1b[2J\x1b[2J\x1b[2J\x1b[2J",
        r"\x1b[2J\x1b[2J\x1b[2J\x1b[2J",
    ),
    (
        "RLO cut by the 15-byte comm limit",
        "abcdefghijklmn\u{202e}".as_bytes(),
        r"abcdefghijklmn\u{202e}",
    ),
];

/// Characters no table may contain besides the C0/C1 controls and DEL: the
/// bidi controls, zero-width characters, separators and the BOM (the
/// escaping rule covers every Unicode format character; these are the
/// ones the cases use, plus their neighbours).
const INVISIBLE: &[char] = &[
    '\u{061c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}',
    '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{feff}',
];

/// The documented rule, written again here from the README (not taken from
/// the crate): `\\` for a backslash, `\xNN` for C0, DEL and bytes that are
/// not UTF-8, `\u{NNNN}` for C1 and the invisible characters.
fn shown(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let cp = c as u32;
            if c == '\\' {
                out.push_str("\\\\");
            } else if cp < 0x20 || cp == 0x7f {
                let _ = write!(out, "\\x{cp:02x}");
            } else if (0x80..=0x9f).contains(&cp) || INVISIBLE.contains(&c) {
                let _ = write!(out, "\\u{{{cp:04x}}}");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What must never reach a terminal: None when `out` is clean.
fn dirt(out: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(out) {
        Ok(t) => t,
        Err(e) => return Some(format!("not UTF-8: {e}")),
    };
    let bad = text.char_indices().find(|&(_, c)| {
        let cp = c as u32;
        (cp < 0x20 && c != '\n')
            || cp == 0x7f
            || (0x80..=0x9f).contains(&cp)
            || INVISIBLE.contains(&c)
    });
    bad.map(|(i, c)| {
        let from = text[..i].rfind('\n').map_or(0, |n| n + 1);
        format!(
            "U+{:04X} at byte {i}, line {:?}",
            c as u32,
            &text[from..text[i..].find('\n').map_or(text.len(), |n| i + n)]
        )
    })
}

/// Runs sockscope; it must not panic, must exit with one of `codes`, and
/// may only print the non-root owner hint on stderr.
fn run(env: &Env, args: &[&str], codes: &[i32]) -> Vec<u8> {
    let out = common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "sockscope {args:?} panicked: {err}"
    );
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "sockscope {args:?}: {:?}: {err}",
        out.status
    );
    assert!(
        err.lines().all(|l| l.contains("no visible owner")),
        "sockscope {args:?} warned: {err}"
    );
    out.stdout
}

/// JSON must not carry U+2028, U+2029 or U+0085 raw (README, "JSON
/// output"): line splitters take them for line ends. A JSON Lines reader
/// that splits on every Unicode line break must see the same records as
/// one that splits on LF.
fn assert_line_safe(out: &[u8]) {
    let text = std::str::from_utf8(out).expect("JSON is UTF-8");
    let raw: Vec<char> = text
        .chars()
        .filter(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
        .collect();
    assert!(
        raw.is_empty(),
        "raw line breakers {raw:?} in JSON ({} bytes)",
        text.len()
    );
    let unicode_lines = text.split(['\n', '\u{85}', '\u{2028}', '\u{2029}']).count();
    assert_eq!(unicode_lines, text.split('\n').count());
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    assert_line_safe(out);
    std::str::from_utf8(out)
        .expect("JSON is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn json_doc(out: &[u8]) -> Value {
    assert_line_safe(out);
    serde_json::from_slice(out).expect("one JSON document")
}

/// Both JSON forms of `args`: the array's items and the lines.
fn json_both(env: &Env, args: &[&str], codes: &[i32]) -> Vec<Vec<Value>> {
    let mut a = args.to_vec();
    a.push("--json");
    let array = json_doc(&run(env, &a, codes))
        .as_array()
        .expect("a JSON array")
        .clone();
    *a.last_mut().unwrap() = "--jsonl";
    vec![array, json_lines(&run(env, &a, codes))]
}

/// Tallies per subject: cases whose table showed the escaped form on one
/// clean line in every view; cases whose JSON carried the exact bytes;
/// cases whose JSON carried the documented replacement instead.
#[derive(Default)]
struct Tally {
    cases: BTreeMap<&'static str, (usize, usize, usize, usize)>,
    failures: Vec<String>,
}

impl Tally {
    fn case(
        &mut self,
        subject: &'static str,
        table_ok: bool,
        json_exact: bool,
        json_replaced: bool,
    ) {
        let e = self.cases.entry(subject).or_default();
        e.0 += 1;
        e.1 += usize::from(table_ok);
        e.2 += usize::from(json_exact);
        e.3 += usize::from(json_replaced);
    }

    fn fail(&mut self, what: String) -> bool {
        self.failures.push(what);
        false
    }

    /// Prints the counts (straight to stderr, past libtest's capture) and
    /// fails with every failure.
    fn finish(self, env: &Env) {
        let mut line = String::from("hostile names");
        if let Some(why) = &env.shared_reason {
            let _ = write!(line, " (shared namespace: {why})");
        }
        for (subject, (n, table, exact, replaced)) in &self.cases {
            let _ = write!(
                line,
                "; {subject}: table escaped {table}/{n}, JSON exact {exact}/{n} \
                 (+{replaced} by a documented replacement)"
            );
        }
        let _ = writeln!(std::io::stderr(), "{line}");
        assert!(
            self.failures.is_empty(),
            "{} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The table's rows: every line after the header (`header` lines before
/// it) must start with one of `first` (no row split over lines), and their
/// number must be `rows` when given.
fn check_rows(
    t: &mut Tally,
    what: &str,
    out: &[u8],
    header: usize,
    first: &[&str],
    rows: Option<usize>,
) -> bool {
    // Dirt fails the test; the cases are counted by their own rows.
    if let Some(d) = dirt(out) {
        t.fail(format!("{what}: {d}"));
    }
    let text = String::from_utf8_lossy(out);
    let lines: Vec<&str> = text.lines().skip(header + 1).collect();
    if let Some(l) = lines
        .iter()
        .find(|l| !first.iter().any(|f| l.split(' ').next() == Some(*f)))
    {
        return t.fail(format!("{what}: a line that is not a row: {l:?}"));
    }
    match rows {
        Some(n) if lines.len() != n => t.fail(format!(
            "{what}: {} lines for {n} rows (+ header): {text:?}",
            lines.len()
        )),
        _ => true,
    }
}

/// The one line of `out` holding every needle, when it is clean.
fn row_with<'a>(t: &mut Tally, what: &str, out: &'a [u8], needles: &[&str]) -> Option<&'a str> {
    let Ok(text) = std::str::from_utf8(out) else {
        t.fail(format!("{what}: not UTF-8"));
        return None;
    };
    let found: Vec<&str> = text
        .lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .collect();
    match found.as_slice() {
        [one] => match dirt(one.as_bytes()) {
            None => Some(one),
            Some(d) => {
                t.fail(format!("{what}: {d}"));
                None
            }
        },
        _ => {
            t.fail(format!("{what}: {} lines hold {needles:?}", found.len()));
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------

/// `sleep 120` run with a hostile argv[0], holding `fd`; killed on drop.
struct Argv0(Child);

impl Argv0 {
    fn spawn(env: &Env, argv0: &[u8], fd: RawFd) -> Argv0 {
        let mut cmd = env.command("sleep");
        cmd.arg0(OsStr::from_bytes(argv0))
            .arg("120")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        unsafe {
            cmd.pre_exec(move || {
                // Keep the listener across exec (std opens it O_CLOEXEC).
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn sleep");
        let pid = child.id();
        let ok = poll_until(Duration::from_secs(5), || {
            std::fs::read(format!("/proc/{pid}/comm")).is_ok_and(|c| c == b"sleep\n")
        });
        assert!(ok, "child {pid} did not exec sleep");
        Argv0(child)
    }
}

impl Drop for Argv0 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------

fn inode(fd: RawFd) -> u64 {
    // SAFETY: all-zero is a valid stat; fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
    st.st_ino
}

/// A UNIX socket of `ty` bound to `sun_path` (leading NUL: abstract), as
/// many bytes as given, with no terminating NUL added (so a filesystem
/// path may use all 108 bytes); listening when it is a stream socket.
fn unix_bound(ty: libc::c_int, sun_path: &[u8]) -> OwnedFd {
    // SAFETY: plain syscalls on a fresh descriptor and a zeroed sockaddr_un.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        assert!(sun_path.len() <= addr.sun_path.len(), "{}", sun_path.len());
        for (d, s) in addr.sun_path.iter_mut().zip(sun_path) {
            *d = *s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + sun_path.len();
        let r = libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        );
        assert_eq!(
            r,
            0,
            "bind {sun_path:?}: {}",
            std::io::Error::last_os_error()
        );
        if ty == libc::SOCK_STREAM {
            assert_eq!(libc::listen(fd.as_raw_fd(), 4), 0);
        }
        fd
    }
}

/// A private directory for socket files, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("sockscope-{tag}-{}", std::process::id()));
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

/// `n` bytes of hostile filler: escapes, a bidi override, invalid UTF-8,
/// and (when the name is cut there) half a character.
fn filler(n: usize) -> Vec<u8> {
    let unit = "\x1b[2J\x07\r\n\u{202e}\\".as_bytes();
    let mut v: Vec<u8> = unit
        .iter()
        .chain(b"\xff")
        .copied()
        .cycle()
        .take(n)
        .collect();
    v.truncate(n);
    v
}

// ---------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------

/// One hostile process per case: it renamed itself to the case's bytes and
/// holds a TCP listener, an abstract UNIX listener and a filesystem UNIX
/// datagram socket both named with the same bytes.
struct Subject {
    what: &'static str,
    bytes: Vec<u8>,
    child: Named,
    port: u16,
    /// (name as the model shows it: abstract with `@`, inode).
    unix: Vec<(Vec<u8>, u64)>,
}

impl Subject {
    /// The comm as /proc gives it: 15 bytes at most.
    fn comm(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().min(15)]
    }

    /// What JSON must carry for the comm: the exact text, or (not UTF-8)
    /// the documented U+FFFD replacement, with `comm_hex` then.
    fn comm_json(&self) -> (String, Option<String>) {
        let hex = std::str::from_utf8(self.comm())
            .is_err()
            .then(|| hex(self.comm()));
        (lossy(self.comm()), hex)
    }

    /// The comm as an owner list shows it: escaped, and quoted when it
    /// holds a separator.
    fn comm_listed(&self) -> String {
        listed(&lossy(self.comm()), comm_separator)
    }
}

/// Separators of a process name in an owner list (README, "Owners"): white
/// space the table prints as such (not the controls it escapes), `,`, `/`,
/// `(`, `)`, `"`, `\`.
fn comm_separator(c: char) -> bool {
    let escaped = c.is_control() || INVISIBLE.contains(&c);
    (c.is_whitespace() && !escaped) || matches!(c, ',' | '/' | '(' | ')' | '"' | '\\')
}

/// Separators of a command line inside `[...]`.
fn cmdline_separator(c: char) -> bool {
    matches!(c, ']' | '"' | '\\')
}

/// The documented quoting, written again from the README: the escaped
/// name, in double quotes with `"` as `\"` when it is empty or holds a
/// separator.
fn listed(name: &str, separator: fn(char) -> bool) -> String {
    let e = shown(name.as_bytes());
    if !name.is_empty() && !name.chars().any(separator) {
        return e;
    }
    format!("\"{}\"", e.replace('"', "\\\""))
}

/// Checks one JSON owner list against the subject. Returns (ok, exact).
fn owner_ok(t: &mut Tally, what: &str, owners: &Value, s: &Subject) -> (bool, bool) {
    let (want, want_hex) = s.comm_json();
    let mine: Vec<&Value> = owners
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["pid"].as_u64() == Some(u64::from(s.child.pid())))
        .collect();
    match mine.as_slice() {
        // Exact: the text itself, or (not UTF-8) every byte in `comm_hex`.
        [o] if o["comm"].as_str() == Some(want.as_str())
            && o["comm_hex"].as_str() == want_hex.as_deref() =>
        {
            (true, true)
        }
        _ => (
            t.fail(format!(
                "{what}: owners {owners} lack pid {} with comm {want:?}",
                s.child.pid()
            )),
            false,
        ),
    }
}

#[test]
fn hostile_process_and_unix_names() {
    Sandbox::run(|env| {
        let mut t = Tally::default();
        for (what, bytes, literal) in CASES {
            assert_eq!(shown(bytes), *literal, "the test's own rule, {what}");
        }
        let dir = Dir::new("hostile");
        let me = std::process::id();
        let mut subjects = Vec::new();
        let mut extra_unix: Vec<(&'static str, Vec<u8>)> = CASES
            .iter()
            .map(|(what, bytes, _)| (*what, bytes.to_vec()))
            .collect();
        // UNIX-only cases: a NUL inside an abstract name, and the longest
        // names the kernel takes (107 bytes after the abstract NUL, 108 for
        // a path with no terminating NUL).
        extra_unix.push(("NUL inside an abstract name", b"a\0b".to_vec()));
        extra_unix.push(("longest names", Vec::new()));
        for (i, (what, bytes)) in extra_unix.iter().enumerate() {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let tag = format!("sk{me}-{i}:");
            let long = bytes.is_empty();
            let abs_name: Vec<u8> = if long {
                [tag.as_bytes(), &filler(107 - tag.len())].concat()
            } else {
                [tag.as_bytes(), bytes].concat()
            };
            let abs = unix_bound(libc::SOCK_STREAM, &[&[0u8][..], &abs_name].concat());
            let mut fs_name = dir.path().as_os_str().as_bytes().to_vec();
            fs_name.push(b'/');
            if long {
                let room = 108 - fs_name.len();
                fs_name.extend(
                    filler(room)
                        .into_iter()
                        .map(|b| if b == b'/' { b'_' } else { b }),
                );
            } else {
                fs_name.extend_from_slice(bytes);
            }
            let fs = if bytes.contains(&0) {
                None
            } else {
                Some(unix_bound(libc::SOCK_DGRAM, &fs_name))
            };
            let mut unix = vec![(
                [b"@".as_slice(), &abs_name]
                    .concat()
                    .into_iter()
                    .map(|b| if b == 0 { b'@' } else { b })
                    .collect(),
                inode(abs.as_raw_fd()),
            )];
            let mut keep = vec![listener.as_raw_fd(), abs.as_raw_fd()];
            if let Some(fs) = &fs {
                unix.push((fs_name.clone(), inode(fs.as_raw_fd())));
                keep.push(fs.as_raw_fd());
            }
            // The name of the process: the case's bytes (the UNIX-only
            // cases take a long name cut by the kernel, and a plain one).
            let comm: Vec<u8> = if long {
                filler(40)
            } else if bytes.contains(&0) {
                b"nul-in-abstract".to_vec()
            } else {
                bytes.clone()
            };
            let child = Named::fork(&comm, &keep);
            // The child holds them now; the test's copies go.
            drop((listener, abs, fs));
            subjects.push(Subject {
                what,
                bytes: comm,
                child,
                port,
                unix,
            });
        }

        // ---- TCP rows with owners: -tanp, table and JSON ----
        let filter = subjects
            .iter()
            .map(|s| format!("sport = :{}", s.port))
            .collect::<Vec<_>>()
            .join(" or ");
        let filter = format!("src 127.0.0.1 and ( {filter} )");
        let table = run(env, &["-tanp", &filter], &[0]);
        let mut table_ok: BTreeMap<u32, bool> = BTreeMap::new();
        let rows_ok = check_rows(
            &mut t,
            "-tanp",
            &table,
            0,
            &["LISTEN"],
            Some(subjects.len()),
        );
        for s in &subjects {
            let owner = format!("{}/{} fd=", s.comm_listed(), s.child.pid());
            let local = format!("127.0.0.1:{} ", s.port);
            let ok = row_with(
                &mut t,
                &format!("-tanp, {}", s.what),
                &table,
                &[&local, &owner],
            )
            .is_some();
            table_ok.insert(s.child.pid(), ok && rows_ok);
        }
        let mut json_ok: BTreeMap<u32, (bool, bool)> = subjects
            .iter()
            .map(|s| (s.child.pid(), (true, true)))
            .collect();
        for recs in json_both(env, &["-tanp", &filter], &[0]) {
            if recs.len() != subjects.len() {
                t.fail(format!("-tanp JSON: {} records", recs.len()));
            }
            for s in &subjects {
                let rec = recs
                    .iter()
                    .find(|r| r["local"]["port"].as_u64() == Some(u64::from(s.port)));
                let (ok, exact) = match rec {
                    Some(r) => {
                        owner_ok(&mut t, &format!("-tanp JSON, {}", s.what), &r["owners"], s)
                    }
                    None => (t.fail(format!("-tanp JSON: no row for {}", s.what)), false),
                };
                let e = json_ok.get_mut(&s.child.pid()).unwrap();
                *e = (e.0 && ok, e.1 && exact);
            }
        }

        // ---- who and why-bind, one port each ----
        for s in &subjects {
            let target = format!("127.0.0.1:{}", s.port);
            let owner = format!("{}/{}", s.comm_listed(), s.child.pid());
            // why-bind's reasons name the owner as the Process column does:
            // escaped, and quoted when the name holds a separator.
            let in_reason = &owner;
            let what = format!("who, {}", s.what);
            let out = run(env, &["who", &target], &[0]);
            let mut ok = check_rows(&mut t, &what, &out, 1, &["tcp"], Some(1));
            ok &= dirt(&out).is_none();
            let text = String::from_utf8_lossy(&out);
            if !text
                .lines()
                .next()
                .is_some_and(|l| l.contains(&format!("tcp LISTEN by {owner}")))
            {
                ok = t.fail(format!("{what}: summary {text:?}"));
            }
            ok &= row_with(&mut t, &what, &out, &[&format!("{owner} fd=")]).is_some();
            let doc = json_doc(&run(env, &["who", &target, "--json"], &[0]));
            let (jok, exact) = owner_ok(&mut t, &what, &doc["sockets"][0]["owners"], s);
            // The summary is the table's first line, names escaped as there.
            let summary_ok = doc["summary"]
                .as_str()
                .is_some_and(|l| l.contains(&owner) && dirt(l.as_bytes()).is_none())
                || t.fail(format!("{what}: JSON summary {}", doc["summary"]));

            let what = format!("why-bind, {}", s.what);
            let out = run(env, &["why-bind", &target], &[1]);
            if let Some(d) = dirt(&out) {
                ok = t.fail(format!("{what}: {d}"));
            }
            let text = String::from_utf8_lossy(&out);
            let reasons = text.lines().filter(|l| l.starts_with("  - ")).count();
            let listed = text.lines().skip_while(|l| !l.starts_with("State")).skip(1);
            let rows: Vec<&str> = listed.collect();
            if rows.len() != 1 || !rows[0].starts_with("LISTEN") || reasons == 0 {
                ok = t.fail(format!("{what}: layout {text:?}"));
            }
            ok &= row_with(&mut t, &what, &out, &[&format!("({in_reason})")]).is_some();
            ok &= row_with(&mut t, &what, &out, &[&format!("{owner} fd=")]).is_some();
            let doc = json_doc(&run(env, &["why-bind", &target, "--json"], &[1]));
            let (wok, _) = owner_ok(&mut t, &what, &doc["holders"][0]["owners"], s);
            // Reasons are sentences with the exact name in JSON.
            let raw = format!("{}/{}", s.comm_json().0, s.child.pid());
            let reason_ok = doc["reasons"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|r| r.as_str().is_some_and(|r| r.contains(&raw)))
            }) || t.fail(format!("{what}: JSON reasons {}", doc["reasons"]));
            *table_ok.get_mut(&s.child.pid()).unwrap() &= ok;
            let e = json_ok.get_mut(&s.child.pid()).unwrap();
            *e = (e.0 && jok && wok && summary_ok && reason_ok, e.1 && exact);
        }

        // ---- listeners ----
        let out = run(env, &["listeners"], &[0, 1]);
        let doc = json_doc(&run(env, &["listeners", "--json"], &[0, 1]));
        let listed = doc["listeners"].as_array().cloned().unwrap_or_default();
        let text = String::from_utf8_lossy(&out).into_owned();
        let grid: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        let grid_ok = match dirt(&out) {
            Some(d) => t.fail(format!("listeners: {d}")),
            None if env.private_ns && grid.len() != listed.len() + 1 => t.fail(format!(
                "listeners: {} lines for {} listeners: {text:?}",
                grid.len(),
                listed.len()
            )),
            // Every row starts with an address (right-aligned): digits,
            // `*` or `[`.
            None => {
                grid.iter().skip(1).all(|l| {
                    l.trim_start()
                        .starts_with(|c: char| c.is_ascii_digit() || c == '*' || c == '[')
                }) || t.fail(format!("listeners: a line that is not a row: {text:?}"))
            }
        };
        for s in &subjects {
            let what = format!("listeners, {}", s.what);
            let owner = format!("{}/{}", s.comm_listed(), s.child.pid());
            let local = format!("127.0.0.1:{} ", s.port);
            let ok = grid_ok && row_with(&mut t, &what, &out, &[&local, &owner]).is_some();
            *table_ok.get_mut(&s.child.pid()).unwrap() &= ok;
            let rec = listed
                .iter()
                .find(|l| l["local"]["port"].as_u64() == Some(u64::from(s.port)));
            let (jok, exact) = match rec {
                Some(r) => owner_ok(&mut t, &what, &r["owners"], s),
                None => (t.fail(format!("{what}: not in JSON")), false),
            };
            let e = json_ok.get_mut(&s.child.pid()).unwrap();
            *e = (e.0 && jok, e.1 && exact);
        }

        // ---- UNIX sockets: -xa, -xap, -xape, and from /proc ----
        let mut unix_table_ok: BTreeMap<u64, bool> = BTreeMap::new();
        let mut unix_json: BTreeMap<u64, bool> = BTreeMap::new();
        let netids = ["u_str", "u_dgr", "u_seq"];
        for args in [
            &["-xa"][..],
            &["-xap"][..],
            &["-xape"][..],
            &["-xa", "--source", "proc"][..],
        ] {
            let what = args.join(" ");
            let owners = args[0].contains('p');
            let out = run(env, args, &[0]);
            let recs = json_both(env, args, &[0]);
            let rows = env.private_ns.then(|| recs[1].len());
            let rows_ok = check_rows(&mut t, &what, &out, 0, &netids, rows);
            for s in &subjects {
                for (name, inode) in &s.unix {
                    let what = format!("{what}, {} ({})", s.what, lossy(name).escape_debug());
                    let path = format!("{} {inode} ", shown(name));
                    let owner = format!("{}/{} fd=", s.comm_listed(), s.child.pid());
                    let mut needles = vec![path.as_str()];
                    if owners {
                        needles.push(&owner);
                    }
                    let ok = rows_ok && row_with(&mut t, &what, &out, &needles).is_some();
                    *unix_table_ok.entry(*inode).or_insert(true) &= ok;
                    // Exact: `path` itself, or (not UTF-8) `path_hex`.
                    let utf8 = std::str::from_utf8(name).is_ok();
                    for recs in &recs {
                        let rec = recs.iter().find(|r| r["inode"].as_u64() == Some(*inode));
                        let mut ok = match rec {
                            None => t.fail(format!("{what}: inode {inode} not in JSON")),
                            Some(r) => {
                                let l = &r["local"];
                                let path_ok = l["path"].as_str() == Some(&lossy(name));
                                let hex_ok = if utf8 {
                                    l.get("path_hex").is_none()
                                } else {
                                    l["path_hex"].as_str() == Some(&hex(name))
                                };
                                (path_ok && hex_ok) || t.fail(format!("{what}: JSON local {l}"))
                            }
                        };
                        if owners && let Some(r) = rec {
                            ok &= owner_ok(&mut t, &what, &r["owners"], s).0;
                        }
                        *unix_json.entry(*inode).or_insert(true) &= ok;
                    }
                }
            }
        }

        // ---- the tally ----
        for s in &subjects {
            let pid = s.child.pid();
            let (ok, exact) = json_ok[&pid];
            t.case("process names", table_ok[&pid], ok && exact, ok && !exact);
        }
        for s in &subjects {
            for (name, inode) in &s.unix {
                let ok = unix_json[inode];
                let subject = if name.starts_with(b"@") {
                    "abstract UNIX names"
                } else {
                    "UNIX paths"
                };
                // A NUL inside an abstract name shows as `@` (as in
                // /proc/net/unix and ss): a documented replacement.
                let exact = !s.what.starts_with("NUL");
                t.case(subject, unix_table_ok[inode], ok && exact, ok && !exact);
            }
        }
        t.finish(env);
    });
}

#[test]
fn hostile_command_lines() {
    Sandbox::run(|env| {
        let mut t = Tally::default();
        let mut argv0s: Vec<(&'static str, Vec<u8>)> = CASES
            .iter()
            .map(|(what, bytes, _)| (*what, bytes.to_vec()))
            .collect();
        // 64 KiB of hostile text in one argument (the kernel takes up to
        // 128 KiB per argument).
        argv0s.push(("64 KiB argv[0]", filler(64 * 1024)));
        let mut children = Vec::new();
        for (what, argv0) in &argv0s {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let child = Argv0::spawn(env, argv0, listener.as_raw_fd());
            drop(listener);
            children.push((what, argv0, port, child));
        }
        let filter = children
            .iter()
            .map(|(_, _, port, _)| format!("sport = :{port}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let filter = format!("src 127.0.0.1 and ( {filter} )");
        let args = ["-tanp", "--cmdline", &filter];
        let table = run(env, &args, &[0]);
        let rows_ok = check_rows(
            &mut t,
            "-tanp --cmdline",
            &table,
            0,
            &["LISTEN"],
            Some(children.len()),
        );
        let recs = json_both(env, &args, &[0]);
        for (what, argv0, port, child) in &children {
            let pid = child.0.id();
            // /proc/PID/cmdline with its NULs as spaces.
            let cmdline = [argv0.as_slice(), b" 120"].concat();
            let owner = format!("sleep/{pid} fd=");
            let shown_cmd = format!(" [{}]", listed(&lossy(&cmdline), cmdline_separator));
            let local = format!("127.0.0.1:{port} ");
            let what = format!("--cmdline, {what}");
            let table_ok =
                rows_ok && row_with(&mut t, &what, &table, &[&local, &owner, &shown_cmd]).is_some();
            let mut json_ok = true;
            for recs in &recs {
                let owner = recs
                    .iter()
                    .find(|r| r["local"]["port"].as_u64() == Some(u64::from(*port)))
                    .and_then(|r| r["owners"].as_array())
                    .and_then(|o| o.iter().find(|o| o["pid"].as_u64() == Some(u64::from(pid))));
                let want_hex = std::str::from_utf8(&cmdline)
                    .is_err()
                    .then(|| hex(&cmdline));
                json_ok &= owner.is_some_and(|o| {
                    o["cmdline"].as_str() == Some(&lossy(&cmdline))
                        && o["cmdline_hex"].as_str() == want_hex.as_deref()
                }) || t.fail(format!("{what}: JSON owner {owner:?}"));
            }
            // Exact: the text, or (not UTF-8) every byte in `cmdline_hex`.
            t.case("command lines", table_ok, json_ok, false);
        }
        t.finish(env);
    });
}

/// One owner as the Process column shows it: (name, pid, fd, cmdline).
type Listed = (String, u32, Option<u32>, Option<String>);

/// Reads a Process cell by the README's grammar ("Owners"), left to right:
/// `NAME/PID fd=N [CMDLINE]` items separated by `, `, then perhaps
/// `(accept queue of NAME/PID, ...)`; a NAME or CMDLINE in double quotes
/// ends at the first `"` no backslash escapes. Returns the owners, then
/// the queue's listener owners.
fn parse_process(cell: &str) -> Result<(Vec<Listed>, Vec<Listed>), String> {
    fn field(s: &str, end: char) -> Result<(String, &str), String> {
        if let Some(rest) = s.strip_prefix('"') {
            let mut out = String::new();
            let mut it = rest.char_indices();
            while let Some((i, c)) = it.next() {
                match c {
                    '\\' => {
                        let (_, n) = it.next().ok_or("backslash at the end")?;
                        if n != '"' {
                            out.push('\\');
                        }
                        out.push(n);
                    }
                    '"' => return Ok((out, &rest[i + 1..])),
                    c => out.push(c),
                }
            }
            Err(format!("unterminated quote in {s:?}"))
        } else {
            let i = s.find(end).ok_or(format!("no {end:?} in {s:?}"))?;
            Ok((s[..i].to_owned(), &s[i..]))
        }
    }
    fn number(s: &str) -> Result<(u32, &str), String> {
        let n = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let v = s[..n].parse().map_err(|e| format!("{e} at {s:?}"))?;
        Ok((v, &s[n..]))
    }
    fn owners(mut s: &str, with_fd: bool) -> Result<(Vec<Listed>, &str), String> {
        let mut list = Vec::new();
        loop {
            if s.is_empty() || s.starts_with('(') || s.starts_with(')') {
                return Ok((list, s));
            }
            let (name, rest) = field(s, '/')?;
            let rest = rest.strip_prefix('/').ok_or(format!("no / at {rest:?}"))?;
            let (pid, mut rest) = number(rest)?;
            let mut fd = None;
            let mut cmd = None;
            if with_fd {
                let r = rest
                    .strip_prefix(" fd=")
                    .ok_or(format!("no fd at {rest:?}"))?;
                let (n, r) = number(r)?;
                fd = Some(n);
                rest = r;
                if let Some(r) = rest.strip_prefix(" [") {
                    let (c, r) = field(r, ']')?;
                    cmd = Some(c);
                    rest = r.strip_prefix(']').ok_or(format!("no ] at {r:?}"))?;
                }
            }
            list.push((name, pid, fd, cmd));
            s = match rest.strip_prefix(", ") {
                Some(r) => r,
                None => rest,
            };
        }
    }
    let (mine, rest) = owners(cell, true)?;
    let queue = match rest.strip_prefix('(') {
        None if rest.is_empty() => Vec::new(),
        None => return Err(format!("left over: {rest:?}")),
        Some(r) => {
            let r = r
                .strip_prefix("accept queue of ")
                .or_else(|| r.strip_prefix("syn queue of "))
                .ok_or(format!("not a queue: {r:?}"))?;
            let (q, r) = owners(r, false)?;
            if r != ")" {
                return Err(format!("left over after the queue: {r:?}"));
            }
            q
        }
    };
    Ok((mine, queue))
}

/// The Process cells of a table: each line's text from the header's
/// `Process` column on (the column is last and left-aligned).
fn process_cells(out: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let at = header.find("Process").expect("a Process column");
    lines
        .map(|l| l.get(at..).unwrap_or_default().to_owned())
        .collect()
}

/// Issue 12, item 6: a process named like an owner list
/// (`nginx/1 fd=3, a`, 15 bytes: the whole name fits) and a command line
/// holding `], x/2 fd=9 [` stay one owner each in every owner list: the
/// Process column (its own socket and the accept queue of its listener),
/// `--cmdline`, `who` and `listeners`.
#[test]
fn names_like_owner_lists_stay_one_owner() {
    Sandbox::run(|env| {
        const NAME: &str = "nginx/1 fd=3, a";
        const ARGV0: &str = "x], evil/2 fd=9 [y";
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let child = Named::fork(NAME.as_bytes(), &[listener.as_raw_fd()]);
        drop(listener);
        // A connection the child never accepts: it waits in the queue.
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let other_port = other.local_addr().unwrap().port();
        let sleeper = Argv0::spawn(env, ARGV0.as_bytes(), other.as_raw_fd());
        drop(other);
        let pid = child.pid();
        let one = |cell: &str, want_queue: bool| {
            let (mine, queue) = parse_process(cell).unwrap_or_else(|e| panic!("{cell:?}: {e}"));
            let (owners, expect_fd) = if want_queue {
                assert!(mine.is_empty(), "{cell:?}");
                (queue, false)
            } else {
                assert!(queue.is_empty(), "{cell:?}");
                (mine, true)
            };
            assert_eq!(owners.len(), 1, "one owner in {cell:?}: {owners:?}");
            assert_eq!(owners[0].0, NAME, "{cell:?}");
            assert_eq!(owners[0].1, pid, "{cell:?}");
            assert_eq!(owners[0].2.is_some(), expect_fd, "{cell:?}");
        };

        let filter = format!("sport = :{port}");
        let out = run(env, &["-tanp", &filter], &[0]);
        let cells = process_cells(&out);
        assert_eq!(
            cells.len(),
            2,
            "LISTEN and the queued connection: {cells:?}"
        );
        for c in &cells {
            one(c, c.starts_with('('));
        }
        assert!(cells.iter().any(|c| c.starts_with("(accept queue of ")));

        let filter = format!("sport = :{other_port}");
        let out = run(env, &["-tanp", "--cmdline", &filter], &[0]);
        let cells = process_cells(&out);
        assert_eq!(cells.len(), 1, "{cells:?}");
        let (mine, _) = parse_process(&cells[0]).unwrap_or_else(|e| panic!("{cells:?}: {e}"));
        assert_eq!(mine.len(), 1, "one owner in {cells:?}");
        assert_eq!(mine[0].1, sleeper.0.id(), "{cells:?}");
        assert_eq!(
            mine[0].3.as_deref(),
            Some(format!("{ARGV0} 120").as_str()),
            "{cells:?}"
        );

        // who: the summary names one holder; its table as -tanp's.
        let out = run(env, &["who", &format!("127.0.0.1:{port}")], &[0]);
        let text = String::from_utf8_lossy(&out);
        let summary = text.lines().next().unwrap_or_default();
        let by = summary
            .split_once("tcp LISTEN by ")
            .map(|(_, r)| r.split(';').next().unwrap_or_default())
            .unwrap_or_default();
        let (listed, _) = parse_process(&by.replace(&format!("/{pid}"), &format!("/{pid} fd=0")))
            .unwrap_or_else(|e| panic!("{summary:?}: {e}"));
        assert_eq!(listed.len(), 1, "one LISTEN holder in {summary:?}");
        assert_eq!(listed[0].0, NAME, "{summary:?}");

        // listeners: the Process column of the listener's row.
        let out = run(env, &["listeners"], &[0, 1]);
        let text = String::from_utf8_lossy(&out);
        let row = text
            .lines()
            .find(|l| l.contains(&format!("127.0.0.1:{port} ")))
            .unwrap_or_else(|| panic!("no row for :{port} in {text:?}"));
        let want = format!("\"nginx/1 fd=3, a\"/{pid}");
        assert!(row.contains(&want), "{want} in {row:?}");
    });
}
