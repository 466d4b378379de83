//! ss's own text output (`--ss-format`, or sockscope invoked as `ss`):
//! what iproute2 6.1's `ss` prints, field for field, so that a script that
//! splits ss's lines on white space finds the same fields in the same
//! order. This module owns that format: its columns ([`SsColumn::list`]),
//! ss's state words, address forms, `users:((...))`, the `-o`/`-e`/`--tos`/
//! `--cgroup` words and the `-i`/`-m` line (its texts come from
//! [`super::detail`]), and ss's layout.
//!
//! The layout is ss's when stdout is not a terminal (misc/ss.c, render:
//! "compact output"): every column as wide as its widest token, Local and
//! Peer addresses right-aligned, the rest left-aligned, one space before
//! State, Recv-Q, Send-Q and each address, nothing before a port and
//! before Process. So the header reads `Peer Address:PortProcess` when no
//! peer port is wider than `Port`, as ss's does. Everything after the peer
//! port (users, timer, -e words, the -i/-m line led by a newline and a tab)
//! is the Process column's token, each word led by a space, as ss writes
//! them. sockscope's extras (queue attribution, cookie and V6only columns,
//! Netns and Container) never appear.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::ops::Range;

use super::detail::{c_g, skmem_text, tcp_info_text_ss, timer_text};
use super::grid::push_int;
use super::table::TableOptions;
use crate::model::{
    CcInfo, ETH_P_ALL, Family, OtherSocket, Owner, Protocol, Socket, TcpState, UnixSocket,
};
use crate::pipeline::netns::Place;
use crate::pipeline::{self, Delivery};
use crate::source::cgroups::CgroupPaths;
use crate::source::services::Services;
use crate::text::{escape, escape_bytes};

/// What the ss format shows besides the table options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsOptions {
    /// The Netid column: more than one socket table is listed.
    pub netid: bool,
    /// The State column: more than one state is asked for.
    pub state: bool,
    /// Timers (-o, and -e, which implies it in ss).
    pub timers: bool,
    /// --tos: tos:, tclass:, class_id:.
    pub tos: bool,
    /// --cgroup: cgroup:PATH.
    pub cgroup: bool,
    /// --inet-sockopt: `inet-sockopt: ( recverr is_icsk ...)`.
    pub inet_sockopt: bool,
    /// -r: host names (ss's resolve_hosts; -n keeps service numbers only).
    pub hosts: bool,
}

/// ss's columns (misc/ss.c, `columns[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsColumn {
    Netid,
    State,
    RecvQ,
    SendQ,
    /// `ADDR:` (`ADDR%dev:`), or a UNIX socket's `path ` / `* `.
    LocalAddr,
    LocalPort,
    PeerAddr,
    PeerPort,
    /// Everything else: users, timer, -e, --tos, --cgroup, -i/-m.
    Process,
}

impl SsColumn {
    /// The columns shown, in order, built once per run.
    pub fn list(opts: &TableOptions, ss: &SsOptions) -> Vec<SsColumn> {
        let mut list = Vec::with_capacity(9);
        if ss.netid {
            list.push(SsColumn::Netid);
        }
        if ss.state {
            list.push(SsColumn::State);
        }
        if opts.queues {
            list.extend([SsColumn::RecvQ, SsColumn::SendQ]);
        }
        list.extend([
            SsColumn::LocalAddr,
            SsColumn::LocalPort,
            SsColumn::PeerAddr,
            SsColumn::PeerPort,
            // ss 6.1 always has it (7.1 only with -p).
            SsColumn::Process,
        ]);
        list
    }

    fn header(self) -> &'static str {
        match self {
            SsColumn::Netid => "Netid",
            SsColumn::State => "State",
            SsColumn::RecvQ => "Recv-Q",
            SsColumn::SendQ => "Send-Q",
            SsColumn::LocalAddr => "Local Address:",
            SsColumn::PeerAddr => "Peer Address:",
            SsColumn::LocalPort | SsColumn::PeerPort => "Port",
            SsColumn::Process => "Process",
        }
    }

    fn right_aligned(self) -> bool {
        matches!(self, SsColumn::LocalAddr | SsColumn::PeerAddr)
    }

    /// What ss writes before the column when it is not a line's first.
    fn delimiter(self) -> &'static str {
        match self {
            SsColumn::State
            | SsColumn::RecvQ
            | SsColumn::SendQ
            | SsColumn::LocalAddr
            | SsColumn::PeerAddr => " ",
            SsColumn::Netid | SsColumn::LocalPort | SsColumn::PeerPort | SsColumn::Process => "",
        }
    }
}

