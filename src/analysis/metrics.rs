//! `metrics` and `serve` (issue 17): the exported families as a typed
//! answer ([`Scrape`]). [`Tally`] is the pipeline sink that counts the
//! records as they stream by (nothing kept but the listeners' identities,
//! the queued connections' candidate sets and the aggregation maps);
//! [`Tally::finish`] turns the counts into series, and [`Scrape::limit`]
//! cuts them to `--top N` per family and `--max-series` in all, counting
//! what it left out. `output::metrics` encodes the answer.
//!
//! Every label value is made safe here, once ([`crate::text::escape`]):
//! control characters, DEL, C1 and bidi controls and invalid UTF-8 become
//! visible escapes, so the encoder only has the exposition's own escaping
//! (backslash, double quote, newline) left to do.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::ports::PortCounter;
use crate::model::{Container, Owner, Protocol, QueueKind, Socket, TcpState, UnixKind, UnixSocket};
use crate::pipeline::netns::Place;
use crate::pipeline::{Delivery, Sink};
use crate::text;

/// The upper bounds of `sockscope_tcp_rtt_seconds`' buckets.
pub const RTT_BUCKETS: [f64; 10] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// The series one histogram of `sockscope_tcp_rtt_seconds` costs: its
/// buckets, `+Inf`, `_sum` and `_count`.
pub const RTT_SERIES: usize = RTT_BUCKETS.len() + 3;

/// The TcpExt counters exported, as (/proc/net/netstat name, family name
/// without `_total`).
pub const TCPEXT: [(&str, &str); 7] = [
    ("ListenOverflows", "sockscope_tcp_listen_overflows"),
    ("ListenDrops", "sockscope_tcp_listen_drops"),
    ("TCPReqQFullDrop", "sockscope_tcp_req_q_full_drop"),
    (
        "TCPReqQFullDoCookies",
        "sockscope_tcp_req_q_full_do_cookies",
    ),
    ("SyncookiesSent", "sockscope_tcp_syncookies_sent"),
    ("SyncookiesRecv", "sockscope_tcp_syncookies_recv"),
    ("SyncookiesFailed", "sockscope_tcp_syncookies_failed"),
];

/// The families `--top` and `--max-series` may cut, least important last:
/// the names `sockscope_series_dropped_total{family}` counts under.
pub mod family {
    pub const LISTENER_ACCEPT_QUEUE: &str = "sockscope_listener_accept_queue";
    pub const LISTENER_BACKLOG: &str = "sockscope_listener_backlog";
    pub const LISTENER_FULL: &str = "sockscope_listener_full";
    pub const LISTENER_HALF_OPEN: &str = "sockscope_listener_half_open";
    pub const LISTENER_UNACCEPTED: &str = "sockscope_listener_unaccepted";
    pub const EPHEMERAL_USED: &str = "sockscope_ephemeral_ports_used";
    pub const EPHEMERAL_RATIO: &str = "sockscope_ephemeral_ports_used_ratio";
    pub const CLOSE_WAIT: &str = "sockscope_close_wait_sockets";
    pub const TIME_WAIT: &str = "sockscope_time_wait_sockets";
    pub const RETRANSMITTED: &str = "sockscope_tcp_retransmitted_segments";
    pub const RTT: &str = "sockscope_tcp_rtt_seconds";

    /// Every family that can lose series.
    pub const CUTTABLE: [&str; 11] = [
        LISTENER_ACCEPT_QUEUE,
        LISTENER_BACKLOG,
        LISTENER_FULL,
        LISTENER_HALF_OPEN,
        LISTENER_UNACCEPTED,
        EPHEMERAL_USED,
        EPHEMERAL_RATIO,
        CLOSE_WAIT,
        TIME_WAIT,
        RETRANSMITTED,
        RTT,
    ];
}

/// What a process that exports more than once (`serve`) keeps across
/// scrapes: its own counters. `metrics` starts from zero each run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExporterTotals {
    /// Reads of the kernel (scrapes that were not served from the last
    /// result).
    pub kernel_reads: u64,
    /// Reads that failed.
    pub errors: u64,
    /// Series left out by `--top` or `--max-series`, per family name.
    pub dropped: BTreeMap<&'static str, u64>,
}

/// A label value made safe for a terminal and for the exposition's parser
/// (module doc): `text::escape`'s visible escapes.
pub fn label(value: &str) -> String {
    text::escape(value).into_owned()
}

/// [`label`] for bytes (UNIX paths): invalid UTF-8 shows as `\xNN`.
pub fn label_bytes(value: &[u8]) -> String {
    text::escape_bytes(value).into_owned()
}

/// An address as its series name it: an IPv4-mapped IPv6 address (a
/// dual-stack socket's IPv4 peer) as the IPv4 one, so that an IPv4 and an
/// IPv6 socket to the same peer are one series, never two with the same
/// labels.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// An address label ([`canonical`]).
fn address(ip: IpAddr) -> String {
    canonical(ip).to_string()
}

/// The `netns` and `container` labels of a namespace, when the run reads
/// several (`config.namespaces.tagged`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsTag {
    /// The namespace as the listing's JSON names it.
    pub netns: String,
    /// The namespace's container, "" when none.
    pub container: String,
}

