//! `sockscope counters`: the protocol counters of the reading thread's
//! network namespace, and the state file `--delta` keeps between runs.
//!
//! Two formats, one parser each:
//! - pairs of lines, `Tcp: RtoAlgorithm RtoMin ...` then `Tcp: 1 200 ...`
//!   ([`parse_pairs`], through [`super::sections`]): /proc/net/snmp
//!   (net/ipv4/proc.c: snmp_seq_show_ipstats(), icmp_put(), icmpmsg_put(),
//!   snmp_seq_show_tcp_udp()) and /proc/net/netstat (netstat_seq_show():
//!   TcpExt, IpExt, MPTcpExt);
//! - one `Name value` per line ([`parse_lines`]): /proc/net/snmp6
//!   (net/ipv6/proc.c: snmp6_seq_show(), the names already carry `Ip6`,
//!   `Icmp6`, `Udp6`), and the state file, which is written the same way.
//!
//! Names are nstat's (misc/nstat.c, load_ugly_table()): section and field
//! joined. The values nstat leaves out as settings rather than counters
//! (useless_numbers: IpForwarding, IpDefaultTTL, TcpRtoAlgorithm, TcpRtoMin,
//! TcpRtoMax, TcpMaxConn, TcpCurrEstab) are left out here too, so both name
//! the same set; every other value must be an unsigned number.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::sections::{SectionError, Sections};
use crate::model::{Counter, Counters};
use crate::text::escape_path;

/// nstat's settings that are not counters (misc/nstat.c, useless_numbers).
pub const NOT_COUNTERS: &[&str] = &[
    "IpForwarding",
    "IpDefaultTTL",
    "TcpRtoAlgorithm",
    "TcpRtoMin",
    "TcpRtoMax",
    "TcpMaxConn",
    "TcpCurrEstab",
];

/// Why a line of a counter file is not what the kernel writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error(transparent)]
    Section(#[from] SectionError),
    /// A value that is not an unsigned 64-bit number.
    #[error("{name}: {value:?} is not a counter value")]
    Value { name: String, value: String },
    /// A `Name value` line with another number of words.
    #[error("expected `NAME VALUE`, found {words} words")]
    Words { words: usize },
    /// Bytes that are not UTF-8 (the kernel writes ASCII).
    #[error("not UTF-8 text")]
    NotText,
}

/// A counter file that could not be read or parsed, naming it.
#[derive(Debug, thiserror::Error)]
pub enum CountersError {
    #[error("cannot read {}", escape_path(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: line {line}: {reason}", escape_path(.path))]
    Line {
        path: PathBuf,
        line: usize,
        reason: LineError,
    },
}

/// A parse failure before its path is known: the line and why.
pub type Failure = (usize, ParseFailure);

/// A read or a line that failed, for [`CountersError`].
#[derive(Debug)]
pub enum ParseFailure {
    Io(io::Error),
    Line(LineError),
}

impl From<LineError> for ParseFailure {
    fn from(e: LineError) -> ParseFailure {
        ParseFailure::Line(e)
    }
}

fn with_path(path: &Path, (line, f): Failure) -> CountersError {
    match f {
        ParseFailure::Io(source) => CountersError::Io {
            path: path.to_owned(),
            source,
        },
        ParseFailure::Line(reason) => CountersError::Line {
            path: path.to_owned(),
            line,
            reason,
        },
    }
}

/// The lines of `reader`, each bounded ([`super::input::read_line`]).
fn each_line<R: BufRead>(
    mut reader: R,
    mut each: impl FnMut(usize, &str) -> Result<(), LineError>,
) -> Result<(), Failure> {
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        line_no += 1;
        let n = super::input::read_line(&mut reader, &mut buf)
            .map_err(|e| (line_no, ParseFailure::Io(e)))?;
        if n == 0 {
            return Ok(());
        }
        let line = std::str::from_utf8(&buf).map_err(|_| (line_no, LineError::NotText.into()))?;
        each(line_no, line).map_err(|e| (line_no, e.into()))?;
    }
}

fn value(name: &str, text: &str) -> Result<u64, LineError> {
    text.parse().map_err(|_| LineError::Value {
        name: name.to_owned(),
        value: text.to_owned(),
    })
}