/// ss's state word (misc/ss.c, sstate_name).
pub fn state_word(state: TcpState) -> &'static str {
    match state {
        TcpState::Established => "ESTAB",
        TcpState::SynSent => "SYN-SENT",
        TcpState::SynRecv => "SYN-RECV",
        TcpState::FinWait1 => "FIN-WAIT-1",
        TcpState::FinWait2 => "FIN-WAIT-2",
        TcpState::TimeWait => "TIME-WAIT",
        TcpState::Close => "UNCONN",
        TcpState::CloseWait => "CLOSE-WAIT",
        TcpState::LastAck => "LAST-ACK",
        TcpState::Listen => "LISTEN",
        TcpState::Closing => "CLOSING",
        // iproute2 6.8+: bound, not listening (TCP_BOUND_INACTIVE).
        TcpState::BoundInactive => "UNCONN",
    }
}

/// Rows rendered at once: ss renders when its buffer passes 5 MiB; the
/// widths measured so far are kept for the rows that follow.
const BATCH_ROWS: usize = 50_000;

/// The ss-format printer. Rows are held until the end (or [`BATCH_ROWS`]),
/// as ss holds them, since every column's width depends on all of them:
/// their tokens in one buffer, one range per token.
pub struct SsPrinter<'a> {
    out: &'a mut dyn Write,
    opts: &'a TableOptions,
    ss: &'a SsOptions,
    services: Option<&'a Services>,
    columns: Vec<SsColumn>,
    /// The held rows' tokens, one after the other.
    text: String,
    /// Each token's place in `text`, a row's tokens in column order.
    cells: Vec<Range<usize>>,
    /// The widest token of each column so far (bytes, as ss measures).
    max_len: Vec<usize>,
    /// The length of the last row's last token, not measured yet.
    unmeasured: Option<usize>,
    /// Each held row's place in ss's order ([`RowGroup`]): the pipeline
    /// delivers inet rows first, ss prints netlink, packet and UNIX ones
    /// before them.
    groups: Vec<RowGroup>,
    /// Interface names by index, for `%dev`.
    names: HashMap<u32, String>,
    /// cgroup paths, walked the first time one is needed.
    cgroups: Option<CgroupPaths>,
    /// -r: host names, each address looked up once (source::hosts).
    hosts: Option<crate::source::hosts::HostNames>,
}

