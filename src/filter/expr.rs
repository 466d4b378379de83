//! The ss filter language: `state`/`exclude` words, then an expression.
//!
//! ```text
//! sockscope -tan state established '( dport = :https or sport = :https )'
//! ```
//!
//! Grammar (ss's, misc/ssfilter.y): an expression list joins terms with
//! `or`/`|`/`||`, `and`/`&`/`&&`, or nothing (an implicit `and`), all at one
//! level and left to right: `a or b and c` is `(a or b) and c`, as ss reads
//! it. `not`/`!` binds to the next term; parentheses group. Terms:
//! `src|dst [=|==|eq|!=|ne|neq] HOST`, `sport|dport OP PORT` with OP one of
//! `= == eq != ne neq < lt <= le > gt >= ge` (or none: `=`), `dev [=|!=]
//! NAME`, `fwmark [=|!=] VALUE[/MASK]`, `cgroup [=|!=] PATH`, `autobound`,
//! and sockscope's own `uid OP N`, `pid [=] N`, `comm [=] NAME`. HOST is
//! `[FAMILY:]` (`inet:`, `inet6:`, `unix:`) then `ADDR`, `ADDR/PREFIX`,
//! `ADDR:PORT`, `[IPv6]`, `[IPv6]:PORT`, `*`, `*:PORT`, `:PORT` or a host
//! name (every address it resolves to); PORT a number or a service name
//! from /etc/services (`:ssh`). IPv4 addresses read as iproute2 reads them,
//! missing parts zero at the end: `127.1` is 127.1.0.0 and `193.233.7/24`
//! is 193.233.7.0/24 (not inet_aton's 127.0.0.1). A UNIX HOST (`unix:`, or
//! any HOST when only UNIX sockets are listed) is a glob on the name.
//!
//! Address matching follows the kernel's bytecode rule: an IPv4 address or
//! prefix matches IPv4 sockets and IPv4-mapped IPv6 addresses, an IPv6 one
//! IPv6 sockets only.

use std::fmt;
use std::net::IpAddr;

use super::{glob, states};
use crate::model::{Owner, Socket, StateSet, UnixSocket};
use crate::text::escape;

/// Which end of the connection a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `src`, `sport`: the local end.
    Src,
    /// `dst`, `dport`: the remote end.
    Dst,
}

/// An address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

/// `src`/`dst` (and `sport = ` / `dport = `): an optional prefix and an
/// optional port, both must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCond {
    pub prefix: Option<Prefix>,
    pub port: Option<u16>,
}

/// Comparison for `uid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, a: u32, b: u32) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A filter expression. Port `<`, `>` and `!=` are kept as `Not` of the
/// kernel's `<=`, `>=` and `=`, as ss builds them, so the bytecode and the
/// evaluator share one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `first op e op e ...`: and/or share one level and read left to
    /// right as in ss (`a or b and c` is `(a or b) and c`). One node holds
    /// a whole chain, so the tree's depth, and every recursion over it,
    /// follows the nesting of parentheses and `not` (at most
    /// [`MAX_NESTING`]), not the number of terms (up to [`MAX_TERMS`]).
    Chain(Box<Expr>, Vec<(Conj, Expr)>),
    Not(Box<Expr>),
    Host(Side, HostCond),
    /// port >= N
    PortGe(Side, u16),
    /// port <= N
    PortLe(Side, u16),
    /// The local port was chosen by the kernel. The kernel knows
    /// (SOCK_BINDPORT_LOCK); user space, like ss, checks that the port is
    /// inside ip_local_port_range.
    AutoBound {
        low: u16,
        high: u16,
    },
    /// Bound to this interface index.
    Dev(u32),
    /// `dev NAME`: bound to the interface of that name, whose index was
    /// looked up in sockscope's own namespace (`u32::MAX`, which no
    /// interface has, when none has that name there); each other network
    /// namespace looks the name up again ([`Expr::rebind`]).
    DevName(std::sync::Arc<str>, u32),
    Uid(Cmp, u32),
    Pid(u32),
    Comm(String),
    /// `netns NAME`: the namespace read is called NAME (or its inode is
    /// NAME). Decided per namespace by [`Expr::place`] before it is
    /// dumped; `None` until then.
    Netns(std::sync::Arc<str>, Option<bool>),
    /// `container NAME`: the namespace read is the container's (its name,
    /// id prefix or pod name), decided the same way.
    Container(std::sync::Arc<str>, Option<bool>),
    /// `fwmark VALUE/MASK`: `(mark & mask) == value`, the socket's SO_MARK
    /// (INET_DIAG_MARK, sent to CAP_NET_ADMIN only; 0 where absent, as ss).
    Mark {
        value: u32,
        mask: u32,
    },
    /// `cgroup PATH`: the socket's cgroup v2 id (INET_DIAG_CGROUP_ID), the
    /// PATH's id as looked up when the filter was read.
    Cgroup(u64),
    /// `src|dst unix:PATTERN`: the UNIX socket's name (`Src`) or its
    /// peer's name (`Dst`) matches the glob (fnmatch, any case). An
    /// unnamed socket's name is empty. Never an internet socket.
    UnixName(Side, std::sync::Arc<str>),
}

/// How a term joins the chain before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conj {
    And,
    Or,
}

impl Expr {
    /// `a and b`: appended to `a`'s chain when `a` is one (the same
    /// left-to-right reading), else a new chain.
    pub fn and(a: Expr, b: Expr) -> Expr {
        Expr::join(a, Conj::And, b)
    }

    /// `a or b`, as [`Expr::and`].
    pub fn or(a: Expr, b: Expr) -> Expr {
        Expr::join(a, Conj::Or, b)
    }

    fn join(a: Expr, conj: Conj, b: Expr) -> Expr {
        match a {
            Expr::Chain(first, mut rest) => {
                rest.push((conj, b));
                Expr::Chain(first, rest)
            }
            a => Expr::Chain(Box::new(a), vec![(conj, b)]),
        }
    }

