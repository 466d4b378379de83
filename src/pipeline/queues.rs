//! Accept-queue attribution: which listener's queue holds each connection
//! the kernel completed but no process has accepted yet (inode 0, no
//! descriptor), so it can carry that listener's owners.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use rustc_hash::FxHashMap;

use crate::model::{Attribution, Family, Owner, Protocol, QueueKind, Queued, Socket, TcpState};

/// One TCP listener, as the kernel's listener lookup sees it.
#[derive(Debug)]
struct Listener {
    family: Family,
    /// The bound address without scope (a link-local scope is `dev`).
    ip: IpAddr,
    local: SocketAddr,
    /// sk_bound_dev_if (INET_DIAG idiag_if): SO_BINDTODEVICE or a
    /// link-local scope; `None` where the source cannot tell (/proc).
    dev: Option<u32>,
    /// IPV6_V6ONLY (INET_DIAG_SKV6ONLY).
    v6only: Option<bool>,
    /// sk_ack_backlog (idiag_rqueue, /proc's rx_queue): the accept queue's
    /// length, the kernel's own count.
    recv_q: u32,
    inode: u64,
    owners: Vec<Owner>,
}

/// How well a listener matches a connection, in the kernel's order: the
/// exact address is searched before the wildcard (inet_lhash2_lookup with
/// the destination, then INADDR_ANY / in6addr_any), and within one address
/// a listener bound to the device scores above an unbound one
/// (compute_score(), net/ipv4/inet_hashtables.c and
/// net/ipv6/inet6_hashtables.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    exact: bool,
    bound: bool,
}

/// The TCP listeners of a dump, by port, for tying queued connections to
/// the listener whose queue holds them.
#[derive(Debug, Default)]
pub struct Listeners {
    all: Vec<Listener>,
    by_port: FxHashMap<u16, Vec<usize>>,
}

