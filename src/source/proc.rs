//! Parser for the `/proc/net/{tcp,tcp6,udp,udp6}` tables.
//!
//! The parser reads any [`BufRead`], so recorded fixtures and live files share
//! the code; [`read_table`] only opens the file and attaches its path to
//! errors. A line the kernel could not have written is an error for the whole
//! table, never a guess.
//!
//! Line layout (net/ipv4/tcp_ipv4.c: get_tcp4_sock(), net/ipv6/tcp_ipv6.c:
//! get_tcp6_sock(), net/ipv4/udp.c: udp4_format_sock(),
//! net/ipv6/datagram.c: __ip6_dgram_sock_seq_show()):
//!
//! ```text
//! sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//! 0: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4695 ...
//! ```

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use rustc_hash::FxHashSet;

use super::{Query, Sink, SourceError, Table, input};
use crate::model::{Family, Socket, TcpState, Timer, TimerKind};

/// Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux
/// architecture that matters; the kernel converts with jiffies_to_clock_t).
const USER_HZ: u64 = 100;

/// A line of a /proc/net table that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// 1-based line number (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// Opens `<proc_net>/<table>` and appends the records `query` selects.
pub fn read_table(
    proc_net: &Path,
    table: Table,
    query: &Query,
    out: &mut dyn Sink,
) -> Result<(), SourceError> {
    // MPTCP has no /proc table: the caller says so.
    let Some(name) = table.proc_name() else {
        return Ok(());
    };
    let path = proc_net.join(name);
    let file = input::open(&path).map_err(|source| SourceError::ProcRead {
        path: path.clone(),
        source,
    })?;
    let mut written: io::Result<()> = Ok(());
    parse(file, table, |s| {
        if written.is_ok() && query.matches(&s) {
            written = out.push(s);
        }
    })
    .map_err(|e| match e {
        ReadError::Io(source) => SourceError::ProcRead { path, source },
        ReadError::Parse(p) => SourceError::ProcParse {
            path,
            line: p.line,
            reason: p.reason,
        },
    })?;
    written.map_err(SourceError::Output)
}

/// Why parsing a table stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// The sockets of one table already handed out.
///
/// The kernel's seq_file reader repeats entries between read() calls when
/// sockets come and go: each read() starts the hash walk again from the
/// last bucket and offset (net/ipv4/tcp_ipv4.c: tcp_seek_last_pos(); UDP
/// re-walks from the start, net/ipv4/udp.c: udp_get_idx()), so a socket
/// inserted before the position pushes one already shown past it again.
/// A socket with an inode is known by it; one without (TIME_WAIT,
/// SYN_RECV, orphans) by its addresses and state, which the kernel's
/// established hash keeps unique.
///
/// A repeat is always one of the sockets shown just before: the walk
/// resumes where the last read() stopped, and what it shows again are the
/// sockets pushed past that position by those inserted before it, at most
/// as many as came meanwhile. So only the last [`Seen::WINDOW`] sockets
/// are remembered: memory stays flat however long the table, and a repeat
/// is missed only if more than that many sockets were inserted before the
/// position between two reads of one table. Measured on a 1M-line table
/// read from a file (`--proc-root`, release build, peak RSS): no
/// deduplication 0.40 s / 4.9 MiB; every socket remembered 0.55 s /
/// 33 MiB; this window 0.50 s / 7.2 MiB.
#[derive(Default)]
struct Seen {
    set: FxHashSet<Key>,
    order: VecDeque<Key>,
}

/// How [`Seen`] knows a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Inode(u64),
    Tuple(SocketAddr, SocketAddr, TcpState),
}

impl Seen {
    /// Sockets remembered: several read()s' worth of the table (a 256 KiB
    /// read is about 1,700 lines), far more than arrive between two reads
    /// (the churn test makes about 4 connections a millisecond).
    const WINDOW: usize = 8_192;