/// The `protocol` label of `sockscope_sockets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SocketProtocol {
    Tcp,
    Udp,
    Unix,
}

impl SocketProtocol {
    pub fn name(self) -> &'static str {
        match self {
            SocketProtocol::Tcp => "tcp",
            SocketProtocol::Udp => "udp",
            SocketProtocol::Unix => "unix",
        }
    }
}

/// The `family` label of `sockscope_sockets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SocketFamily {
    Ipv4,
    Ipv6,
    Unix,
}

impl SocketFamily {
    pub fn name(self) -> &'static str {
        match self {
            SocketFamily::Ipv4 => "ipv4",
            SocketFamily::Ipv6 => "ipv6",
            SocketFamily::Unix => "unix",
        }
    }
}

/// The `state` label: node_exporter's tcpstat words.
pub fn state_word(state: TcpState) -> &'static str {
    match state {
        TcpState::Established => "established",
        TcpState::SynSent => "syn_sent",
        TcpState::SynRecv => "syn_recv",
        TcpState::FinWait1 => "fin_wait1",
        TcpState::FinWait2 => "fin_wait2",
        TcpState::TimeWait => "time_wait",
        TcpState::Close => "close",
        TcpState::CloseWait => "close_wait",
        TcpState::LastAck => "last_ack",
        TcpState::Listen => "listen",
        TcpState::Closing => "closing",
        TcpState::BoundInactive => "bound_inactive",
    }
}

/// One series of `sockscope_sockets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    pub ns: Option<NsTag>,
    pub protocol: SocketProtocol,
    pub family: SocketFamily,
    pub state: TcpState,
    pub count: u64,
}

/// Which kind of listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListenerProtocol {
    Tcp,
    /// A UNIX stream or seqpacket listener.
    Unix,
}

impl ListenerProtocol {
    pub fn name(self) -> &'static str {
        match self {
            ListenerProtocol::Tcp => "tcp",
            ListenerProtocol::Unix => "unix",
        }
    }
}

/// A listener's labels: members of one SO_REUSEPORT group share them (and
/// are summed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerKey {
    /// The namespace, when tagged (its `container` label is the
    /// listener's own, below).
    pub netns: Option<String>,
    pub protocol: ListenerProtocol,
    /// The IP address; for UNIX the path ("@name" for abstract ones).
    pub address: String,
    /// The port; "" for UNIX.
    pub port: String,
    /// comm of the lowest-pid owner, "" when unknown.
    pub process: String,
    /// The owner's (else the namespace's) container, "" when none.
    pub container: String,
}

/// One listener's series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSeries {
    pub key: ListenerKey,
    /// Connections completed, waiting for accept() (Recv-Q).
    pub accept_queue: u64,
    /// The backlog (Send-Q); `None` when the source cannot tell (/proc).
    pub backlog: Option<u64>,
    /// Some member's accept queue is over its backlog.
    pub full: bool,
    /// SYN_RECV request sockets waiting for it.
    pub half_open: u64,
    /// ESTABLISHED (or CLOSE_WAIT) connections without a descriptor
    /// attributed to it; for UNIX, its pending connections.
    pub unaccepted: u64,
}

impl ListenerSeries {
    /// accept queue / backlog (a zero backlog with a queue counts as full).
    pub fn fill(&self) -> f64 {
        match self.backlog {
            Some(0) | None if self.accept_queue > 0 => 1.0,
            Some(b) if b > 0 => self.accept_queue as f64 / b as f64,
            _ => 0.0,
        }
    }

    /// The series it has in the exposition.
    pub fn series(&self) -> usize {
        if self.backlog.is_some() { 5 } else { 4 }
    }
}

/// A namespace's TcpExt counters ([`TCPEXT`]'s order; `None` when the
/// kernel does not have one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsCounters {
    pub netns: Option<String>,
    pub values: [Option<u64>; TCPEXT.len()],
}

/// A namespace's ephemeral port range size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSize {
    pub netns: Option<String>,
    pub size: u64,
}

/// Outgoing connections to one destination from one local address.
#[derive(Debug, Clone, PartialEq)]
pub struct EphemeralSeries {
    pub ns: Option<NsTag>,
    pub local_address: String,
    pub destination_address: String,
    pub destination_port: u16,
    pub used: u64,
    /// used / range size, 0..1.
    pub ratio: f64,
}

/// A count per remote address (TIME_WAIT sockets, retransmitted segments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCount {
    pub ns: Option<NsTag>,
    pub remote_address: String,
    pub count: u64,
}

/// CLOSE_WAIT sockets of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessCount {
    pub netns: Option<String>,
    pub process: String,
    pub container: String,
    pub count: u64,
}

/// The smoothed rtt of the connections to one remote address.
#[derive(Debug, Clone, PartialEq)]
pub struct RttSeries {
    pub ns: Option<NsTag>,
    pub remote_address: String,
    /// Observations per bucket (not cumulative): `buckets[i]` counts the
    /// rtts in (RTT_BUCKETS[i-1], RTT_BUCKETS[i]]; those above the last
    /// bound are only in `count`.
    pub buckets: [u64; RTT_BUCKETS.len()],
    pub sum_seconds: f64,
    pub count: u64,
}