impl Listeners {
    /// Remembers `s` if it is a TCP listener (its owners attached first).
    pub fn add(&mut self, s: &Socket) {
        if s.proto == Protocol::Tcp && s.state == TcpState::Listen {
            self.by_port
                .entry(s.local.port())
                .or_default()
                .push(self.all.len());
            self.all.push(Listener {
                family: s.family,
                ip: s.local.ip(),
                local: s.local,
                dev: s.ifindex,
                v6only: s.v6only,
                recv_q: s.recv_q,
                inode: s.inode,
                owners: s.owners.clone().unwrap_or_default(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The listeners that could hold `s` in their queue, best first.
    ///
    /// A queued connection (a child or request socket) has its listener's
    /// family: an IPv4 connection to an AF_INET6 listener is AF_INET6 with
    /// v4-mapped addresses (tcp_v6_syn_recv_sock), so families must be
    /// equal. Its device is its listener's bound device, or for IPv6 with a
    /// link-local peer the incoming interface (ir_iif): a listener bound to
    /// a device takes only connections of that device.
    fn candidates(&self, s: &Socket) -> Vec<(usize, Rank)> {
        let ip = s.local.ip();
        let mut found: Vec<(usize, Rank)> = self
            .by_port
            .get(&s.local.port())
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let l = self.all.get(i)?;
                if l.family != s.family {
                    return None;
                }
                let exact = if l.ip == ip {
                    true
                } else if l.ip.is_unspecified() {
                    // An IPV6_V6ONLY wildcard takes no v4-mapped connection.
                    let mapped = matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
                    if mapped && l.v6only == Some(true) {
                        return None;
                    }
                    false
                } else {
                    return None;
                };
                let bound = match l.dev {
                    Some(dev) if dev != 0 => {
                        if s.ifindex.is_some_and(|d| d != dev) {
                            return None;
                        }
                        true
                    }
                    _ => false,
                };
                Some((i, Rank { exact, bound }))
            })
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// True when the queue of `s` follows from the listeners alone, so that
    /// [`Listeners::resolve`] on `s` by itself gives what it gives with every
    /// other queued connection: a request socket (SYN queues have no count
    /// to check), or an accept-queue connection with one candidate listener,
    /// or one whose Recv-Q is not 0. Otherwise the answer depends on the
    /// other queued connections, which must be known first.
    pub fn decides_alone(&self, s: &Socket) -> bool {
        let cands = self.candidates(s);
        match queue_kind(s) {
            None => true,
            Some(QueueKind::Syn) => !cands.is_empty(),
            Some(QueueKind::Accept) => {
                cands.len() == 1
                    || cands
                        .iter()
                        .filter(|&&(l, _)| self.all[l].recv_q > 0)
                        .count()
                        == 1
            }
        }
    }

    /// The queue each of `conns` waits in (`None` for a socket that is in
    /// no queue, or whose listener is unknown).
    ///
    /// The kernel's lookup ranks the candidate listeners; their Recv-Q,
    /// the kernel's count of each accept queue, then decides: a listener
    /// with nothing queued holds none of them, one whose count is used up
    /// by connections that can only be its own holds no other, and a
    /// listener never gets more connections than its count. What the data
    /// cannot decide (an SO_REUSEPORT group: the same address, port and
    /// device; or more connections preferring a listener than it holds) is
    /// [`Attribution::OneOf`] the candidates.
    pub fn resolve(&self, conns: &[&Socket]) -> Vec<Option<Box<Queued>>> {
        let mut cands: Vec<Vec<(usize, Rank)>> = conns
            .iter()
            .map(|s| match queue_kind(s) {
                Some(_) => self.candidates(s),
                None => Vec::new(),
            })
            .collect();
        let accept = |i: usize| queue_kind(conns[i]) == Some(QueueKind::Accept);
        // Accept queues: a listener whose Recv-Q is 0 holds none of them
        // (unless no candidate has any: a connection that arrived after its
        // listener was dumped).
        for (i, c) in cands.iter_mut().enumerate() {
            if accept(i) && c.iter().any(|&(l, _)| self.all[l].recv_q > 0) {
                c.retain(|&(l, _)| self.all[l].recv_q > 0);
            }
        }
        // A listener whose count is filled by connections that can only be
        // its own holds no other; repeat until nothing changes.
        loop {
            let mut forced: FxHashMap<usize, u32> = FxHashMap::default();
            for (i, c) in cands.iter().enumerate() {
                if let ([(l, _)], true) = (c.as_slice(), accept(i)) {
                    *forced.entry(*l).or_default() += 1;
                }
            }
            let mut changed = false;
            for (i, c) in cands.iter_mut().enumerate() {
                if !accept(i) || c.len() < 2 {
                    continue;
                }
                let before = c.len();
                c.retain(|(l, _)| forced.get(l).is_none_or(|&n| n < self.all[*l].recv_q));
                if c.is_empty() {
                    // Recv-Q counted fewer than the dump holds (a race):
                    // keep the kernel's choice.
                    c.extend(self.candidates(conns[i]).into_iter().take(1));
                }
                changed |= c.len() != before;
            }
            if !changed {
                break;
            }
        }
        // The kernel's choice: the best-ranked candidates (several only in
        // an SO_REUSEPORT group, or where /proc does not tell devices).
        let best: Vec<Vec<usize>> = cands
            .iter()
            .map(|c| {
                let top = c.first().map(|&(_, r)| r);
                c.iter()
                    .take_while(|&&(_, r)| Some(r) == top)
                    .map(|&(l, _)| l)
                    .collect()
            })
            .collect();
        // More accept-queue connections preferring a set of listeners than
        // their Recv-Q holds: some came before that listener existed, and
        // which ones cannot be told.
        let mut demand: HashMap<&[usize], u32> = HashMap::new();
        for (i, b) in best.iter().enumerate() {
            if accept(i) && !b.is_empty() {
                *demand.entry(b.as_slice()).or_default() += 1;
            }
        }
        conns
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let kind = queue_kind(s)?;
                let b = &best[i];
                let room: u32 = b.iter().map(|&l| self.all[l].recv_q).sum();
                let over = kind == QueueKind::Accept
                    && demand.get(b.as_slice()).is_some_and(|&n| n > room)
                    && cands[i].len() > b.len();
                let chosen: Vec<usize> = if over {
                    cands[i].iter().map(|&(l, _)| l).collect()
                } else {
                    b.clone()
                };
                let first = *chosen.first()?;
                let mut owners: Vec<Owner> = Vec::new();
                for &l in &chosen {
                    for o in &self.all[l].owners {
                        if !owners.iter().any(|x| x.pid == o.pid && x.fd == o.fd) {
                            owners.push(o.clone());
                        }
                    }
                }
                owners.sort_by_key(|o| (o.pid, o.fd));
                Some(Box::new(Queued {
                    kind,
                    listener: plain(self.all[first].local),
                    listener_owners: owners,
                    attribution: if chosen.len() == 1 {
                        Attribution::Sure
                    } else {
                        Attribution::OneOf
                    },
                    listener_inodes: chosen.iter().map(|&l| self.all[l].inode).collect(),
                }))
            })
            .collect()
    }
}

/// Which queue a connection without a descriptor waits in; `None` for any
/// other socket. A child nobody accept()ed is ESTABLISHED, or CLOSE_WAIT
/// once the client closed (it stays queued and counted in Recv-Q); a
/// request socket is SYN_RECV. An inode-0 socket in another state is an
/// orphan the application already closed (FIN_WAIT*, LAST_ACK, CLOSING,
/// TIME_WAIT) and is in no queue.
pub fn queue_kind(s: &Socket) -> Option<QueueKind> {
    if s.proto != Protocol::Tcp || s.inode != 0 {
        return None;
    }
    match s.state {
        TcpState::Established | TcpState::CloseWait => Some(QueueKind::Accept),
        TcpState::SynRecv => Some(QueueKind::Syn),
        _ => None,
    }
}

/// Ties connections that wait in a listener's queue to that listener (see
/// [`Listeners::resolve`]). Needs the LISTEN sockets in `sockets`, and
/// their owners attached first.
pub fn attribute_queues(sockets: &mut [Socket]) {
    let mut listeners = Listeners::default();
    for s in sockets.iter() {
        listeners.add(s);
    }
    if listeners.is_empty() {
        return;
    }
    let queued: Vec<usize> = (0..sockets.len())
        .filter(|&i| queue_kind(&sockets[i]).is_some())
        .collect();
    let resolved = {
        let conns: Vec<&Socket> = queued.iter().map(|&i| &sockets[i]).collect();
        listeners.resolve(&conns)
    };
    for (i, q) in queued.into_iter().zip(resolved) {
        if q.is_some() {
            sockets[i].queue = q;
        }
    }
}

/// The address without IPv6 scope or flow info, for matching.
fn plain(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip(), a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(state: TcpState, local: &str, remote: &str, inode: u64) -> Socket {
        Socket {
            inode,
            ..Socket::test_tcp(state, local, remote)
        }
    }

    fn owner(pid: u32, fd: u32) -> Owner {
        Owner {
            pid,
            fd,
            tid: None,
            comm: "srv".into(),
            cmdline: None,
            raw: None,
        }
    }

    #[test]
    fn queued_connections_find_their_listener() {
        let mut l4 = tcp(TcpState::Listen, "0.0.0.0:80", "0.0.0.0:0", 10);
        l4.owners = Some(vec![owner(1, 3)]);
        let mut l6 = tcp(TcpState::Listen, "[::]:443", "[::]:0", 11);
        l6.owners = Some(vec![owner(2, 4), owner(3, 4)]);
        let mut specific = tcp(TcpState::Listen, "127.0.0.2:80", "0.0.0.0:0", 12);
        specific.owners = Some(vec![owner(4, 5)]);
        let mut socks = vec![
            l4,
            l6,
            specific,
            tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5000", 0),
            tcp(TcpState::SynRecv, "127.0.0.2:80", "127.0.0.1:5001", 0),
            tcp(
                TcpState::Established,
                "[::ffff:127.0.0.1]:443",
                "[::ffff:127.0.0.1]:5002",
                0,
            ),
            tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5003", 99),
            tcp(TcpState::TimeWait, "127.0.0.1:80", "127.0.0.1:5004", 0),
            tcp(TcpState::Established, "127.0.0.1:8080", "127.0.0.1:5005", 0),
        ];
        attribute_queues(&mut socks);
        let q = socks[3].queue.as_ref().expect("wildcard listener");
        assert_eq!((q.kind, q.listener_owners[0].pid), (QueueKind::Accept, 1));
        let q = socks[4].queue.as_ref().expect("specific listener first");
        assert_eq!((q.kind, q.listener_owners[0].pid), (QueueKind::Syn, 4));
        let q = socks[5]
            .queue
            .as_ref()
            .expect("v4-mapped to the :: listener");
        assert_eq!(q.listener_owners.len(), 2);
        assert!(socks[6].queue.is_none(), "accepted: has an inode");
        assert!(socks[7].queue.is_none(), "TIME_WAIT is in no queue");
        assert!(socks[8].queue.is_none(), "no listener on 8080");
    }

    fn listener(local: &str, recv_q: u32, inode: u64, pid: u32) -> Socket {
        let mut l = tcp(TcpState::Listen, local, "0.0.0.0:0", inode);
        l.recv_q = recv_q;
        l.ifindex = Some(0);
        l.owners = Some(vec![owner(pid, 3)]);
        l
    }

    fn queued_to(local: &str, state: TcpState, ifindex: u32) -> Socket {
        let mut c = tcp(state, local, "127.0.0.1:5000", 0);
        c.ifindex = Some(ifindex);
        c
    }

    fn who(s: &Socket) -> Option<(Vec<u32>, Attribution)> {
        s.queue.as_ref().map(|q| {
            (
                q.listener_owners.iter().map(|o| o.pid).collect(),
                q.attribution,
            )
        })
    }

    /// attribute_queues, checking on the way that what the streamed path
    /// decides alone (decides_alone, then resolve on one connection) is
    /// what the whole batch decides.
    fn attribute(socks: &mut [Socket]) {
        let mut listeners = Listeners::default();
        for s in socks.iter() {
            listeners.add(s);
        }
        let alone: Vec<Option<Option<Box<Queued>>>> = socks
            .iter()
            .map(|s| {
                (queue_kind(s).is_some() && listeners.decides_alone(s))
                    .then(|| listeners.resolve(&[s]).pop().flatten())
            })
            .collect();
        attribute_queues(socks);
        for (s, a) in socks.iter().zip(alone) {
            if let Some(q) = a {
                assert_eq!(q, s.queue, "decided alone vs in the batch: {s:?}");
            }
        }
    }

    #[test]
    fn recv_q_overrules_the_exact_address() {
        // (a): the wildcard listener holds the connection made before the
        // exact one existed; the exact one's Recv-Q is 0.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 0, 11, 2),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        // Both have one: the kernel's choice (exact) for a lone connection
        // would leave the wildcard's count unexplained; with two
        // connections and one each, which is whose cannot be told.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 1, 11, 2),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
            queued_to("127.0.0.1:8092", TcpState::CloseWait, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1, 2], Attribution::OneOf)));
        assert_eq!(who(&socks[3]), Some((vec![1, 2], Attribution::OneOf)));
        // A connection that can only be the wildcard's fills its count: the
        // other is the exact listener's.
        let mut socks = vec![
            listener("0.0.0.0:8092", 1, 10, 1),
            listener("127.0.0.1:8092", 1, 11, 2),
            queued_to("127.0.0.2:8092", TcpState::Established, 0),
            queued_to("127.0.0.1:8092", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[3]), Some((vec![2], Attribution::Sure)));
    }

    #[test]
    fn device_family_and_reuseport() {
        // (b): a listener bound to device 5 takes only device 5's
        // connections, whatever its Recv-Q.
        let mut bound = listener("127.0.0.1:80", 1, 11, 2);
        bound.ifindex = Some(5);
        let mut socks = vec![
            listener("0.0.0.0:80", 1, 10, 1),
            bound,
            queued_to("127.0.0.1:80", TcpState::Established, 0),
            queued_to("127.0.0.1:80", TcpState::Established, 5),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[3]), Some((vec![2], Attribution::Sure)));
        // (c): one address, port and device: an SO_REUSEPORT group.
        let mut socks = vec![
            listener("0.0.0.0:81", 1, 10, 100),
            listener("0.0.0.0:81", 1, 11, 101),
            listener("0.0.0.0:81", 0, 12, 102),
            queued_to("127.0.0.1:81", TcpState::Established, 0),
        ];
        attribute(&mut socks);
        assert_eq!(
            who(&socks[3]),
            Some((vec![100, 101], Attribution::OneOf)),
            "a member with nothing queued holds none"
        );
        // (d): one link-local address on two devices.
        let mut a = listener("[fe80::1]:82", 1, 10, 1);
        a.ifindex = Some(2);
        let mut b = listener("[fe80::1]:82", 1, 11, 2);
        b.ifindex = Some(3);
        let mut socks = vec![a, b, queued_to("[fe80::1]:82", TcpState::Established, 3)];
        socks[2].remote = "[fe80::2]:5000".parse().unwrap();
        attribute(&mut socks);
        assert_eq!(who(&socks[2]), Some((vec![2], Attribution::Sure)));
        // Families: an IPv4 connection is an AF_INET listener's; a
        // v4-mapped one a dual-stack wildcard's, never a v6only one's.
        let mut v6only = listener("[::]:83", 1, 11, 2);
        v6only.v6only = Some(true);
        let mut dual = listener("[::]:84", 1, 12, 3);
        dual.v6only = Some(false);
        let mut socks = vec![
            listener("0.0.0.0:83", 1, 10, 1),
            v6only,
            dual,
            queued_to("127.0.0.1:83", TcpState::Established, 0),
            queued_to("[::ffff:127.0.0.1]:83", TcpState::Established, 0),
            queued_to("[::ffff:127.0.0.1]:84", TcpState::Established, 0),
            queued_to("127.0.0.1:83", TcpState::FinWait2, 0),
        ];
        attribute(&mut socks);
        assert_eq!(who(&socks[3]), Some((vec![1], Attribution::Sure)));
        assert_eq!(who(&socks[4]), None, "v6only takes no IPv4");
        assert_eq!(who(&socks[5]), Some((vec![3], Attribution::Sure)));
        assert_eq!(who(&socks[6]), None, "an orphan is in no queue");
    }
}
