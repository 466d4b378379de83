//! `watch`'s diff: the snapshot a tick is compared with, and the typed
//! changes the comparison finds (open, state, queue; close when swept).
//!
//! The previous snapshot is a compact map from a socket's identity to what
//! the diff needs, never a copy of the records (they carry owners, timers,
//! extras): one [`Entry`] of 64 bytes plus a 16-byte [`Key`] and the hash
//! table's control byte, about 90 bytes a socket at the table's usual load
//! (so about 90 MB at 1M sockets). One map is updated in place as the tick's
//! records stream by: each record found is marked with the tick's parity,
//! each new one inserted; [`Snapshot::sweep`] then removes (and reports) the
//! entries the tick did not mark. No second map is built per tick.
//!
//! Identity ([`Identity`]): over netlink the namespace and the kernel's
//! socket cookie, which a socket keeps for its whole life (TIME_WAIT too:
//! inet_twsk_alloc() copies it); from /proc (no cookie) the four-tuple,
//! the state and the inode, so that a state change read from /proc is a
//! close and an open. A request socket (SYN_RECV) and the full socket the
//! kernel makes of it have different cookies: the handshake's end is a
//! close of the one and an open of the other.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use rustc_hash::{FxHashMap, FxHasher};

use crate::model::{Family, Protocol, Socket, TcpState};

/// A connection's Recv-Q or Send-Q at or above this many bytes is
/// "backed up" (a reader or the peer does not keep up): crossing it either
/// way is a queue change. A smaller queue comes and goes with every burst
/// of a busy connection.
pub const QUEUE_LIMIT: u32 = 64 * 1024;

/// How a socket is recognised from one tick to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Identity {
    /// The namespace and the socket cookie (netlink).
    Cookie,
    /// The namespace, protocol, four-tuple, state and inode (/proc).
    Tuple,
}

/// The map's key: the namespace's inode and the cookie, or a 64-bit hash
/// of the tuple (checked against the entry: a different tuple behind the
/// same hash is a close and an open, as a different socket is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    netns: u64,
    id: u64,
}

/// Where a socket's queues stand against their thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum QueueLevel {
    /// A listener with an empty accept queue; a connection with both
    /// queues under [`QUEUE_LIMIT`].
    Idle,
    /// A listener with connections waiting for accept(), fewer than its
    /// backlog; a connection with a queue at or above [`QUEUE_LIMIT`].
    Queued,
    /// A listener whose accept queue holds more than its backlog
    /// (sk_acceptq_is_full(): new handshakes are dropped).
    Full,
}

impl QueueLevel {
    /// The level of `s`'s queues.
    pub fn of(s: &Socket) -> QueueLevel {
        if s.state == TcpState::Listen {
            match (s.recv_q, s.send_q) {
                (0, _) => QueueLevel::Idle,
                (q, Some(backlog)) if q > backlog => QueueLevel::Full,
                _ => QueueLevel::Queued,
            }
        } else if s.recv_q >= QUEUE_LIMIT || s.send_q.is_some_and(|q| q >= QUEUE_LIMIT) {
            QueueLevel::Queued
        } else {
            QueueLevel::Idle
        }
    }

    /// The JSON word.
    pub fn name(self) -> &'static str {
        match self {
            QueueLevel::Idle => "idle",
            QueueLevel::Queued => "queued",
            QueueLevel::Full => "full",
        }
    }
}

/// What one socket was at the tick before: enough to see a change and to
/// print it once it is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    local_ip: [u8; 16],
    remote_ip: [u8; 16],
    inode: u64,
    recv_q: u32,
    /// `u32::MAX`: unknown.
    send_q: u32,
    /// [`owners_hash`] of the owners and the listener queue.
    owners: u32,
    local_port: u16,
    remote_port: u16,
    proto: Protocol,
    family: Family,
    state: TcpState,
    level: QueueLevel,
    identity: Identity,
    /// The parity of the last tick that saw it.
    seen: bool,
}

/// What changed about a socket since the tick before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Not in the snapshot before.
    Open,
    /// Its state changed.
    State { was: TcpState },
    /// Its owners (or the listener queue it waits in) changed, or a queue
    /// crossed its threshold; the queues it had.
    Queue {
        why: QueueChange,
        recv_q: u32,
        send_q: Option<u32>,
    },
}

/// Why a [`Change::Queue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueChange {
    /// Another process holds it, or it left (or entered) a listener's
    /// queue: accept() took it.
    Owners,
    /// A queue crossed its threshold ([`QueueLevel`]), from this level.
    Level(QueueLevel),
}

