//! `watch`'s diff: the snapshot a tick is compared with, and the typed
//! changes the comparison finds (open, state, queue; close when swept).
//!
//! The previous snapshot is a compact map from a socket's identity to what
//! the diff needs, never a copy of the records (they carry owners, timers,
//! extras): one map per namespace and family, from an 8-byte key to an
//! entry of 32 bytes (IPv4) or 56 (IPv6): with the key and the hash table's
//! control byte 41 or 65 bytes a bucket, and a table holds 44 % to 87 % as
//! many sockets as buckets (about 70 bytes an IPv4 socket on average, so
//! about 70 MB at 1M), in 16 shards that grow one at a time. Measured at
//! 100k IPv4 sockets in a private namespace (release build, 2 shared
//! cores, `/usr/bin/time`): `-tan` 6.3-6.6 MB peak RSS and 0.11-0.13 s CPU;
//! `watch -tan --count 10` 12.4 MB and 0.135 s CPU a tick (1.9x, 1.1x).
//! The first layout (one map, 16-byte keys, 64-byte entries) peaked at
//! 22.0 MB, 13.7 MB with this entry but unsharded (a doubling table holds
//! its old buckets beside the new). One map is updated in place as the tick's
//! records stream by: each record found is marked with the tick's parity,
//! each new one inserted; [`Snapshot::sweep`] then removes (and reports)
//! the entries the tick did not mark. No second map is built per tick.
//!
//! Identity: over netlink the namespace and the kernel's socket cookie,
//! which a socket keeps for its whole life (TIME_WAIT too:
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
/// print it once it is gone. `N` is the address width: 4 for IPv4, 16 for
/// IPv6 (an IPv4 entry is 32 bytes, an IPv6 one 56).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry<const N: usize> {
    local_ip: [u8; N],
    remote_ip: [u8; N],
    local_port: u16,
    remote_port: u16,
    recv_q: u32,
    /// `u32::MAX`: unknown.
    send_q: u32,
    /// [`owners_hash`] of the owners and the listener queue.
    owners: u32,
    /// Socket inodes are 32-bit (sock_alloc(): get_next_ino()).
    inode: u32,
    proto: Protocol,
    state: TcpState,
    level: QueueLevel,
    /// [`SEEN`] and [`BY_TUPLE`].
    flags: u8,
}

/// [`Entry::flags`]: the parity of the last tick that saw it.
const SEEN: u8 = 1;
/// [`Entry::flags`]: identified by its tuple (/proc), not its cookie.
const BY_TUPLE: u8 = 2;

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

/// One namespace's sockets, by identity: the cookie, or a 64-bit hash of
/// the tuple (checked against the entry: a different tuple behind the same
/// hash is a close and an open, as a different socket is).
#[derive(Debug, Default)]
struct Space {
    netns: u64,
    v4: Shards<4>,
    v6: Shards<16>,
}

/// Shards a map is cut into, by key: each grows on its own, so the moment
/// a growing table holds its old buckets beside its new ones costs a
/// sixteenth of the whole (one table of 100k IPv4 sockets peaked 2.7 MB
/// above its 5.4 MB while doubling).
const SHARDS: usize = 16;

/// One family's map, in [`SHARDS`] shards.
#[derive(Debug)]
struct Shards<const N: usize>([FxHashMap<u64, Entry<N>>; SHARDS]);

impl<const N: usize> Default for Shards<N> {
    fn default() -> Self {
        Shards(std::array::from_fn(|_| FxHashMap::default()))
    }
}

impl<const N: usize> Shards<N> {
    /// The shard of `key`: cookies are handed out in sequence and tuple
    /// keys are hashes, so their low bits spread evenly either way.
    fn of(&mut self, key: u64) -> &mut FxHashMap<u64, Entry<N>> {
        &mut self.0[(key as usize) % SHARDS]
    }

    fn len(&self) -> usize {
        self.0.iter().map(FxHashMap::len).sum()
    }
}