/// The counters of a file of line pairs (/proc/net/snmp, /proc/net/netstat),
/// appended to `into`.
pub fn parse_pairs<R: BufRead>(reader: R, into: &mut Counters) -> Result<(), Failure> {
    let mut sections = Sections::any();
    each_line(reader, |line_no, line| {
        let Some(pairs) = sections.feed(line_no, line)? else {
            return Ok(());
        };
        // The values line's first word is the section's `PREFIX:`.
        let prefix = line
            .split_ascii_whitespace()
            .next()
            .and_then(|w| w.strip_suffix(':'))
            .unwrap_or("");
        for (field, text) in pairs {
            let name = format!("{prefix}{field}");
            if NOT_COUNTERS.contains(&name.as_str()) {
                continue;
            }
            let value = value(&name, text)?;
            into.push(Counter { name, value });
        }
        Ok(())
    })?;
    sections
        .finish()
        .map_err(|(line, e)| (line, LineError::from(e).into()))
}

/// The counters of a `Name value` file (/proc/net/snmp6, the state file),
/// appended to `into`; empty lines and `#` comments are skipped.
pub fn parse_lines<R: BufRead>(reader: R, into: &mut Counters) -> Result<(), Failure> {
    each_line(reader, |_, line| {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        match words[..] {
            [] => Ok(()),
            [first, ..] if first.starts_with('#') => Ok(()),
            [name, text] => {
                if !NOT_COUNTERS.contains(&name) {
                    into.push(Counter {
                        name: name.to_owned(),
                        value: value(name, text)?,
                    });
                }
                Ok(())
            }
            _ => Err(LineError::Words { words: words.len() }),
        }
    })
}

/// Every counter of `proc_net` (the reading thread's namespace: see
/// `config`'s proc_net): snmp and netstat must be there, snmp6 is missing
/// where IPv6 is off.
pub fn read(proc_net: &Path) -> Result<Counters, CountersError> {
    let mut all = Counters::new();
    for (file, required, pairs) in [
        ("snmp", true, true),
        ("netstat", true, true),
        ("snmp6", false, false),
    ] {
        let path = proc_net.join(file);
        let input = match super::input::open(&path) {
            Ok(f) => f,
            Err(e) if !required && e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(CountersError::Io { path, source }),
        };
        let parsed = if pairs {
            parse_pairs(input, &mut all)
        } else {
            parse_lines(input, &mut all)
        };
        parsed.map_err(|f| with_path(&path, f))?;
    }
    Ok(all)
}

