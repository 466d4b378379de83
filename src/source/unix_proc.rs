//! Parser for `/proc/net/unix`, the AF_UNIX socket table.
//!
//! The parser reads any [`BufRead`], so recorded fixtures and live files share
//! the code; [`read`] only opens the file and attaches its path to errors.
//! Lines are read as bytes: socket names may be any bytes, not UTF-8.
//!
//! Line layout (net/unix/af_unix.c: unix_seq_show()):
//!
//! ```text
//! Num       RefCount Protocol Flags    Type St Inode Path
//! 00000000b811b6a2: 00000002 00000000 00010000 0001 01 2673450 /run/foo.sock
//! 0000000016279278: 00000003 00000000 00000000 0001 02     0 /run/foo.sock
//! 000000009214eb33: 00000002 00000000 00010000 0001 01 2673454 @abs@inner@
//! ```
//!
//! `"%pK: %08X %08X %08X %04X %02X %5lu"`, then, only for a socket with an
//! address, one space and the name. The name is printed byte for byte with
//! no escaping (checked on Linux 6.18):
//!
//! * a filesystem path is printed as bound, without its terminating NUL;
//! * an abstract name is printed with `@` for its leading NUL, and every
//!   further NUL byte of the name is printed as `@` too (`"\0abs\0inner\0"`
//!   shows as `@abs@inner@`), so distinct names can print alike;
//! * a relative path bound as `@x` prints exactly like the abstract `"\0x"`;
//! * a newline in a name is printed raw, so it ends the line early and the
//!   rest of the name appears as the next line(s) of the file.
//!
//! Newlines are handled so that no socket name chosen by an unprivileged
//! user can make the table unreadable or forge a socket:
//!
//! * a line that does not parse as a complete socket record continues the
//!   name of the socket before it (joined with `b'\n'`, restoring the name's
//!   bytes); such a line after an unnamed socket, or before any socket, is
//!   an error;
//! * a line that parses as a record is one, unless its inode is claimed by
//!   another record too: the kernel prints each socket once, so one of them
//!   is text inside a name (a forgery that would lend the other socket's
//!   owner to an invented path). Of those records, the ones that could be
//!   the continuation of the name before them (that name plus a newline
//!   plus the line fit in [`MAX_NAME`] bytes) are ambiguous: they are not
//!   rows, and [`parse`] counts them. If that does not leave exactly one
//!   record for the inode, none is a row. **One inode is never two rows.**
//!
//! A forged record with an inode no other UNIX record has cannot be told
//! from a real one in this file (NETLINK_SOCK_DIAG's UNIX_DIAG_NAME has no
//! such ambiguity, and is the default source).

use std::io::BufRead;
use std::path::Path;

use rustc_hash::FxHashMap;

use super::input;

/// The longest name the kernel prints: `sizeof(sun_path)` (108) bytes, an
/// abstract name's leading NUL printed as `@` (net/unix/af_unix.c:
/// unix_seq_show(), include/uapi/linux/un.h: UNIX_PATH_MAX).
pub const MAX_NAME: usize = 108;

/// `__SO_ACCEPTCON` (include/linux/net.h): set in the Flags column for a
/// listening socket.
pub const SO_ACCEPTCON: u32 = 1 << 16;

/// `socket_state` values (include/uapi/linux/net.h) printed in the St column.
pub const SS_FREE: u8 = 0;
pub const SS_UNCONNECTED: u8 = 1;
pub const SS_CONNECTING: u8 = 2;
pub const SS_CONNECTED: u8 = 3;
pub const SS_DISCONNECTING: u8 = 4;

use crate::model::TcpState;
/// The socket type of an AF_UNIX socket (the Type column): the model's.
pub use crate::model::UnixKind;