impl<'a> SsPrinter<'a> {
    pub fn new(
        out: &'a mut dyn Write,
        opts: &'a TableOptions,
        ss: &'a SsOptions,
        services: Option<&'a Services>,
    ) -> SsPrinter<'a> {
        let columns = SsColumn::list(opts, ss);
        let mut p = SsPrinter {
            out,
            opts,
            ss,
            services,
            max_len: vec![0; columns.len()],
            unmeasured: None,
            groups: Vec::new(),
            columns,
            text: String::with_capacity(64 * 1024),
            cells: Vec::new(),
            names: HashMap::new(),
            cgroups: None,
            hosts: ss.hosts.then(crate::source::hosts::HostNames::new),
        };
        if opts.header {
            p.groups.push(RowGroup::Header);
            for i in 0..p.columns.len() {
                let header = p.columns[i].header();
                p.token(i, |_, buf| buf.push_str(header));
            }
        }
        p
    }

    /// Rows held.
    fn rows(&self) -> usize {
        self.cells.len() / self.columns.len().max(1)
    }

    /// Adds column `i`'s token of the row being built, written by `write`
    /// straight into the buffer, and measures it. ss measures a token when
    /// it moves past it, so the last row's last token is never measured (it
    /// only changes the padding at the end of lines): the same here.
    fn token(&mut self, i: usize, write: impl FnOnce(&mut Self, &mut String)) {
        let mut text = std::mem::take(&mut self.text);
        let start = text.len();
        write(self, &mut text);
        let len = text.len() - start;
        self.text = text;
        self.cells.push(start..start + len);
        let last = self.columns.len() - 1;
        if i == 0
            && let Some(pending) = self.unmeasured.take()
        {
            self.max_len[last] = self.max_len[last].max(pending);
        }
        if i == last {
            self.unmeasured = Some(len);
        } else {
            self.max_len[i] = self.max_len[i].max(len);
        }
    }

    /// The row of a packet or netlink socket, as ss -n prints them
    /// (misc/ss.c, packet_stats_print, netlink_show_one): `PROTO:IFACE`
    /// (`*` for every protocol or interface) and a peer of `*`; netlink's
    /// `PROTOCOL:PORTID` (`*` for -1) and `GROUP:PORTID` when connected.
    /// Names (`rtnl:kernel`, `ip:eth0` without -n) are not looked up.
    fn other_row(&mut self, o: &OtherSocket) {
        self.groups.push(match o {
            OtherSocket::Netlink(_) => RowGroup::Netlink,
            OtherSocket::Packet(_) => RowGroup::Packet,
        });
        let (recv_q, send_q) = match o {
            OtherSocket::Packet(p) => (p.recv_q, p.send_q),
            OtherSocket::Netlink(n) => (n.recv_q, n.send_q),
        };
        for i in 0..self.columns.len() {
            let column = self.columns[i];
            self.token(i, |p, buf| match column {
                SsColumn::Netid => buf.push_str(o.netid()),
                SsColumn::State => buf.push_str("UNCONN"),
                SsColumn::RecvQ => queue(buf, recv_q.unwrap_or(0)),
                SsColumn::SendQ => queue(buf, send_q.unwrap_or(0)),
                SsColumn::LocalAddr => {
                    match o {
                        OtherSocket::Packet(k) if k.protocol == ETH_P_ALL => buf.push('*'),
                        OtherSocket::Packet(k) => {
                            let _ = write!(buf, "[{}]", k.protocol);
                        }
                        OtherSocket::Netlink(n) => push_int(buf, u64::from(n.protocol)),
                    }
                    buf.push(':');
                }
                SsColumn::LocalPort => match o {
                    OtherSocket::Packet(k) => match k.ifindex {
                        Some(i) if i != 0 => buf.push_str(p.ifname(i)),
                        _ => buf.push('*'),
                    },
                    // ss prints the port id as an int: -1 is `*`.
                    OtherSocket::Netlink(n) if n.portid == u32::MAX => buf.push('*'),
                    OtherSocket::Netlink(n) => push_int(buf, u64::from(n.portid)),
                },
                SsColumn::PeerAddr => match o {
                    OtherSocket::Netlink(n) if n.connected => {
                        let _ = write!(buf, "{}:", n.dst_group);
                    }
                    _ => buf.push('*'),
                },
                SsColumn::PeerPort => match o {
                    OtherSocket::Netlink(n) if n.connected => {
                        push_int(buf, u64::from(n.dst_portid))
                    }
                    _ => {}
                },
                SsColumn::Process => p.other_rest(buf, o),
            });
        }
    }

    /// Everything after a packet socket's peer: users, -e's `uid:`,
    /// `ino:`, `sk:` (sock_details_print), -b's `bpf filter (N): ...`.
    fn other_rest(&self, buf: &mut String, o: &OtherSocket) {
        let OtherSocket::Packet(k) = o else {
            return;
        };
        if self.opts.processes {
            users(buf, k.owners.as_deref().unwrap_or_default());
        }
        if self.opts.extended {
            if let Some(uid) = k.uid.filter(|&u| u != 0) {
                let _ = write!(buf, " uid:{uid}");
            }
            let _ = write!(buf, " ino:{} sk:{:x}", k.inode, k.cookie.unwrap_or(0));
            // ss -e's packet_diag_info line (rings and fanout are not read).
            if let Some(info) = k.info {
                buf.push_str(if self.opts.oneline { " " } else { "\n\t" });
                let _ = write!(
                    buf,
                    "ver:{} cpy_thresh:{} flags( ",
                    info.version, info.copy_thresh
                );
                let mut names = info.flag_names();
                // ss: "running" unspaced, the others after a space.
                if let Some(first) = names.next() {
                    if first != "running" {
                        buf.push(' ');
                    }
                    buf.push_str(first);
                }
                for name in names {
                    buf.push(' ');
                    buf.push_str(name);
                }
                if info.flags == 0 {
                    buf.push('0');
                }
                buf.push_str(" )");
            }
        }
        if let Some(filter) = &k.filter {
            buf.push_str(if self.opts.oneline { " " } else { "\n\t" });
            let _ = write!(buf, "bpf filter ({}): ", filter.len());
            for i in filter {
                let _ = write!(buf, " 0x{:02x} {} {} {},", i.code, i.jt, i.jf, i.k);
            }
        }
    }

    /// The row of an inet socket.
    fn inet_row(&mut self, s: &Socket) {
        self.groups.push(RowGroup::Inet);
        for i in 0..self.columns.len() {
            let column = self.columns[i];
            self.token(i, |p, buf| match column {
                SsColumn::Netid => buf.push_str(s.proto.ss_netid()),
                SsColumn::State => buf.push_str(state_word(s.state)),
                SsColumn::RecvQ => queue(buf, s.recv_q),
                SsColumn::SendQ => queue(buf, s.send_q.unwrap_or(0)),
                SsColumn::LocalAddr => {
                    p.address(buf, s, s.local);
                    if let Some(i) = s.ifindex.filter(|&i| i != 0) {
                        buf.push('%');
                        buf.push_str(p.ifname(i));
                    }
                    buf.push(':');
                }
                SsColumn::LocalPort => p.port(buf, s.proto, s.local.port()),
                SsColumn::PeerAddr => {
                    p.address(buf, s, s.remote);
                    buf.push(':');
                }
                SsColumn::PeerPort => p.port(buf, s.proto, s.remote.port()),
                SsColumn::Process => p.inet_rest(buf, s),
            });
        }
    }

    /// The row of a UNIX socket: `path inode` (`*` unbound), peer `* inode`
    /// (ss never names the peer).
    fn unix_row(&mut self, u: &UnixSocket) {
        self.groups.push(RowGroup::Unix);
        for i in 0..self.columns.len() {
            let column = self.columns[i];
            self.token(i, |p, buf| match column {
                SsColumn::Netid => buf.push_str(u.kind.netid()),
                SsColumn::State => buf.push_str(state_word(u.state)),
                SsColumn::RecvQ => queue(buf, u.recv_q.unwrap_or(0)),
                SsColumn::SendQ => queue(buf, u.send_q.unwrap_or(0)),
                SsColumn::LocalAddr => {
                    match &u.path {
                        Some(path) => buf.push_str(&escape_bytes(path)),
                        None => buf.push('*'),
                    }
                    buf.push(' ');
                }
                SsColumn::LocalPort => push_int(buf, u.inode),
                SsColumn::PeerAddr => buf.push_str("* "),
                SsColumn::PeerPort => push_int(buf, u.peer_inode.unwrap_or(0)),
                SsColumn::Process => p.unix_rest(buf, u),
            });
        }
    }

    /// Everything after a UNIX socket's peer (misc/ss.c, unix_show_sock):
    /// users, -m's skmem (on the same line), -e's shutdown arrows, `ino:N
    /// dev:MAJ/MIN` of a bound path and `peers:` with a listener's pending
    /// connections.
    fn unix_rest(&self, buf: &mut String, u: &UnixSocket) {
        if self.opts.processes {
            users(buf, u.owners.as_deref().unwrap_or_default());
        }
        let x = u.extras.as_deref();
        if let (true, Some(m)) = (self.opts.memory, x.and_then(|x| x.mem.as_ref())) {
            buf.push(' ');
            buf.push_str(&skmem_text(m));
        }
        if self.opts.extended
            && let Some(x) = x
        {
            if let Some(mask) = x.shutdown {
                buf.push_str(shutdown_arrow(mask));
            }
            if let Some((ino, dev)) = x.vfs {
                // glibc's major()/minor() of the kernel's new_encode_dev.
                let major = (dev >> 8) & 0xfff;
                let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
                let _ = write!(buf, " ino:{ino} dev:{major}/{minor}");
            }
            if let Some(pending) = &x.pending {
                buf.push_str(" peers:");
                for inode in pending {
                    let _ = write!(buf, " {inode}");
                }
            }
        }
    }

    /// An address as ss prints it; with -r its host name when it has one
    /// (ss: the dual-stack wildcard stays `*`, an IPv4-mapped address is
    /// looked up as its IPv4 one).
    fn address(&mut self, buf: &mut String, s: &Socket, addr: SocketAddr) {
        let dual_wildcard = matches!(addr, SocketAddr::V6(a)
            if a.ip().is_unspecified() && s.v6only != Some(true));
        if let Some(hosts) = self.hosts.as_mut().filter(|_| !dual_wildcard)
            && let Some(name) = hosts.name(addr.ip().to_canonical())
        {
            buf.push_str(&escape(name));
            return;
        }
        address(buf, s, addr);
    }

    /// A port as ss prints it: `*` for 0, a service name unless -n.
    fn port(&self, buf: &mut String, proto: Protocol, port: u16) {
        if port == 0 {
            buf.push('*');
            return;
        }
        match self.services.and_then(|db| db.name(proto, port)) {
            Some(name) => buf.push_str(&escape(name)),
            None => push_int(buf, port),
        }
    }

    /// An interface's name (escaped), looked up once.
    fn ifname(&mut self, index: u32) -> &str {
        self.names.entry(index).or_insert_with(|| {
            let name = crate::source::ifaces::name_of(index).unwrap_or_else(|| index.to_string());
            escape(&name).into_owned()
        })
    }

    /// Everything after the peer port, in ss's order (misc/ss.c,
    /// inet_show_sock): users, timer, -e, --tos, --cgroup, then the -i/-m
    /// text.
    fn inet_rest(&mut self, buf: &mut String, s: &Socket) {
        if self.opts.processes && s.inode != 0 {
            users(buf, s.owners.as_deref().unwrap_or_default());
        }
        if let (true, Some(t)) = (self.ss.timers, &s.timer) {
            buf.push(' ');
            buf.push_str(&timer_text(t.kind.name(), t.expires_ms, t.retrans));
        }
        let x = s.extras.as_deref();
        if self.opts.extended {
            if let Some(uid) = s.uid.filter(|&u| u != 0) {
                let _ = write!(buf, " uid:{uid}");
            }
            let _ = write!(buf, " ino:{} sk:{:x}", s.inode, s.cookie.unwrap_or(0));
            if let Some(mark) = x.and_then(|x| x.mark).filter(|&m| m != 0) {
                let _ = write!(buf, " fwmark:0x{mark:x}");
            }
            if let Some(id) = x.and_then(|x| x.cgroup_id).filter(|&id| id != 0) {
                let path = self.cgroup_path(id);
                let _ = write!(buf, " cgroup:{path}");
            }
            if let (Family::Inet6, Some(v6only)) = (s.family, s.v6only) {
                let _ = write!(buf, " v6only:{}", u8::from(v6only));
            }
            if let Some(mask) = x.and_then(|x| x.shutdown) {
                buf.push_str(shutdown_arrow(mask));
            }
        }
        if self.ss.tos {
            if let Some(tos) = x.and_then(|x| x.tos) {
                let _ = write!(buf, " tos:{}", c_hash_x(u32::from(tos)));
            }
            if let Some(tclass) = x.and_then(|x| x.tclass) {
                let _ = write!(buf, " tclass:{}", c_hash_x(u32::from(tclass)));
            }
            if let Some(class_id) = x.and_then(|x| x.class_id) {
                let _ = write!(buf, " class_id:{}", c_hash_x(class_id));
            }
        }
        if self.ss.cgroup
            && let Some(id) = x.and_then(|x| x.cgroup_id)
        {
            let path = self.cgroup_path(id);
            let _ = write!(buf, " cgroup:{path}");
        }
        if self.ss.inet_sockopt
            && let Some(opts) = x.and_then(|x| x.sockopt)
        {
            buf.push_str(if self.opts.oneline {
                " inet-sockopt: ("
            } else {
                "\n\tinet-sockopt: ("
            });
            for name in opts.names() {
                buf.push(' ');
                buf.push_str(name);
            }
            buf.push(')');
        }
        if self.opts.memory || (self.opts.info && s.proto != Protocol::Udp) {
            if !self.opts.oneline {
                buf.push_str("\n\t");
            }
            if let (true, Some(m)) = (self.opts.memory, x.and_then(|x| x.mem.as_ref())) {
                buf.push(' ');
                buf.push_str(&skmem_text(m));
            }
            if let (true, Some(x)) = (self.opts.info, x)
                && let Some(i) = &x.tcp_info
            {
                let cong = x.congestion.as_deref();
                let cc = x.cc.map(cc_item);
                let text = tcp_info_text_ss(i, cong, self.ss.timers, cc.as_deref());
                buf.push_str(&escape(&without_newer_items(&text)));
            }
        }
    }

    fn cgroup_path(&mut self, id: u64) -> String {
        escape(&self.cgroups.get_or_insert_with(CgroupPaths::read).path(id)).into_owned()
    }

    /// Writes the rows held with ss's widths, and forgets them.
    fn render(&mut self) -> io::Result<()> {
        let widths = widths(&self.columns, &self.max_len);
        let mut line = String::with_capacity(256);
        let n = self.columns.len();
        // ss's order of tables (misc/ss.c, main): a stable sort keeps each
        // table's rows in the kernel's order.
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        order.sort_by_key(|&r| self.groups[r]);
        for row in order
            .into_iter()
            .filter_map(|r| self.cells.get(r * n..(r + 1) * n))
        {
            line.clear();
            for (i, (column, range)) in self.columns.iter().zip(row).enumerate() {
                let token = &self.text[range.clone()];
                let mut printed = 0;
                if i > 0 {
                    line.push_str(column.delimiter());
                    printed = column.delimiter().len();
                }
                if column.right_aligned() {
                    let pad = widths[i].saturating_sub(token.len() + printed);
                    line.extend(std::iter::repeat_n(' ', pad));
                    printed += pad;
                }
                line.push_str(token);
                printed += token.len();
                // ss 6.1 pads the last column too (7.1 does not).
                if !column.right_aligned() {
                    line.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(printed)));
                }
            }
            line.push('\n');
            self.out.write_all(line.as_bytes())?;
        }
        self.cells.clear();
        self.text.clear();
        self.groups.clear();
        Ok(())
    }
}