    /// Evaluates the expression on one record.
    pub fn matches(&self, s: &Socket) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                let mut acc = first.matches(s);
                for (conj, e) in rest {
                    acc = match conj {
                        Conj::And => acc && e.matches(s),
                        Conj::Or => acc || e.matches(s),
                    };
                }
                acc
            }
            Expr::Not(a) => !a.matches(s),
            Expr::Host(side, cond) => {
                let ep = match side {
                    Side::Src => s.local,
                    Side::Dst => s.remote,
                };
                cond.port.is_none_or(|p| p == ep.port())
                    && cond.prefix.is_none_or(|p| prefix_matches(&p, ep.ip()))
            }
            Expr::PortGe(side, n) => port_of(s, *side) >= *n,
            Expr::PortLe(side, n) => port_of(s, *side) <= *n,
            Expr::AutoBound { low, high } => (*low..=*high).contains(&s.local.port()),
            Expr::Dev(index) | Expr::DevName(_, index) => s.ifindex.unwrap_or(0) == *index,
            Expr::Uid(cmp, n) => s.uid.is_some_and(|u| cmp.holds(u, *n)),
            Expr::Pid(pid) => owners_of(s).any(|o| o.pid == *pid),
            Expr::Comm(comm) => owners_of(s).any(|o| *o.comm == **comm),
            Expr::Netns(_, known) | Expr::Container(_, known) => known.unwrap_or(false),
            // include/uapi/linux/inet_diag.h: INET_DIAG_MARK (0 when not sent)
            Expr::Mark { value, mask } => {
                s.extras.as_ref().and_then(|x| x.mark).unwrap_or(0) & mask == *value
            }
            // INET_DIAG_CGROUP_ID (0 when not sent, as for TIME_WAIT)
            Expr::Cgroup(id) => s.extras.as_ref().and_then(|x| x.cgroup_id).unwrap_or(0) == *id,
            Expr::UnixName(..) => false,
        }
    }

    /// Evaluates the expression on a UNIX socket, as ss does: `src` and
    /// `dst` UNIX globs look at its name and its peer's name; internet
    /// addresses, ports, marks, cgroups and devices never match one (ss
    /// compares them with its inode numbers or not at all); owners, uid
    /// and namespaces as for internet sockets.
    pub fn matches_unix(&self, s: &UnixSocket) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                let mut acc = first.matches_unix(s);
                for (conj, e) in rest {
                    acc = match conj {
                        Conj::And => acc && e.matches_unix(s),
                        Conj::Or => acc || e.matches_unix(s),
                    };
                }
                acc
            }
            Expr::Not(a) => !a.matches_unix(s),
            Expr::UnixName(side, pattern) => {
                let name = match side {
                    Side::Src => s.path.as_deref(),
                    Side::Dst => s.peer_path.as_deref(),
                };
                glob::matches(pattern.as_bytes(), name.unwrap_or_default())
            }
            Expr::Uid(cmp, n) => s.uid.is_some_and(|u| cmp.holds(u, *n)),
            Expr::Pid(pid) => s.owners.iter().flatten().any(|o| o.pid == *pid),
            Expr::Comm(comm) => s.owners.iter().flatten().any(|o| *o.comm == **comm),
            Expr::Netns(_, known) | Expr::Container(_, known) => known.unwrap_or(false),
            // ss (unix_show_sock): the ports are the inodes, the address
            // holds no IP; sockscope says no.
            Expr::Host(..)
            | Expr::PortGe(..)
            | Expr::PortLe(..)
            | Expr::Dev(_)
            | Expr::DevName(..)
            | Expr::Mark { .. }
            | Expr::Cgroup(_) => false,
            // ss: unbound, or an autobound abstract name (@ and 5 hex digits)
            Expr::AutoBound { .. } => match s.path.as_deref() {
                None => true,
                Some(p) => {
                    p.len() == 6
                        && p[0] == b'@'
                        && p[1..]
                            .iter()
                            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                }
            },
        }
    }

    /// True when the expression holds a `fwmark` term.
    pub fn looks_at_marks(&self) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                first.looks_at_marks() || rest.iter().any(|(_, e)| e.looks_at_marks())
            }
            Expr::Not(a) => a.looks_at_marks(),
            Expr::Mark { .. } => true,
            _ => false,
        }
    }

    /// True when the expression looks at the mark or the cgroup, which
    /// /proc/net does not show and netlink records keep only when asked
    /// (`Query::attrs`).
    pub fn reads_diag_attrs(&self) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                first.reads_diag_attrs() || rest.iter().any(|(_, e)| e.reads_diag_attrs())
            }
            Expr::Not(a) => a.reads_diag_attrs(),
            Expr::Mark { .. } | Expr::Cgroup(_) => true,
            _ => false,
        }
    }

    /// The expression for another network namespace: `dev NAME` looked up
    /// with `ifindex` (its interfaces) and `autobound` with `range` (its
    /// ip_local_port_range, when known). `None` when nothing changes.
    pub fn rebind(
        &self,
        ifindex: &dyn Fn(&str) -> Option<u32>,
        range: Option<(u16, u16)>,
    ) -> Option<Expr> {
        match self {
            Expr::Chain(first, rest) => {
                let new_first = first.rebind(ifindex, range);
                let new_rest: Vec<Option<Expr>> =
                    rest.iter().map(|(_, e)| e.rebind(ifindex, range)).collect();
                if new_first.is_none() && new_rest.iter().all(Option::is_none) {
                    return None;
                }
                let first = new_first.unwrap_or_else(|| (**first).clone());
                let rest = rest
                    .iter()
                    .zip(new_rest)
                    .map(|((conj, e), new)| (*conj, new.unwrap_or_else(|| e.clone())))
                    .collect();
                Some(Expr::Chain(Box::new(first), rest))
            }
            Expr::Not(a) => a.rebind(ifindex, range).map(|a| Expr::Not(Box::new(a))),
            Expr::DevName(name, index) => {
                let new = ifindex(name).unwrap_or(u32::MAX);
                (new != *index).then(|| Expr::DevName(name.clone(), new))
            }
            Expr::AutoBound { low, high } => match range {
                Some((l, h)) if (l, h) != (*low, *high) => {
                    Some(Expr::AutoBound { low: l, high: h })
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// True when the expression names a namespace or a container: each
    /// namespace decides those terms before it is read ([`Expr::place`]).
    pub fn names_place(&self) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                first.names_place() || rest.iter().any(|(_, e)| e.names_place())
            }
            Expr::Not(a) => a.names_place(),
            Expr::Netns(..) | Expr::Container(..) => true,
            _ => false,
        }
    }

    /// The expression for one namespace: its `netns` and `container`
    /// terms decided by `netns(NAME)` and `container(NAME)`.
    pub fn place(&self, netns: &dyn Fn(&str) -> bool, container: &dyn Fn(&str) -> bool) -> Expr {
        match self {
            Expr::Chain(first, rest) => Expr::Chain(
                Box::new(first.place(netns, container)),
                rest.iter()
                    .map(|(c, e)| (*c, e.place(netns, container)))
                    .collect(),
            ),
            Expr::Not(a) => Expr::Not(Box::new(a.place(netns, container))),
            Expr::Netns(name, _) => Expr::Netns(name.clone(), Some(netns(name))),
            Expr::Container(name, _) => Expr::Container(name.clone(), Some(container(name))),
            other => other.clone(),
        }
    }

    /// Whether the expression holds whatever the socket, when its decided
    /// terms alone tell (`netns a and sport = :80` in namespace b: false, so
    /// b need not be dumped); `None` when a socket's fields matter.
    pub fn decided(&self) -> Option<bool> {
        match self {
            Expr::Chain(first, rest) => {
                let mut acc = first.decided();
                for (conj, e) in rest {
                    let next = e.decided();
                    acc = match (conj, acc, next) {
                        (Conj::And, Some(false), _) | (Conj::And, _, Some(false)) => Some(false),
                        (Conj::And, Some(true), n) => n,
                        (Conj::And, a, Some(true)) => a,
                        (Conj::Or, Some(true), _) | (Conj::Or, _, Some(true)) => Some(true),
                        (Conj::Or, Some(false), n) => n,
                        (Conj::Or, a, Some(false)) => a,
                        _ => None,
                    };
                }
                acc
            }
            Expr::Not(a) => a.decided().map(|b| !b),
            Expr::Netns(_, known) | Expr::Container(_, known) => *known,
            _ => None,
        }
    }

    /// Terms /proc/net cannot answer: the bound device (`dev`) and the
    /// kernel's autobind flag (`autobound` falls back to the port range).
    pub fn needs_netlink(&self) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                first.needs_netlink() || rest.iter().any(|(_, e)| e.needs_netlink())
            }
            Expr::Not(a) => a.needs_netlink(),
            Expr::Dev(_) | Expr::DevName(..) | Expr::AutoBound { .. } => true,
            Expr::Mark { .. } | Expr::Cgroup(_) => true,
            _ => false,
        }
    }

    /// True when the expression looks at owners (`pid`, `comm`), so the
    /// /proc walk must run.
    pub fn needs_owners(&self) -> bool {
        match self {
            Expr::Chain(first, rest) => {
                first.needs_owners() || rest.iter().any(|(_, e)| e.needs_owners())
            }
            Expr::Not(a) => a.needs_owners(),
            Expr::Pid(_) | Expr::Comm(_) => true,
            _ => false,
        }
    }
}

fn port_of(s: &Socket, side: Side) -> u16 {
    match side {
        Side::Src => s.local.port(),
        Side::Dst => s.remote.port(),
    }
}

fn owners_of(s: &Socket) -> impl Iterator<Item = &Owner> {
    s.owners
        .iter()
        .flatten()
        .chain(s.queue.iter().flat_map(|q| &q.listener_owners))
}

/// The kernel's rule (net/ipv4/inet_diag.c, INET_DIAG_BC_S_COND): the
/// families must agree, except that an IPv4 prefix also matches an
/// IPv4-mapped IPv6 address; then the first `len` bits are compared.
pub fn prefix_matches(p: &Prefix, addr: IpAddr) -> bool {
    match (p.addr, addr) {
        (IpAddr::V4(want), IpAddr::V4(have)) => bits_match(&have.octets(), &want.octets(), p.len),
        (IpAddr::V6(want), IpAddr::V6(have)) => bits_match(&have.octets(), &want.octets(), p.len),
        (IpAddr::V4(want), IpAddr::V6(have)) => have
            .to_ipv4_mapped()
            .is_some_and(|v4| bits_match(&v4.octets(), &want.octets(), p.len)),
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

fn bits_match(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = bits as usize;
    let whole = bits / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

/// What a filter says: an optional state set and an optional expression.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// From `state`/`exclude`; overrides `-a`/`-l` like in ss.
    pub states: Option<StateSet>,
    pub expr: Option<Expr>,
    /// The last `FAMILY:` prefix in the expression: as in ss, only that
    /// family is listed (`dst inet6:[::1]` lists IPv6 sockets only).
    pub family: Option<AddrFamily>,
}

/// An address family a HOST can name (ss's `-f` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrFamily {
    Inet,
    Inet6,
    Unix,
    /// `link:`: packet sockets.
    Link,
    Netlink,
    Vsock,
}

impl AddrFamily {
    /// The prefix as typed, without the colon.
    pub fn name(self) -> &'static str {
        match self {
            AddrFamily::Inet => "inet",
            AddrFamily::Inet6 => "inet6",
            AddrFamily::Unix => "unix",
            AddrFamily::Link => "link",
            AddrFamily::Netlink => "netlink",
            AddrFamily::Vsock => "vsock",
        }
    }

    /// `FAMILY:` at the start of `text`, and the rest.
    fn strip(text: &str) -> Option<(AddrFamily, &str)> {
        [
            AddrFamily::Inet6,
            AddrFamily::Inet,
            AddrFamily::Unix,
            AddrFamily::Link,
            AddrFamily::Netlink,
            AddrFamily::Vsock,
        ]
        .into_iter()
        .find_map(|f| {
            text.strip_prefix(f.name())
                .and_then(|r| r.strip_prefix(':'))
                .map(|r| (f, r))
        })
    }
}

