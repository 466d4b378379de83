//! The readers of the numbers behind `ss -s`: `/proc/net/sockstat`,
//! `/proc/net/sockstat6` and the `Tcp:` lines of `/proc/net/snmp`, into a
//! [`SockStat`] record (`output::summary` prints it as ss does).
//!
//! The parsers read any [`BufRead`], so recorded fixtures and live files
//! share the code; [`read`] only opens the files and attaches their paths to
//! errors. Keys this module does not know are kept in [`SockStat::other`],
//! never an error; a file that is absent (`sockstat6` on a kernel without
//! IPv6) leaves its fields `None`.
//!
//! ```text
//! sockets: used 15
//! TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0
//! UDP: inuse 0 mem 0
//! UDPLITE: inuse 0
//! RAW: inuse 0
//! FRAG: inuse 0 memory 0
//! ```

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use super::sections::{SectionError, Sections};
use crate::model::{FragCounts, SockStat, TcpCounts, UdpCounts};

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SockStatLineError {
    #[error("line is not UTF-8")]
    NotUtf8,
    #[error("no 'LABEL:' at the start of the line")]
    NoLabel,
    #[error("'{key}' has no value")]
    MissingValue { key: String },
    #[error("value of '{key}' is not a number: '{found}'")]
    NotANumber { key: String, found: String },
    #[error("the {label} line has no '{key}'")]
    MissingKey { label: String, key: &'static str },
    #[error("the Tcp header names {names} columns but the values line has {values}")]
    SnmpColumns { names: usize, values: usize },
    #[error("the Tcp header line is not followed by a Tcp values line")]
    SnmpNoValues,
}

/// A failure to read the `ss -s` files.
pub type SockStatError = super::TextFileError<SockStatLineError>;

/// Reads `sockstat` (required), `sockstat6` and `snmp` (each optional: an
/// absent file leaves its fields `None`) under `proc_net`, normally
/// `/proc/net`.
pub fn read(proc_net: &Path) -> Result<SockStat, SockStatError> {
    let mut stat = SockStat::default();
    read_file(&proc_net.join("sockstat"), true, |r| {
        parse_sockstat(r, &mut stat)
    })?;
    read_file(&proc_net.join("sockstat6"), false, |r| {
        parse_sockstat6(r, &mut stat)
    })?;
    read_file(&proc_net.join("snmp"), false, |r| parse_snmp(r, &mut stat))?;
    Ok(stat)
}

fn read_file(
    path: &Path,
    required: bool,
    parse: impl FnOnce(super::input::Input) -> Result<(), SockStatError>,
) -> Result<(), SockStatError> {
    let file = match super::input::open(path) {
        Ok(f) => f,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SockStatError::Io {
                path: Some(path.to_path_buf()),
                source,
            });
        }
    };
    parse(file).map_err(|e| e.with_path(path))
}

/// Parses `/proc/net/sockstat` into `into`.
pub fn parse_sockstat<R: BufRead>(reader: R, into: &mut SockStat) -> Result<(), SockStatError> {
    for_each_line(reader, |_, line| {
        if line.trim().is_empty() {
            return Ok(());
        }
        apply_sockstat_line(line, into)
    })
}

/// Parses `/proc/net/sockstat6` into `into`. The line labels of the two
/// files differ, so either function reads either file.
pub fn parse_sockstat6<R: BufRead>(reader: R, into: &mut SockStat) -> Result<(), SockStatError> {
    parse_sockstat(reader, into)
}

/// Parses the `Tcp:` header and values lines of `/proc/net/snmp` into
/// `into.tcp_snmp` and `into.tcp_curr_estab`; other lines are skipped.
pub fn parse_snmp<R: BufRead>(reader: R, into: &mut SockStat) -> Result<(), SockStatError> {
    let mut tcp = Sections::new("Tcp");
    for_each_line(reader, |line_no, line| {
        let Some(pairs) = tcp.feed(line_no, line).map_err(snmp_error)? else {
            return Ok(());
        };
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            let n = parse_number(&name, value)?;
            map.insert(name, n);
        }
        into.tcp_curr_estab = map.get("CurrEstab").copied();
        into.tcp_snmp = Some(map);
        Ok(())
    })?;
    // A header as the last line.
    tcp.finish().map_err(|(line, e)| SockStatError::Parse {
        path: None,
        line,
        reason: snmp_error(e),
    })
}