/// One read of the kernel, every family counted: what `serve` keeps and
/// answers with until the next read.
#[derive(Debug, Default, Clone)]
pub struct Scrape {
    /// The run read several namespaces: the families carry `netns` (and
    /// `container`).
    pub tagged: bool,
    pub sockets: Vec<StateCount>,
    /// Most urgent first (full, then by fill).
    pub listeners: Vec<ListenerSeries>,
    pub tcpext: Vec<NsCounters>,
    pub port_ranges: Vec<RangeSize>,
    /// Busiest first.
    pub ephemeral: Vec<EphemeralSeries>,
    pub time_wait: Vec<RemoteCount>,
    pub close_wait: Vec<ProcessCount>,
    /// With `--tcp-info`: per remote, by connection count.
    pub rtt: Vec<RttSeries>,
    pub retransmitted: Vec<RemoteCount>,
    /// How long the read took.
    pub duration: Duration,
    /// Records read, every namespace together (inet and UNIX).
    pub sockets_read: u64,
}

impl Scrape {
    /// The series of the families [`Scrape::limit`] never cuts: sockets by
    /// state, TcpExt counters, range sizes, the exporter's own (given by
    /// the encoder's count of them, `own`).
    pub fn fixed_series(&self, own: usize) -> usize {
        self.sockets.len()
            + self
                .tcpext
                .iter()
                .map(|c| c.values.iter().flatten().count())
                .sum::<usize>()
            + self.port_ranges.len()
            + own
    }

    /// Cuts each per-address or per-process family to its `top` largest,
    /// then the whole exposition to `max_series` (`own`: the exporter's
    /// own series, never cut), dropping from the least important families
    /// first: rtt histograms, retransmits, TIME_WAIT, CLOSE_WAIT,
    /// ephemeral ports, listeners last. What is left out is added to
    /// `dropped`, per family name.
    pub fn limit(
        &mut self,
        top: usize,
        max_series: usize,
        own: usize,
        dropped: &mut BTreeMap<&'static str, u64>,
    ) {
        let mut drop = |family: &'static str, n: usize| {
            if n > 0 {
                *dropped.entry(family).or_default() += n as u64;
            }
        };
        // --top: each list is already in its order of importance.
        let cut = |len: usize, keep: usize| len.saturating_sub(keep);
        let n = cut(self.listeners.len(), top);
        let backlogs = self
            .listeners
            .iter()
            .skip(top)
            .filter(|l| l.backlog.is_some())
            .count();
        self.listeners.truncate(top);
        drop(family::LISTENER_ACCEPT_QUEUE, n);
        drop(family::LISTENER_BACKLOG, backlogs);
        drop(family::LISTENER_FULL, n);
        drop(family::LISTENER_HALF_OPEN, n);
        drop(family::LISTENER_UNACCEPTED, n);
        let n = cut(self.ephemeral.len(), top);
        self.ephemeral.truncate(top);
        drop(family::EPHEMERAL_USED, n);
        drop(family::EPHEMERAL_RATIO, n);
        drop(family::TIME_WAIT, cut(self.time_wait.len(), top));
        self.time_wait.truncate(top);
        drop(family::CLOSE_WAIT, cut(self.close_wait.len(), top));
        self.close_wait.truncate(top);
        drop(family::RTT, cut(self.rtt.len(), top));
        self.rtt.truncate(top);
        drop(family::RETRANSMITTED, cut(self.retransmitted.len(), top));
        self.retransmitted.truncate(top);

        // --max-series: what the fixed families leave, most important
        // families served first.
        let mut budget = max_series.saturating_sub(self.fixed_series(own));
        let mut keep = 0;
        for l in &self.listeners {
            if l.series() > budget {
                break;
            }
            budget -= l.series();
            keep += 1;
        }
        let gone = &self.listeners[keep..];
        let n = gone.len();
        let backlogs = gone.iter().filter(|l| l.backlog.is_some()).count();
        self.listeners.truncate(keep);
        drop(family::LISTENER_ACCEPT_QUEUE, n);
        drop(family::LISTENER_BACKLOG, backlogs);
        drop(family::LISTENER_FULL, n);
        drop(family::LISTENER_HALF_OPEN, n);
        drop(family::LISTENER_UNACCEPTED, n);
        let keep = self.ephemeral.len().min(budget / 2);
        budget -= keep * 2;
        let n = self.ephemeral.len() - keep;
        self.ephemeral.truncate(keep);
        drop(family::EPHEMERAL_USED, n);
        drop(family::EPHEMERAL_RATIO, n);
        let keep = self.close_wait.len().min(budget);
        budget -= keep;
        drop(family::CLOSE_WAIT, self.close_wait.len() - keep);
        self.close_wait.truncate(keep);
        let keep = self.time_wait.len().min(budget);
        budget -= keep;
        drop(family::TIME_WAIT, self.time_wait.len() - keep);
        self.time_wait.truncate(keep);
        let keep = self.retransmitted.len().min(budget);
        budget -= keep;
        drop(family::RETRANSMITTED, self.retransmitted.len() - keep);
        self.retransmitted.truncate(keep);
        let keep = self.rtt.len().min(budget / RTT_SERIES);
        drop(family::RTT, self.rtt.len() - keep);
        self.rtt.truncate(keep);
    }
}