/// A host name's addresses (from /etc/hosts and the system resolver), or
/// why there are none.
pub type Resolve<'a> = &'a dyn Fn(&str) -> Result<Vec<IpAddr>, String>;

/// A cgroup v2 path's id, or why there is none.
pub type CgroupId<'a> = &'a dyn Fn(&str) -> Result<u64, String>;

/// A service name's port (`ssh` → 22), from the services database.
pub type PortOf<'a> = &'a dyn Fn(&str) -> Option<u16>;

/// Outside facts the parser needs.
pub struct Context<'a> {
    /// For service names (`:ssh`): name → port from the services
    /// database, or why the database could not be read (said instead of
    /// "no such service").
    pub services: Result<PortOf<'a>, &'a dyn std::error::Error>,
    /// ip_local_port_range, for `autobound`.
    pub ephemeral: (u16, u16),
    /// Interface name → index (for `dev`).
    pub ifindex: &'a dyn Fn(&str) -> Option<u32>,
    /// Other network namespaces are read too: an interface name unknown
    /// here is not an error (it is looked up in each).
    pub other_namespaces: bool,
    /// The family of a HOST without a prefix (ss's preferred family: -4,
    /// -6, or -x for UNIX names); `None`: an internet address of either.
    pub family: Option<AddrFamily>,
    /// Host names to addresses (`dst localhost`).
    pub resolve: Resolve<'a>,
    /// cgroup paths to ids (`cgroup /system.slice`).
    pub cgroup: CgroupId<'a>,
}

/// A filter that does not parse: the message, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The whole filter as typed, words joined by spaces.
    pub text: String,
    /// Byte offset and length of the offending token in `text` (at the end
    /// for a missing one).
    pub at: usize,
    pub len: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    /// The message, the filter escaped as the table escapes names (it may
    /// hold control characters: it can come from a script), and carets
    /// under the token, counted in terminal columns of the escaped text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use unicode_width::UnicodeWidthStr;
        let at = self.at.min(self.text.len());
        let end = at.saturating_add(self.len).min(self.text.len());
        let (before, token) = match (self.text.get(..at), self.text.get(at..end)) {
            (Some(b), Some(t)) => (b, t),
            _ => (self.text.as_str(), ""),
        };
        let caret_at = escape(before).width();
        let carets = escape(token).width().max(1);
        write!(
            f,
            "bad filter: {}\n  {}\n  {}{}",
            self.message,
            escape(&self.text),
            " ".repeat(caret_at),
            "^".repeat(carets)
        )
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    at: usize,
}

/// Splits the words as ss does (blanks separate tokens, whatever the shell
/// quoting made of them), and also splits off parentheses glued to a word,
/// which ss refuses: `(dport` is `(` `dport`.
fn lex(args: &[String]) -> (String, Vec<Token>) {
    let text = args.join(" ");
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    let bytes = text.as_bytes();
    let push = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if from < to {
            tokens.push(Token {
                text: text[from..to].to_owned(),
                at: from,
            });
        }
    };
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_whitespace() {
            if let Some(s) = start.take() {
                push(&mut tokens, s, i);
            }
        } else if b == b'(' || b == b')' {
            if let Some(s) = start.take() {
                push(&mut tokens, s, i);
            }
            push(&mut tokens, i, i + 1);
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        push(&mut tokens, s, bytes.len());
    }
    (text, tokens)
}

/// The words that start a term or join terms: what shell completion offers
/// for the filter besides the state names (issue 18, install).
pub const KEYWORDS: &[&str] = &[
    "state",
    "exclude",
    "src",
    "dst",
    "sport",
    "dport",
    "dev",
    "fwmark",
    "cgroup",
    "autobound",
    "uid",
    "pid",
    "comm",
    "netns",
    "container",
    "and",
    "or",
    "not",
];

/// The most terms (`src`, `sport`, `autobound`, ...) one filter may hold.
/// The parser, the evaluator, the bytecode compiler and drop walk the tree
/// recursively; a chain of terms is one [`Expr::Chain`] node, so its length
/// costs no depth, but the bytecode grows with it (and is dropped past
/// 60 000 bytes). Real filters hold a few terms.
pub const MAX_TERMS: usize = 1000;

/// The deepest one filter may nest parentheses and `not`s: each level is
/// a few recursive calls of the parser and one of each walk over the tree,
/// so this bounds the stack (both limits together run in 256 KiB).
pub const MAX_NESTING: usize = 100;