impl QueueChange {
    /// The JSON word of the `"change"` field.
    pub fn name(self) -> &'static str {
        match self {
            QueueChange::Owners => "owners",
            QueueChange::Level(_) => "queue",
        }
    }
}

/// The changes of one tick, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub opened: usize,
    pub closed: usize,
    pub changed: usize,
}

impl Tally {
    pub fn count(&mut self, change: Change) {
        match change {
            Change::Open => self.opened += 1,
            Change::State { .. } | Change::Queue { .. } => self.changed += 1,
        }
    }
}

/// The snapshot before: every socket seen, by identity.
#[derive(Debug, Default)]
pub struct Snapshot {
    map: FxHashMap<Key, Entry>,
    /// The parity of the tick under way.
    tick: bool,
    /// Ticks swept so far: the first is the baseline (no changes).
    swept: u64,
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Starts a tick: the records that follow are this tick's.
    pub fn begin(&mut self) {
        self.tick = !self.tick;
    }

    /// Whether this tick is the baseline (the first): it reports nothing.
    pub fn baseline(&self) -> bool {
        self.swept == 0
    }

    /// Sockets in the snapshot.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Records `s`, read in the namespace of inode `netns`, and says what
    /// changed about it (nothing on the baseline tick). A record seen twice
    /// in one tick (a dump racing a change) is compared with itself.
    pub fn observe(&mut self, netns: u64, s: &Socket) -> Option<Change> {
        let (key, identity) = key_of(netns, s);
        let now = entry_of(s, identity, self.tick);
        let baseline = self.baseline();
        let entry = match self.map.get_mut(&key) {
            Some(entry) if entry.identity == identity && same_socket(entry, &now) => entry,
            Some(entry) => {
                // The same hash, another tuple: the one before is gone (the
                // sweep reports it no more: it is replaced) and this is new.
                *entry = now;
                return (!baseline).then_some(Change::Open);
            }
            None => {
                self.map.insert(key, now);
                return (!baseline).then_some(Change::Open);
            }
        };
        let before = *entry;
        *entry = now;
        if baseline || before.seen == self.tick {
            return None;
        }
        if before.state != now.state {
            Some(Change::State { was: before.state })
        } else if before.owners != now.owners {
            Some(Change::Queue {
                why: QueueChange::Owners,
                recv_q: before.recv_q,
                send_q: send_q_of(before.send_q),
            })
        } else if before.level != now.level {
            Some(Change::Queue {
                why: QueueChange::Level(before.level),
                recv_q: before.recv_q,
                send_q: send_q_of(before.send_q),
            })
        } else {
            None
        }
    }

    /// Ends the tick: removes the sockets it did not see, handing each to
    /// `gone` (its namespace's inode and what is known of it) unless this
    /// was the baseline.
    pub fn sweep(&mut self, mut gone: impl FnMut(u64, Socket)) {
        let (tick, baseline) = (self.tick, self.baseline());
        self.map.retain(|key, entry| {
            let keep = entry.seen == tick;
            if !keep && !baseline {
                gone(key.netns, socket_of(key, entry));
            }
            keep
        });
        self.swept += 1;
        // A map that held a burst keeps its buckets: give them back once
        // it is mostly empty.
        if self.map.capacity() > 4 * self.map.len().max(1024) {
            self.map.shrink_to_fit();
        }
    }
}

/// The key and identity of `s` in the namespace of inode `netns`.
fn key_of(netns: u64, s: &Socket) -> (Key, Identity) {
    match s.cookie {
        Some(cookie) => (Key { netns, id: cookie }, Identity::Cookie),
        None => {
            let mut h = FxHasher::default();
            (s.proto, s.local, s.remote, s.state, s.inode).hash(&mut h);
            (
                Key {
                    netns,
                    id: h.finish(),
                },
                Identity::Tuple,
            )
        }
    }
}

/// Whether two entries under one key are the same socket: by cookie they
/// are; by tuple the tuple must agree.
fn same_socket(a: &Entry, b: &Entry) -> bool {
    match a.identity {
        Identity::Cookie => true,
        Identity::Tuple => {
            (
                a.proto,
                a.local_ip,
                a.local_port,
                a.remote_ip,
                a.remote_port,
                a.state,
                a.inode,
            ) == (
                b.proto,
                b.local_ip,
                b.local_port,
                b.remote_ip,
                b.remote_port,
                b.state,
                b.inode,
            )
        }
    }
}