/// What is known of a namespace while its records stream by.
#[derive(Debug)]
struct NsLabels {
    tag: NsTag,
    place: Place,
}

/// A listener's running sums.
#[derive(Debug, Default)]
struct ListenerSums {
    accept_queue: u64,
    backlog: Option<u64>,
    full: bool,
    half_open: u64,
    unaccepted: u64,
}

/// The rtt and retransmits of the connections to one remote.
#[derive(Debug, Default)]
struct RemoteInfo {
    connections: u64,
    buckets: [u64; RTT_BUCKETS.len()],
    sum_seconds: f64,
    rtt_count: u64,
    retransmitted: u64,
}

/// The counting sink of `metrics` and `serve`: each record is counted as
/// it streams by ([`Delivery::Streamed`]), across every namespace of the
/// run. The command sets the namespace's [`PortCounter`] before each
/// namespace's run and takes it back after ([`Tally::set_ports`],
/// [`Tally::take_ports`]).
#[derive(Debug)]
pub struct Tally {
    tagged: bool,
    tcp_info: bool,
    namespaces: Vec<NsLabels>,
    states: HashMap<(usize, SocketProtocol, SocketFamily, TcpState), u64>,
    listeners: HashMap<ListenerKey, ListenerSums>,
    /// Listener inode → its key (inodes are unique on the machine).
    listener_of: HashMap<u64, ListenerKey>,
    /// The candidate listeners of each half-open request socket (few
    /// distinct sets: one per listener or SO_REUSEPORT group).
    half_open: HashMap<Vec<u64>, u64>,
    /// Unaccepted connections per listener inode (the first candidate).
    unaccepted: HashMap<u64, u64>,
    time_wait: HashMap<(usize, IpAddr), u64>,
    close_wait: HashMap<(usize, String, String), u64>,
    remotes: HashMap<(usize, IpAddr), RemoteInfo>,
    ports: Option<PortCounter>,
    ephemeral: Vec<EphemeralSeries>,
    tcpext: Vec<NsCounters>,
    port_ranges: Vec<RangeSize>,
}

impl Tally {
    /// `tagged`: the run reads several namespaces; `tcp_info`: count rtt
    /// and retransmits (the plan asked the kernel for tcp_info).
    pub fn new(tagged: bool, tcp_info: bool) -> Tally {
        Tally {
            tagged,
            tcp_info,
            namespaces: Vec::new(),
            states: HashMap::new(),
            listeners: HashMap::new(),
            listener_of: HashMap::new(),
            half_open: HashMap::new(),
            unaccepted: HashMap::new(),
            time_wait: HashMap::new(),
            close_wait: HashMap::new(),
            remotes: HashMap::new(),
            ports: None,
            ephemeral: Vec::new(),
            tcpext: Vec::new(),
            port_ranges: Vec::new(),
        }
    }

    /// The ephemeral-port counter of the namespace about to be read.
    pub fn set_ports(&mut self, counter: PortCounter) {
        self.ports = Some(counter);
    }

    /// The namespace's TcpExt counters (read inside it) and its range's
    /// destinations, once its run is done.
    pub fn namespace_done(&mut self, counters: &crate::model::TcpExtCounters) {
        let netns = self.netns_label();
        let mut values = [None; TCPEXT.len()];
        for (v, (name, _)) in values.iter_mut().zip(TCPEXT) {
            *v = counters.get(name).map(|&n| u64::try_from(n).unwrap_or(0));
        }
        self.tcpext.push(NsCounters {
            netns: netns.clone(),
            values,
        });
        if let Some(counter) = self.ports.take() {
            let pressure = counter.finish();
            let size = pressure.range_size as u64;
            self.port_ranges.push(RangeSize { netns, size });
            // The counter keys the local address canonically, not the
            // destination: merge an IPv4 and a v4-mapped destination.
            let mut used: HashMap<(IpAddr, IpAddr, u16), u64> = HashMap::new();
            for d in pressure.destinations {
                let key = (
                    canonical(d.local),
                    canonical(d.remote.ip()),
                    d.remote.port(),
                );
                *used.entry(key).or_default() += d.count as u64;
            }
            let ns = self.tag();
            self.ephemeral.extend(
                used.into_iter()
                    .map(|((local, ip, port), n)| EphemeralSeries {
                        ns: ns.clone(),
                        local_address: local.to_string(),
                        destination_address: ip.to_string(),
                        destination_port: port,
                        used: n,
                        ratio: n as f64 / size.max(1) as f64,
                    }),
            );
        }
    }

    fn current(&self) -> usize {
        self.namespaces.len().saturating_sub(1)
    }

    fn tag(&self) -> Option<NsTag> {
        self.tag_of(self.current())
    }

    fn tag_of(&self, ns: usize) -> Option<NsTag> {
        if !self.tagged {
            return None;
        }
        self.namespaces.get(ns).map(|n| n.tag.clone())
    }

