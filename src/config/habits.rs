//! Habits of other tools answered with the sockscope way (issue 18, who):
//! a first word close to a subcommand's name (`sockscope listener`) gets
//! "did you mean 'listeners'?" instead of a filter error, and lsof's
//! `-i [46][proto][@host][:port]` (where `-i` is ss's tcp_info flag) is
//! answered with the command that shows those sockets.

use crate::model::Protocol;

/// The filter's keywords ([`crate::filter::expr::KEYWORDS`], which shell
/// completion offers too): a word closer to one of these than to any
/// subcommand is a filter typo (`sprot`), left to the filter's message.
const FILTER_WORDS: &[&str] = crate::filter::expr::KEYWORDS;

/// How close (Jaro-Winkler similarity: a shared start counts more) a word must be
/// to a subcommand's name to be taken for a typo of it.
const SIMILAR: f64 = 0.8;

/// The subcommand `word` is most likely a typo of, when it is closer to it
/// than to any filter keyword; `None` for words that are no plain word
/// (addresses, ports, globs) or that nothing resembles.
pub fn similar_command<'a>(word: &str, commands: &[&'a str]) -> Option<&'a str> {
    if word.len() < 3
        || !word
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        return None;
    }
    let word = word.to_ascii_lowercase();
    let score = |name: &str| {
        // `why_bind`, `whybind`: the dash does not count.
        let plain = |s: &str| s.replace(['-', '_'], "");
        strsim::jaro_winkler(&word, name).max(strsim::jaro_winkler(&plain(&word), &plain(name)))
    };
    let (best, at) = commands
        .iter()
        .map(|c| (*c, score(c)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let keyword = FILTER_WORDS
        .iter()
        .map(|k| score(k))
        .fold(0.0_f64, f64::max);
    (at >= SIMILAR && at > keyword).then_some(best)
}

/// lsof's `-i` address: `[46][protocol][@hostname|hostaddr][:service|port]`
/// (lsof(8), "-i [i]"), at least one part given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsofInet {
    /// `4` or `6`.
    pub ip_version: Option<u8>,
    pub protocol: Option<Protocol>,
    /// After `@`, brackets of an IPv6 address removed.
    pub host: Option<String>,
    /// After `:`: each a port, a service name or a range `N-M`.
    pub ports: Vec<LsofPort>,
    /// lsof's `-sTCP:LISTEN` was given too: listeners only.
    pub listen: bool,
}

/// One item of lsof's port list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LsofPort {
    /// A number or a service name, as typed.
    One(String),
    /// `LO-HI`.
    Range(u16, u16),
}

impl LsofInet {
    /// Recognises `text` as lsof's `-i` argument; `None` when it is not
    /// one (then it is left to the filter, as any word after ss's `-i`).
    pub fn parse(text: &str) -> Option<LsofInet> {
        let mut rest = text;
        let ip_version = match rest.as_bytes().first() {
            Some(b'4') => Some(4),
            Some(b'6') => Some(6),
            _ => None,
        };
        if ip_version.is_some() {
            rest = &rest[1..];
        }
        let upto = rest.find(['@', ':']).unwrap_or(rest.len());
        let protocol = match &rest[..upto] {
            "" => None,
            p if p.eq_ignore_ascii_case("tcp") => Some(Protocol::Tcp),
            p if p.eq_ignore_ascii_case("udp") => Some(Protocol::Udp),
            _ => return None,
        };
        rest = &rest[upto..];
        let mut host = None;
        if let Some(after) = rest.strip_prefix('@') {
            let (name, tail) = match after.strip_prefix('[') {
                Some(v6) => {
                    let (addr, tail) = v6.split_once(']')?;
                    addr.parse::<std::net::Ipv6Addr>().ok()?;
                    (addr, tail)
                }
                None => after.split_at(after.find(':').unwrap_or(after.len())),
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
            {
                return None;
            }
            host = Some(name.to_owned());
            rest = tail;
        }
        let mut ports = Vec::new();
        if let Some(list) = rest.strip_prefix(':') {
            for item in list.split(',') {
                ports.push(LsofPort::parse(item)?);
            }
        } else if !rest.is_empty() {
            return None;
        }
        let spec = LsofInet {
            ip_version,
            protocol,
            host,
            ports,
            listen: false,
        };
        (spec != LsofInet::default()).then_some(spec)
    }

    /// The sockscope command showing what `lsof -i SPEC` shows: `who PORT`
    /// for one port, else a listing with a filter.
    pub fn sockscope_way(&self) -> String {
        let family = match self.ip_version {
            Some(4) => "4",
            Some(6) => "6",
            _ => "",
        };
        if self.listen {
            let ports: Vec<String> = self
                .ports
                .iter()
                .map(|p| match p {
                    LsofPort::One(port) => format!("sport = :{port}"),
                    LsofPort::Range(lo, hi) => format!("( sport >= :{lo} and sport <= :{hi} )"),
                })
                .collect();
            let mut way = format!("sockscope -tlp{family}");
            if !ports.is_empty() {
                way.push_str(&format!(" '{}'", ports.join(" or ")));
            }
            return way;
        }
        if let (None, [LsofPort::One(port)]) = (&self.host, self.ports.as_slice()) {
            let proto = self.protocol.map_or(String::new(), |p| format!("/{p}"));
            let family = if family.is_empty() {
                String::new()
            } else {
                format!(" -{family}")
            };
            return format!("sockscope who {port}{proto}{family}");
        }
        let kinds = match self.protocol {
            Some(Protocol::Tcp) => "t",
            Some(Protocol::Udp) => "u",
            _ => "tu",
        };
        let mut terms: Vec<String> = Vec::new();
        if let Some(host) = &self.host {
            terms.push(if host.contains(':') {
                format!("dst [{host}]")
            } else {
                format!("dst {host}")
            });
        }
        let ports: Vec<String> = self
            .ports
            .iter()
            .map(|p| match p {
                LsofPort::One(port) => format!("sport = :{port} or dport = :{port}"),
                LsofPort::Range(lo, hi) => format!(
                    "( sport >= :{lo} and sport <= :{hi} ) or ( dport >= :{lo} and dport <= :{hi} )"
                ),
            })
            .collect();
        if !ports.is_empty() {
            terms.push(format!("( {} )", ports.join(" or ")));
        }
        let mut way = format!("sockscope -{kinds}ap{family}");
        if !terms.is_empty() {
            way.push_str(&format!(" '{}'", terms.join(" and ")));
        }
        way
    }

    /// The whole answer, without the "sockscope: " every message starts
    /// with: `-i is ss's tcp_info here; for lsof -i :8080 use 'sockscope who 8080'`.
    pub fn message(typed: &str, way: &str) -> String {
        let way = if way.contains('\'') {
            format!("\"{way}\"")
        } else {
            format!("'{way}'")
        };
        format!(
            "-i is ss's tcp_info here; for lsof -i {} use {way}",
            crate::text::escape(typed)
        )
    }
}

impl LsofPort {
    fn parse(item: &str) -> Option<LsofPort> {
        if let Some((lo, hi)) = item.split_once('-')
            && let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>())
        {
            return (lo <= hi).then_some(LsofPort::Range(lo, hi));
        }
        let number = item.parse::<u16>().is_ok();
        let name = item.starts_with(|c: char| c.is_ascii_alphabetic())
            && item
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (number || name).then(|| LsofPort::One(item.to_owned()))
    }
}