    /// True the first time a socket is seen (within the window).
    fn first(&mut self, s: &Socket) -> bool {
        let key = if s.inode != 0 {
            Key::Inode(s.inode)
        } else {
            Key::Tuple(s.local, s.remote, s.state)
        };
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > Self::WINDOW
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// Parses a whole table from `reader`, calling `each` for every socket,
/// once per socket even where the table repeats a line (see [`Seen`]).
pub fn parse<R: BufRead>(
    mut reader: R,
    table: Table,
    mut each: impl FnMut(Socket),
) -> Result<(), ReadError> {
    let mut line = Vec::new();
    let mut number = 0;
    let mut seen = Seen::default();
    loop {
        line.clear();
        if input::read_line(&mut reader, &mut line)? == 0 {
            break;
        }
        number += 1;
        if number == 1 {
            if !line.windows(13).any(|w| w == b"local_address") {
                return Err(ParseError {
                    line: 1,
                    reason: "missing header (expected 'sl local_address ...')".into(),
                }
                .into());
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let socket = parse_line(&line, table).map_err(|reason| ParseError {
            line: number,
            reason,
        })?;
        if seen.first(&socket) {
            each(socket);
        }
    }
    if number == 0 {
        return Err(ParseError {
            line: 1,
            reason: "empty table (no header)".into(),
        }
        .into());
    }
    Ok(())
}

/// Parses one data line of a /proc/net table. The line is bytes: the
/// kernel writes ASCII, and anything else is an error naming the field.
pub fn parse_line(line: &[u8], table: Table) -> Result<Socket, String> {
    let mut fields = line
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    let mut next = |name: &str| {
        fields
            .next()
            .ok_or_else(|| format!("truncated line: no {name} field"))
    };
    // "sl": the slot number, "%4d:" / "%5d:"
    let sl = next("sl")?;
    if !sl.ends_with(b":") {
        return Err(format!("bad slot field {}", shown(sl)));
    }
    // local_address, rem_address: "%08X:%04X" (IPv6: four %08X words)
    let local = parse_endpoint(next("local_address")?, table.family)?;
    let remote = parse_endpoint(next("rem_address")?, table.family)?;
    // st: sk_state, "%02X"
    let st = hex_u32(next("st")?, "st")?;
    let state = u8::try_from(st)
        .ok()
        .and_then(TcpState::from_kernel)
        .ok_or_else(|| format!("unknown socket state {st:#x}"))?;
    // tx_queue:rx_queue, "%08X:%08X"
    let (tx, rx) = split_pair(next("tx_queue:rx_queue")?, "tx_queue:rx_queue")?;
    let tx_queue = hex_u32(tx, "tx_queue")?;
    let rx_queue = hex_u32(rx, "rx_queue")?;
    // tr: timer kind (1 retransmit, 2 keepalive, 3 time-wait, 4 probe);
    // tm->when: time left in clock ticks (USER_HZ), "%02X:%08lX"
    let (tr, when) = split_pair(next("tr:tm->when")?, "tr:tm->when")?;
    let tr = hex_u32(tr, "tr")?;
    let when = hex_u32(when, "tm->when")?;
    // retrnsmt: icsk_retransmits (request sockets: num_timeout), "%08X"
    let retrnsmt = hex_u32(next("retrnsmt")?, "retrnsmt")?;
    // uid: from_kuid_munged(), "%5u"
    let uid = dec(next("uid")?, "uid")?;
    let uid = u32::try_from(uid).map_err(|_| format!("uid {uid} out of range"))?;
    // timeout: icsk_probes_out, "%8d" (keepalive and zero-window probes)
    let probes = signed(next("timeout")?, "timeout")?;
    // inode: sock_i_ino(), "%lu"
    let inode = dec(next("inode")?, "inode")?;
    Ok(Socket {
        proto: table.proto,
        family: table.family,
        state,
        local,
        remote,
        recv_q: rx_queue,
        // A LISTEN socket's tx_queue is printed as 0: the backlog is unknown.
        send_q: (state != TcpState::Listen).then_some(tx_queue),
        // For a request socket this is the listener's uid (sock_i_uid of
        // rsk_listener), which netlink does not report.
        uid: Some(uid),
        inode,
        cookie: None,
        ifindex: None,
        v6only: None,
        owners: None,
        queue: None,
        extras: None,
        timer: u8::try_from(tr)
            .ok()
            .and_then(TimerKind::from_kernel)
            .map(|kind| Timer {
                kind,
                // ticks → ms, rounded up as ss does
                expires_ms: (u64::from(when) * 1000).div_ceil(USER_HZ),
                retrans: if kind == TimerKind::On {
                    retrnsmt
                } else {
                    u32::try_from(probes.max(0)).unwrap_or(u32::MAX)
                },
            }),
    })
}

fn split_pair<'a>(field: &'a [u8], name: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let colon = field
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| format!("bad {name} field {}", shown(field)))?;
    Ok((&field[..colon], &field[colon + 1..]))
}

/// A field for an error message: escaped, never raw bytes, at most 40.
fn shown(field: &[u8]) -> String {
    let cut = &field[..field.len().min(40)];
    format!("\"{}\"", cut.escape_ascii())
}

fn hex_u32(s: &[u8], name: &str) -> Result<u32, String> {
    if s.is_empty() || s.len() > 8 || !s.iter().all(u8::is_ascii_hexdigit) {
        return Err(format!("bad hex in {name}: {}", shown(s)));
    }
    Ok(s.iter().fold(0u32, |v, &b| {
        // At most 8 hex digits: cannot overflow.
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        (v << 4) | u32::from(digit)
    }))
}

fn dec(s: &[u8], name: &str) -> Result<u64, String> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Err(format!("bad number in {name}: {}", shown(s)));
    }
    s.iter()
        .try_fold(0u64, |v, &b| {
            v.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .ok_or_else(|| format!("number out of range in {name}: {}", shown(s)))
}

/// An optionally negative decimal ("%d").
fn signed(s: &[u8], name: &str) -> Result<i64, String> {
    let (negative, digits) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = dec(digits, name)?;
    let v = i64::try_from(v).map_err(|_| format!("number out of range in {name}: {}", shown(s)))?;
    Ok(if negative { -v } else { v })
}

/// "0100007F:1389" → 127.0.0.1:5001. Each 32-bit word of the address is
/// printed as a host-order integer of the network-order bytes, so its native
/// byte representation is the address.
fn parse_endpoint(field: &[u8], family: Family) -> Result<SocketAddr, String> {
    let (addr, port) = split_pair(field, "address")?;
    if port.len() != 4 {
        return Err(format!("bad port in {}", shown(field)));
    }
    let port = hex_u32(port, "port")? as u16;
    let words = match family {
        Family::Inet => 1,
        Family::Inet6 => 4,
    };
    if addr.len() != 8 * words {
        return Err(format!("bad {family} address {}", shown(addr)));
    }
    let mut bytes = [0u8; 16];
    for (i, word) in addr.chunks_exact(8).enumerate() {
        let word = hex_u32(word, "address")?;
        bytes[4 * i..4 * i + 4].copy_from_slice(&word.to_ne_bytes());
    }
    let ip = match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(bytes)),
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    const TCP4: Table = Table {
        family: Family::Inet,
        proto: Protocol::Tcp,
    };
    const TCP6: Table = Table {
        family: Family::Inet6,
        proto: Protocol::Tcp,
    };
    const UDP4: Table = Table {
        family: Family::Inet,
        proto: Protocol::Udp,
    };

    // Captured on kernel 6.18 (x86_64, little-endian) in a private namespace.
    const TCP_SAMPLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4695 2 00000000c041e0f3 100 0 0 10 0
   1: 0100007F:1388 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 4694 2 00000000d2d7b899 100 0 0 10 0
   2: 0100007F:1389 0100007F:A56E 03 00000000:00000000 01:00000047 00000000     0        0 0 0 000000007e83af74
   6: 0100007F:B594 0100007F:1388 06 00000000:00000000 03:00001758 00000000     0        0 0 3 00000000cad2c435
   8: 0100007F:1388 0100007F:B58C 01 00000000:00000000 00:00000000 00000000  1000        0 3880 1 0000000030a73137 20 0 0 10 -1
";

    fn parse_all(text: &str, table: Table) -> Result<Vec<Socket>, ReadError> {
        let mut v = Vec::new();
        parse(text.as_bytes(), table, |s| v.push(s))?;
        Ok(v)
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_tcp4_sample() {
        let v = parse_all(TCP_SAMPLE, TCP4).unwrap();
        assert_eq!(v.len(), 5);
        let l = &v[1];
        assert_eq!(l.state, TcpState::Listen);
        assert_eq!(l.local, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(l.remote, "0.0.0.0:0".parse().unwrap());
        assert_eq!(l.recv_q, 1);
        assert_eq!(l.send_q, None, "the backlog is unknown in /proc");
        assert_eq!(l.inode, 4694);
        assert_eq!(v[2].state, TcpState::SynRecv);
        assert_eq!(v[2].remote, "127.0.0.1:42350".parse().unwrap());
        assert_eq!(v[3].state, TcpState::TimeWait);
        assert_eq!(v[3].inode, 0);
        assert_eq!(v[4].uid, Some(1000));
        assert_eq!(v[4].send_q, Some(0));
        assert_eq!(v[4].cookie, None);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_tcp6_sample() {
        let text = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:138C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3890 1 00000000c6f57451 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:138C 0000000000000000FFFF00000100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3899 1 00000000c6f57451 100 0 0 10 0
   2: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:E0A2 01 00000010:00000020 00:00000000 00000000     0        0 3900 1 00000000c6f57451 100 0 0 10 0
";
        let v = parse_all(text, TCP6).unwrap();
        assert_eq!(v[0].local, "[::]:5004".parse().unwrap());
        assert_eq!(v[1].local, "[::ffff:127.0.0.1]:5004".parse().unwrap());
        assert_eq!(v[2].local, "[::1]:8080".parse().unwrap());
        assert_eq!(v[2].send_q, Some(16));
        assert_eq!(v[2].recv_q, 32);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_udp_sample() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 1598: 0100007F:9284 0100007F:138B 01 00000000:00000000 00:00000000 00000000     0        0 3889 2 000000000bb6fe81 0
 1861: 0100007F:138B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3888 2 00000000c37ff63f 0
";
        let v = parse_all(text, UDP4).unwrap();
        assert_eq!(v[0].state, TcpState::Established);
        assert_eq!(v[1].state, TcpState::Close);
        assert_eq!(v[1].local.port(), 5003);
    }

    fn err_of(text: &str) -> ParseError {
        match parse_all(text, TCP4) {
            Err(ReadError::Parse(p)) => p,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        let header = TCP_SAMPLE.lines().next().unwrap();
        let good = TCP_SAMPLE.lines().nth(1).unwrap();
        // truncated line: fields missing at the end
        let short: Vec<&str> = good.split_whitespace().take(6).collect();
        let e = err_of(&format!("{header}\n{}\n", short.join(" ")));
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("truncated"), "{e}");
        // cut inside a field
        let e = err_of(&format!("{header}\n{}\n", &good[..40]));
        assert!(e.reason.contains("tx_queue"), "{e}");
        // bad hex in the address
        let e = err_of(&format!(
            "{header}\n{}\n",
            good.replace("0100007F:1389", "0100G07F:1389")
        ));
        assert!(e.reason.contains("hex"), "{e}");
        // address of the wrong width for the family
        let e = err_of(&format!(
            "{header}\n{}\n",
            good.replace("0100007F:1389", "100007F:1389")
        ));
        assert!(e.reason.contains("address"), "{e}");
        // unknown state
        let e = err_of(&format!("{header}\n{}\n", good.replace(" 0A ", " 1F ")));
        assert!(e.reason.contains("state"), "{e}");
        // no header at all
        assert_eq!(err_of("").line, 1);
        assert_eq!(err_of(&format!("{good}\n")).line, 1);
        // a bad line after good ones names its own line number
        let e = err_of(&format!("{TCP_SAMPLE}   9: garbage\n"));
        assert_eq!(e.line, 7);
    }

    #[test]
    fn header_only_is_an_empty_table() {
        let header = TCP_SAMPLE.lines().next().unwrap();
        assert!(parse_all(&format!("{header}\n"), TCP4).unwrap().is_empty());
    }

    /// The window: a repeat among the last [`Seen::WINDOW`] sockets is
    /// caught, by inode or (inode 0) by addresses and state; memory holds no
    /// more than the window.
    #[test]
    fn repeats_are_caught_within_the_window() {
        let mut seen = Seen::default();
        let sock = |inode: u64| Socket {
            inode,
            ..Socket::test_tcp(TcpState::Established, "127.0.0.1:1", "127.0.0.1:2")
        };
        let tw = Socket {
            inode: 0,
            ..Socket::test_tcp(TcpState::TimeWait, "127.0.0.1:3", "127.0.0.1:4")
        };
        assert!(seen.first(&tw));
        for inode in 1..=Seen::WINDOW as u64 - 1 {
            assert!(seen.first(&sock(inode)));
        }
        assert!(!seen.first(&tw), "the oldest still remembered");
        assert!(!seen.first(&sock(1)));
        assert!(seen.first(&sock(u64::MAX)));
        assert!(seen.first(&tw), "pushed out of the window by then");
        assert!(seen.set.len() <= Seen::WINDOW && seen.order.len() <= Seen::WINDOW);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn a_repeated_socket_is_handed_out_once() {
        // fixtures/proc-repeat/tcp: a TIME_WAIT (inode 0) and an ESTAB
        // socket returned twice by the kernel's reader, as under churn.
        let text = include_str!("../../fixtures/proc-repeat/tcp");
        assert_eq!(text.lines().count() - 1, 8, "8 lines");
        let v = parse_all(text, TCP4).unwrap();
        let inodes: Vec<u64> = v.iter().map(|s| s.inode).collect();
        assert_eq!(inodes, [4695, 4694, 0, 0, 3880, 3881]);
        assert_eq!(v[3].state, TcpState::TimeWait);
        // The first of the two lines is the one kept.
        assert_eq!(v[3].timer.map(|t| t.expires_ms), Some(0x1758 * 10));
        // Two inode-0 sockets that differ in state or address are distinct.
        assert_eq!(v[2].state, TcpState::SynRecv);
    }

    #[test]
    fn non_ascii_inside_an_ipv6_field_is_an_error() {
        // Issue 12: a multi-byte character inside the 32 hex digits of an
        // address used to slice a &str off a character boundary (panic).
        let header = "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        for addr in [
            // 32 bytes each, a character across a word boundary (byte 8).
            "0000000\u{e9}00000000000000000000000",
            "000000\u{1F600}0000000000000000000000",
            "000000000000000000000000000000\u{e9}",
        ] {
            assert_eq!(addr.len(), 32);
            let line = format!(
                "   0: {addr}:1F90 00000000000000000000000000000000:0000 0A \
                 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
            );
            let text = format!("{header}{line}");
            match parse_all(&text, TCP6) {
                Err(ReadError::Parse(p)) => {
                    assert_eq!(p.line, 2);
                    assert!(p.reason.contains("address"), "{p}");
                    assert!(p.reason.is_ascii(), "escaped: {p}");
                }
                other => panic!("{addr}: expected a parse error, got {other:?}"),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_lines_never_panic(line in "\\PC{0,200}") {
            let _ = parse_line(line.as_bytes(), TCP4);
            let _ = parse_line(line.as_bytes(), TCP6);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut text = b"sl local_address\n".to_vec();
            text.extend_from_slice(&bytes);
            let _ = parse(&text[..], TCP6, |_| {});
        }
    }
}