/// Where a row goes in ss's order: netlink, packet, UNIX, then the inet
/// tables (in the order they were dumped: raw, UDP, TCP, MPTCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RowGroup {
    Header,
    Netlink,
    Packet,
    Unix,
    Inet,
}

/// A queue as ss prints it: `%-6d`.
fn queue(buf: &mut String, n: u32) {
    let start = buf.len();
    push_int(buf, n);
    let len = buf.len() - start;
    buf.extend(std::iter::repeat_n(' ', 6usize.saturating_sub(len)));
}

/// ss's column widths in compact output: the widest token, plus the
/// delimiter for every column after the first that has one.
fn widths(columns: &[SsColumn], max_len: &[usize]) -> Vec<usize> {
    let mut first = true;
    columns
        .iter()
        .zip(max_len)
        .map(|(c, &max)| {
            let width = if !first && max > 0 {
                max + c.delimiter().len()
            } else {
                max
            };
            if width > 0 {
                first = false;
            }
            width
        })
        .collect()
}

/// An inet address as ss prints it: IPv4 dotted, IPv6 in brackets, the
/// IPv6 wildcard as `*` unless the socket is known to be v6only (ss reads
/// a missing INET_DIAG_SKV6ONLY as 0).
fn address(buf: &mut String, s: &Socket, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(a) => {
            for (i, b) in a.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push('.');
                }
                push_int(buf, b);
            }
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() && s.v6only != Some(true) => buf.push('*'),
        SocketAddr::V6(a) => {
            let _ = write!(buf, "[{}]", a.ip());
        }
    }
}