/// Parses filter words (everything after the options).
pub fn parse(args: &[String], ctx: &Context<'_>) -> Result<Filter, FilterError> {
    let (text, tokens) = lex(args);
    let mut p = Parser {
        text: &text,
        tokens: &tokens,
        pos: 0,
        ctx,
        terms: 0,
        depth: 0,
        family: ctx.family,
        seen: None,
    };
    let mut filter = Filter::default();
    // `state X` / `exclude X` come first (ss reads them before the
    // expression): the first `state` starts from nothing, the first
    // `exclude` from every state.
    while let Some(word) = p.peek_word() {
        let include = match word.as_str() {
            "state" => true,
            "exclude" | "excl" => false,
            _ => break,
        };
        p.pos += 1;
        let Some(name) = p.next() else {
            return Err(p.error_at_end(format!("'{word}' needs a state name: {}", states::NAMES)));
        };
        let set = states::parse(&name.text).ok_or_else(|| {
            p.error(
                name,
                format!("unknown state {:?}: expected {}", name.text, states::NAMES),
            )
        })?;
        let current = filter.states.unwrap_or(if include {
            StateSet::EMPTY
        } else {
            StateSet::all()
        });
        filter.states = Some(if include {
            current.union(set)
        } else {
            current.minus(set)
        });
    }
    if p.pos < tokens.len() {
        let expr = p.exprlist()?;
        if let Some(t) = p.next() {
            return Err(p.error(t, "unbalanced ')': no '(' before it".into()));
        }
        filter.expr = Some(expr);
    }
    filter.family = p.seen;
    Ok(filter)
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Token],
    pos: usize,
    ctx: &'a Context<'a>,
    /// Terms read so far (at most [`MAX_TERMS`]).
    terms: usize,
    /// Parentheses and `not`s open at this point (at most [`MAX_NESTING`]).
    depth: usize,
    /// The family of a HOST without a prefix: the context's, then the
    /// last prefix read (ss's preferred_family changes the same way).
    family: Option<AddrFamily>,
    /// The last `FAMILY:` prefix read.
    seen: Option<AddrFamily>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn peek_word(&self) -> Option<String> {
        self.peek().map(|t| t.text.to_ascii_lowercase())
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, t: &Token, message: String) -> FilterError {
        FilterError {
            text: self.text.to_owned(),
            at: t.at,
            len: t.text.len(),
            message,
        }
    }

    fn error_at_end(&self, message: String) -> FilterError {
        FilterError {
            text: self.text.to_owned(),
            at: self.text.len() + 1,
            len: 1,
            message,
        }
    }

    /// Enters a parenthesis or a `not`, if the nesting limit allows.
    fn enter(&mut self, t: &Token) -> Result<(), FilterError> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(
                t,
                format!("nested too deep: at most {MAX_NESTING} levels of '(' and 'not'"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// exprlist: expr { [or|and] expr }, left to right, one level.
    fn exprlist(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.expr()?;
        while let Some(word) = self.peek_word() {
            let or = match word.as_str() {
                ")" => break,
                "|" | "||" | "or" => {
                    self.pos += 1;
                    true
                }
                "&" | "&&" | "and" => {
                    self.pos += 1;
                    false
                }
                _ => false, // implicit and
            };
            if self.peek().is_none() {
                let op = &self.tokens[self.pos - 1];
                return Err(self.error(op, format!("nothing after '{}'", op.text)));
            }
            let right = self.expr()?;
            // One chain node for the whole list: no depth per term.
            left = if or {
                Expr::or(left, right)
            } else {
                Expr::and(left, right)
            };
        }
        Ok(left)
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let Some(t) = self.next() else {
            return Err(self.error_at_end("expression ends too early".into()));
        };
        let word = t.text.to_ascii_lowercase();
        // Every word but these starts a term (or is an error).
        if !matches!(word.as_str(), "(" | ")" | "!" | "not") {
            self.terms += 1;
            if self.terms > MAX_TERMS {
                return Err(self.error(
                    t,
                    format!("too many terms: a filter holds at most {MAX_TERMS}"),
                ));
            }
        }
        match word.as_str() {
            "(" => {
                if matches!(self.peek_word().as_deref(), Some(")")) {
                    return Err(self.error(t, "empty parentheses".into()));
                }
                self.enter(t)?;
                let inner = self.exprlist()?;
                self.depth -= 1;
                match self.next() {
                    Some(c) if c.text == ")" => Ok(inner),
                    _ => Err(self.error(t, "unbalanced '(': no ')' closes it".into())),
                }
            }
            ")" => Err(self.error(t, "unbalanced ')': no '(' before it".into())),
            "!" | "not" => {
                if self.peek().is_none() {
                    return Err(self.error(t, format!("nothing after '{}'", t.text)));
                }
                self.enter(t)?;
                let inner = self.expr()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            _ => self.term(t, &word),
        }
    }

    /// One term: every word but parentheses and `not`. Kept out of
    /// [`Parser::expr`] so that the frames of the nesting recursion
    /// (`(` and `not`, up to [`MAX_NESTING`] levels) stay small.
    #[inline(never)]
    fn term(&mut self, t: &'a Token, word: &str) -> Result<Expr, FilterError> {
        match word {
            "src" | "dst" => {
                let side = if word == "src" { Side::Src } else { Side::Dst };
                let negate = self.eq_or_ne(t)?;
                let host = self.operand(t)?;
                let e = self.host_term(side, Cmp::Eq, host, false)?;
                Ok(negated(e, negate))
            }
            "sport" | "dport" => {
                let side = if word == "sport" {
                    Side::Src
                } else {
                    Side::Dst
                };
                let op = self.comparison(t)?;
                let host = self.operand(t)?;
                self.host_term(side, op, host, true)
            }
            "fwmark" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                let (value, mask) = parse_mark(&n.text).ok_or_else(|| {
                    self.error(
                        n,
                        format!(
                            "{:?} is not a mark: expected VALUE or VALUE/MASK (0x.. for hex)",
                            n.text
                        ),
                    )
                })?;
                Ok(negated(Expr::Mark { value, mask }, negate))
            }
            "cgroup" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                let id = (self.ctx.cgroup)(&n.text).map_err(|m| self.error(n, m))?;
                Ok(negated(Expr::Cgroup(id), negate))
            }
            "dev" => {
                let negate = self.eq_or_ne(t)?;
                let name = self.operand(t)?;
                if let Some(index) = (self.ctx.ifindex)(&name.text) {
                    return Ok(negated(
                        Expr::DevName(name.text.as_str().into(), index),
                        negate,
                    ));
                }
                if let Ok(index) = name.text.parse() {
                    return Ok(negated(Expr::Dev(index), negate));
                }
                if self.ctx.other_namespaces {
                    // Another namespace may have it.
                    return Ok(negated(
                        Expr::DevName(name.text.as_str().into(), u32::MAX),
                        negate,
                    ));
                }
                Err(self.error(name, format!("no network interface {:?}", name.text)))
            }
            "autobound" => Ok(Expr::AutoBound {
                low: self.ctx.ephemeral.0,
                high: self.ctx.ephemeral.1,
            }),
            "uid" => {
                let op = self.comparison(t)?;
                let n = self.operand(t)?;
                let uid = n
                    .text
                    .parse()
                    .map_err(|_| self.error(n, format!("{:?} is not a uid", n.text)))?;
                Ok(Expr::Uid(op, uid))
            }
            "pid" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                let pid = n
                    .text
                    .parse()
                    .map_err(|_| self.error(n, format!("{:?} is not a pid", n.text)))?;
                Ok(negated(Expr::Pid(pid), negate))
            }
            "comm" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                Ok(negated(Expr::Comm(n.text.clone()), negate))
            }
            "netns" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                Ok(negated(Expr::Netns(n.text.as_str().into(), None), negate))
            }
            "container" => {
                let negate = self.eq_or_ne(t)?;
                let n = self.operand(t)?;
                Ok(negated(
                    Expr::Container(n.text.as_str().into(), None),
                    negate,
                ))
            }
            "state" | "exclude" | "excl" => Err(self.error(
                t,
                format!("'{}' must come before the expression, as in ss", t.text),
            )),
            "|" | "||" | "or" | "&" | "&&" | "and" => {
                Err(self.error(t, format!("'{}' needs a term before it", t.text)))
            }
            _ => {
                let hint = if t.text.starts_with(':')
                    || t.text.starts_with('[')
                    || t.text.starts_with(|c: char| c.is_ascii_digit())
                {
                    "an address or port needs src, dst, sport or dport before it"
                } else {
                    "expected src, dst, sport, dport, dev, fwmark, cgroup, autobound, uid, \
                     pid, comm, netns, container, not, and, or, or a parenthesis"
                };
                Err(self.error(t, format!("unknown word {:?}: {hint}", t.text)))
            }
        }
    }

    /// `src`/`dst` HOST (`op` is `=`) and `sport`/`dport` OP PORT: the
    /// family prefix read off, then a UNIX glob or internet conditions
    /// (one per address, joined by `or`).
    fn host_term(
        &mut self,
        side: Side,
        op: Cmp,
        host: &'a Token,
        is_port: bool,
    ) -> Result<Expr, FilterError> {
        let (family, text) = match AddrFamily::strip(&host.text) {
            Some((f, rest)) => {
                self.seen = Some(f);
                self.family = Some(f);
                (Some(f), rest)
            }
            None => (self.family, host.text.as_str()),
        };
        match family {
            Some(AddrFamily::Unix) => {
                let e = Expr::UnixName(side, text.into());
                return match op {
                    Cmp::Eq => Ok(e),
                    Cmp::Ne => Ok(negated(e, true)),
                    _ => Err(self.error(
                        host,
                        "UNIX sockets have no ports to compare: use = or != with a name".into(),
                    )),
                };
            }
            Some(f @ (AddrFamily::Link | AddrFamily::Netlink | AddrFamily::Vsock)) => {
                return Err(self.error(
                    host,
                    format!("{}: addresses are not supported: sockscope lists internet and UNIX sockets", f.name()),
                ));
            }
            Some(AddrFamily::Inet | AddrFamily::Inet6) | None => {}
        }
        let conds = parse_host(text, is_port, family, self.ctx).map_err(|m| self.error(host, m))?;
        let port = || {
            conds.first().and_then(|c| c.port).ok_or_else(|| {
                self.error(
                    host,
                    "a port comparison needs a port number, not '*'".into(),
                )
            })
        };
        Ok(match op {
            Cmp::Eq | Cmp::Ne => {
                let mut terms = conds.iter().map(|c| Expr::Host(side, *c));
                let first = terms
                    .next()
                    .ok_or_else(|| self.error(host, "no address".into()))?;
                let any = terms.fold(first, Expr::or);
                negated(any, op == Cmp::Ne)
            }
            Cmp::Ge => Expr::PortGe(side, port()?),
            Cmp::Le => Expr::PortLe(side, port()?),
            // ss: a > N is not (a <= N); a < N is not (a >= N)
            Cmp::Gt => negated(Expr::PortLe(side, port()?), true),
            Cmp::Lt => negated(Expr::PortGe(side, port()?), true),
        })
    }

    /// An optional `=`/`==`/`eq` (false) or `!=`/`ne`/`neq` (true).
    fn eq_or_ne(&mut self, _key: &Token) -> Result<bool, FilterError> {
        match self.peek_word().as_deref() {
            Some("=" | "==" | "eq") => {
                self.pos += 1;
                Ok(false)
            }
            Some("!=" | "ne" | "neq") => {
                self.pos += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// An optional comparison; none means `=`.
    fn comparison(&mut self, _key: &Token) -> Result<Cmp, FilterError> {
        let cmp = match self.peek_word().as_deref() {
            Some("=" | "==" | "eq") => Cmp::Eq,
            Some("!=" | "ne" | "neq") => Cmp::Ne,
            Some("<" | "lt") => Cmp::Lt,
            Some("<=" | "le" | "leq") => Cmp::Le,
            Some(">" | "gt") => Cmp::Gt,
            Some(">=" | "ge" | "geq") => Cmp::Ge,
            _ => return Ok(Cmp::Eq),
        };
        self.pos += 1;
        Ok(cmp)
    }

    fn operand(&mut self, key: &Token) -> Result<&'a Token, FilterError> {
        match self.next() {
            Some(t) if !matches!(t.text.as_str(), "(" | ")") => Ok(t),
            Some(t) => Err(self.error(t, format!("'{}' needs a value here", key.text))),
            None => Err(self.error_at_end(format!("'{}' needs a value", key.text))),
        }
    }
}

fn negated(e: Expr, negate: bool) -> Expr {
    if negate { Expr::Not(Box::new(e)) } else { e }
}

/// HOST (or, with `is_port`, PORT) as ss reads it (ss.c: parse_hostcond),
/// for an internet family (`family`: -4, -6 or a prefix; `None`: either):
/// one condition per address (a host name may have several), all with
/// the same port.
pub fn parse_host(
    text: &str,
    is_port: bool,
    family: Option<AddrFamily>,
    ctx: &Context<'_>,
) -> Result<Vec<HostCond>, String> {
    if is_port {
        // `*:22` is port 22 (ss reads any port there: see README).
        let text = text.strip_prefix("*:").unwrap_or(text);
        let port = text.strip_prefix(':').unwrap_or(text);
        return Ok(vec![HostCond {
            prefix: None,
            port: parse_port(port, ctx)?,
        }]);
    }
    let with_port = |prefixes: Vec<Option<Prefix>>, port: Option<u16>| {
        prefixes
            .into_iter()
            .map(|prefix| HostCond { prefix, port })
            .collect()
    };
    let (addr, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{text:?}: '[' without ']'"))?;
        // [ADDR], [ADDR/LEN], [ADDR]:PORT, and also [ADDR]/LEN[:PORT].
        let (len, after) = match after.strip_prefix('/') {
            Some(l) => match l.split_once(':') {
                Some((l, p)) => (Some(l), p),
                None => (Some(l), ""),
            },
            None => (
                None,
                match after {
                    "" => "",
                    p => p
                        .strip_prefix(':')
                        .ok_or_else(|| format!("{text:?}: expected ':PORT' after ']'"))?,
                },
            ),
        };
        let prefixes = match len {
            Some(l) => parse_prefix(&format!("{inner}/{l}"), family, ctx)?,
            None => parse_prefix(inner, family, ctx)?,
        };
        return Ok(with_port(prefixes, parse_port(after, ctx)?));
    } else if let Some(rest) = text.strip_prefix('*') {
        ("", rest.strip_prefix(':').unwrap_or(rest))
    } else if text.matches(':').count() >= 2 && !text.contains('.') || is_v6_prefix(text) {
        // A bare IPv6 address or prefix: ss would take its last group for a
        // port; use brackets for an address with a port.
        (text, "")
    } else {
        // The port follows the last ':' (after any '/PREFIX').
        let from = text.find('/').unwrap_or(0);
        match text[from..].rfind(':') {
            Some(i) => (&text[..from + i], &text[from + i + 1..]),
            None => (text, ""),
        }
    };
    Ok(with_port(
        parse_prefix(addr, family, ctx)?,
        parse_port(port, ctx)?,
    ))
}

fn is_v6_prefix(text: &str) -> bool {
    text.split_once('/')
        .is_some_and(|(a, _)| a.parse::<std::net::Ipv6Addr>().is_ok())
}

fn parse_port(port: &str, ctx: &Context<'_>) -> Result<Option<u16>, String> {
    if port.is_empty() || port == "*" {
        return Ok(None);
    }
    if port.bytes().all(|b| b.is_ascii_digit()) {
        return port
            .parse::<u16>()
            .map(Some)
            .map_err(|_| format!("port {port} is out of range (0-65535)"));
    }
    let port_of = ctx.services.map_err(|e| match e.source() {
        Some(cause) => format!("{port:?} is not a port number, and {e}: {cause}"),
        None => format!("{port:?} is not a port number, and {e}"),
    })?;
    port_of(port)
        .map(Some)
        .ok_or_else(|| format!("{port:?} is neither a port number nor a service in /etc/services"))
}

/// An IPv4 address as iproute2 reads it (lib/utils.c: get_addr_ipv4): one
/// to four parts, each decimal, 0x-hex or 0-octal and at most 255, the
/// missing ones zero at the end (`10.8` is 10.8.0.0, not inet_aton's
/// 10.0.0.8).
pub fn parse_ipv4(text: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let Some(part) = parts.next() else { break };
        let value = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            if hex.is_empty() {
                // strtoul reads "0x" as 0 followed by "x": not a part.
                return None;
            }
            u32::from_str_radix(hex, 16).ok()?
        } else if part.len() > 1 && part.starts_with('0') {
            u32::from_str_radix(&part[1..], 8).ok()?
        } else {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse::<u32>().ok()?
        };
        if !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(octets.into())
}