fn snmp_error(e: SectionError) -> SockStatLineError {
    match e {
        SectionError::Columns { names, values } => SockStatLineError::SnmpColumns { names, values },
        SectionError::NoValues => SockStatLineError::SnmpNoValues,
    }
}

/// Calls `each` with every line (1-based number, text without the newline),
/// turning its errors into [`SockStatError::Parse`] for that line.
fn for_each_line<R: BufRead>(
    mut reader: R,
    mut each: impl FnMut(usize, &str) -> Result<(), SockStatLineError>,
) -> Result<(), SockStatError> {
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        let n = super::input::read_line(&mut reader, &mut buf)
            .map_err(|source| SockStatError::Io { path: None, source })?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let parse_err = |reason| SockStatError::Parse {
            path: None,
            line: number,
            reason,
        };
        let line = std::str::from_utf8(&buf).map_err(|_| parse_err(SockStatLineError::NotUtf8))?;
        each(number, line.trim_end_matches('\n')).map_err(parse_err)?;
    }
}

fn parse_number(key: &str, value: &str) -> Result<i64, SockStatLineError> {
    value
        .parse::<i64>()
        .map_err(|_| SockStatLineError::NotANumber {
            key: key.to_string(),
            found: value.chars().take(24).collect(),
        })
}

/// One `LABEL: key value key value ...` line, its keys in order.
struct KeyedLine<'a> {
    label: &'a str,
    pairs: Vec<(&'a str, i64)>,
}

impl KeyedLine<'_> {
    /// Removes `key` and returns its value.
    fn take(&mut self, key: &'static str) -> Result<i64, SockStatLineError> {
        match self.pairs.iter().position(|(k, _)| *k == key) {
            Some(i) => Ok(self.pairs.remove(i).1),
            None => Err(SockStatLineError::MissingKey {
                label: self.label.to_string(),
                key,
            }),
        }
    }
}