/// ` users:(("name",pid=P,fd=F),...)` (`pid=P,tid=T,fd=F` with -T) in ss's order: ss puts each
/// descriptor found by its /proc walk (pids, then fds, ascending) at the
/// head of a list, so it prints them from the last found: pid and fd
/// descending. Nothing when no process holds the socket.
pub fn users(buf: &mut String, owners: &[Owner]) {
    if owners.is_empty() {
        return;
    }
    // With -T ss walks a process's own fds, then its other threads' by
    // ascending tid: the last found is the highest thread's highest fd.
    let walked = |o: &Owner| {
        let thread = o.tid.filter(|&t| t != o.pid).unwrap_or(0);
        (o.pid, thread, o.fd)
    };
    let mut sorted: Vec<&Owner> = owners.iter().collect();
    sorted.sort_by_key(|o| std::cmp::Reverse(walked(o)));
    buf.push_str(" users:(");
    for (i, o) in sorted.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        let _ = write!(buf, "(\"{}\",pid={},", escape(&o.comm), o.pid);
        if let Some(tid) = o.tid {
            let _ = write!(buf, "tid={tid},");
        }
        let _ = write!(buf, "fd={})", o.fd);
    }
    buf.push(')');
}

/// ss -e's shutdown arrows: `<->` open both ways, `-->` receiving shut
/// down, `<--` sending shut down, `---` both.
pub fn shutdown_arrow(mask: u8) -> &'static str {
    match (mask & 1 != 0, mask & 2 != 0) {
        (false, false) => " <->",
        (true, false) => " -->",
        (false, true) => " <--",
        (true, true) => " ---",
    }
}