/// An address or prefix (or a host name's addresses) of `family`: `None`
/// in the list is a wildcard (`*`, or `any`/`all`/`default` of no family).
fn parse_prefix(
    addr: &str,
    family: Option<AddrFamily>,
    ctx: &Context<'_>,
) -> Result<Vec<Option<Prefix>>, String> {
    if addr.is_empty() || addr == "*" {
        return Ok(vec![None]);
    }
    let (ip_text, len) = match addr.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (addr, None),
    };
    let want_v4 = family != Some(AddrFamily::Inet6);
    let want_v6 = family != Some(AddrFamily::Inet);
    // iproute2: all, any and default are the whole family (no length).
    if matches!(ip_text, "any" | "all" | "default") {
        if len.is_some() && ip_text == "default" {
            return Err(format!("{addr:?}: 'default' takes no prefix length"));
        }
        return Ok(vec![match family {
            Some(AddrFamily::Inet) => Some(Prefix {
                addr: IpAddr::V4(0.into()),
                len: 0,
            }),
            Some(AddrFamily::Inet6) => Some(Prefix {
                addr: IpAddr::V6(0.into()),
                len: 0,
            }),
            _ => None,
        }]);
    }
    let ip: Option<IpAddr> = if ip_text.contains(':') {
        ip_text.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_ipv4(ip_text).map(IpAddr::V4)
    };
    let Some(ip) = ip else {
        if len.is_some() || ip_text.contains(':') {
            return Err(format!("{ip_text:?} is not an IP address"));
        }
        return resolve(ip_text, want_v4, want_v6, ctx);
    };
    if (ip.is_ipv4() && !want_v4) || (ip.is_ipv6() && !want_v6) {
        let f = family.map_or("", AddrFamily::name);
        return Err(format!("{ip} is not an {f} address"));
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => return Err(format!("bad prefix length /{l}: at most /{max} for {ip}")),
        },
    };
    Ok(vec![Some(Prefix { addr: ip, len })])
}

/// A host name's addresses of the wanted families, IPv4 first (as ss asks
/// for them), each a full-length prefix.
fn resolve(
    name: &str,
    want_v4: bool,
    want_v6: bool,
    ctx: &Context<'_>,
) -> Result<Vec<Option<Prefix>>, String> {
    let found = (ctx.resolve)(name)
        .map_err(|why| format!("{name:?} is neither an IP address nor a known host ({why})"))?;
    let mut out: Vec<Option<Prefix>> = Vec::new();
    for v6 in [false, true] {
        for ip in &found {
            if ip.is_ipv6() == v6 && (if v6 { want_v6 } else { want_v4 }) {
                let p = Some(Prefix {
                    addr: *ip,
                    len: if v6 { 128 } else { 32 },
                });
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "host {name:?} has no {} address",
            if want_v4 { "IPv4" } else { "IPv6" }
        ));
    }
    Ok(out)
}