fn entry_of(s: &Socket, identity: Identity, tick: bool) -> Entry {
    Entry {
        local_ip: ip_bytes(s.local.ip()),
        remote_ip: ip_bytes(s.remote.ip()),
        inode: s.inode,
        recv_q: s.recv_q,
        send_q: s.send_q.unwrap_or(u32::MAX),
        owners: owners_hash(s),
        local_port: s.local.port(),
        remote_port: s.remote.port(),
        proto: s.proto,
        family: s.family,
        state: s.state,
        level: QueueLevel::of(s),
        identity,
        seen: tick,
    }
}

fn send_q_of(q: u32) -> Option<u32> {
    (q != u32::MAX).then_some(q)
}

/// The owners' pids (and threads) and the listener queue a connection
/// waits in, hashed in no particular order: a change of either is a change
/// of who holds the socket. Descriptor numbers do not count (a dup() is no
/// new owner). 0 when nobody looked (no -p).
fn owners_hash(s: &Socket) -> u32 {
    let Some(owners) = &s.owners else {
        return 0;
    };
    let mut sum: u64 = 1;
    for o in owners {
        let mut h = FxHasher::default();
        (o.pid, o.tid).hash(&mut h);
        sum = sum.wrapping_add(h.finish());
    }
    if let Some(q) = &s.queue {
        let mut h = FxHasher::default();
        (q.kind.name(), &q.listener_inodes).hash(&mut h);
        sum = sum.wrapping_add(h.finish());
    }
    (sum ^ (sum >> 32)) as u32
}

fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn addr_of(family: Family, ip: [u8; 16], port: u16) -> SocketAddr {
    let v6 = Ipv6Addr::from(ip);
    match (family, v6.to_ipv4_mapped()) {
        (Family::Inet, Some(v4)) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
        (Family::Inet, None) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)),
        (Family::Inet6, _) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
    }
}