/// ss -i's item for the congestion control's data (misc/ss.c,
/// tcp_stats_print): ` bbr:(bw:Nbps,mrtt:MS[,pacing_gain:G][,cwnd_gain:G])`
/// (bw in bits per second as ss -n prints it, gains in units of 1/256),
/// ` dctcp:(ce_state:N,alpha:N,ab_ecn:N,ab_tot:N)` or ` dctcp:fallback_mode`.
pub fn cc_item(cc: CcInfo) -> String {
    match cc {
        CcInfo::Bbr {
            bw,
            min_rtt_us,
            pacing_gain,
            cwnd_gain,
        } => {
            let mut s = format!(
                " bbr:(bw:{:.0}bps,mrtt:{}",
                bw as f64 * 8.0,
                c_g(f64::from(min_rtt_us) / 1000.0)
            );
            if pacing_gain != 0 {
                let _ = write!(s, ",pacing_gain:{}", c_g(f64::from(pacing_gain) / 256.0));
            }
            if cwnd_gain != 0 {
                let _ = write!(s, ",cwnd_gain:{}", c_g(f64::from(cwnd_gain) / 256.0));
            }
            s.push(')');
            s
        }
        CcInfo::Dctcp {
            enabled: true,
            ce_state,
            alpha,
            ab_ecn,
            ab_tot,
        } => format!(" dctcp:(ce_state:{ce_state},alpha:{alpha},ab_ecn:{ab_ecn},ab_tot:{ab_tot})"),
        CcInfo::Dctcp { enabled: false, .. } => " dctcp:fallback_mode".to_owned(),
    }
}