    fn netns_label(&self) -> Option<String> {
        self.tag().map(|t| t.netns)
    }

    /// The container label of a record held by `owners`.
    fn container_of(&self, owners: Option<&[Owner]>) -> String {
        self.namespaces
            .last()
            .and_then(|n| n.place.container_of(owners))
            .map_or_else(String::new, container_label)
    }

    fn count_state(&mut self, protocol: SocketProtocol, family: SocketFamily, state: TcpState) {
        let ns = self.current();
        *self
            .states
            .entry((ns, protocol, family, state))
            .or_default() += 1;
    }

    fn add_listener(&mut self, key: ListenerKey, inode: u64, queue: u64, backlog: Option<u64>) {
        let sums = self.listeners.entry(key.clone()).or_default();
        sums.accept_queue += queue;
        if let Some(b) = backlog {
            *sums.backlog.get_or_insert(0) += b;
        }
        sums.full |= backlog.is_some_and(|b| queue > b);
        if inode != 0 {
            self.listener_of.insert(inode, key);
        }
    }

    fn tcp(&mut self, s: &Socket) {
        let family = if s.family == crate::model::Family::Inet {
            SocketFamily::Ipv4
        } else {
            SocketFamily::Ipv6
        };
        let protocol = match s.proto {
            Protocol::Tcp => SocketProtocol::Tcp,
            Protocol::Udp => SocketProtocol::Udp,
            // The exports read TCP and UDP only.
            Protocol::Raw | Protocol::Mptcp => return,
        };
        self.count_state(protocol, family, s.state);
        if let Some(ports) = &mut self.ports {
            ports.add(s);
        }
        if protocol != SocketProtocol::Tcp {
            return;
        }
        let ns = self.current();
        match s.state {
            TcpState::Listen => {
                let key = ListenerKey {
                    netns: self.netns_label(),
                    protocol: ListenerProtocol::Tcp,
                    address: address(s.local.ip()),
                    port: s.local.port().to_string(),
                    process: process_of(s.owners.as_deref()),
                    container: self.container_of(s.owners.as_deref()),
                };
                self.add_listener(key, s.inode, u64::from(s.recv_q), s.send_q.map(u64::from));
            }
            TcpState::TimeWait => {
                *self
                    .time_wait
                    .entry((ns, canonical(s.remote.ip())))
                    .or_default() += 1;
            }
            TcpState::CloseWait => {
                // A connection still in the accept queue: its listener's
                // process is the one that does not take it.
                let owners = match &s.queue {
                    Some(q) => Some(q.listener_owners.as_slice()),
                    None => s.owners.as_deref(),
                };
                let key = (ns, process_of(owners), self.container_of(owners));
                *self.close_wait.entry(key).or_default() += 1;
            }
            _ => {}
        }
        if let Some(q) = &s.queue {
            match q.kind {
                QueueKind::Syn => {
                    *self.half_open.entry(q.listener_inodes.clone()).or_default() += 1;
                }
                QueueKind::Accept => {
                    if let Some(&first) = q.listener_inodes.first() {
                        *self.unaccepted.entry(first).or_default() += 1;
                    }
                }
            }
        }
        if self.tcp_info
            && s.state != TcpState::Listen
            && let Some(info) = s.extras.as_ref().and_then(|e| e.tcp_info.as_ref())
        {
            let remote = self
                .remotes
                .entry((ns, canonical(s.remote.ip())))
                .or_default();
            remote.connections += 1;
            remote.retransmitted += u64::from(info.total_retrans.unwrap_or(0));
            if let Some(us) = info.rtt_us {
                let seconds = f64::from(us) / 1e6;
                remote.sum_seconds += seconds;
                remote.rtt_count += 1;
                if let Some(i) = RTT_BUCKETS.iter().position(|&bound| seconds <= bound) {
                    remote.buckets[i] += 1;
                }
            }
        }
    }

    fn unix_socket(&mut self, u: &UnixSocket) {
        self.count_state(SocketProtocol::Unix, SocketFamily::Unix, u.state);
        if u.state == TcpState::Listen && u.kind != UnixKind::Dgram {
            let key = ListenerKey {
                netns: self.netns_label(),
                protocol: ListenerProtocol::Unix,
                address: u.path.as_deref().map_or_else(String::new, label_bytes),
                port: String::new(),
                process: process_of(u.owners.as_deref()),
                container: self.container_of(u.owners.as_deref()),
            };
            let queue = u64::from(u.recv_q.unwrap_or(0));
            // Every pending connection of a UNIX listener is one nobody
            // accept()ed (netlink does not list them as sockets).
            self.add_listener(key.clone(), 0, queue, u.send_q.map(u64::from));
            if let Some(sums) = self.listeners.get_mut(&key) {
                sums.unaccepted += queue;
            }
        }
    }

