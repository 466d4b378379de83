//! Filters: which records are shown, decided after owners are known.
//!
//! The source already asks the kernel only for the states it needs; the
//! selection here is evaluated on every record again, so /proc, netlink and
//! replays give the same rows.
//!
//! [`expr`] parses the ss filter language (its outside facts, service
//! names and interface indexes, arrive as lookups in its `Context`);
//! [`bytecode`] compiles what the kernel can check into the program bytes
//! that `source::netlink` sends; [`states`] reads state names; [`glob`]
//! matches UNIX names as ss's fnmatch does.

pub mod bytecode;
pub mod expr;
pub mod glob;
pub mod states;
pub mod tracepoint;

use std::net::IpAddr;

use regex::Regex;

use crate::model::{DualStack, Owner, Socket, StateSet, UnixSocket};
pub use expr::{Expr, Filter, FilterError};

/// Which processes' sockets to keep.
#[derive(Debug, Clone, Default)]
pub struct ProcessFilter {
    /// Any of these pids.
    pub pids: Vec<u32>,
    /// Exactly this comm.
    pub comm: Option<String>,
    /// comm or cmdline matches.
    pub regex: Option<Regex>,
}

impl ProcessFilter {
    fn matches_owner(&self, o: &Owner) -> bool {
        (self.pids.is_empty() || self.pids.contains(&o.pid))
            && self.comm.as_deref().is_none_or(|c| *o.comm == *c)
            && self.regex.as_ref().is_none_or(|re| {
                re.is_match(&o.comm) || o.cmdline.as_deref().is_some_and(|c| re.is_match(c))
            })
    }

    /// A UNIX socket matches when one of its owners does.
    pub fn matches_unix(&self, s: &UnixSocket) -> bool {
        s.owners.iter().flatten().any(|o| self.matches_owner(o))
    }

    /// A packet or netlink socket matches when one of its owners does.
    pub fn matches_owners(&self, owners: Option<&[Owner]>) -> bool {
        owners.into_iter().flatten().any(|o| self.matches_owner(o))
    }

    /// A socket matches when one of its owners does, or, for a connection
    /// waiting in a listener's queue, one of the listener's owners.
    pub fn matches(&self, s: &Socket) -> bool {
        s.owners.iter().flatten().any(|o| self.matches_owner(o))
            || s.queue
                .iter()
                .flat_map(|q| &q.listener_owners)
                .any(|o| self.matches_owner(o))
    }
}

/// A local address and port (`who`): the address, when given, matches
/// itself and the wildcard of its family (a wildcard socket holds every
/// address's port), and a v6 wildcard also holds IPv4 ports (dual-stack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalPort {
    pub addr: Option<IpAddr>,
    pub port: u16,
}

impl LocalPort {
    pub fn matches(&self, s: &Socket) -> bool {
        if s.local.port() != self.port {
            return false;
        }
        let Some(want) = self.addr else {
            return true;
        };
        let have = s.local.ip();
        if have.is_unspecified() {
            // :: without v6only also takes IPv4 (and may, where unknown).
            return have.is_ipv4() == want.is_ipv4()
                || (have.is_ipv6() && s.dual_stack() != DualStack::No);
        }
        have == want || have.to_canonical() == want.to_canonical()
    }

    /// Whether `s` is connected to this port: its remote end is the port
    /// (and the address, when given). Whether that remote end is this
    /// host is for the caller to say (`who`'s clients on this host).
    pub fn matches_remote(&self, s: &Socket) -> bool {
        s.remote.port() == self.port
            && self
                .addr
                .is_none_or(|want| s.remote.ip().to_canonical() == want.to_canonical())
    }
}

/// The whole display selection.
#[derive(Debug, Clone)]
pub struct Selection {
    pub states: StateSet,
    pub process: Option<ProcessFilter>,
    pub local: Option<LocalPort>,
    /// `who`: a socket connected to the `local` port (its remote end)
    /// passes too.
    pub connected: bool,
    /// The filter expression, evaluated on every record even when the
    /// kernel already applied its bytecode.
    pub expr: Option<Expr>,
}