/// The lsof habit in a command line (`args` without the program name,
/// as typed): `-i` (alone, or last in a cluster of short flags such as
/// `-ti`) followed by a word in lsof's `-i` form that became a filter
/// word (`filter`: not a subcommand's argument, as `who -i :8080`'s is),
/// or lsof's attached `-iTCP`, `-i:8080` (never valid sockscope
/// options; `-i4` and `-i6` are ss's own and left alone). The word as
/// typed, and its parse.
pub fn lsof_after_info(
    args: &[std::ffi::OsString],
    filter: &[String],
    attached: bool,
) -> Option<(String, LsofInet)> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let listen = words.iter().any(|w| w.eq_ignore_ascii_case("-sTCP:LISTEN"));
    let spec = |text: &str| {
        LsofInet::parse(text)
            .filter(|s| !listen || s.protocol != Some(Protocol::Udp))
            .map(|s| LsofInet { listen, ..s })
    };
    for (i, word) in words.iter().enumerate() {
        if *word == "--" {
            break;
        }
        let is_info = *word == "--info"
            || (word.starts_with('-')
                && !word.starts_with("--")
                && word.len() >= 2
                && word.ends_with('i')
                && word[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
        if is_info
            && let Some(next) = words.get(i + 1)
            && filter.iter().any(|f| f == next)
            && let Some(spec) = spec(next)
        {
            return Some((said(next, listen), spec));
        }
        if attached
            && let Some(rest) = word.strip_prefix("-i")
            && !rest.is_empty()
            && !matches!(rest, "4" | "6")
            && let Some(spec) = spec(rest)
        {
            return Some((said(rest, listen), spec));
        }
    }
    None
}

/// The lsof words as the message repeats them.
fn said(word: &str, listen: bool) -> String {
    if listen {
        format!("{word} -sTCP:LISTEN")
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: &[&str] = &[
        "who",
        "listeners",
        "why-bind",
        "watch",
        "events",
        "trace",
        "ports",
        "metrics",
        "serve",
    ];

    #[test]
    fn typos_of_subcommands() {
        for (typo, want) in [
            ("listener", "listeners"),
            ("lisen", "listeners"),
            ("listners", "listeners"),
            ("whybind", "why-bind"),
            ("why_bind", "why-bind"),
            ("wyh-bind", "why-bind"),
            ("Listeners", "listeners"),
            ("port", "ports"),
            ("metric", "metrics"),
            ("evnts", "events"),
            ("wacth", "watch"),
            ("serv", "serve"),
        ] {
            assert_eq!(similar_command(typo, COMMANDS), Some(want), "{typo}");
        }
    }

    #[test]
    fn far_words_and_filter_typos_get_no_command() {
        for word in [
            "foo",
            "xyz",
            "hello",
            "sprot",
            "dprot",
            "stat",
            "sate",
            "exclud",
            "contaner",
            "ab",
            ":8080",
            "10.0.0.1",
            "eth0",
            "/run/x.sock",
            "",
        ] {
            assert_eq!(similar_command(word, COMMANDS), None, "{word}");
        }
    }

    #[test]
    fn lsof_specs_recognised() {
        let p = |t| LsofInet::parse(t);
        assert_eq!(
            p(":8080"),
            Some(LsofInet {
                ports: vec![LsofPort::One("8080".into())],
                ..LsofInet::default()
            })
        );
        assert_eq!(p("TCP").unwrap().protocol, Some(Protocol::Tcp));
        assert_eq!(p("udp").unwrap().protocol, Some(Protocol::Udp));
        assert_eq!(p("4").unwrap().ip_version, Some(4));
        let full = p("6tcp@[::1]:http,8000-8010").unwrap();
        assert_eq!(full.ip_version, Some(6));
        assert_eq!(full.host.as_deref(), Some("::1"));
        assert_eq!(
            full.ports,
            [LsofPort::One("http".into()), LsofPort::Range(8000, 8010)]
        );
        assert_eq!(
            p("@example.com").unwrap().host.as_deref(),
            Some("example.com")
        );
        assert_eq!(
            p("TCP@10.0.0.1:22").unwrap().host.as_deref(),
            Some("10.0.0.1")
        );
        for not in [
            "",
            "tcpx",
            "state",
            "src",
            ":",
            ":99999",
            ":a b",
            "@",
            "4x",
            "sctp:80",
            "@[zz]:80",
            ":10-5",
            "listening",
            "dst",
        ] {
            assert_eq!(p(not), None, "{not:?}");
        }
    }

    #[test]
    fn lsof_answers() {
        let way = |t: &str| LsofInet::parse(t).unwrap().sockscope_way();
        assert_eq!(way(":8080"), "sockscope who 8080");
        assert_eq!(way("tcp:8080"), "sockscope who 8080/tcp");
        assert_eq!(way("4udp:domain"), "sockscope who domain/udp -4");
        assert_eq!(way("TCP"), "sockscope -tap");
        assert_eq!(way("6"), "sockscope -tuap6");
        assert_eq!(way("@10.0.0.1"), "sockscope -tuap 'dst 10.0.0.1'");
        assert_eq!(
            way("tcp@10.0.0.1:22"),
            "sockscope -tap 'dst 10.0.0.1 and ( sport = :22 or dport = :22 )'"
        );
        assert_eq!(
            way(":1-1024"),
            "sockscope -tuap '( ( sport >= :1 and sport <= :1024 ) or ( dport >= :1 and dport <= :1024 ) )'"
        );
        assert_eq!(
            LsofInet::message(":8080", &way(":8080")),
            "-i is ss's tcp_info here; for lsof -i :8080 use 'sockscope who 8080'"
        );
        assert!(
            LsofInet::message("TCP@h", &way("TCP@h")).contains("use \"sockscope -tap 'dst h'\"")
        );
    }

    #[test]
    fn lsof_habit_only_right_after_i_and_as_a_filter_word() {
        let os = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let filter = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let found = |args: &[&str], f: &[&str], attached| {
            lsof_after_info(&os(args), &filter(f), attached).map(|(w, _)| w)
        };
        assert_eq!(
            found(&["-i", ":8080"], &[":8080"], false).as_deref(),
            Some(":8080")
        );
        assert_eq!(
            found(&["-ti", "tcp"], &["tcp"], false).as_deref(),
            Some("tcp")
        );
        assert_eq!(
            found(&["--info", "TCP:80"], &["TCP:80"], false).as_deref(),
            Some("TCP:80")
        );
        // who's target, not a filter word.
        assert_eq!(found(&["who", "-i", ":8080"], &[], false), None);
        // Not right after -i, or an ss filter.
        assert_eq!(found(&["-i", "-t", ":8080"], &[":8080"], false), None);
        assert_eq!(
            found(&["-i", "dst", ":8080"], &["dst", ":8080"], false),
            None
        );
        assert_eq!(found(&["-it", ":8080"], &[":8080"], false), None);
        // Attached: only when clap refused the cluster.
        assert_eq!(found(&["-iTCP"], &[], true).as_deref(), Some("TCP"));
        assert_eq!(found(&["-i:8080"], &[], true).as_deref(), Some(":8080"));
        assert_eq!(found(&["-i4"], &[], true), None);
        assert_eq!(found(&["-iTCP"], &[], false), None);
        // lsof -iTCP -sTCP:LISTEN: the listeners.
        let way =
            |args: &[&str]| lsof_after_info(&os(args), &[], true).map(|(_, s)| s.sockscope_way());
        assert_eq!(
            way(&["-iTCP", "-sTCP:LISTEN"]).as_deref(),
            Some("sockscope -tlp")
        );
        assert_eq!(
            way(&["-iTCP:8080", "-sTCP:LISTEN"]).as_deref(),
            Some("sockscope -tlp 'sport = :8080'")
        );
    }
}
