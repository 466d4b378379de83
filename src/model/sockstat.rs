//! The numbers behind `ss -s`: the counters of `/proc/net/sockstat`,
//! `/proc/net/sockstat6` and the `Tcp:` lines of `/proc/net/snmp`, as
//! `source::sockstat` reads them. `None` marks a line or file that was
//! absent.
//!
//! Several of these counters are global rather than per network namespace
//! (TCP `orphan`, `alloc` and `mem`, UDP `mem`): inside a container they
//! count the whole machine's sockets.

use std::collections::BTreeMap;

/// The `TCP:` line of `/proc/net/sockstat` (net/ipv4/proc.c: sockstat_seq_show()).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TcpCounts {
    /// `inuse`: IPv4 TCP sockets hashed in this namespace, listeners
    /// included, time-wait excluded (sock_prot_inuse_get(net, &tcp_prot)).
    pub inuse: i64,
    /// `orphan`: TCP sockets closed by their owner but not yet freed
    /// (tcp_orphan_count_sum(); machine-wide).
    pub orphan: i64,
    /// `tw`: time-wait sockets of this namespace
    /// (tcp_death_row.tw_refcount - 1).
    pub tw: i64,
    /// `alloc`: TCP sockets allocated, IPv4 and IPv6, any state
    /// (tcp_sockets_allocated; machine-wide).
    pub alloc: i64,
    /// `mem`: pages charged to TCP buffers (proto_memory_allocated(&tcp_prot)).
    pub mem_pages: i64,
}

/// The `UDP:` line of `/proc/net/sockstat` (net/ipv4/proc.c: sockstat_seq_show()).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UdpCounts {
    /// `inuse`: IPv4 UDP sockets of this namespace (sock_prot_inuse_get()).
    pub inuse: i64,
    /// `mem`: pages charged to UDP buffers (proto_memory_allocated(&udp_prot)).
    pub mem_pages: i64,
}

/// A `FRAG:` / `FRAG6:` line (net/ipv4/proc.c: sockstat_seq_show(),
/// net/ipv6/proc.c: sockstat6_seq_show()).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FragCounts {
    /// `inuse`: datagrams being reassembled (atomic_read(&fqdir->rhashtable.nelems)).
    pub inuse: i64,
    /// `memory`: bytes held by them (frag_mem_limit()).
    pub memory_bytes: i64,
}

/// Socket counters for `ss -s`. `None` marks a line or file that was absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SockStat {
    /// `sockets: used`: sockets of this namespace, every family
    /// (net/socket.c: socket_seq_show(), sock_inuse_get()).
    pub sockets_used: Option<i64>,
    /// `TCP:` (net/ipv4/proc.c: sockstat_seq_show()).
    pub tcp: Option<TcpCounts>,
    /// `UDP:` (net/ipv4/proc.c: sockstat_seq_show()).
    pub udp: Option<UdpCounts>,
    /// `UDPLITE: inuse` (net/ipv4/proc.c: sockstat_seq_show()).
    pub udplite_inuse: Option<i64>,
    /// `RAW: inuse` (net/ipv4/proc.c: sockstat_seq_show()).
    pub raw_inuse: Option<i64>,
    /// `FRAG:` (net/ipv4/proc.c: sockstat_seq_show()).
    pub frag: Option<FragCounts>,
    /// `TCP6: inuse` (net/ipv6/proc.c: sockstat6_seq_show()).
    pub tcp6_inuse: Option<i64>,
    /// `UDP6: inuse` (net/ipv6/proc.c: sockstat6_seq_show()).
    pub udp6_inuse: Option<i64>,
    /// `UDPLITE6: inuse` (net/ipv6/proc.c: sockstat6_seq_show()).
    pub udplite6_inuse: Option<i64>,
    /// `RAW6: inuse` (net/ipv6/proc.c: sockstat6_seq_show()).
    pub raw6_inuse: Option<i64>,
    /// `FRAG6:` (net/ipv6/proc.c: sockstat6_seq_show()).
    pub frag6: Option<FragCounts>,
    /// `CurrEstab` of the `Tcp:` lines of /proc/net/snmp: TCP connections
    /// in ESTABLISHED or CLOSE-WAIT (as counted by Linux 6.18), IPv4 and IPv6
    /// (net/ipv4/proc.c: snmp_seq_show_tcp_udp(), TCP_MIB_CURRESTAB).
    pub tcp_curr_estab: Option<i64>,
    /// Every column of the `Tcp:` lines of /proc/net/snmp, by name
    /// (net/ipv4/proc.c: snmp_seq_show_tcp_udp(), snmp4_tcp_list[];
    /// `MaxConn` is -1).
    pub tcp_snmp: Option<BTreeMap<String, i64>>,
    /// sockstat keys not named above, by line label (without the colon)
    /// and key, e.g. `other["TCP"]["newkey"]`.
    pub other: BTreeMap<String, BTreeMap<String, i64>>,
}