/// C's `%#x`: `0` for zero, else `0x` and hex digits.
fn c_hash_x(v: u32) -> String {
    if v == 0 {
        "0".to_owned()
    } else {
        format!("{v:#x}")
    }
}

/// The -i text without the items ss 6.1 does not print (`rcv_wnd`,
/// `rehash`: iproute2 6.2 and later print them after `snd_wnd`).
fn without_newer_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for item in text.split(' ').filter(|i| !i.is_empty()) {
        if item.starts_with("rcv_wnd:") || item.starts_with("rehash:") {
            continue;
        }
        out.push(' ');
        out.push_str(item);
    }
    out
}

impl pipeline::Sink for SsPrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    /// Several namespaces: their rows follow each other under the one
    /// header, as if one ss had listed them all (README says so).
    fn enter(&mut self, _place: &Place) {
        self.names.clear();
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.inet_row(s);
        if self.rows() >= BATCH_ROWS {
            self.render()?;
        }
        Ok(())
    }
    fn unix(&mut self, unix: Vec<UnixSocket>) -> io::Result<()> {
        for u in &unix {
            self.unix_row(u);
        }
        Ok(())
    }
    fn others(&mut self, others: Vec<OtherSocket>) -> io::Result<()> {
        for o in &others {
            self.other_row(o);
        }
        Ok(())
    }
}