/// One socket of `/proc/net/unix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixEntry {
    pub kind: UnixKind,
    /// The St column, a `socket_state`: [`SS_UNCONNECTED`] or
    /// [`SS_CONNECTED`] for a socket with a `struct socket`, and
    /// [`SS_CONNECTING`] or [`SS_DISCONNECTING`] for one without (such as a
    /// connection waiting in a listener's accept queue); the CONNECTED and
    /// CONNECTING values mean `sk_state == TCP_ESTABLISHED`.
    pub ss_state: u8,
    /// Flags has [`SO_ACCEPTCON`]: `sk_state == TCP_LISTEN`.
    pub listening: bool,
    /// The socket inode; 0 for a socket without a `struct socket`.
    pub inode: u64,
    /// The name exactly as the kernel prints it (see the module docs):
    /// abstract names start with `b'@'`; `None` when unnamed.
    pub path: Option<Vec<u8>>,
}

impl UnixEntry {
    /// True when the name is abstract, or a relative path starting with `@`
    /// (the file cannot tell these apart).
    pub fn is_abstract(&self) -> bool {
        self.path
            .as_deref()
            .is_some_and(|p| p.first() == Some(&b'@'))
    }
}

impl UnixEntry {
    /// The socket's `sk_state`, the one mapping of the /proc columns to a
    /// state (both sources give the same state for the same socket).
    ///
    /// unix_seq_show() prints Flags `__SO_ACCEPTCON` iff `TCP_LISTEN`, and
    /// St (include/uapi/linux/net.h) as: with a `struct socket`,
    /// SS_CONNECTED iff `TCP_ESTABLISHED` else SS_UNCONNECTED; without one,
    /// SS_CONNECTING iff `TCP_ESTABLISHED` else SS_DISCONNECTING. So
    /// SS_CONNECTING is ESTABLISHED (not SYN_SENT: a UNIX socket is never
    /// in that state), and SS_DISCONNECTING is CLOSE. ss over netlink names
    /// `sk_state` the same way (ESTAB, UNCONN, LISTEN).
    pub fn state(&self) -> TcpState {
        if self.listening {
            return TcpState::Listen;
        }
        match self.ss_state {
            SS_CONNECTED | SS_CONNECTING => TcpState::Established,
            _ => TcpState::Close,
        }
    }
}

/// The State column `ss -xa` prints for this socket ([`UnixEntry::state`]
/// in ss's words).
///
/// The pending server side of a connection not yet accepted (St
/// SS_CONNECTING, inode 0, the listener's name) gets "ESTAB", its kernel
/// state, but `ss -xa` does not list it at all: the kernel's unix_diag skips
/// sockets without an inode. Use [`listed_by_ss`] to drop it. (ss's own
/// /proc fallback, `PROC_NET_UNIX=/proc/net/unix ss -xa`, maps St 2 to
/// SYN-SENT and 4 to CLOSING, and misreads names with spaces or newlines.)
pub fn ss_state_name(e: &UnixEntry) -> &'static str {
    match e.state() {
        TcpState::Listen => "LISTEN",
        TcpState::Established => "ESTAB",
        _ => "UNCONN",
    }
}

/// True when `ss -xa` (netlink) lists this socket: the kernel's unix_diag
/// dump skips sockets whose inode is 0.
pub fn listed_by_ss(e: &UnixEntry) -> bool {
    e.inode != 0
}

/// Why a line of `/proc/net/unix` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnixLineError {
    #[error("missing header (expected 'Num RefCount Protocol Flags Type St Inode Path')")]
    MissingHeader,
    #[error("bad {field} field near '{found}'")]
    BadField { field: &'static str, found: String },
    #[error("unknown socket type {0:#06x}")]
    UnknownType(u16),
}

/// A failure to read `/proc/net/unix`.
pub type UnixProcError = super::TextFileError<UnixLineError>;

/// Opens `path` (normally `/proc/net/unix`) and calls `each` for every
/// socket; returns how many ambiguous record lines were dropped.
pub fn read(path: &Path, each: impl FnMut(UnixEntry)) -> Result<usize, UnixProcError> {
    let file = input::open(path).map_err(|source| UnixProcError::Io {
        path: Some(path.to_path_buf()),
        source,
    })?;
    parse(file, each).map_err(|e| e.with_path(path))
}

/// A record line read, before the whole table shows whether it is a row.
struct Record {
    entry: UnixEntry,
    /// The line could also be the rest of the previous socket's name.
    could_continue: bool,
}