/// Why the `--delta` state could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot use the counters' state {}: {what}", escape_path(.path))]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// A directory or file that is not what sockscope made: a symbolic
    /// link, another owner, or open to others.
    #[error("refusing the counters' state {}: {why}", escape_path(.path))]
    Unsafe { path: PathBuf, why: &'static str },
    #[error(transparent)]
    Parse(#[from] CountersError),
}

/// The directory of the `--delta` state: `$XDG_RUNTIME_DIR/sockscope`, or
/// `/tmp/sockscope-UID` when XDG_RUNTIME_DIR is unset or not absolute
/// (nstat keeps its history in /tmp/.nstat.uUID the same way).
pub fn state_dir(runtime_dir: Option<&Path>, uid: u32) -> PathBuf {
    match runtime_dir.filter(|d| d.is_absolute()) {
        Some(dir) => dir.join("sockscope"),
        None => PathBuf::from(format!("/tmp/sockscope-{uid}")),
    }
}

/// Makes `dir` (mode 0700) if missing, then checks it is a directory, not
/// a symbolic link, owned by `uid` and closed to others: in /tmp anyone
/// could have made it first.
pub fn ensure_dir(dir: &Path, uid: u32) -> Result<(), StateError> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(StateError::Io {
                path: dir.to_owned(),
                what: "creating the directory",
                source,
            });
        }
    }
    let meta = fs::symlink_metadata(dir).map_err(|source| StateError::Io {
        path: dir.to_owned(),
        what: "checking the directory",
        source,
    })?;
    let unsafe_dir = |why| StateError::Unsafe {
        path: dir.to_owned(),
        why,
    };
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a directory"));
    }
    if meta.uid() != uid {
        return Err(unsafe_dir("it belongs to another user"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(unsafe_dir("others may write or read it (mode is not 0700)"));
    }
    Ok(())
}

/// The state file of the namespace with inode `netns`, in `dir`.
pub fn state_file(dir: &Path, netns: u64) -> PathBuf {
    dir.join(format!("counters.{netns}"))
}

/// The counters saved by the previous `--delta` run, `None` when there was
/// none. The file is opened with O_NOFOLLOW (a symbolic link planted there
/// is refused, never read through) and must belong to `uid`.
pub fn load_state(path: &Path, uid: u32) -> Result<Option<Counters>, StateError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(StateError::Unsafe {
                path: path.to_owned(),
                why: "it is a symbolic link",
            });
        }
        Err(source) => {
            return Err(StateError::Io {
                path: path.to_owned(),
                what: "opening the file",
                source,
            });
        }
    };
    let io_err = |what, source| StateError::Io {
        path: path.to_owned(),
        what,
        source,
    };
    let meta = file
        .metadata()
        .map_err(|e| io_err("checking the file", e))?;
    if !meta.is_file() {
        return Err(StateError::Unsafe {
            path: path.to_owned(),
            why: "it is not a regular file",
        });
    }
    if meta.uid() != uid {
        return Err(StateError::Unsafe {
            path: path.to_owned(),
            why: "it belongs to another user",
        });
    }
    let mut bytes = Vec::new();
    (&mut file)
        .take(super::input::MAX_SIZE)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err("reading the file", e))?;
    let mut saved = Counters::new();
    parse_lines(&bytes[..], &mut saved).map_err(|f| with_path(path, f))?;
    Ok(Some(saved))
}