    /// The series, each list in its order of importance (uncut).
    pub fn finish(mut self, sockets_read: u64, duration: Duration) -> Scrape {
        // Queued connections to their listeners: a request socket counts
        // once per listener (labels) it may wait for, however many members
        // of an SO_REUSEPORT group share those labels.
        for (inodes, n) in std::mem::take(&mut self.half_open) {
            let mut keys: Vec<&ListenerKey> = inodes
                .iter()
                .filter_map(|i| self.listener_of.get(i))
                .collect();
            keys.sort();
            keys.dedup();
            let keys: Vec<ListenerKey> = keys.into_iter().cloned().collect();
            for key in keys {
                if let Some(sums) = self.listeners.get_mut(&key) {
                    sums.half_open += n;
                }
            }
        }
        for (inode, n) in std::mem::take(&mut self.unaccepted) {
            if let Some(key) = self.listener_of.get(&inode)
                && let Some(sums) = self.listeners.get_mut(key)
            {
                sums.unaccepted += n;
            }
        }
        let mut sockets: Vec<StateCount> = self
            .states
            .iter()
            .map(|(&(ns, protocol, family, state), &count)| StateCount {
                ns: self.tag_of(ns),
                protocol,
                family,
                state,
                count,
            })
            .collect();
        sockets.sort_by(|a, b| {
            (&a.ns, a.protocol, a.family, a.state).cmp(&(&b.ns, b.protocol, b.family, b.state))
        });
        let mut listeners: Vec<ListenerSeries> = self
            .listeners
            .drain()
            .map(|(key, s)| ListenerSeries {
                key,
                accept_queue: s.accept_queue,
                backlog: s.backlog,
                full: s.full,
                half_open: s.half_open,
                unaccepted: s.unaccepted,
            })
            .collect();
        listeners.sort_by(|a, b| {
            b.full
                .cmp(&a.full)
                .then_with(|| b.fill().total_cmp(&a.fill()))
                .then_with(|| b.accept_queue.cmp(&a.accept_queue))
                .then_with(|| b.half_open.cmp(&a.half_open))
                .then_with(|| a.key.cmp(&b.key))
        });
        let mut ephemeral = std::mem::take(&mut self.ephemeral);
        ephemeral.sort_by(|a, b| {
            b.used.cmp(&a.used).then_with(|| {
                (
                    &a.ns,
                    &a.destination_address,
                    a.destination_port,
                    &a.local_address,
                )
                    .cmp(&(
                        &b.ns,
                        &b.destination_address,
                        b.destination_port,
                        &b.local_address,
                    ))
            })
        });
        let mut time_wait: Vec<RemoteCount> = self
            .time_wait
            .iter()
            .map(|(&(ns, ip), &count)| RemoteCount {
                ns: self.tag_of(ns),
                remote_address: address(ip),
                count,
            })
            .collect();
        sort_remotes(&mut time_wait);
        let mut close_wait: Vec<ProcessCount> = self
            .close_wait
            .iter()
            .map(|((ns, process, container), &count)| ProcessCount {
                netns: self.tag_of(*ns).map(|t| t.netns),
                process: process.clone(),
                container: container.clone(),
                count,
            })
            .collect();
        close_wait.sort_by(|a, b| {
            b.count.cmp(&a.count).then_with(|| {
                (&a.netns, &a.process, &a.container).cmp(&(&b.netns, &b.process, &b.container))
            })
        });
        // tcp-info: remotes by connection count; both families keep the
        // same remotes in the same order.
        let mut remotes: Vec<(Option<NsTag>, String, RemoteInfo)> =
            std::mem::take(&mut self.remotes)
                .into_iter()
                .map(|((ns, ip), info)| (self.tag_of(ns), address(ip), info))
                .collect();
        remotes.sort_by(|a, b| {
            b.2.connections
                .cmp(&a.2.connections)
                .then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1)))
        });
        let retransmitted = remotes
            .iter()
            .map(|(ns, a, info)| RemoteCount {
                ns: ns.clone(),
                remote_address: a.clone(),
                count: info.retransmitted,
            })
            .collect();
        let rtt = remotes
            .into_iter()
            .map(|(ns, remote_address, info)| RttSeries {
                ns,
                remote_address,
                buckets: info.buckets,
                sum_seconds: info.sum_seconds,
                count: info.rtt_count,
            })
            .collect();
        Scrape {
            tagged: self.tagged,
            sockets,
            listeners,
            tcpext: self.tcpext,
            port_ranges: self.port_ranges,
            ephemeral,
            time_wait,
            close_wait,
            rtt,
            retransmitted,
            duration,
            sockets_read,
        }
    }
}

/// Largest first, ties by labels.
fn sort_remotes(v: &mut [RemoteCount]) {
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.ns, &a.remote_address).cmp(&(&b.ns, &b.remote_address)))
    });
}

/// The `process` label: comm of the lowest-pid owner, "" when unknown.
fn process_of(owners: Option<&[Owner]>) -> String {
    owners
        .into_iter()
        .flatten()
        .min_by_key(|o| o.pid)
        .map_or_else(String::new, |o| label(&o.comm))
}

/// The `container` label: the runtime's name, else the short id.
fn container_label(c: &Arc<Container>) -> String {
    label(c.name.as_deref().unwrap_or_else(|| c.short_id()))
}