/// Parses a whole `/proc/net/unix` table from `reader`, calling `each` for
/// every socket in file order (after the whole table was read: whether a
/// line is a socket depends on the lines after it). Returns how many record
/// lines were dropped as ambiguous (see the module docs).
pub fn parse<R: BufRead>(
    mut reader: R,
    mut each: impl FnMut(UnixEntry),
) -> Result<usize, UnixProcError> {
    let mut buf = Vec::new();
    let mut number = 0usize;
    let mut records: Vec<Record> = Vec::new();
    loop {
        buf.clear();
        let n = input::read_line(&mut reader, &mut buf)
            .map_err(|source| UnixProcError::Io { path: None, source })?;
        if n == 0 {
            break;
        }
        number += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if number == 1 {
            if !is_header(line) {
                return Err(UnixProcError::Parse {
                    path: None,
                    line: 1,
                    reason: UnixLineError::MissingHeader,
                });
            }
            continue;
        }
        let previous = records.last_mut().and_then(|r| r.entry.path.as_mut());
        match parse_line(line) {
            Ok(entry) => {
                let could_continue =
                    previous.is_some_and(|name| name.len() + 1 + line.len() <= MAX_NAME);
                records.push(Record {
                    entry,
                    could_continue,
                });
            }
            Err(reason) => match previous {
                // A newline inside the previous socket's name.
                Some(path) => {
                    path.push(b'\n');
                    path.extend_from_slice(line);
                }
                None => {
                    return Err(UnixProcError::Parse {
                        path: None,
                        line: number,
                        reason,
                    });
                }
            },
        }
    }
    if number == 0 {
        return Err(UnixProcError::Parse {
            path: None,
            line: 1,
            reason: UnixLineError::MissingHeader,
        });
    }
    // Inodes claimed by more than one record (0: sockets without one,
    // several of which are normal).
    let mut claims: FxHashMap<u64, (usize, usize)> = FxHashMap::default();
    for r in &records {
        if r.entry.inode != 0 {
            let c = claims.entry(r.entry.inode).or_default();
            c.0 += 1;
            c.1 += usize::from(!r.could_continue);
        }
    }
    let mut dropped = 0;
    for r in records {
        let keep = match claims.get(&r.entry.inode) {
            None | Some((1, _)) => true,
            // Several claims: the one that cannot be text in a name, if
            // it is the only one.
            Some(&(_, firm)) => firm == 1 && !r.could_continue,
        };
        if keep {
            each(r.entry);
        } else {
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// The header row (net/unix/af_unix.c: unix_seq_show(), SEQ_START_TOKEN).
fn is_header(line: &[u8]) -> bool {
    const WORDS: [&[u8]; 8] = [
        b"Num",
        b"RefCount",
        b"Protocol",
        b"Flags",
        b"Type",
        b"St",
        b"Inode",
        b"Path",
    ];
    let mut words = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    WORDS.iter().all(|want| words.next() == Some(*want)) && words.next().is_none()
}

/// Parses one record line (without its newline) of `/proc/net/unix`.
pub fn parse_line(line: &[u8]) -> Result<UnixEntry, UnixLineError> {
    let mut cur = Cursor { rest: line };
    // Num: the socket address, "%pK" (hashed or zeros); 16 digits on 64-bit
    // kernels, 8 on 32-bit.
    cur.hex("Num", 1, 16)?;
    cur.literal("Num", b":")?;
    // RefCount: refcount_read(&sk->sk_refcnt), "%08X"
    cur.literal("RefCount", b" ")?;
    cur.hex("RefCount", 8, 8)?;
    // Protocol: always 0, "%08X"
    cur.literal("Protocol", b" ")?;
    cur.hex("Protocol", 8, 8)?;
    // Flags: __SO_ACCEPTCON when sk_state == TCP_LISTEN, else 0, "%08X"
    cur.literal("Flags", b" ")?;
    let flags = cur.hex("Flags", 8, 8)?;
    // Type: sk->sk_type, "%04X"
    cur.literal("Type", b" ")?;
    let sock_type = cur.hex("Type", 4, 4)?;
    // St: socket_state derived from sk_socket and sk_state, "%02X"
    cur.literal("St", b" ")?;
    let st = cur.hex("St", 2, 2)?;
    // Inode: sock_i_ino(s), "%5lu" (space-padded to 5 columns)
    cur.literal("Inode", b" ")?;
    cur.spaces();
    let inode = cur.decimal("Inode")?;
    // Path: u->addr, when bound: " " and the raw name bytes (see module docs)
    // (a name that starts with a newline leaves this line ending in " ").
    let path = if cur.rest.is_empty() {
        None
    } else {
        cur.literal("Path", b" ")?;
        Some(cur.rest.to_vec())
    };
    let sock_type = u16::try_from(sock_type).map_err(|_| cur.bad("Type"))?;
    let kind =
        UnixKind::from_kernel(u32::from(sock_type)).ok_or(UnixLineError::UnknownType(sock_type))?;
    // St: only SS_UNCONNECTED..=SS_DISCONNECTING are printed.
    let ss_state = u8::try_from(st)
        .ok()
        .filter(|st| (SS_UNCONNECTED..=SS_DISCONNECTING).contains(st))
        .ok_or_else(|| cur.bad("St"))?;
    Ok(UnixEntry {
        kind,
        ss_state,
        listening: flags & u64::from(SO_ACCEPTCON) != 0,
        inode,
        path,
    })
}

/// A position in a line being parsed.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn bad(&self, field: &'static str) -> UnixLineError {
        let shown = &self.rest[..self.rest.len().min(24)];
        UnixLineError::BadField {
            field,
            found: String::from_utf8_lossy(shown).into_owned(),
        }
    }

    /// Between `min` and `max` hex digits.
    fn hex(&mut self, field: &'static str, min: usize, max: usize) -> Result<u64, UnixLineError> {
        let len = self
            .rest
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if len < min || len > max {
            return Err(self.bad(field));
        }
        let mut value = 0u64;
        for &b in &self.rest[..len] {
            // At most 16 digits: cannot overflow.
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => b - b'A' + 10,
            };
            value = (value << 4) | u64::from(digit);
        }
        self.rest = &self.rest[len..];
        Ok(value)
    }

    fn decimal(&mut self, field: &'static str) -> Result<u64, UnixLineError> {
        let len = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return Err(self.bad(field));
        }
        let mut value = 0u64;
        for &b in &self.rest[..len] {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| self.bad(field))?;
        }
        self.rest = &self.rest[len..];
        Ok(value)
    }

    fn literal(&mut self, field: &'static str, text: &[u8]) -> Result<(), UnixLineError> {
        match self.rest.strip_prefix(text) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(self.bad(field)),
        }
    }

    fn spaces(&mut self) {
        let len = self.rest.iter().take_while(|&&b| b == b' ').count();
        self.rest = &self.rest[len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(input: &[u8]) -> Result<Vec<UnixEntry>, UnixProcError> {
        let mut out = Vec::new();
        parse(input, |e| out.push(e))?;
        Ok(out)
    }

    fn entry(
        kind: UnixKind,
        ss_state: u8,
        listening: bool,
        inode: u64,
        path: Option<&[u8]>,
    ) -> UnixEntry {
        UnixEntry {
            kind,
            ss_state,
            listening,
            inode,
            path: path.map(<[u8]>::to_vec),
        }
    }

    const HEADER: &str = "Num       RefCount Protocol Flags    Type St Inode Path\n";

    #[test]
    fn literal_samples() {
        let text = format!(
            "{HEADER}\
0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/foo.sock
0000000000000000: 00000003 00000000 00000000 0001 03 12346 /run/foo.sock
0000000000000000: 00000003 00000000 00000000 0001 03 12347
0000000000000000: 00000002 00000000 00000000 0002 01   901 /dev/log
0000000000000000: 00000002 00000000 00010000 0005 01 12348 @seq
0000000000000000: 00000002 00000000 00010000 0001 01 12349 @/tmp/.X11-unix/X0
0000000000000000: 00000002 00000000 00000000 0002 01 12350
0000000000000000: 00000002 00000000 00000000 0002 03 12351 /tmp/a b  c 
0000000000000000: 00000003 00000000 00000000 0001 02     0 /run/foo.sock
00000000: 00000002 00000000 00000000 0002 04 12352 @0001f
"
        );
        let got = parse_all(text.as_bytes()).unwrap();
        use UnixKind::*;
        let want = vec![
            entry(Stream, 1, true, 12345, Some(b"/run/foo.sock")),
            entry(Stream, 3, false, 12346, Some(b"/run/foo.sock")),
            entry(Stream, 3, false, 12347, None),
            entry(Dgram, 1, false, 901, Some(b"/dev/log")),
            entry(SeqPacket, 1, true, 12348, Some(b"@seq")),
            entry(Stream, 1, true, 12349, Some(b"@/tmp/.X11-unix/X0")),
            entry(Dgram, 1, false, 12350, None),
            entry(Dgram, 3, false, 12351, Some(b"/tmp/a b  c ")),
            entry(Stream, 2, false, 0, Some(b"/run/foo.sock")),
            entry(Dgram, 4, false, 12352, Some(b"@0001f")),
        ];
        assert_eq!(got, want);
        let names: Vec<_> = got.iter().map(ss_state_name).collect();
        assert_eq!(
            names,
            [
                "LISTEN", "ESTAB", "ESTAB", "UNCONN", "LISTEN", "LISTEN", "UNCONN", "ESTAB",
                "ESTAB", "UNCONN"
            ]
        );
        let netids: Vec<_> = got.iter().map(|e| e.kind.netid()).collect();
        assert_eq!(netids[..5], ["u_str", "u_str", "u_str", "u_dgr", "u_seq"]);
        assert!(got[4].is_abstract() && !got[0].is_abstract() && !got[2].is_abstract());
        assert!(!listed_by_ss(&got[8]) && listed_by_ss(&got[0]));
    }

    #[test]
    fn invalid_utf8_and_control_bytes_are_kept() {
        let mut text = HEADER.as_bytes().to_vec();
        text.extend_from_slice(
            b"0000000000000000: 00000002 00000000 00000000 0002 01 7 /tmp/\xff\xfe\x1b[0m\r\n",
        );
        let got = parse_all(&text).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path.as_deref(), Some(&b"/tmp/\xff\xfe\x1b[0m\r"[..]));
        // A relative name starting with a space, after a short inode.
        let text =
            format!("{HEADER}0000000000000000: 00000002 00000000 00000000 0002 01    42  lead\n");
        let got = parse_all(text.as_bytes()).unwrap();
        assert_eq!(
            (got[0].inode, got[0].path.as_deref()),
            (42, Some(&b" lead"[..]))
        );
    }

    #[test]
    fn newline_in_a_name_continues_it() {
        let text = format!(
            "{HEADER}\
0000000000000000: 00000002 00000000 00010000 0001 01 10 /tmp/a
b

c
0000000000000000: 00000002 00000000 00000000 0002 01 11 /tmp/end
\n"
        );
        let got = parse_all(text.as_bytes()).unwrap();
        assert_eq!(got[0].path.as_deref(), Some(&b"/tmp/a\nb\n\nc"[..]));
        // A name ending in a newline: the last line of the file is empty.
        assert_eq!(got[1].path.as_deref(), Some(&b"/tmp/end\n"[..]));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn name_starting_with_a_newline() {
        // bind("\nx"): the record line ends with the separator space.
        let text = format!("{HEADER}0000000000000000: 00000002 00000000 00000000 0002 01 12 \nx\n");
        let got = parse_all(text.as_bytes()).unwrap();
        assert_eq!(got[0].path.as_deref(), Some(&b"\nx"[..]));
    }

    #[test]
    fn a_record_inside_a_name_is_read_as_a_record() {
        // The documented ambiguity: a name holding a newline and then a
        // complete record line whose inode no other record claims.
        // Deterministically, two sockets.
        let text = format!(
            "{HEADER}\
0000000000000000: 00000002 00000000 00000000 0002 01 12 /tmp/x
0000000000000000: 00000002 00000000 00010000 0001 01 99 /forged
"
        );
        let got = parse_all(text.as_bytes()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].path.as_deref(), Some(&b"/tmp/x"[..]));
        assert_eq!(got[1].inode, 99);
    }

    #[test]
    fn a_forged_record_never_makes_two_rows_for_one_inode() {
        // Issue 12 item 5: an abstract name "\0x\n<record line>" forges a
        // socket with the inode of /run/real.sock (which would then lend
        // it its owner). Wherever the forged line is, the inode is one row:
        // the real one, whose line cannot be the rest of a name.
        let real = "0000000000000000: 00000002 00000000 00010000 0001 01 500 /run/real.sock";
        let forged = "0000000000000000: 00000002 00000000 00010000 0001 01 500 /run/docker.sock";
        let attacker = "0000000000000000: 00000002 00000000 00000000 0001 01 600 @x";
        let long = "0000000000000000: 00000002 00000000 00000000 0002 01 601 /run/a-name-long-enough-that-no-record-line-can-follow-it-within-108-bytes";
        for text in [
            format!("{HEADER}{long}\n{real}\n{attacker}\n{forged}\n"),
            format!("{HEADER}{attacker}\n{forged}\n{long}\n{real}\n"),
        ] {
            let mut got = Vec::new();
            let dropped = parse(text.as_bytes(), |e| got.push(e)).unwrap();
            assert_eq!(dropped, 1, "the forged line is counted");
            let by_inode: Vec<_> = got
                .iter()
                .map(|e| (e.inode, e.path.as_deref().unwrap_or(b"")))
                .collect();
            assert!(
                by_inode.contains(&(500, &b"/run/real.sock"[..])),
                "{by_inode:?}"
            );
            assert_eq!(got.iter().filter(|e| e.inode == 500).count(), 1);
            assert_eq!(got.len(), 3);
        }
        // Both claims could be text in a name: neither is a row.
        let text = format!("{HEADER}{attacker}\n{forged}\n{attacker}\n{real}\n");
        let text = text.replacen(" 600 @x", " 602 @y", 1);
        let mut got = Vec::new();
        assert_eq!(parse(text.as_bytes(), |e| got.push(e)).unwrap(), 2);
        assert!(got.iter().all(|e| e.inode != 500), "{got:?}");
    }

    #[test]
    fn one_state_mapping() {
        // Issue 12 item 10: St SS_CONNECTING (2) is a socket without a
        // struct socket in TCP_ESTABLISHED; the two mappings disagreed.
        let e = |st, listening| entry(UnixKind::Stream, st, listening, 1, None);
        assert_eq!(e(SS_CONNECTING, false).state(), TcpState::Established);
        assert_eq!(e(SS_CONNECTED, false).state(), TcpState::Established);
        assert_eq!(e(SS_UNCONNECTED, false).state(), TcpState::Close);
        assert_eq!(e(SS_DISCONNECTING, false).state(), TcpState::Close);
        assert_eq!(e(SS_UNCONNECTED, true).state(), TcpState::Listen);
        // St values the kernel never prints are not records.
        for st in ["00", "05", "FF"] {
            let line = format!("0000000000000000: 00000002 00000000 00000000 0001 {st} 5");
            assert!(parse_line(line.as_bytes()).is_err(), "{st}");
        }
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        let cases: &[(&[u8], usize, UnixLineError)] = &[
            (b"", 1, UnixLineError::MissingHeader),
            (
                b"0000000000000000: 00000002 00000000 00000000 0002 01 7\n",
                1,
                UnixLineError::MissingHeader,
            ),
            (
                b"Num RefCount Protocol Flags Type St Inode Path\n\
                  0000000000000000: 00000002 00000000 00000000 0003 01 7\n",
                2,
                UnixLineError::UnknownType(3),
            ),
        ];
        for (input, line, reason) in cases {
            match parse_all(input) {
                Err(UnixProcError::Parse {
                    path: None,
                    line: l,
                    reason: r,
                }) => assert_eq!((l, &r), (*line, reason)),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
            }
        }
        let bad_field = [
            // truncated
            ("0000000000000000: 00000002 00000000", "Flags"),
            // no inode
            (
                "0000000000000000: 00000002 00000000 00000000 0001 01",
                "Inode",
            ),
            (
                "0000000000000000: 00000002 00000000 00000000 0001 01 ",
                "Inode",
            ),
            // bad hex
            (
                "000000000000000g: 00000002 00000000 00000000 0001 01 5",
                "Num",
            ),
            (
                "0000000000000000: 0000002 00000000 00000000 0001 01 5",
                "RefCount",
            ),
            (
                "0000000000000000: 00000002 00000000 0001000 0001 01 5",
                "Flags",
            ),
            (
                "0000000000000000: 00000002 00000000 00010000 01 01 5",
                "Type",
            ),
            (
                "0000000000000000: 00000002 00000000 00010000 0001 1 5",
                "St",
            ),
            (
                "0000000000000000: 00000002 00000000 00010000 0001 01 x",
                "Inode",
            ),
            // inode overflow
            (
                "0000000000000000: 00000002 00000000 00010000 0001 01 99999999999999999999",
                "Inode",
            ),
            // a tab before the name
            (
                "0000000000000000: 00000002 00000000 00010000 0001 01 5\tx",
                "Path",
            ),
            ("garbage", "Num"),
        ];
        for (line, field) in bad_field {
            // After an unnamed socket, so the line cannot continue a name.
            let text =
                format!("{HEADER}0000000000000000: 00000002 00000000 00000000 0001 01 4\n{line}\n");
            match parse_all(text.as_bytes()) {
                Err(UnixProcError::Parse {
                    line: 3,
                    reason: UnixLineError::BadField { field: f, .. },
                    ..
                }) => assert_eq!(f, field, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
            // As the first record there is nothing to continue either.
            let text = format!("{HEADER}{line}\n");
            assert!(
                matches!(
                    parse_all(text.as_bytes()),
                    Err(UnixProcError::Parse { line: 2, .. })
                ),
                "{line}"
            );
        }
    }

    #[test]
    fn errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("unix_proc_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("unix");
        std::fs::write(&file, format!("{HEADER}nonsense\n")).unwrap();
        let err = read(&file, |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: line 2: bad Num field near 'nonsense'", file.display())
        );
        let missing = dir.join("absent");
        let err = read(&missing, |_| {}).unwrap_err();
        assert!(matches!(&err, UnixProcError::Io { path: Some(p), .. } if *p == missing));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Captured on Linux 6.18 from a private network namespace (`unshare -n`)
    /// holding: a stream listener with a pending (unaccepted) connection and
    /// an accepted one, an abstract stream listener whose name has inner
    /// NULs, a datagram socket bound to a path with spaces and another
    /// connected to it, an abstract seqpacket listener, a listener whose
    /// path holds a newline and an ESC byte, a datagram socket with an
    /// invalid-UTF-8 path, a socketpair, an autobound datagram socket and
    /// an abstract name ending in NULs.
    pub(crate) const CAPTURE: &[u8] = b"\
Num       RefCount Protocol Flags    Type St Inode Path
0000000092d7e4e2: 00000003 00000000 00000000 0001 03 2691555 /tmp/sexp/s/listen.sock
00000000433d7372: 00000003 00000000 00000000 0001 03 2691556
00000000cb2db377: 00000003 00000000 00000000 0001 03 2691554
0000000031259fb8: 00000003 00000000 00000000 0001 02     0 /tmp/sexp/s/listen.sock
000000008d7a9c89: 00000002 00000000 00010000 0001 01 2691553 /tmp/sexp/s/listen.sock
00000000ac72f914: 00000003 00000000 00000000 0002 03 2691558 /tmp/sexp/s/dgram sock with spaces
0000000029bbe51c: 00000002 00000000 00010000 0001 01 2691561 /tmp/sexp/s/nl
x\x1b[31mesc
00000000dfff7c9a: 00000002 00000000 00000000 0002 01 2691562 /tmp/sexp/s/bad\xff\xfe
0000000028bba37e: 00000002 00000000 00000000 0002 03 2691559
0000000036f17a46: 00000003 00000000 00000000 0001 03 2691564
000000000e422252: 00000003 00000000 00000000 0001 03 2691563
000000003c1de482: 00000002 00000000 00010000 0001 01 2691557 @abs@inner@
000000005464a2da: 00000002 00000000 00000000 0002 01 2691565 @456aa
00000000c8f321e2: 00000002 00000000 00010000 0005 01 2691560 @seq
0000000044393f32: 00000002 00000000 00000000 0002 01 2691566 @trail@@
";

    #[test]
    fn real_capture_matches_ss() {
        let got = parse_all(CAPTURE).unwrap();
        // `ss -xa` for the same namespace, reduced to netid, state, local
        // address and inode (its rows are in the same order); the pending
        // connection (inode 0) is the one row ss does not list.
        let ss = [
            ("u_str", "ESTAB", &b"/tmp/sexp/s/listen.sock"[..], 2691555),
            ("u_str", "ESTAB", b"*", 2691556),
            ("u_str", "ESTAB", b"*", 2691554),
            ("u_str", "LISTEN", b"/tmp/sexp/s/listen.sock", 2691553),
            (
                "u_dgr",
                "ESTAB",
                b"/tmp/sexp/s/dgram sock with spaces",
                2691558,
            ),
            ("u_str", "LISTEN", b"/tmp/sexp/s/nl\nx\x1b[31mesc", 2691561),
            ("u_dgr", "UNCONN", b"/tmp/sexp/s/bad\xff\xfe", 2691562),
            ("u_dgr", "ESTAB", b"*", 2691559),
            ("u_str", "ESTAB", b"*", 2691564),
            ("u_str", "ESTAB", b"*", 2691563),
            ("u_str", "LISTEN", b"@abs@inner@", 2691557),
            ("u_dgr", "UNCONN", b"@456aa", 2691565),
            ("u_seq", "LISTEN", b"@seq", 2691560),
            ("u_dgr", "UNCONN", b"@trail@@", 2691566),
        ];
        let mine: Vec<_> = got
            .iter()
            .filter(|e| listed_by_ss(e))
            .map(|e| {
                (
                    e.kind.netid(),
                    ss_state_name(e),
                    e.path.as_deref().unwrap_or(b"*"),
                    e.inode,
                )
            })
            .collect();
        assert_eq!(mine, ss);
        let pending: Vec<_> = got.iter().filter(|e| !listed_by_ss(e)).collect();
        assert_eq!(
            pending,
            [&entry(
                UnixKind::Stream,
                SS_CONNECTING,
                false,
                0,
                Some(b"/tmp/sexp/s/listen.sock")
            )]
        );
    }

    /// Writes an entry the way unix_seq_show() does.
    fn render(e: &UnixEntry, out: &mut Vec<u8>) {
        let ty = match e.kind {
            UnixKind::Stream => 1,
            UnixKind::Dgram => 2,
            UnixKind::SeqPacket => 5,
        };
        let flags = if e.listening { SO_ACCEPTCON } else { 0 };
        out.extend_from_slice(
            format!(
                "0000000000000000: 00000002 00000000 {flags:08X} {ty:04X} {:02X} {:5}",
                e.ss_state, e.inode
            )
            .as_bytes(),
        );
        if let Some(p) = &e.path {
            out.push(b' ');
            out.extend_from_slice(p);
        }
        out.push(b'\n');
    }

    fn arb_entry() -> impl Strategy<Value = UnixEntry> {
        (
            prop_oneof![
                Just(UnixKind::Stream),
                Just(UnixKind::Dgram),
                Just(UnixKind::SeqPacket)
            ],
            1u8..=4,
            any::<bool>(),
            any::<u64>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..40)),
        )
            .prop_map(|(kind, ss_state, listening, inode, path)| UnixEntry {
                kind,
                ss_state,
                listening,
                inode,
                path,
            })
    }

    /// A name whose continuation lines cannot be mistaken for records.
    fn unambiguous(e: &UnixEntry) -> bool {
        e.path.as_deref().is_none_or(|p| {
            p.split(|&b| b == b'\n')
                .skip(1)
                .all(|l| parse_line(l).is_err())
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_all(&bytes);
            let mut with_header = HEADER.as_bytes().to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = parse_all(&with_header);
            let _ = parse_line(&bytes);
        }

        #[test]
        fn rendered_entries_round_trip(entries in proptest::collection::vec(arb_entry(), 0..8)) {
            prop_assume!(entries.iter().all(unambiguous));
            let mut text = HEADER.as_bytes().to_vec();
            for e in &entries {
                render(e, &mut text);
            }
            prop_assert_eq!(parse_all(&text).unwrap(), entries);
        }
    }
}
