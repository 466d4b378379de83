//! `who`: who holds a port. The sockets on it, listeners first
//! ([`sort_holders`]), and the answer ([`WhoAnswer`]): the owners per
//! protocol and state, the connections waiting to be accepted, and what
//! holds it without an owner.

use crate::filter::LocalPort;
use crate::model::{Owner, Protocol, Socket, TcpState};

/// Orders the sockets on the port as `who` lists them: listeners first,
/// then bound (CLOSE: UDP's UNCONN) sockets, then the rest, each group in
/// the order read.
pub fn sort_holders(sockets: &mut [Socket]) {
    sockets.sort_by_key(|s| match s.state {
        TcpState::Listen => 0,
        TcpState::Close => 1,
        _ => 2,
    });
}

/// The processes holding the port in one state of one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Holders<'a> {
    pub proto: Protocol,
    pub state: TcpState,
    /// Each process once (pid and name), in the order seen.
    pub owners: Vec<&'a Owner>,
}

/// Sockets in one state (as the table names it: UDP's CLOSE is UNCONN),
/// whatever the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateCount {
    /// The first socket's protocol and state, which name the group.
    pub proto: Protocol,
    pub state: TcpState,
    pub count: usize,
}

/// Who holds the port.
#[derive(Debug, Clone, PartialEq)]
pub struct WhoAnswer<'a> {
    pub target: LocalPort,
    /// The protocols looked at.
    pub protocols: Vec<Protocol>,
    /// Some socket is on the port.
    pub held: bool,
    /// One group per protocol and state, in the order the sockets come
    /// (listeners first once sorted); empty when no process is visible.
    pub holders: Vec<Holders<'a>>,
    /// Connections waiting in an accept queue (no process has them yet).
    pub queued: usize,
    /// Sockets neither queued nor with a visible owner, per state.
    pub unowned: Vec<StateCount>,
}

/// The answer for the sockets on `target`'s port (already selected and,
/// for the listing order, sorted by [`sort_holders`]).
pub fn who<'a>(target: LocalPort, protocols: &[Protocol], sockets: &'a [Socket]) -> WhoAnswer<'a> {
    let mut holders: Vec<Holders<'a>> = Vec::new();
    for s in sockets {
        for o in s.owners.iter().flatten() {
            let group = match holders
                .iter()
                .position(|h| h.proto == s.proto && h.state == s.state)
            {
                Some(i) => &mut holders[i],
                None => {
                    holders.push(Holders {
                        proto: s.proto,
                        state: s.state,
                        owners: Vec::new(),
                    });
                    let last = holders.len() - 1;
                    &mut holders[last]
                }
            };
            if !group
                .owners
                .iter()
                .any(|seen| seen.pid == o.pid && seen.comm == o.comm)
            {
                group.owners.push(o);
            }
        }
    }
    let mut unowned: Vec<StateCount> = Vec::new();
    for s in sockets
        .iter()
        .filter(|s| s.queue.is_none() && s.owners.as_ref().is_none_or(Vec::is_empty))
    {
        let name = s.state.name_for(s.proto);
        match unowned
            .iter_mut()
            .find(|c| c.state.name_for(c.proto) == name)
        {
            Some(c) => c.count += 1,
            None => unowned.push(StateCount {
                proto: s.proto,
                state: s.state,
                count: 1,
            }),
        }
    }
    WhoAnswer {
        target,
        protocols: protocols.to_vec(),
        held: !sockets.is_empty(),
        holders,
        queued: sockets.iter().filter(|s| s.queue.is_some()).count(),
        unowned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_first_owners_once_unowned_by_name() {
        let owner = |pid, comm: &str| Owner {
            pid,
            fd: 3,
            tid: None,
            comm: comm.into(),
            cmdline: None,
            raw: None,
        };
        let mut c = Socket::test_tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5000");
        c.owners = Some(vec![]);
        let mut l = Socket::test_tcp(TcpState::Listen, "0.0.0.0:80", "0.0.0.0:0");
        l.owners = Some(vec![owner(812, "nginx"), owner(813, "nginx")]);
        let mut l6 = Socket::test_tcp(TcpState::Listen, "[::]:80", "[::]:0");
        l6.owners = Some(vec![owner(812, "nginx")]);
        let mut socks = vec![c.clone(), l, l6, c];
        sort_holders(&mut socks);
        assert_eq!(socks[0].state, TcpState::Listen);
        let a = who(
            LocalPort {
                addr: None,
                port: 80,
            },
            &[Protocol::Tcp],
            &socks,
        );
        assert!(a.held);
        assert_eq!(a.holders.len(), 1);
        let pids: Vec<u32> = a.holders[0].owners.iter().map(|o| o.pid).collect();
        assert_eq!(pids, [812, 813]);
        assert_eq!(
            a.unowned,
            [StateCount {
                proto: Protocol::Tcp,
                state: TcpState::Established,
                count: 2
            }]
        );
        assert_eq!(a.queued, 0);
    }
}