/// `fwmark` VALUE[/MASK] as ss reads it (sscanf "%i/%i": decimal, 0x-hex
/// or 0-octal, a leading `-` wraps around).
fn parse_mark(text: &str) -> Option<(u32, u32)> {
    let num = |t: &str| -> Option<u32> {
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).ok()?
        } else if t.len() > 1 && t.starts_with('0') {
            u64::from_str_radix(&t[1..], 8).ok()?
        } else {
            t.parse::<u64>().ok()?
        };
        let v = u32::try_from(v).ok()?;
        Some(if neg { v.wrapping_neg() } else { v })
    };
    match text.split_once('/') {
        Some((v, m)) => Some((num(v)?, num(m)?)),
        None => Some((num(text)?, u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_parse(words: &[&str]) -> Result<Filter, FilterError> {
        ctx_parse_as(words, None)
    }

    /// As /etc/services would say (ssh 22, https 443, www/http 80) and
    /// as /etc/hosts would say: localhost 127.0.0.1 and ::1, v4only
    /// 10.0.0.7; the cgroup /web has id 77.
    fn ctx_parse_as(words: &[&str], family: Option<AddrFamily>) -> Result<Filter, FilterError> {
        let port_of = |name: &str| match name {
            "ssh" => Some(22),
            "https" => Some(443),
            "www" | "http" => Some(80),
            _ => None,
        };
        let ifindex = |name: &str| (name == "lo").then_some(1);
        let resolve = |name: &str| match name {
            "localhost" => Ok(vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()]),
            "v4only" => Ok(vec!["10.0.0.7".parse().unwrap()]),
            _ => Err("Name or service not known".to_string()),
        };
        let cgroup = |path: &str| match path {
            "/web" => Ok(77),
            _ => Err(format!("no cgroup {path}")),
        };
        let ctx = Context {
            services: Ok(&port_of),
            ephemeral: (32768, 60999),
            ifindex: &ifindex,
            other_namespaces: false,
            family,
            resolve: &resolve,
            cgroup: &cgroup,
        };
        let args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        parse(&args, &ctx)
    }

    fn expr(words: &[&str]) -> Expr {
        ctx_parse(words).unwrap().expr.unwrap()
    }

    fn sport(p: u16) -> Expr {
        Expr::Host(
            Side::Src,
            HostCond {
                prefix: None,
                port: Some(p),
            },
        )
    }
    fn dport(p: u16) -> Expr {
        Expr::Host(
            Side::Dst,
            HostCond {
                prefix: None,
                port: Some(p),
            },
        )
    }
    fn and(a: Expr, b: Expr) -> Expr {
        Expr::and(a, b)
    }
    fn or(a: Expr, b: Expr) -> Expr {
        Expr::or(a, b)
    }
    fn not(a: Expr) -> Expr {
        Expr::Not(Box::new(a))
    }

    #[test]
    fn or_and_are_one_level_left_to_right_like_ss() {
        // ss: (sport = :1 or sport = :2) and dport = :3
        assert_eq!(
            expr(&[
                "sport", "=", ":1", "or", "sport", "=", ":2", "and", "dport", "=", ":3"
            ]),
            and(or(sport(1), sport(2)), dport(3))
        );
        assert_eq!(
            expr(&["sport", ":1", "dport", ":3", "||", "dport", ":4"]),
            or(and(sport(1), dport(3)), dport(4))
        );
    }

    #[test]
    fn not_binds_to_the_next_term() {
        assert_eq!(
            expr(&["!", "sport", "=", ":1", "and", "dport", "=", ":2"]),
            and(not(sport(1)), dport(2))
        );
        assert_eq!(
            expr(&[
                "not", "(", "sport", "=", ":1", "or", "dport", "=", ":2", ")"
            ]),
            not(or(sport(1), dport(2)))
        );
    }

    #[test]
    fn quoted_habit_as_one_argument_or_many() {
        let one = expr(&["( dport = :ssh or sport = :ssh )"]);
        let many = expr(&["(", "dport", "=", ":ssh", "or", "sport", "=", ":ssh", ")"]);
        let glued = expr(&["(dport = :ssh or sport = :ssh)"]);
        assert_eq!(one, or(dport(22), sport(22)));
        assert_eq!(one, many);
        assert_eq!(one, glued);
    }

    #[test]
    fn operators_and_their_words() {
        assert_eq!(expr(&["sport", "eq", ":22"]), sport(22));
        assert_eq!(expr(&["sport", "==", "22"]), sport(22));
        assert_eq!(expr(&["sport", "!=", ":22"]), not(sport(22)));
        assert_eq!(expr(&["sport", "neq", ":22"]), not(sport(22)));
        assert_eq!(
            expr(&["sport", ">=", ":1024"]),
            Expr::PortGe(Side::Src, 1024)
        );
        assert_eq!(
            expr(&["dport", "le", ":1024"]),
            Expr::PortLe(Side::Dst, 1024)
        );
        assert_eq!(
            expr(&["dport", ">", ":1024"]),
            not(Expr::PortLe(Side::Dst, 1024))
        );
        assert_eq!(
            expr(&["dport", "lt", ":1024"]),
            not(Expr::PortGe(Side::Dst, 1024))
        );
    }

    #[test]
    fn host_operands() {
        let host = |w: &str| match expr(&["src", w]) {
            Expr::Host(Side::Src, c) => c,
            other => panic!("{other:?}"),
        };
        let p = |a: &str, l| {
            Some(Prefix {
                addr: a.parse().unwrap(),
                len: l,
            })
        };
        assert_eq!(
            host("127.0.0.1"),
            HostCond {
                prefix: p("127.0.0.1", 32),
                port: None
            }
        );
        assert_eq!(
            host("10.0.0.0/8"),
            HostCond {
                prefix: p("10.0.0.0", 8),
                port: None
            }
        );
        assert_eq!(
            host("10.0.0.0/8:80"),
            HostCond {
                prefix: p("10.0.0.0", 8),
                port: Some(80)
            }
        );
        assert_eq!(
            host("127.0.0.1:ssh"),
            HostCond {
                prefix: p("127.0.0.1", 32),
                port: Some(22)
            }
        );
        assert_eq!(
            host(":80"),
            HostCond {
                prefix: None,
                port: Some(80)
            }
        );
        assert_eq!(
            host("*"),
            HostCond {
                prefix: None,
                port: None
            }
        );
        assert_eq!(
            host("*:443"),
            HostCond {
                prefix: None,
                port: Some(443)
            }
        );
        assert_eq!(
            host("[::1]"),
            HostCond {
                prefix: p("::1", 128),
                port: None
            }
        );
        assert_eq!(
            host("[::1]:8080"),
            HostCond {
                prefix: p("::1", 128),
                port: Some(8080)
            }
        );
        assert_eq!(
            host("::1"),
            HostCond {
                prefix: p("::1", 128),
                port: None
            }
        );
        assert_eq!(
            host("fe80::/10"),
            HostCond {
                prefix: p("fe80::", 10),
                port: None
            }
        );
        assert_eq!(
            host("[fe80::/10]:22"),
            HostCond {
                prefix: p("fe80::", 10),
                port: Some(22)
            }
        );
        assert_eq!(
            host("[::]/0"),
            HostCond {
                prefix: p("::", 0),
                port: None
            }
        );
        assert_eq!(
            host("[fe80::]/10:22"),
            HostCond {
                prefix: p("fe80::", 10),
                port: Some(22)
            }
        );
    }

    fn v4(a: &str, len: u8) -> Option<Prefix> {
        Some(Prefix {
            addr: a.parse().unwrap(),
            len,
        })
    }

    fn dst(prefix: Option<Prefix>, port: Option<u16>) -> Expr {
        Expr::Host(Side::Dst, HostCond { prefix, port })
    }

    /// iproute2's IPv4 reading (lib/utils.c: get_addr_ipv4), not
    /// inet_aton's: the missing parts are zero at the end.
    #[test]
    fn short_ipv4_as_iproute2_reads_it() {
        let ip = |t: &str| parse_ipv4(t).map(|a| a.to_string());
        assert_eq!(ip("127.1").as_deref(), Some("127.1.0.0"));
        assert_eq!(ip("127").as_deref(), Some("127.0.0.0"));
        assert_eq!(ip("193.233.7").as_deref(), Some("193.233.7.0"));
        assert_eq!(ip("0x7f.1").as_deref(), Some("127.1.0.0"));
        assert_eq!(ip("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(ip("1.2.3.4").as_deref(), Some("1.2.3.4"));
        for bad in ["256.1", "1.2.3.4.5", "1..2", "1.", "", "a.b", "0x", "09"] {
            assert_eq!(ip(bad), None, "{bad}");
        }
        assert_eq!(expr(&["dst", "127/8"]), dst(v4("127.0.0.0", 8), None));
        assert_eq!(
            expr(&["dst", "193.233.7/24"]),
            dst(v4("193.233.7.0", 24), None)
        );
        assert_eq!(expr(&["dst", "10.1/16"]), dst(v4("10.1.0.0", 16), None));
        assert_eq!(
            expr(&["dst", "127.1:80"]),
            dst(v4("127.1.0.0", 32), Some(80))
        );
    }

    /// `inet:`, `inet6:`, `unix:` prefixes: the address's family, and the
    /// last one is the family listed. link/netlink/vsock are refused.
    #[test]
    fn family_prefixes() {
        let f = ctx_parse(&["dst", "inet6:[::1]"]).unwrap();
        assert_eq!(f.expr.unwrap(), dst(v4("::1", 128), None));
        assert_eq!(f.family, Some(AddrFamily::Inet6));
        let f = ctx_parse(&["dst", "inet:127.0.0.1:22"]).unwrap();
        assert_eq!(f.expr.unwrap(), dst(v4("127.0.0.1", 32), Some(22)));
        assert_eq!(f.family, Some(AddrFamily::Inet));
        // A family's address is of that family.
        let e = error(&["dst", "inet:[::1]"]);
        assert!(e.message.contains("not an inet address"), "{e}");
        let e = error(&["dst", "inet6:127.0.0.1"]);
        assert!(e.message.contains("not an inet6 address"), "{e}");
        // any/all/default: the whole family (or everything).
        assert_eq!(expr(&["dst", "any"]), dst(None, None));
        assert_eq!(expr(&["dst", "inet:any"]), dst(v4("0.0.0.0", 0), None));
        assert_eq!(expr(&["dst", "inet6:all"]), dst(v4("::", 0), None));
        let f = ctx_parse(&["src", "unix:/run/*.sock"]).unwrap();
        assert_eq!(
            f.expr.unwrap(),
            Expr::UnixName(Side::Src, "/run/*.sock".into())
        );
        assert_eq!(f.family, Some(AddrFamily::Unix));
        // The last prefix wins, and later terms default to it (ss's
        // preferred_family).
        let f = ctx_parse(&[
            "src",
            "inet:127.0.0.1",
            "or",
            "dst",
            "unix:/x",
            "or",
            "src",
            "/y",
        ])
        .unwrap();
        assert_eq!(f.family, Some(AddrFamily::Unix));
        assert!(format!("{:?}", f.expr).contains("UnixName(Src, \"/y\")"));
        for prefix in ["link:", "netlink:", "vsock:"] {
            let e = error(&["src", &format!("{prefix}x")]);
            assert!(e.message.contains("not supported"), "{e}");
        }
        assert_eq!(ctx_parse(&["sport", "=", ":22"]).unwrap().family, None);
    }

    /// -x alone: every HOST is a UNIX glob, as in ss; ordered port
    /// comparisons have nothing to compare.
    #[test]
    fn unix_listing_reads_globs() {
        let f = ctx_parse_as(&["src", "/tmp/.X11-unix/*"], Some(AddrFamily::Unix)).unwrap();
        assert_eq!(
            f.expr.unwrap(),
            Expr::UnixName(Side::Src, "/tmp/.X11-unix/*".into())
        );
        let f = ctx_parse_as(&["dst", "!=", "@*"], Some(AddrFamily::Unix)).unwrap();
        assert_eq!(
            f.expr.unwrap(),
            Expr::Not(Box::new(Expr::UnixName(Side::Dst, "@*".into())))
        );
        let e = ctx_parse_as(&["sport", ">", ":22"], Some(AddrFamily::Unix)).unwrap_err();
        assert!(e.message.contains("no ports"), "{e}");
        // An explicit inet: still works beside -x.
        let f = ctx_parse_as(&["src", "inet:10/8"], Some(AddrFamily::Unix)).unwrap();
        assert_eq!(
            f.expr.unwrap(),
            Expr::Host(
                Side::Src,
                HostCond {
                    prefix: v4("10.0.0.0", 8),
                    port: None
                }
            )
        );
    }

    /// UNIX terms on UNIX records: name and peer name globs; internet terms
    /// never match a UNIX socket and UNIX terms never an internet one.
    #[test]
    fn unix_terms_match_names() {
        let u = |path: Option<&str>, peer: Option<&str>| UnixSocket {
            kind: crate::model::UnixKind::Stream,
            state: crate::model::TcpState::Established,
            path: path.map(|p| p.as_bytes().to_vec()),
            inode: 10,
            peer_inode: Some(11),
            peer_path: peer.map(|p| p.as_bytes().to_vec()),
            recv_q: None,
            send_q: None,
            uid: Some(0),
            cookie: None,
            owners: None,
            extras: None,
        };
        let src = Expr::UnixName(Side::Src, "/run/*.sock".into());
        let dst = Expr::UnixName(Side::Dst, "/RUN/*".into());
        assert!(src.matches_unix(&u(Some("/run/docker.sock"), None)));
        assert!(!src.matches_unix(&u(None, Some("/run/docker.sock"))));
        assert!(dst.matches_unix(&u(None, Some("/run/docker.sock"))));
        let star = Expr::UnixName(Side::Src, "*".into());
        assert!(
            star.matches_unix(&u(None, None)),
            "unnamed is the empty name"
        );
        assert!(!dport(22).matches_unix(&u(Some("/x"), None)));
        let tcp = crate::model::Socket::test_tcp(
            crate::model::TcpState::Established,
            "127.0.0.1:1",
            "127.0.0.1:2",
        );
        assert!(!src.matches(&tcp));
        assert!(Expr::Not(Box::new(src.clone())).matches(&tcp));
        let auto = Expr::AutoBound { low: 1, high: 2 };
        assert!(auto.matches_unix(&u(None, None)));
        assert!(auto.matches_unix(&u(Some("@0001f"), None)));
        assert!(!auto.matches_unix(&u(Some("/x"), None)));
    }

    /// Host names: every address (IPv4 first), joined by `or`, each with
    /// the port; -4/-6 keep that family's.
    #[test]
    fn host_names_resolve_to_every_address() {
        let lo4 = dst(v4("127.0.0.1", 32), Some(80));
        let lo6 = dst(v4("::1", 128), Some(80));
        assert_eq!(
            expr(&["dst", "localhost:80"]),
            Expr::or(lo4.clone(), lo6.clone())
        );
        assert_eq!(
            expr(&["dst", "!=", "localhost:80"]),
            Expr::Not(Box::new(Expr::or(lo4.clone(), lo6.clone())))
        );
        let f = ctx_parse_as(&["dst", "localhost:80"], Some(AddrFamily::Inet)).unwrap();
        assert_eq!(f.expr.unwrap(), lo4);
        let e = ctx_parse_as(&["dst", "v4only"], Some(AddrFamily::Inet6)).unwrap_err();
        assert!(e.message.contains("no IPv6 address"), "{e}");
        let e = error(&["dst", "nosuchhost"]);
        assert!(e.message.contains("Name or service not known"), "{e}");
        // A name takes no prefix length.
        let e = error(&["dst", "localhost/8"]);
        assert!(e.message.contains("not an IP address"), "{e}");
    }

    #[test]
    fn fwmark_and_cgroup() {
        assert_eq!(
            expr(&["fwmark", "=", "0x10/0xf0"]),
            Expr::Mark {
                value: 0x10,
                mask: 0xf0
            }
        );
        assert_eq!(
            expr(&["fwmark", "17"]),
            Expr::Mark {
                value: 17,
                mask: u32::MAX
            }
        );
        assert_eq!(
            expr(&["fwmark", "!=", "010/0"]),
            Expr::Not(Box::new(Expr::Mark { value: 8, mask: 0 }))
        );
        assert_eq!(
            expr(&["fwmark", "-1"]),
            Expr::Mark {
                value: u32::MAX,
                mask: u32::MAX
            }
        );
        let e = error(&["fwmark", "x10"]);
        assert!(e.message.contains("not a mark"), "{e}");
        let e = error(&["fwmark", "0x1ffffffff"]);
        assert!(e.message.contains("not a mark"), "{e}");
        assert_eq!(expr(&["cgroup", "/web"]), Expr::Cgroup(77));
        assert_eq!(
            expr(&["cgroup", "!=", "/web"]),
            Expr::Not(Box::new(Expr::Cgroup(77)))
        );
        let e = error(&["cgroup", "/nope"]);
        assert!(e.message.contains("no cgroup /nope"), "{e}");
        let mut s = crate::model::Socket::test_tcp(
            crate::model::TcpState::Established,
            "127.0.0.1:1",
            "127.0.0.1:2",
        );
        let m = Expr::Mark {
            value: 0x10,
            mask: 0xf0,
        };
        assert!(!m.matches(&s), "no mark is 0");
        s.extras.get_or_insert_default().mark = Some(0x1f);
        assert!(m.matches(&s));
        s.extras.get_or_insert_default().cgroup_id = Some(77);
        assert!(Expr::Cgroup(77).matches(&s));
        assert!(!Expr::Cgroup(1).matches(&s));
        assert!(m.needs_netlink() && Expr::Cgroup(1).needs_netlink());
        assert!(Expr::Not(Box::new(Expr::Cgroup(1))).reads_diag_attrs());
        assert!(!Expr::Dev(1).reads_diag_attrs());
        assert!(Expr::and(Expr::Dev(1), Expr::Not(Box::new(m))).looks_at_marks());
        assert!(!Expr::Cgroup(1).looks_at_marks());
    }

    /// ss takes `sport = *:22` for any port (its `*` skips the port);
    /// sockscope reads port 22, as written.
    #[test]
    fn star_port_is_the_port() {
        assert_eq!(expr(&["sport", "=", "*:22"]), sport(22));
        assert_eq!(
            expr(&["dport", ">=", "*:1024"]),
            Expr::PortGe(Side::Dst, 1024)
        );
        assert_eq!(
            expr(&["sport", "=", "*"]),
            Expr::Host(
                Side::Src,
                HostCond {
                    prefix: None,
                    port: None
                }
            )
        );
    }

    #[test]
    fn man_page_examples_parse() {
        for words in [
            &["dst", "193.233.7/24"][..],
            &["dst", "127/8"],
            &["dst", "localhost"],
            &["sport", "=", ":www"],
            &["( dport = :ssh or sport = :ssh )"],
            &["state", "established", "( dport = :ssh or sport = :ssh )"],
            &["dport", "!=", ":80"],
            &[
                "state",
                "fin-wait-1",
                "( sport = :http or sport = :https )",
                "dst",
                "193.233.7/24",
            ],
            &["state", "syn-rcv"],
            &["src", "[::1]"],
            &["dev", "lo"],
            &["fwmark", "=", "0x01/0x03"],
        ] {
            ctx_parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
        }
    }

    #[test]
    fn states_come_first() {
        let f = ctx_parse(&["state", "established", "state", "TIME_WAIT", "sport", ":22"]).unwrap();
        let s = f.states.unwrap();
        assert_eq!(s.iter().count(), 2);
        assert!(f.expr.is_some());
        let f = ctx_parse(&["exclude", "listening"]).unwrap();
        assert_eq!(
            f.states.unwrap(),
            StateSet::all().without(&[crate::model::TcpState::Listen])
        );
        assert!(f.expr.is_none());
        let f = ctx_parse(&["state", "connected", "exclude", "time-wait"]).unwrap();
        assert!(!f.states.unwrap().contains(crate::model::TcpState::TimeWait));
        assert_eq!(ctx_parse(&[]).unwrap(), Filter::default());
        // An empty set stays empty (ss falls back to its default states:
        // README, "Where ss gives other rows").
        let f = ctx_parse(&["state", "established", "exclude", "established"]).unwrap();
        assert_eq!(f.states, Some(StateSet::EMPTY));
    }

    fn error(words: &[&str]) -> FilterError {
        ctx_parse(words).unwrap_err()
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = error(&["state", "established", "dprot", "=", ":443"]);
        assert_eq!(&e.text[e.at..e.at + e.len], "dprot");
        assert!(e.message.contains("unknown word"), "{e}");
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[1], "  state established dprot = :443");
        assert_eq!(lines[2], "                    ^^^^^");

        let e = error(&["state", "establshed"]);
        assert_eq!(&e.text[e.at..e.at + e.len], "establshed");
        let e = error(&["sport", "=", ":99999"]);
        assert!(e.message.contains("out of range"), "{e}");
        assert_eq!(&e.text[e.at..e.at + e.len], ":99999");
        let e = error(&["src", "10.0.0.0/33"]);
        assert!(e.message.contains("prefix"), "{e}");
        let e = error(&["(", "sport", "=", ":22"]);
        assert!(e.message.contains("unbalanced '('"), "{e}");
        assert_eq!(e.at, 0);
        let e = error(&["sport", "=", ":22", ")"]);
        assert!(e.message.contains("unbalanced ')'"), "{e}");
        let e = error(&["sport", "=", ":nosuch"]);
        assert!(e.message.contains("service"), "{e}");
        let e = error(&["sport", "="]);
        assert!(e.message.contains("needs a value"), "{e}");
        let e = error(&["sport", ":1", "or"]);
        assert!(e.message.contains("nothing after"), "{e}");
        let e = error(&[":22"]);
        assert!(e.message.contains("sport"), "{e}");
        let e = error(&["src", "example.com"]);
        assert!(
            e.message.contains("neither an IP address nor a known host"),
            "{e}"
        );
        let e = error(&["sport", ":1", "state", "listening"]);
        assert!(e.message.contains("before the expression"), "{e}");
        let e = error(&["dev", "nosuch0"]);
        assert!(e.message.contains("interface"), "{e}");
        let e = error(&["sport", ">", "*"]);
        assert!(e.message.contains("port number"), "{e}");
    }

    /// Control characters in the filter are escaped where it is repeated,
    /// and the carets still sit under the token (in terminal columns).
    #[test]
    fn errors_escape_the_filter() {
        let e = error(&["sport = :22 or \x1b[2J and dst 1.2.3.4"]);
        let shown = e.to_string();
        assert!(!shown.contains('\x1b'), "{shown:?}");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3, "{shown:?}");
        assert_eq!(lines[1], "  sport = :22 or \\x1b[2J and dst 1.2.3.4");
        assert_eq!(lines[2], "                 ^^^^^^^");
        // Wide characters take two columns each.
        let e = error(&["dst", "\u{ff54}\u{ff45}", "or", "sport", "=", ":1"]);
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[2], "      ^^^^", "{shown}");
        // A bidi override cannot reorder the rest of the line.
        let e = error(&["dst", "a\u{202e}b", "or", "sport", "=", ":1"]);
        let shown = e.to_string();
        assert!(shown.contains("a\\u{202e}b or"), "{shown}");
        assert!(
            shown.lines().nth(2).unwrap().ends_with("      ^^^^^^^^^^"),
            "{shown}"
        );
    }

    /// Found probing the filter fuzz target with long inputs: 40 000
    /// `autobound` words, or 20 000 nested parentheses, or 30 000 `!`s
    /// overflowed the stack (a chain of terms is a tree as deep as it is
    /// long). Up to the limits everything that walks the tree works, on a
    /// test thread's 2 MiB stack and without optimisations; past them the
    /// parser says so.
    #[test]
    fn long_and_deep_filters_are_bounded() {
        let ok = |words: Vec<String>| {
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let e = expr(&refs);
            let _ = crate::filter::bytecode::compile(&e);
            let s = crate::model::Socket::test_tcp(
                crate::model::TcpState::Established,
                "127.0.0.1:40000",
                "127.0.0.1:80",
            );
            let _ = (e.matches(&s), e.needs_netlink(), e.needs_owners());
        };
        let chain = |n: usize, join: &str| -> Vec<String> {
            let mut w = vec!["autobound".to_string()];
            for _ in 1..n {
                w.extend([join.to_string(), "autobound".to_string()]);
            }
            w
        };
        let nested = |n: usize, open: &str| -> Vec<String> {
            let mut w = vec![open.to_string(); n];
            w.push("autobound".into());
            if open == "(" {
                w.extend(vec![")".to_string(); n]);
            }
            w
        };
        ok(chain(MAX_TERMS, "and"));
        ok(chain(MAX_TERMS, "or"));
        ok(nested(MAX_NESTING, "("));
        ok(nested(MAX_NESTING, "!"));
        // Both at once: a chain inside the deepest parentheses.
        let mut both = vec!["(".to_string(); MAX_NESTING];
        both.extend(chain(MAX_TERMS, "or"));
        both.extend(vec![")".to_string(); MAX_NESTING]);
        ok(both);

        let too_many = chain(MAX_TERMS + 1, "or");
        let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
        let e = error(&refs);
        assert!(e.message.contains("too many terms"), "{}", e.message);
        assert_eq!(e.at, e.text.len() - "autobound".len());
        for open in ["(", "!", "not"] {
            let deep = nested(MAX_NESTING + 1, open);
            let refs: Vec<&str> = deep.iter().map(String::as_str).collect();
            let e = error(&refs);
            assert!(e.message.contains("nested too deep"), "{}", e.message);
            assert_eq!(e.at, MAX_NESTING * (open.len() + 1));
        }
        // What overflowed before: now an error, at once.
        let huge = chain(40_000, "and");
        let refs: Vec<&str> = huge.iter().map(String::as_str).collect();
        assert!(error(&refs).message.contains("too many terms"));
        let huge = nested(30_000, "!");
        let refs: Vec<&str> = huge.iter().map(String::as_str).collect();
        assert!(error(&refs).message.contains("nested too deep"));
    }

    #[test]
    fn kernel_family_rule() {
        let p = |a: &str, l| Prefix {
            addr: a.parse().unwrap(),
            len: l,
        };
        assert!(prefix_matches(
            &p("127.0.0.0", 8),
            "127.1.2.3".parse().unwrap()
        ));
        assert!(!prefix_matches(
            &p("127.0.0.0", 8),
            "128.1.2.3".parse().unwrap()
        ));
        assert!(prefix_matches(
            &p("127.0.0.0", 8),
            "::ffff:127.0.0.1".parse().unwrap()
        ));
        assert!(!prefix_matches(&p("0.0.0.0", 0), "::1".parse().unwrap()));
        assert!(prefix_matches(
            &p("0.0.0.0", 0),
            "10.0.0.1".parse().unwrap()
        ));
        assert!(!prefix_matches(&p("::", 0), "10.0.0.1".parse().unwrap()));
        assert!(prefix_matches(&p("fe80::", 10), "fe80::1".parse().unwrap()));
        assert!(prefix_matches(
            &p("10.0.0.0", 9),
            "10.127.0.0".parse().unwrap()
        ));
        assert!(!prefix_matches(
            &p("10.0.0.0", 9),
            "10.128.0.0".parse().unwrap()
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_words_never_panic(words in proptest::collection::vec("[a-z0-9:=!<>()&|*\\[\\]./ -]{0,12}", 0..8)) {
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            if let Err(e) = ctx_parse(&w) {
                let _ = e.to_string();
            }
        }
    }

    /// Another namespace looks `dev NAME` up again and uses its own
    /// ephemeral range; a numeric `dev` and the other terms stay.
    #[test]
    fn rebind_follows_the_namespace() {
        let name: std::sync::Arc<str> = "veth0".into();
        let e = Expr::and(
            Expr::Not(Box::new(Expr::DevName(name.clone(), 4))),
            Expr::or(Expr::AutoBound { low: 1, high: 2 }, Expr::Dev(7)),
        );
        let there = |n: &str| (n == "veth0").then_some(9);
        let got = e.rebind(&there, Some((3, 4))).unwrap();
        let want = Expr::and(
            Expr::Not(Box::new(Expr::DevName(name.clone(), 9))),
            Expr::or(Expr::AutoBound { low: 3, high: 4 }, Expr::Dev(7)),
        );
        assert_eq!(got, want);
        // Unknown there: an index no interface has.
        let none = |_: &str| None;
        let got = e.rebind(&none, None).unwrap();
        assert!(format!("{got:?}").contains(&u32::MAX.to_string()));
        // Nothing to change: None.
        assert_eq!(Expr::Dev(3).rebind(&there, Some((3, 4))), None);
        assert_eq!(want.rebind(&there, Some((3, 4))), None);
    }

    /// `netns`/`container` terms are decided per namespace; a chain whose
    /// decided terms settle it needs no socket (`netns a and sport = :80`
    /// in namespace b), one that does not is left to the sockets.
    #[test]
    fn place_terms_decide_before_reading() {
        let parse = |t: &str| expr(&t.split(' ').collect::<Vec<_>>());
        let is_a = |n: &str| n == "a";
        let none = |_: &str| false;
        let e = parse("netns a and sport = :80");
        assert!(e.names_place());
        assert_eq!(e.place(&is_a, &none).decided(), None);
        assert_eq!(e.place(&none, &none).decided(), Some(false));
        let e = parse("netns a or container web");
        assert_eq!(e.place(&is_a, &none).decided(), Some(true));
        assert_eq!(e.place(&none, &none).decided(), Some(false));
        assert_eq!(e.place(&none, &|n| n == "web").decided(), Some(true));
        let e = parse("not netns a");
        assert_eq!(e.place(&is_a, &none).decided(), Some(false));
        assert!(!parse("sport = :80").names_place());
    }
}