/// Saves `counters` for the next `--delta` run: written to a temporary
/// file (mode 0600, created new, so never through a link) in the same
/// directory, synced, then renamed over the state file (a rename replaces
/// a link planted there, never what it points to).
pub fn save_state(path: &Path, counters: &[Counter]) -> Result<(), StateError> {
    let mut text = String::from("#sockscope counters\n");
    for c in counters {
        text.push_str(&format!("{} {}\n", c.name, c.value));
    }
    let tmp = super::textfile::temporary(path);
    let fail = |path: &Path, what, source| StateError::Io {
        path: path.to_owned(),
        what,
        source,
    };
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| fail(&tmp, "creating the temporary file", e))
        .and_then(|mut file| {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(&tmp, "writing the temporary file", e))
        })
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|e| fail(path, "renaming the temporary file over it", e))
        });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNMP: &str = "Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 100\n\
        IcmpMsg: InType3 OutType3\nIcmpMsg: 4 5\n\
        Tcp: RtoAlgorithm MaxConn ActiveOpens CurrEstab\nTcp: 1 -1 7 2\n";

    fn pairs(text: &str) -> Result<Counters, Failure> {
        let mut c = Counters::new();
        parse_pairs(text.as_bytes(), &mut c).map(|()| c)
    }

    fn names(c: &Counters) -> Vec<(&str, u64)> {
        c.iter().map(|c| (c.name.as_str(), c.value)).collect()
    }

    #[test]
    fn pairs_are_named_as_nstat_names_them() {
        let c = pairs(SNMP).unwrap();
        assert_eq!(
            names(&c),
            [
                ("IpInReceives", 100),
                ("IcmpMsgInType3", 4),
                ("IcmpMsgOutType3", 5),
                ("TcpActiveOpens", 7)
            ]
        );
    }

    #[test]
    fn bad_pairs_name_their_line() {
        let line = |text: &str| match pairs(text) {
            Err((line, ParseFailure::Line(e))) => (line, e),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            line("Tcp: A B\nTcp: 1 x\n"),
            (
                2,
                LineError::Value {
                    name: "TcpB".into(),
                    value: "x".into()
                }
            )
        );
        assert_eq!(
            line("Tcp: A B\nTcp: 1\n"),
            (
                2,
                LineError::Section(SectionError::Columns {
                    names: 2,
                    values: 1
                })
            )
        );
        assert_eq!(
            line("Ip: A\nTcp: 1\n"),
            (2, LineError::Section(SectionError::NoValues))
        );
        assert_eq!(
            line("Ip: A\n"),
            (1, LineError::Section(SectionError::NoValues))
        );
        assert_eq!(line("Ip: A\nIp: \u{ff}\n").0, 2);
    }

    #[test]
    fn name_value_lines() {
        let mut c = Counters::new();
        parse_lines(
            "Ip6InReceives   12\n#comment\n\nUdp6NoPorts 0\n".as_bytes(),
            &mut c,
        )
        .unwrap();
        assert_eq!(names(&c), [("Ip6InReceives", 12), ("Udp6NoPorts", 0)]);
        let err = parse_lines("A 1\nB 1 2\n".as_bytes(), &mut c).unwrap_err();
        assert!(matches!(
            err,
            (2, ParseFailure::Line(LineError::Words { words: 3 }))
        ));
    }

    #[test]
    fn the_recorded_files_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/counters");
        let c = read(&dir).unwrap();
        for name in [
            "IpInReceives",
            "TcpExtListenOverflows",
            "TcpRetransSegs",
            "Ip6InReceives",
            "MPTcpExtMPCapableSYNRX",
            "IcmpInErrors",
            "UdpLiteInDatagrams",
        ] {
            assert!(c.iter().any(|c| c.name == name), "{name}");
        }
        assert!(!c.iter().any(|c| NOT_COUNTERS.contains(&c.name.as_str())));
        let err = read(&dir.join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing/snmp"), "{err}");
    }

    proptest::proptest! {
        /// Bad bytes give an error, never a panic; what parses keeps
        /// every name the input's values lines gave.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut c = Counters::new();
            let _ = parse_pairs(&bytes[..], &mut c);
            let _ = parse_lines(&bytes[..], &mut c);
        }

        /// A recorded file with one byte changed: an error naming a line
        /// of the file, or counters.
        #[test]
        fn a_changed_byte_is_an_error_or_counters(at in 0usize..4000, byte in proptest::num::u8::ANY) {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/counters");
            let mut bytes = fs::read(dir.join("netstat")).unwrap();
            let i = at % bytes.len();
            bytes[i] = byte;
            let lines = bytes.split(|b| *b == b'\n').count();
            let mut c = Counters::new();
            if let Err((line, _)) = parse_pairs(&bytes[..], &mut c) {
                proptest::prop_assert!(line >= 1 && line <= lines);
            }
        }

        /// Lines of any text, split or not: never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "(\\PC{0,40}\n){0,8}") {
            let mut c = Counters::new();
            let _ = parse_pairs(text.as_bytes(), &mut c);
            let _ = parse_lines(text.as_bytes(), &mut c);
        }
    }

    #[test]
    fn state_is_private_and_never_followed() {
        let base =
            std::env::temp_dir().join(format!("sockscope-counters-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        let uid = rustix::process::geteuid().as_raw();
        let dir = state_dir(Some(&base), uid);
        assert_eq!(dir, base.join("sockscope"));
        assert_eq!(
            state_dir(Some(Path::new("rel")), 7),
            Path::new("/tmp/sockscope-7")
        );
        ensure_dir(&dir, uid).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = state_file(&dir, 42);
        assert!(load_state(&file, uid).unwrap().is_none());
        let saved = vec![Counter {
            name: "TcpExtListenOverflows".into(),
            value: 3,
        }];
        save_state(&file, &saved).unwrap();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_state(&file, uid).unwrap(), Some(saved));
        // Another owner's file, a link planted in its place, a link as the
        // directory: refused.
        assert!(matches!(
            load_state(&file, uid + 1),
            Err(StateError::Unsafe { .. })
        ));
        fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &file).unwrap();
        assert!(matches!(
            load_state(&file, uid),
            Err(StateError::Unsafe { .. })
        ));
        let linked = base.join("linked");
        std::os::unix::fs::symlink(&dir, &linked).unwrap();
        assert!(matches!(
            ensure_dir(&linked, uid),
            Err(StateError::Unsafe { .. })
        ));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            ensure_dir(&dir, uid),
            Err(StateError::Unsafe { .. })
        ));
        fs::remove_dir_all(&base).unwrap();
    }
}