/// The snapshot before: every socket seen, by namespace and identity.
#[derive(Debug, Default)]
pub struct Snapshot {
    spaces: Vec<Space>,
    /// The space of the last record (records come a namespace at a time).
    last: usize,
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
        self.spaces.iter().map(|s| s.v4.len() + s.v6.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn space(&mut self, netns: u64) -> &mut Space {
        if self.spaces.get(self.last).is_none_or(|s| s.netns != netns) {
            self.last = match self.spaces.iter().position(|s| s.netns == netns) {
                Some(i) => i,
                None => {
                    self.spaces.push(Space {
                        netns,
                        ..Space::default()
                    });
                    self.spaces.len() - 1
                }
            };
        }
        &mut self.spaces[self.last]
    }

    /// Records `s`, read in the namespace of inode `netns`, and says what
    /// changed about it (nothing on the baseline tick). A record seen twice
    /// in one tick (a dump racing a change) is compared with itself.
    pub fn observe(&mut self, netns: u64, s: &Socket) -> Option<Change> {
        let (tick, baseline) = (self.tick, self.baseline());
        let space = self.space(netns);
        match s.family {
            Family::Inet => observe_in(&mut space.v4, s, tick, baseline),
            Family::Inet6 => observe_in(&mut space.v6, s, tick, baseline),
        }
    }

    /// Ends the tick: removes the sockets it did not see, handing each to
    /// `gone` (its namespace's inode and what is known of it) unless this
    /// was the baseline.
    pub fn sweep(&mut self, mut gone: impl FnMut(u64, Socket)) {
        let (tick, baseline) = (self.tick, self.baseline());
        for space in &mut self.spaces {
            let netns = space.netns;
            for map in &mut space.v4.0 {
                sweep_in(map, tick, baseline, Family::Inet, &mut |s| gone(netns, s));
            }
            for map in &mut space.v6.0 {
                sweep_in(map, tick, baseline, Family::Inet6, &mut |s| gone(netns, s));
            }
        }
        self.spaces.retain(|s| s.v4.len() + s.v6.len() > 0);
        self.last = 0;
        self.swept += 1;
    }
}

/// [`Snapshot::observe`] in one family's map.
fn observe_in<const N: usize>(
    shards: &mut Shards<N>,
    s: &Socket,
    tick: bool,
    baseline: bool,
) -> Option<Change> {
    let (key, by_tuple) = key_of(s);
    let now = entry_of::<N>(s, by_tuple, tick);
    let map = shards.of(key);
    let entry = match map.get_mut(&key) {
        Some(entry) if same_socket(entry, &now) => entry,
        Some(entry) => {
            // The same hash, another tuple: the one before is replaced (its
            // close is not reported: a 64-bit collision) and this is new.
            *entry = now;
            return (!baseline).then_some(Change::Open);
        }
        None => {
            map.insert(key, now);
            return (!baseline).then_some(Change::Open);
        }
    };
    let before = *entry;
    *entry = now;
    if baseline || (before.flags & SEEN != 0) == tick {
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

/// [`Snapshot::sweep`] in one family's map; gives back the buckets of a
/// map that held a burst once it is mostly empty.
fn sweep_in<const N: usize>(
    map: &mut FxHashMap<u64, Entry<N>>,
    tick: bool,
    baseline: bool,
    family: Family,
    gone: &mut dyn FnMut(Socket),
) {
    map.retain(|key, entry| {
        let keep = (entry.flags & SEEN != 0) == tick;
        if !keep && !baseline {
            gone(socket_of(*key, family, entry));
        }
        keep
    });
    if map.capacity() > 4 * map.len().max(64) {
        map.shrink_to_fit();
    }
}

/// The key of `s` in its namespace's map, and whether it is a tuple's hash.
fn key_of(s: &Socket) -> (u64, bool) {
    match s.cookie {
        Some(cookie) => (cookie, false),
        None => {
            let mut h = FxHasher::default();
            (s.proto, s.local, s.remote, s.state, s.inode).hash(&mut h);
            (h.finish(), true)
        }
    }
}

/// Whether two entries under one key are the same socket: by cookie they
/// are; by tuple the tuple must agree.
fn same_socket<const N: usize>(a: &Entry<N>, b: &Entry<N>) -> bool {
    if (a.flags ^ b.flags) & BY_TUPLE != 0 {
        return false;
    }
    a.flags & BY_TUPLE == 0
        || (
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

fn entry_of<const N: usize>(s: &Socket, by_tuple: bool, tick: bool) -> Entry<N> {
    Entry {
        local_ip: ip_bytes(s.local.ip()),
        remote_ip: ip_bytes(s.remote.ip()),
        local_port: s.local.port(),
        remote_port: s.remote.port(),
        recv_q: s.recv_q,
        send_q: s.send_q.unwrap_or(u32::MAX),
        owners: owners_hash(s),
        inode: u32::try_from(s.inode).unwrap_or(u32::MAX),
        proto: s.proto,
        state: s.state,
        level: QueueLevel::of(s),
        flags: if tick { SEEN } else { 0 } | if by_tuple { BY_TUPLE } else { 0 },
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

/// The address in `N` bytes: IPv4's 4 (an IPv6 address in an IPv4 entry,
/// which the family never gives, would keep its last 4), IPv6's 16 (IPv4
/// mapped).
fn ip_bytes<const N: usize>(ip: IpAddr) -> [u8; N] {
    let full = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    };
    let mut out = [0; N];
    out.copy_from_slice(&full[16 - N..]);
    out
}

fn addr_of<const N: usize>(ip: [u8; N], port: u16) -> SocketAddr {
    match <[u8; 4]>::try_from(&ip[..]) {
        Ok(v4) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(v4), port)),
        Err(_) => {
            let mut full = [0; 16];
            full[16 - N..].copy_from_slice(&ip);
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(full), port, 0, 0))
        }
    }
}

/// What is known of a socket that is gone: its last protocol, family,
/// state, four-tuple (an IPv6 scope is not kept), queues, inode and cookie;
/// nothing else.
fn socket_of<const N: usize>(key: u64, family: Family, e: &Entry<N>) -> Socket {
    Socket {
        proto: e.proto,
        family,
        state: e.state,
        local: addr_of(e.local_ip, e.local_port),
        remote: addr_of(e.remote_ip, e.remote_port),
        recv_q: e.recv_q,
        send_q: send_q_of(e.send_q),
        uid: None,
        inode: u64::from(e.inode),
        cookie: (e.flags & BY_TUPLE == 0).then_some(key),
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
        // With its 8-byte key: 40 and 64 bytes a bucket.
        assert_eq!(std::mem::size_of::<(u64, Entry<4>)>(), 40);
        assert_eq!(std::mem::size_of::<(u64, Entry<16>)>(), 64);
    }

    #[test]
    fn addresses_come_back_as_they_went_in() {
        for a in ["127.0.0.1:5000", "[::1]:5000", "[::ffff:10.0.0.1]:80"] {
            let a: SocketAddr = a.parse().unwrap();
            let back = if a.is_ipv4() {
                addr_of(ip_bytes::<4>(a.ip()), a.port())
            } else {
                addr_of(ip_bytes::<16>(a.ip()), a.port())
            };
            assert_eq!(back, a);
        }
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