fn apply_sockstat_line(line: &str, s: &mut SockStat) -> Result<(), SockStatLineError> {
    let mut words = line.split_ascii_whitespace();
    let label = words
        .next()
        .and_then(|w| w.strip_suffix(':'))
        .filter(|l| !l.is_empty())
        .ok_or(SockStatLineError::NoLabel)?;
    let mut l = KeyedLine {
        label,
        pairs: Vec::new(),
    };
    while let Some(key) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| SockStatLineError::MissingValue {
                key: key.to_string(),
            })?;
        l.pairs.push((key, parse_number(key, value)?));
    }
    match label {
        // net/socket.c: socket_seq_show()
        "sockets" => s.sockets_used = Some(l.take("used")?),
        // net/ipv4/proc.c: sockstat_seq_show()
        "TCP" => {
            s.tcp = Some(TcpCounts {
                inuse: l.take("inuse")?,
                orphan: l.take("orphan")?,
                tw: l.take("tw")?,
                alloc: l.take("alloc")?,
                mem_pages: l.take("mem")?,
            })
        }
        "UDP" => {
            s.udp = Some(UdpCounts {
                inuse: l.take("inuse")?,
                mem_pages: l.take("mem")?,
            })
        }
        "UDPLITE" => s.udplite_inuse = Some(l.take("inuse")?),
        "RAW" => s.raw_inuse = Some(l.take("inuse")?),
        "FRAG" => {
            s.frag = Some(FragCounts {
                inuse: l.take("inuse")?,
                memory_bytes: l.take("memory")?,
            })
        }
        // net/ipv6/proc.c: sockstat6_seq_show()
        "TCP6" => s.tcp6_inuse = Some(l.take("inuse")?),
        "UDP6" => s.udp6_inuse = Some(l.take("inuse")?),
        "UDPLITE6" => s.udplite6_inuse = Some(l.take("inuse")?),
        "RAW6" => s.raw6_inuse = Some(l.take("inuse")?),
        "FRAG6" => {
            s.frag6 = Some(FragCounts {
                inuse: l.take("inuse")?,
                memory_bytes: l.take("memory")?,
            })
        }
        _ => {}
    }
    if !l.pairs.is_empty() {
        let kept = s.other.entry(label.to_string()).or_default();
        for (k, v) in l.pairs {
            kept.insert(k.to_string(), v);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SOCKSTAT: &str = "\
sockets: used 15
TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0
UDP: inuse 0 mem 0
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
";
    pub(crate) const SOCKSTAT6: &str = "\
TCP6: inuse 0
UDP6: inuse 0
UDPLITE6: inuse 0
RAW6: inuse 0
FRAG6: inuse 0 memory 0
";

    pub(crate) const SNMP_TCP: &str = "\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 80802 80467 0 708 0 491383 490082 757 0 829 0
";

    pub(crate) fn parse_all(sockstat: &str, sockstat6: Option<&str>, snmp: &str) -> SockStat {
        let mut s = SockStat::default();
        parse_sockstat(sockstat.as_bytes(), &mut s).unwrap();
        if let Some(six) = sockstat6 {
            parse_sockstat6(six.as_bytes(), &mut s).unwrap();
        }
        parse_snmp(snmp.as_bytes(), &mut s).unwrap();
        s
    }

    #[test]
    fn parses_the_three_files() {
        let s = parse_all(SOCKSTAT, Some(SOCKSTAT6), SNMP_TCP);
        assert_eq!(s.sockets_used, Some(15));
        assert_eq!(
            s.tcp,
            Some(TcpCounts {
                inuse: 1,
                orphan: 0,
                tw: 0,
                alloc: 1,
                mem_pages: 0
            })
        );
        assert_eq!(s.udp, Some(UdpCounts::default()));
        assert_eq!(s.frag6, Some(FragCounts::default()));
        assert_eq!(s.tcp6_inuse, Some(0));
        assert_eq!(s.tcp_curr_estab, Some(0));
        let snmp = s.tcp_snmp.as_ref().unwrap();
        assert_eq!(snmp["MaxConn"], -1);
        assert_eq!(snmp["ActiveOpens"], 80802);
        assert_eq!(snmp.len(), 15);
        assert!(s.other.is_empty());
    }

    #[test]
    fn unknown_keys_and_labels_are_kept() {
        let mut s = SockStat::default();
        let text = "TCP: inuse 3 orphan 1 tw 2 alloc 9 mem 4 extra 7\nMPTCP: inuse 5\n\n";
        parse_sockstat(text.as_bytes(), &mut s).unwrap();
        assert_eq!(s.tcp.map(|t| t.alloc), Some(9));
        assert_eq!(s.other["TCP"]["extra"], 7);
        assert_eq!(s.other["MPTCP"]["inuse"], 5);
        // Keys in another order are found by name.
        let mut s = SockStat::default();
        parse_sockstat("FRAG: memory 10 inuse 2\n".as_bytes(), &mut s).unwrap();
        assert_eq!(
            s.frag,
            Some(FragCounts {
                inuse: 2,
                memory_bytes: 10
            })
        );
    }

    #[test]
    fn snmp_skips_other_protocols() {
        let text = "\
Ip: Forwarding DefaultTTL
Ip: 1 64
Icmp: InMsgs
Icmp: 0
Tcp: CurrEstab MaxConn
Tcp: 7 -1
Udp: InDatagrams
Udp: 3
";
        let mut s = SockStat::default();
        parse_snmp(text.as_bytes(), &mut s).unwrap();
        assert_eq!(s.tcp_curr_estab, Some(7));
        assert_eq!(s.tcp_snmp.unwrap().len(), 2);
        // No Tcp lines at all: nothing set, not an error.
        let mut s = SockStat::default();
        parse_snmp("Ip: A\nIp: 1\n".as_bytes(), &mut s).unwrap();
        assert_eq!((s.tcp_curr_estab, s.tcp_snmp), (None, None));
    }

    fn sockstat_err(text: &[u8]) -> (usize, SockStatLineError) {
        let mut s = SockStat::default();
        match parse_sockstat(text, &mut s) {
            Err(SockStatError::Parse { line, reason, .. }) => (line, reason),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
        }
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        assert_eq!(
            sockstat_err(b"sockets: used 1\nTCP: inuse\n"),
            (
                2,
                SockStatLineError::MissingValue {
                    key: "inuse".into()
                }
            )
        );
        assert_eq!(
            sockstat_err(b"RAW: inuse x\n"),
            (
                1,
                SockStatLineError::NotANumber {
                    key: "inuse".into(),
                    found: "x".into()
                }
            )
        );
        assert_eq!(
            sockstat_err(b"UDP: inuse 1\n"),
            (
                1,
                SockStatLineError::MissingKey {
                    label: "UDP".into(),
                    key: "mem"
                }
            )
        );
        assert_eq!(sockstat_err(b"inuse 1\n"), (1, SockStatLineError::NoLabel));
        assert_eq!(sockstat_err(b": 1 2\n"), (1, SockStatLineError::NoLabel));
        assert_eq!(
            sockstat_err(b"RAW: inuse \xff\n"),
            (1, SockStatLineError::NotUtf8)
        );

        let snmp = |text: &str| {
            let mut s = SockStat::default();
            match parse_snmp(text.as_bytes(), &mut s) {
                Err(SockStatError::Parse { line, reason, .. }) => (line, reason),
                other => panic!("{text:?}: {other:?}"),
            }
        };
        assert_eq!(
            snmp("Tcp: A B\nTcp: 1\n"),
            (
                2,
                SockStatLineError::SnmpColumns {
                    names: 2,
                    values: 1
                }
            )
        );
        assert_eq!(
            snmp("Tcp: A B\nUdp: 1 2\n"),
            (2, SockStatLineError::SnmpNoValues)
        );
        assert_eq!(snmp("Tcp: A B\n"), (1, SockStatLineError::SnmpNoValues));
        assert_eq!(
            snmp("Tcp: A\nTcp: z\n"),
            (
                2,
                SockStatLineError::NotANumber {
                    key: "A".into(),
                    found: "z".into()
                }
            )
        );
    }

    #[test]
    fn read_names_files_and_tolerates_missing_ones() {
        let dir = std::env::temp_dir().join(format!("sockstat_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No sockstat: an error naming it.
        let err = read(&dir).unwrap_err();
        assert!(
            matches!(&err, SockStatError::Io { path: Some(p), .. } if *p == dir.join("sockstat"))
        );
        // Only sockstat: the rest is None.
        std::fs::write(dir.join("sockstat"), SOCKSTAT).unwrap();
        let s = read(&dir).unwrap();
        assert_eq!(s.sockets_used, Some(15));
        assert_eq!((s.tcp6_inuse, s.tcp_curr_estab), (None, None));
        // All three.
        std::fs::write(dir.join("sockstat6"), SOCKSTAT6).unwrap();
        std::fs::write(dir.join("snmp"), SNMP_TCP).unwrap();
        assert_eq!(
            read(&dir).unwrap(),
            parse_all(SOCKSTAT, Some(SOCKSTAT6), SNMP_TCP)
        );
        // A bad line names file and line.
        std::fs::write(dir.join("sockstat6"), "TCP6: inuse 0\nRAW6: inuse q\n").unwrap();
        let err = read(&dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: line 2: value of 'inuse' is not a number: 'q'",
                dir.join("sockstat6").display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