impl Sink for Tally {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }

    fn enter(&mut self, place: &Place) {
        let tag = NsTag {
            netns: label(&place.netns.label()),
            container: place
                .netns
                .container
                .as_ref()
                .map_or_else(String::new, container_label),
        };
        self.namespaces.push(NsLabels {
            tag,
            place: place.clone(),
        });
    }

    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.tcp(s);
        Ok(())
    }

    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        for u in &unix {
            self.unix_socket(u);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribution, Extras, Netns, Queued, TcpInfo};
    use std::collections::HashMap;

    fn owner(pid: u32, comm: &str) -> Owner {
        Owner {
            pid,
            fd: 3,
            tid: None,
            comm: Arc::from(comm),
            cmdline: None,
            raw: None,
        }
    }

    fn tcp(state: TcpState, local: &str, remote: &str) -> Socket {
        Socket::test_tcp(state, local, remote)
    }

    fn queued(kind: QueueKind, inodes: Vec<u64>) -> Option<Box<Queued>> {
        Some(Box::new(Queued {
            kind,
            listener: "0.0.0.0:80".parse().unwrap(),
            listener_owners: vec![owner(7, "web")],
            attribution: Attribution::OneOf,
            listener_inodes: inodes,
        }))
    }

    fn place() -> Place {
        Place {
            netns: Arc::new(Netns::unknown()),
            containers: Arc::new(HashMap::new()),
        }
    }

    /// Two members of an SO_REUSEPORT group are one listener (summed); a
    /// request socket that may wait for either counts once; the lowest
    /// pid names the process; UDP and UNIX counted by state.
    #[test]
    fn tally_counts_as_records_stream_by() {
        let mut t = Tally::new(false, true);
        t.enter(&place());
        t.set_ports(PortCounter::new((40000, 40099), [80].into_iter().collect()));
        for inode in [10, 11] {
            let mut l = tcp(TcpState::Listen, "0.0.0.0:80", "0.0.0.0:0");
            l.inode = inode;
            l.recv_q = 2;
            l.send_q = Some(1);
            l.owners = Some(vec![owner(9, "later"), owner(7, "web")]);
            t.socket(&l).unwrap();
        }
        let mut syn = tcp(TcpState::SynRecv, "10.0.0.1:80", "10.0.0.9:5000");
        syn.inode = 0;
        syn.queue = queued(QueueKind::Syn, vec![10, 11]);
        t.socket(&syn).unwrap();
        let mut acc = tcp(TcpState::Established, "10.0.0.1:80", "10.0.0.9:5001");
        acc.inode = 0;
        acc.queue = queued(QueueKind::Accept, vec![11]);
        t.socket(&acc).unwrap();
        let mut cw = tcp(TcpState::CloseWait, "10.0.0.1:40010", "10.0.0.8:443");
        cw.owners = Some(vec![owner(30, "leaky")]);
        cw.extras = Some(Box::new(Extras {
            tcp_info: Some(TcpInfo {
                rtt_us: Some(700),
                total_retrans: Some(4),
                ..TcpInfo::default()
            }),
            ..Extras::default()
        }));
        t.socket(&cw).unwrap();
        for port in [40011, 40012] {
            // A dual-stack socket's IPv4 peer: the same series as the
            // IPv4 socket's (a regression: once two with equal labels).
            let tw = tcp(
                TcpState::TimeWait,
                &format!("[::ffff:10.0.0.1]:{port}"),
                "[::ffff:10.0.0.8]:443",
            );
            t.socket(&tw).unwrap();
        }
        let mut udp = tcp(TcpState::Close, "0.0.0.0:53", "0.0.0.0:0");
        udp.proto = Protocol::Udp;
        t.socket(&udp).unwrap();
        t.unix(vec![UnixSocket {
            kind: UnixKind::Stream,
            state: TcpState::Listen,
            path: Some(b"@x\x1b\"".to_vec()),
            inode: 20,
            peer_inode: None,
            peer_path: None,
            recv_q: Some(3),
            send_q: Some(2),
            uid: None,
            cookie: None,
            owners: Some(vec![]),
            extras: None,
        }])
        .unwrap();
        t.namespace_done(&[("ListenOverflows".to_owned(), 5)].into_iter().collect());
        let s = t.finish(9, Duration::from_millis(3));

        let states: Vec<(&str, &str, &str, u64)> = s
            .sockets
            .iter()
            .map(|c| {
                (
                    c.protocol.name(),
                    c.family.name(),
                    state_word(c.state),
                    c.count,
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("tcp", "ipv4", "established", 1),
                ("tcp", "ipv4", "syn_recv", 1),
                ("tcp", "ipv4", "close_wait", 1),
                ("tcp", "ipv4", "listen", 2),
                ("tcp", "ipv6", "time_wait", 2),
                ("udp", "ipv4", "close", 1),
                ("unix", "unix", "listen", 1),
            ]
        );
        assert_eq!(s.listeners.len(), 2);
        let unix = &s.listeners[1];
        assert_eq!(
            (unix.key.address.as_str(), unix.key.process.as_str()),
            ("@x\\x1b\"", "")
        );
        assert_eq!(
            (unix.accept_queue, unix.backlog, unix.full, unix.unaccepted),
            (3, Some(2), true, 3)
        );
        let web = &s.listeners[0];
        assert_eq!(
            (
                web.key.address.as_str(),
                web.key.port.as_str(),
                web.key.process.as_str()
            ),
            ("0.0.0.0", "80", "web")
        );
        assert_eq!(
            (
                web.accept_queue,
                web.backlog,
                web.full,
                web.half_open,
                web.unaccepted
            ),
            (4, Some(2), true, 1, 1),
            "summed, the request socket once"
        );
        assert_eq!(s.tcpext[0].values[0], Some(5));
        assert_eq!(s.tcpext[0].values[1], None);
        assert_eq!(s.port_ranges[0].size, 100);
        // The CLOSE_WAIT socket and two TIME_WAIT ones from the range.
        assert_eq!(s.ephemeral.len(), 1);
        assert_eq!(
            (
                s.ephemeral[0].destination_address.as_str(),
                s.ephemeral[0].used
            ),
            ("10.0.0.8", 3)
        );
        assert!((s.ephemeral[0].ratio - 0.03).abs() < 1e-12);
        assert_eq!(s.time_wait[0].remote_address, "10.0.0.8", "v4-mapped as v4");
        assert_eq!(s.time_wait[0].count, 2);
        assert_eq!(
            (s.close_wait[0].process.as_str(), s.close_wait[0].count),
            ("leaky", 1)
        );
        assert_eq!(s.rtt.len(), 1);
        assert_eq!(s.rtt[0].buckets[2], 1, "0.7 ms is in the 1 ms bucket");
        assert_eq!(s.rtt[0].buckets.iter().sum::<u64>(), 1);
        assert_eq!(s.retransmitted[0].count, 4);
        assert_eq!(s.sockets_read, 9);
    }

    fn listener(port: u16, queue: u64) -> ListenerSeries {
        ListenerSeries {
            key: ListenerKey {
                netns: None,
                protocol: ListenerProtocol::Tcp,
                address: "0.0.0.0".into(),
                port: port.to_string(),
                process: String::new(),
                container: String::new(),
            },
            accept_queue: queue,
            backlog: Some(10),
            full: false,
            half_open: 0,
            unaccepted: 0,
        }
    }

    fn remote(a: &str, count: u64) -> RemoteCount {
        RemoteCount {
            ns: None,
            remote_address: a.into(),
            count,
        }
    }

    fn scrape() -> Scrape {
        Scrape {
            listeners: (0..4).map(|i| listener(80 + i, 4 - u64::from(i))).collect(),
            time_wait: vec![remote("a", 3), remote("b", 2), remote("c", 1)],
            retransmitted: vec![remote("a", 3), remote("b", 2)],
            rtt: ["a", "b"]
                .map(|a| RttSeries {
                    ns: None,
                    remote_address: a.into(),
                    buckets: [0; RTT_BUCKETS.len()],
                    sum_seconds: 0.0,
                    count: 0,
                })
                .to_vec(),
            ..Scrape::default()
        }
    }

    #[test]
    fn top_keeps_the_largest_and_counts_the_rest() {
        let mut s = scrape();
        let mut dropped = BTreeMap::new();
        s.limit(1, usize::MAX, 0, &mut dropped);
        assert_eq!(s.listeners[0].key.port, "80");
        assert_eq!(s.time_wait, [remote("a", 3)]);
        assert_eq!(dropped[family::LISTENER_FULL], 3);
        assert_eq!(dropped[family::TIME_WAIT], 2);
        assert_eq!(dropped[family::RTT], 1);
        assert!(!dropped.contains_key(family::CLOSE_WAIT));
    }

    /// The least important families go first, listeners last, and the
    /// fixed families (here 16 own series) are never cut.
    #[test]
    fn max_series_cuts_the_least_important_first() {
        let mut dropped = BTreeMap::new();
        // 4 listeners (20) + 3 TIME_WAIT + 2 retransmits + 2 rtt (26).
        let mut s = scrape();
        s.limit(10, 16 + 20 + 3 + 2 + RTT_SERIES, 16, &mut dropped);
        assert_eq!((s.rtt.len(), s.retransmitted.len()), (1, 2));
        assert_eq!(dropped[family::RTT], 1);
        let mut s = scrape();
        s.limit(10, 16 + 11, 16, &mut dropped);
        assert_eq!(s.listeners.len(), 2);
        assert_eq!(s.time_wait.len(), 1);
        assert!(s.rtt.is_empty() && s.retransmitted.is_empty());
        assert_eq!(dropped[family::LISTENER_ACCEPT_QUEUE], 2);
        assert_eq!(dropped[family::TIME_WAIT], 2);
        assert_eq!(dropped[family::RTT], 3);
        let mut s = scrape();
        s.limit(10, 3, 16, &mut dropped);
        assert!(s.listeners.is_empty() && s.time_wait.is_empty());
    }

    #[test]
    fn labels_are_made_safe() {
        assert_eq!(
            label("a\u{1b}[1m\u{202e}\n\\"),
            "a\\x1b[1m\\u{202e}\\x0a\\\\"
        );
        assert_eq!(label_bytes(b"/tmp/\xff\x07"), "/tmp/\\xff\\x07");
    }
}