impl super::Printer for SsPrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        self.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Extras, Timer, TimerKind};

    fn opts(processes: bool, extended: bool) -> TableOptions {
        TableOptions {
            header: true,
            extended,
            netid: false,
            processes,
            cmdline: false,
            timers: false,
            info: false,
            memory: false,
            ipv6: true,
            netns: None,
            queues: true,
            oneline: false,
            ss: None,
            width: None,
        }
    }

    fn printed(opts: &TableOptions, ss: &SsOptions, sockets: &[Socket]) -> String {
        let mut out = Vec::new();
        {
            let mut p = SsPrinter::new(&mut out, opts, ss, None);
            for s in sockets {
                pipeline::Sink::socket(&mut p, s).unwrap();
            }
            super::super::Printer::finish(&mut p).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    fn owner(pid: u32, fd: u32) -> Owner {
        Owner {
            pid,
            fd,
            tid: None,
            comm: "nginx".into(),
            cmdline: None,
            raw: None,
        }
    }

    #[test]
    fn listener_rows_as_ss_prints_them() {
        let ss = SsOptions {
            state: true,
            ..SsOptions::default()
        };
        let mut l = Socket::test_tcp(TcpState::Listen, "0.0.0.0:8080", "0.0.0.0:0");
        l.recv_q = 1;
        l.send_q = Some(16);
        l.owners = Some(vec![owner(812, 3), owner(813, 3)]);
        let mut dual = Socket::test_tcp(TcpState::Listen, "[::]:8081", "[::]:0");
        dual.v6only = Some(false);
        let mut only = Socket::test_tcp(TcpState::Listen, "[::]:8082", "[::]:0");
        only.v6only = Some(true);
        let text = printed(&opts(true, false), &ss, &[l, dual, only]);
        let trimmed: Vec<&str> = text.lines().map(str::trim_end).collect();
        // ss 6.1 -tlnp, piped: no peer port is wider than "Port", so the
        // header glues PortProcess; users from the last pid found.
        assert_eq!(
            trimmed,
            [
                "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
                "LISTEN 1      16           0.0.0.0:8080      0.0.0.0:*    \
                 users:((\"nginx\",pid=813,fd=3),(\"nginx\",pid=812,fd=3))",
                "LISTEN 0      0                  *:8081            *:*",
                "LISTEN 0      0               [::]:8082         [::]:*",
            ]
        );
    }

    #[test]
    fn extended_words_and_arrows() {
        let ss = SsOptions {
            state: true,
            timers: true,
            ..SsOptions::default()
        };
        let mut e = Socket::test_tcp(TcpState::FinWait2, "127.0.0.1:38858", "127.0.0.1:8080");
        e.inode = 36195993;
        e.cookie = Some(0xc91660);
        e.uid = Some(65534);
        e.extras = Some(Box::new(Extras {
            shutdown: Some(2),
            cgroup_id: Some(0x2a),
            ..Extras::default()
        }));
        let mut tw = Socket::test_tcp(TcpState::TimeWait, "127.0.0.1:38850", "127.0.0.1:8080");
        tw.inode = 0;
        tw.uid = Some(0);
        tw.cookie = Some(0xc9165f);
        tw.timer = Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 58_000,
            retrans: 0,
        });
        let text = printed(&opts(false, true), &ss, &[e, tw]);
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            [
                "State",
                "Recv-Q",
                "Send-Q",
                "Local",
                "Address:Port",
                "Peer",
                // The peer port 8080 is no wider than "Port".
                "Address:PortProcess"
            ]
        );
        assert_eq!(
            lines[1][5..],
            [
                "uid:65534",
                "ino:36195993",
                "sk:c91660",
                "cgroup:unreachable:2a",
                "<--"
            ]
        );
        assert_eq!(
            lines[2][5..],
            ["timer:(timewait,58sec,0)", "ino:0", "sk:c9165f"]
        );
    }

    #[test]
    fn congestion_items_as_ss_prints_them() {
        // ss 6.1 -tinmo printed this for a real BBR socket (see
        // detail.rs, real_socket_as_ss_printed_it).
        let bbr = CcInfo::Bbr {
            bw: 28_262_389_888 / 8,
            min_rtt_us: 10,
            pacing_gain: 739,
            cwnd_gain: 739,
        };
        assert_eq!(
            cc_item(bbr),
            " bbr:(bw:28262389888bps,mrtt:0.01,pacing_gain:2.88672,cwnd_gain:2.88672)"
        );
        let idle = CcInfo::Bbr {
            bw: 0,
            min_rtt_us: 8,
            pacing_gain: 0,
            cwnd_gain: 0,
        };
        assert_eq!(cc_item(idle), " bbr:(bw:0bps,mrtt:0.008)");
        let dctcp = CcInfo::Dctcp {
            enabled: true,
            ce_state: 0,
            alpha: 1024,
            ab_ecn: 0,
            ab_tot: 0,
        };
        assert_eq!(
            cc_item(dctcp),
            " dctcp:(ce_state:0,alpha:1024,ab_ecn:0,ab_tot:0)"
        );
        let fallback = CcInfo::Dctcp {
            enabled: false,
            ce_state: 0,
            alpha: 0,
            ab_ecn: 0,
            ab_tot: 0,
        };
        assert_eq!(cc_item(fallback), " dctcp:fallback_mode");
    }

    #[test]
    fn threads_in_ss_order() {
        let mut owners = vec![owner(100, 3), owner(100, 4), owner(200, 3)];
        for o in &mut owners {
            o.tid = Some(o.pid);
        }
        owners.push(Owner {
            tid: Some(101),
            ..owner(100, 3)
        });
        let mut buf = String::new();
        users(&mut buf, &owners);
        assert_eq!(
            buf,
            " users:((\"nginx\",pid=200,tid=200,fd=3),(\"nginx\",pid=100,tid=101,fd=3),\
             (\"nginx\",pid=100,tid=100,fd=4),(\"nginx\",pid=100,tid=100,fd=3))"
        );
    }

    #[test]
    fn arrows_and_hex() {
        assert_eq!(shutdown_arrow(0), " <->");
        assert_eq!(shutdown_arrow(1), " -->");
        assert_eq!(shutdown_arrow(3), " ---");
        assert_eq!(c_hash_x(0), "0");
        assert_eq!(c_hash_x(0x10), "0x10");
        assert_eq!(
            without_newer_items(" cubic snd_wnd:65536 rcv_wnd:65536 rehash:2"),
            " cubic snd_wnd:65536"
        );
    }
}
