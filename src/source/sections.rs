//! The "Section: names / values" format of /proc/net/snmp and
//! /proc/net/netstat, parsed once for both: a line `Tcp: RtoAlgorithm
//! RtoMin ...` names the columns, and the next line, `Tcp: 1 200 ...`,
//! holds their values (net/ipv4/proc.c: snmp_seq_show_tcp_udp(),
//! netstat_seq_show()). The kernel always writes the two lines together.
//!
//! [`Sections`] is fed one line at a time, so each reader keeps its own way
//! of reading lines and of reading numbers: `ss -s`'s snmp reader
//! (`source::sockstat`) refuses what the kernel would not write, the TcpExt
//! reader (`source::sysctl`) keeps what it can.

/// Why the lines of a section do not pair up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// The names line and the values line have different lengths.
    #[error("the names line has {names} columns but the values line has {values}")]
    Columns { names: usize, values: usize },
    /// A names line not followed by the values line of its section
    /// (another line, or the end of the file).
    #[error("a names line is not followed by its values line")]
    NoValues,
}

/// The section reader: feed it every line, then [`Sections::finish`].
#[derive(Debug)]
pub struct Sections {
    /// `PREFIX:`, the first word of both lines of the wanted section;
    /// `None`: every section ([`Sections::any`]).
    tag: Option<String>,
    /// The names line seen last, waiting for its values: its line number,
    /// its `PREFIX:` and the names.
    header: Option<(usize, String, Vec<String>)>,
}

impl Sections {
    /// A reader of the `prefix` section (`Tcp`, `TcpExt`); other lines are
    /// skipped.
    pub fn new(prefix: &str) -> Sections {
        Sections {
            tag: Some(format!("{prefix}:")),
            header: None,
        }
    }

    /// A reader of every section (`sockscope counters`): each values line
    /// pairs with the names line before it, whatever its prefix; the
    /// prefix is the values line's first word.
    pub fn any() -> Sections {
        Sections {
            tag: None,
            header: None,
        }
    }

    /// One line (`line_no` counts from 1). Returns the section's names and
    /// values, in order, when `line` is its values line.
    pub fn feed<'l>(
        &mut self,
        line_no: usize,
        line: &'l str,
    ) -> Result<Option<Vec<(String, &'l str)>>, SectionError> {
        let mut words = line.split_ascii_whitespace();
        let first = words.next().unwrap_or("");
        match self.header.take() {
            None => {
                let ours = match &self.tag {
                    Some(tag) => first == tag,
                    None => first.len() > 1 && first.ends_with(':'),
                };
                if ours {
                    self.header = Some((
                        line_no,
                        first.to_owned(),
                        words.map(str::to_string).collect(),
                    ));
                }
                Ok(None)
            }
            Some((_, tag, names)) => {
                if first != tag {
                    return Err(SectionError::NoValues);
                }
                let values: Vec<&str> = words.collect();
                if values.len() != names.len() {
                    return Err(SectionError::Columns {
                        names: names.len(),
                        values: values.len(),
                    });
                }
                Ok(Some(names.into_iter().zip(values).collect()))
            }
        }
    }

    /// After the last line: the line number of a names line left without
    /// its values, if one was.
    pub fn finish(self) -> Result<(), (usize, SectionError)> {
        match self.header {
            Some((line, _, _)) => Err((line, SectionError::NoValues)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each values line's pairs, or the line and error that stopped it.
    type Found = Result<Vec<Vec<(String, String)>>, (usize, SectionError)>;

    fn run(text: &str, prefix: &str) -> Found {
        let mut s = Sections::new(prefix);
        let mut found = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match s.feed(i + 1, line) {
                Ok(Some(pairs)) => {
                    found.push(pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect())
                }
                Ok(None) => {}
                Err(e) => return Err((i + 1, e)),
            }
        }
        s.finish()?;
        Ok(found)
    }

    #[test]
    fn names_pair_with_values_of_their_section_only() {
        let text = "Ip: A B\nIp: 1 2\nTcp: C D\nTcp: 3 -1\nTcpExt: E\nTcpExt: 5\n";
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(text, "Tcp"),
            Ok(vec![pairs(&[("C", "3"), ("D", "-1")])])
        );
        assert_eq!(run(text, "TcpExt"), Ok(vec![pairs(&[("E", "5")])]));
        assert_eq!(run(text, "Udp"), Ok(vec![]));
    }

    #[test]
    fn lines_that_do_not_pair_are_errors() {
        assert_eq!(
            run("Tcp: A B\nTcp: 1\n", "Tcp"),
            Err((
                2,
                SectionError::Columns {
                    names: 2,
                    values: 1
                }
            ))
        );
        assert_eq!(
            run("Tcp: A B\nUdp: 1 2\n", "Tcp"),
            Err((2, SectionError::NoValues))
        );
        assert_eq!(run("Tcp: A B\n", "Tcp"), Err((1, SectionError::NoValues)));
    }
}