/// What is known of a socket that is gone: its last protocol, family,
/// state, four-tuple (an IPv6 scope is not kept), queues, inode and cookie;
/// nothing else.
fn socket_of(key: &Key, e: &Entry) -> Socket {
    Socket {
        proto: e.proto,
        family: e.family,
        state: e.state,
        local: addr_of(e.family, e.local_ip, e.local_port),
        remote: addr_of(e.family, e.remote_ip, e.remote_port),
        recv_q: e.recv_q,
        send_q: send_q_of(e.send_q),
        uid: None,
        inode: e.inode,
        cookie: (e.identity == Identity::Cookie).then_some(key.id),
        ifindex: None,
        v6only: None,
        owners: None,
        queue: None,
        timer: None,
        extras: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Owner;

    fn tcp(state: TcpState, cookie: u64) -> Socket {
        Socket {
            cookie: Some(cookie),
            ..Socket::test_tcp(state, "127.0.0.1:5000", "127.0.0.1:40000")
        }
    }

    /// One tick over `sockets`: the changes seen, and the gone ones.
    fn tick(snap: &mut Snapshot, sockets: &[Socket]) -> (Vec<Change>, Vec<Socket>) {
        snap.begin();
        let changes = sockets.iter().filter_map(|s| snap.observe(7, s)).collect();
        let mut gone = Vec::new();
        snap.sweep(|netns, s| {
            assert_eq!(netns, 7);
            gone.push(s);
        });
        (changes, gone)
    }

    #[test]
    fn entries_stay_compact() {
        assert!(std::mem::size_of::<Entry>() <= 64);
        assert_eq!(std::mem::size_of::<Key>(), 16);
    }

    #[test]
    fn the_baseline_reports_nothing_then_changes_are_typed() {
        let mut snap = Snapshot::new();
        let a = tcp(TcpState::Established, 1);
        let b = tcp(TcpState::Listen, 2);
        assert_eq!(tick(&mut snap, &[a.clone(), b.clone()]), (vec![], vec![]));
        assert_eq!(snap.len(), 2);
        // Unchanged: nothing.
        assert_eq!(tick(&mut snap, &[a.clone(), b.clone()]), (vec![], vec![]));
        // a moves to FIN_WAIT1, c opens, b is gone.
        let a2 = Socket {
            state: TcpState::FinWait1,
            ..a.clone()
        };
        let c = tcp(TcpState::SynSent, 3);
        let (changes, gone) = tick(&mut snap, &[a2.clone(), c.clone()]);
        assert_eq!(
            changes,
            vec![
                Change::State {
                    was: TcpState::Established
                },
                Change::Open
            ]
        );
        assert_eq!(gone.len(), 1);
        let g = &gone[0];
        assert_eq!(
            (g.state, g.local, g.remote, g.cookie, g.inode),
            (b.state, b.local, b.remote, Some(2), b.inode)
        );
        assert_eq!(g.send_q, Some(0));
        assert_eq!(snap.len(), 2);
    }

    #[test]
    fn tuples_identify_proc_records_state_included() {
        let mut snap = Snapshot::new();
        let a = Socket::test_tcp(TcpState::FinWait2, "[::1]:5000", "[::1]:40000");
        tick(&mut snap, std::slice::from_ref(&a));
        let b = Socket {
            state: TcpState::TimeWait,
            inode: 0,
            ..a.clone()
        };
        let (changes, gone) = tick(&mut snap, std::slice::from_ref(&b));
        assert_eq!(changes, vec![Change::Open]);
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].state, gone[0].local), (a.state, a.local));
        assert_eq!(gone[0].cookie, None);
    }

    #[test]
    fn queues_change_at_their_thresholds() {
        let mut snap = Snapshot::new();
        let l = Socket {
            send_q: Some(2),
            ..tcp(TcpState::Listen, 1)
        };
        let c = tcp(TcpState::Established, 2);
        tick(&mut snap, &[l.clone(), c.clone()]);
        // One waiting: idle → queued; a small Recv-Q is no change.
        let l1 = Socket {
            recv_q: 1,
            ..l.clone()
        };
        let c1 = Socket {
            recv_q: 100,
            ..c.clone()
        };
        let (changes, _) = tick(&mut snap, &[l1.clone(), c1.clone()]);
        assert_eq!(
            changes,
            vec![Change::Queue {
                why: QueueChange::Level(QueueLevel::Idle),
                recv_q: 0,
                send_q: Some(2)
            }]
        );
        // Two waiting is the backlog, not above it; three is full.
        let l2 = Socket { recv_q: 2, ..l1 };
        assert_eq!(tick(&mut snap, &[l2.clone(), c1.clone()]).0, vec![]);
        let l3 = Socket { recv_q: 3, ..l2 };
        let c2 = Socket {
            recv_q: QUEUE_LIMIT,
            ..c1
        };
        let (changes, _) = tick(&mut snap, &[l3, c2]);
        assert_eq!(
            changes,
            vec![
                Change::Queue {
                    why: QueueChange::Level(QueueLevel::Queued),
                    recv_q: 2,
                    send_q: Some(2)
                },
                Change::Queue {
                    why: QueueChange::Level(QueueLevel::Idle),
                    recv_q: 100,
                    send_q: Some(0)
                }
            ]
        );
    }

    #[test]
    fn owners_change_but_descriptors_do_not() {
        let owner = |pid, fd| Owner {
            pid,
            fd,
            tid: None,
            comm: "x".into(),
            cmdline: None,
            raw: None,
        };
        let mut snap = Snapshot::new();
        let a = Socket {
            owners: Some(vec![]),
            ..tcp(TcpState::Established, 1)
        };
        tick(&mut snap, std::slice::from_ref(&a));
        let b = Socket {
            owners: Some(vec![owner(10, 3)]),
            ..a.clone()
        };
        let (changes, _) = tick(&mut snap, std::slice::from_ref(&b));
        assert!(matches!(
            changes[..],
            [Change::Queue {
                why: QueueChange::Owners,
                ..
            }]
        ));
        let dup = Socket {
            owners: Some(vec![owner(10, 3), owner(10, 9)]),
            ..a.clone()
        };
        // The same process twice is one more owner entry: a change...
        assert_eq!(tick(&mut snap, std::slice::from_ref(&dup)).0.len(), 1);
        // ... but its descriptors' numbers are not.
        let moved = Socket {
            owners: Some(vec![owner(10, 4), owner(10, 8)]),
            ..a
        };
        assert_eq!(tick(&mut snap, std::slice::from_ref(&moved)).0, vec![]);
    }

    #[test]
    fn a_record_seen_twice_in_a_tick_is_one_socket() {
        let mut snap = Snapshot::new();
        let a = tcp(TcpState::Established, 1);
        tick(&mut snap, std::slice::from_ref(&a));
        let (changes, gone) = tick(&mut snap, &[a.clone(), a.clone()]);
        assert_eq!((changes, gone), (vec![], vec![]));
        // Namespaces keep sockets apart.
        snap.begin();
        assert_eq!(snap.observe(7, &a), None);
        assert_eq!(snap.observe(8, &a), Some(Change::Open));
    }
}
