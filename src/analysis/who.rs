//! `who`: who holds a port. The sockets on it, listeners first
//! ([`sort_holders`]), and the answer ([`WhoAnswer`]): the owners per
//! protocol and state, the connections waiting to be accepted, and what
//! holds it without an owner; and the other side, as `lsof -i :PORT`
//! shows it: the sockets of this host connected to the port
//! ([`split_clients`]), and their owners.

use std::net::IpAddr;

use crate::filter::LocalPort;
use crate::model::{Owner, Protocol, Socket, TcpState};

/// This host's addresses in one network namespace: its interfaces'
/// (when they could be listed from inside it), every loopback address,
/// and the specific local addresses of the sockets read (a connection's
/// server side is bound to one of the host's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAddrs(Vec<IpAddr>);

impl HostAddrs {
    /// From the interfaces' addresses and the sockets read.
    pub fn new(interfaces: &[IpAddr], sockets: &[Socket]) -> HostAddrs {
        let mut addrs: Vec<IpAddr> = interfaces.iter().map(IpAddr::to_canonical).collect();
        addrs.extend(
            sockets
                .iter()
                .map(|s| s.local.ip().to_canonical())
                .filter(|ip| !ip.is_unspecified()),
        );
        addrs.sort_unstable();
        addrs.dedup();
        HostAddrs(addrs)
    }

    /// Whether `ip` is this host's.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_loopback() || self.0.binary_search(&ip).is_ok()
    }
}

/// Splits the sockets read for `who` into those holding the port (local
/// end; listing order by [`sort_holders`]) and those of this host
/// connected to it (remote end is the port on one of `host`'s addresses),
/// in the order read. A socket connected to itself holds the port.
pub fn split_clients(
    sockets: Vec<Socket>,
    target: &LocalPort,
    host: &HostAddrs,
) -> (Vec<Socket>, Vec<Socket>) {
    let (mut holders, rest): (Vec<Socket>, Vec<Socket>) =
        sockets.into_iter().partition(|s| target.matches(s));
    sort_holders(&mut holders);
    let clients = rest
        .into_iter()
        .filter(|s| target.matches_remote(s) && host.contains(s.remote.ip()))
        .collect();
    (holders, clients)
}

/// Every process owning one of `groups`' sockets, each pid once, in
/// ascending order (`who --pids`).
pub fn owner_pids(groups: &[&[Socket]]) -> Vec<u32> {
    let mut pids: Vec<u32> = groups
        .iter()
        .flat_map(|g| g.iter())
        .flat_map(|s| s.owners.iter().flatten())
        .map(|o| o.pid)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

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
    /// The sockets of this host connected to the port (clients).
    pub clients: usize,
    /// Their processes, each once (pid and name), in the order seen.
    pub client_owners: Vec<&'a Owner>,
}

/// The answer for the sockets on `target`'s port (already selected and,
/// for the listing order, sorted by [`sort_holders`]) and the clients
/// connected to it ([`split_clients`]).
pub fn who<'a>(
    target: LocalPort,
    protocols: &[Protocol],
    sockets: &'a [Socket],
    clients: &'a [Socket],
) -> WhoAnswer<'a> {
    let mut client_owners: Vec<&'a Owner> = Vec::new();
    for o in clients.iter().flat_map(|s| s.owners.iter().flatten()) {
        if !client_owners
            .iter()
            .any(|seen| seen.pid == o.pid && seen.comm == o.comm)
        {
            client_owners.push(o);
        }
    }
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
        clients: clients.len(),
        client_owners,
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
            &[],
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
        assert_eq!(a.clients, 0);
    }

    /// Server side holds, the local client connects, a client of another
    /// host's port of the same number is neither; pids once each.
    #[test]
    fn both_sides_of_a_local_connection() {
        let owner = |pid, comm: &str| Owner {
            pid,
            fd: 3,
            tid: None,
            comm: comm.into(),
            cmdline: None,
            raw: None,
        };
        let mut server = Socket::test_tcp(TcpState::Established, "10.0.0.5:80", "10.0.0.5:5000");
        server.owners = Some(vec![owner(10, "srv")]);
        let mut client = Socket::test_tcp(TcpState::Established, "10.0.0.5:5000", "10.0.0.5:80");
        client.owners = Some(vec![owner(20, "curl")]);
        let mut lo = Socket::test_tcp(TcpState::SynSent, "127.0.0.1:5001", "127.0.0.1:80");
        lo.owners = Some(vec![owner(20, "curl")]);
        let mut far = Socket::test_tcp(TcpState::Established, "10.0.0.5:5002", "192.0.2.9:80");
        far.owners = Some(vec![owner(30, "wget")]);
        let mut listener = Socket::test_tcp(TcpState::Listen, "0.0.0.0:80", "0.0.0.0:0");
        listener.owners = Some(vec![owner(10, "srv")]);
        let target = LocalPort {
            addr: None,
            port: 80,
        };
        let read = vec![server, client, lo, far, listener];
        let host = HostAddrs::new(&[], &read);
        assert!(host.contains("10.0.0.5".parse().unwrap()));
        assert!(host.contains("::ffff:127.0.0.9".parse().unwrap()));
        assert!(!host.contains("192.0.2.9".parse().unwrap()));
        let (holders, clients) = split_clients(read, &target, &host);
        assert_eq!(holders.len(), 2);
        assert_eq!(holders[0].state, TcpState::Listen);
        assert_eq!(clients.len(), 2);
        assert!(
            clients
                .iter()
                .all(|c| c.owners.as_ref().unwrap()[0].pid == 20)
        );
        assert_eq!(owner_pids(&[&holders, &clients]), [10, 20]);
        let a = who(target, &[Protocol::Tcp], &holders, &clients);
        assert_eq!(a.clients, 2);
        assert_eq!(a.client_owners.len(), 1);
        // An address narrows the clients to that address.
        let only = LocalPort {
            addr: Some("127.0.0.1".parse().unwrap()),
            port: 80,
        };
        let (_, clients) = split_clients(clients, &only, &host);
        assert_eq!(clients.len(), 1);
        assert_eq!(clients[0].state, TcpState::SynSent);
    }
}