impl Selection {
    pub fn matches(&self, s: &Socket) -> bool {
        self.states.contains(s.state)
            && self.process.as_ref().is_none_or(|p| p.matches(s))
            && self
                .local
                .is_none_or(|l| l.matches(s) || (self.connected && l.matches_remote(s)))
            && self.expr.as_ref().is_none_or(|e| e.matches(s))
    }

    /// UNIX sockets: states, processes and the expression (its UNIX
    /// terms; see [`Expr::matches_unix`]).
    pub fn matches_unix(&self, s: &UnixSocket) -> bool {
        self.states.contains(s.state)
            && self.process.as_ref().is_none_or(|p| p.matches_unix(s))
            && self.local.is_none()
            && self.expr.as_ref().is_none_or(|e| e.matches_unix(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribution, QueueKind, Queued, TcpState};
    use std::sync::Arc;

    fn sock(local: &str, owners: Vec<(u32, &str)>) -> Socket {
        Socket {
            owners: Some(
                owners
                    .into_iter()
                    .map(|(pid, comm)| Owner {
                        pid,
                        fd: 3,
                        tid: None,
                        comm: Arc::from(comm),
                        cmdline: Some(Arc::from(format!("/usr/sbin/{comm} -g daemon"))),
                        raw: None,
                    })
                    .collect(),
            ),
            ..Socket::test_tcp(TcpState::Established, local, "127.0.0.1:1")
        }
    }

    #[test]
    fn process_filters() {
        let s = sock("127.0.0.1:80", vec![(812, "nginx"), (813, "nginx")]);
        let by_pid = ProcessFilter {
            pids: vec![1, 813],
            ..Default::default()
        };
        assert!(by_pid.matches(&s));
        let by_comm = ProcessFilter {
            comm: Some("nginx".into()),
            ..Default::default()
        };
        assert!(by_comm.matches(&s));
        let partial = ProcessFilter {
            comm: Some("ngin".into()),
            ..Default::default()
        };
        assert!(!partial.matches(&s), "--comm is exact");
        let re = ProcessFilter {
            regex: Some(Regex::new("sbin/ng.*daemon").unwrap()),
            ..Default::default()
        };
        assert!(re.matches(&s), "--process also looks at the command line");
        let unowned = sock("127.0.0.1:80", vec![]);
        assert!(!by_comm.matches(&unowned));
    }

    #[test]
    fn queued_connections_match_their_listeners_owners() {
        let mut s = sock("127.0.0.1:80", vec![]);
        s.inode = 0;
        s.queue = Some(Box::new(Queued {
            kind: QueueKind::Accept,
            listener: "0.0.0.0:80".parse().unwrap(),
            listener_owners: sock("0.0.0.0:80", vec![(812, "nginx")]).owners.unwrap(),
            attribution: Attribution::Sure,
            listener_inodes: vec![1],
        }));
        let f = ProcessFilter {
            comm: Some("nginx".into()),
            ..Default::default()
        };
        assert!(f.matches(&s));
    }

    #[test]
    fn local_port_with_wildcards() {
        let any = LocalPort {
            addr: None,
            port: 80,
        };
        assert!(any.matches(&sock("10.1.2.3:80", vec![])));
        assert!(!any.matches(&sock("10.1.2.3:81", vec![])));
        let lo = LocalPort {
            addr: Some("127.0.0.1".parse().unwrap()),
            port: 80,
        };
        assert!(lo.matches(&sock("127.0.0.1:80", vec![])));
        assert!(lo.matches(&sock("0.0.0.0:80", vec![])));
        assert!(lo.matches(&sock("[::]:80", vec![])), "dual-stack wildcard");
        assert!(lo.matches(&sock("[::ffff:127.0.0.1]:80", vec![])));
        assert!(!lo.matches(&sock("127.0.0.2:80", vec![])));
        let mut v6only = sock("[::]:80", vec![]);
        v6only.v6only = Some(true);
        assert!(!lo.matches(&v6only));
        let v6 = LocalPort {
            addr: Some("::1".parse().unwrap()),
            port: 80,
        };
        assert!(v6.matches(&v6only));
        assert!(!v6.matches(&sock("0.0.0.0:80", vec![])));
    }
}
