//! The aligned table, laid out like ss.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;

use super::detail::{skmem_text, tcp_info_text, tcp_info_text_with_options, timer_text};
use super::grid::{Align, Grid, push_int};
use crate::model::{Attribution, DualStack, ETH_P_ALL, OtherSocket, Owner, Socket, UnixSocket};
use crate::pipeline::netns::Place;
use crate::source::services::{Services, Users};
use crate::text::{escape, escape_bytes, needs_escape};
use unicode_width::UnicodeWidthStr;

/// Writes the table. Without a width (a pipe, -W) no wrapping or truncation
/// ever: a line is as long as its content, as with ss. With one (a
/// terminal) the widest free-text cells are cut with `…` so that no row
/// wraps ([`super::grid::fit_widths`]). No colour is used, so NO_COLOR
/// holds trivially.
pub fn write(
    out: &mut dyn Write,
    sockets: &[Socket],
    unix: &[UnixSocket],
    opts: &TableOptions,
    services: Option<&Services>,
    users: Option<&Users>,
) -> io::Result<()> {
    let mut t = TableWriter::new(opts, services, users, sockets.len() + unix.len() + 1);
    for s in sockets {
        t.row(s);
    }
    for u in unix {
        t.unix_row(u);
    }
    t.flush(out)
}

/// Table options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    pub header: bool,
    /// Add the uid, inode and cookie columns.
    pub extended: bool,
    /// Show a Netid column (ss shows it when more than one protocol is
    /// selected).
    pub netid: bool,
    /// Show a Process column.
    pub processes: bool,
    /// Add each owner's command line.
    pub cmdline: bool,
    /// Add the Timer column (-o).
    pub timers: bool,
    /// A tcp_info line under each socket (-i).
    pub info: bool,
    /// A socket memory line under each socket (-m).
    pub memory: bool,
    /// IPv6 sockets may be listed (not -4): a long streamed table sizes its
    /// address columns for them.
    pub ipv6: bool,
    /// Netns and Container columns (more than one namespace is listed),
    /// with the widest name each can hold (escaped).
    pub netns: Option<NetnsWidths>,
    /// The Recv-Q and Send-Q columns (not with -Q).
    pub queues: bool,
    /// -O: the -i/-m text at the end of the socket's line, not under it.
    pub oneline: bool,
    /// ss's own format instead of this table (`--ss-format`, or invoked as
    /// `ss`).
    pub ss: Option<super::ss_format::SsOptions>,
    /// The terminal's width: a row longer than this has its widest
    /// free-text cells (Process, UNIX paths) shortened with `…` and the
    /// explain views wrap their sentences; None (a pipe, -W): whole lines.
    pub width: Option<usize>,
}

/// The widest namespace and container names of a run, escaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetnsWidths {
    pub netns: usize,
    pub container: usize,
}

/// One column of the table: its header, its alignment, the widest cell it
/// can hold, and its cell for an inet socket and for a UNIX socket. The
/// columns shown are a list built once from the options
/// ([`Column::list`]), so a new column is one variant here and one entry
/// there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The network namespace's name (more than one is listed).
    Netns,
    /// The container of the socket's owner, else of its namespace.
    Container,
    /// The protocol (`tcp`, `u_str`), when more than one is listed.
    Netid,
    State,
    RecvQ,
    /// The backlog of a listener, `-` where the source cannot tell.
    SendQ,
    /// `ADDR%dev:PORT`; a UNIX socket's `path inode`.
    Local,
    /// `ADDR:PORT`; a UNIX socket's `peer-path peer-inode`.
    Peer,
    /// -o: the running TCP timer.
    Timer,
    /// -e: the owner uid (a user name with -r).
    Uid,
    /// -e. Socket inodes come from get_next_ino(), an unsigned int
    /// (fs/inode.c), though /proc prints them as unsigned long.
    Inode,
    /// -e. The cookie is a u64 (sock_gen_cookie), printed in hex.
    Cookie,
    /// -e: IPV6_V6ONLY of an inet6 listener or unconnected socket.
    V6only,
    /// -p: the owners, or the listener of a queued connection.
    Process,
}

/// What a cell may need besides its socket.
struct CellContext<'a> {
    services: Option<&'a Services>,
    users: Option<&'a Users>,
    names: IfNames,
    /// -r: host names, looked up once per address (source::hosts).
    hosts: Option<crate::source::hosts::HostNames>,
    cmdline: bool,
    /// The namespace of the rows that follow, and its escaped name.
    place: Option<Place>,
    netns: String,
    /// Escaped container labels, by the container's address (the run's
    /// containers live as long as it does).
    containers: HashMap<usize, String>,
}

impl Column {
    /// The columns `opts` show, in order.
    pub fn list(opts: &TableOptions) -> Vec<Column> {
        let mut columns = Vec::new();
        if opts.netns.is_some() {
            columns.extend([Column::Netns, Column::Container]);
        }
        if opts.netid {
            columns.push(Column::Netid);
        }
        columns.push(Column::State);
        if opts.queues {
            columns.extend([Column::RecvQ, Column::SendQ]);
        }
        columns.extend([Column::Local, Column::Peer]);
        if opts.timers {
            columns.push(Column::Timer);
        }
        if opts.extended {
            columns.extend([Column::Uid, Column::Inode, Column::Cookie, Column::V6only]);
        }
        if opts.processes {
            columns.push(Column::Process);
        }
        columns
    }

    pub fn header(self) -> &'static str {
        match self {
            Column::Netns => "Netns",
            Column::Container => "Container",
            Column::Netid => "Netid",
            Column::State => "State",
            Column::RecvQ => "Recv-Q",
            Column::SendQ => "Send-Q",
            Column::Local => "Local Address:Port",
            Column::Peer => "Peer Address:Port",
            Column::Timer => "Timer",
            Column::Uid => "UID",
            Column::Inode => "Inode",
            Column::Cookie => "Cookie",
            Column::V6only => "V6only",
            Column::Process => "Process",
        }
    }

    pub fn align(self) -> Align {
        match self {
            Column::RecvQ | Column::SendQ | Column::Local | Column::Uid | Column::Inode => {
                Align::Right
            }
            Column::Netns
            | Column::Container
            | Column::Netid
            | Column::State
            | Column::Peer
            | Column::Timer
            | Column::Cookie
            | Column::V6only
            | Column::Process => Align::Left,
        }
    }

    /// The widest cell the column can hold (0: unbounded).
    fn capacity(self, cap: &Capacity) -> usize {
        match self {
            Column::Netns => cap.netns.netns,
            Column::Container => cap.netns.container.max(1),
            Column::Netid => cap.netid,
            Column::State => cap.state,
            Column::RecvQ | Column::SendQ | Column::Inode => U32_DIGITS,
            Column::Local => cap.local,
            Column::Peer => cap.peer,
            Column::Timer => cap.timer,
            Column::Uid => cap.uid,
            Column::Cookie => 16,
            Column::V6only => 1,
            Column::Process => 0,
        }
    }

    /// The cell of an inet socket.
    fn inet(self, grid: &mut Grid, s: &Socket, cx: &mut CellContext<'_>) {
        match self {
            Column::Netns => grid.cell(|buf| buf.push_str(&cx.netns)),
            Column::Container => container_cell(grid, cx, s.owners.as_deref()),
            Column::Netid => grid.text(s.proto.name()),
            Column::State => grid.text(s.state.name_for(s.proto)),
            Column::RecvQ => grid.number(s.recv_q),
            Column::SendQ => opt_number(grid, s.send_q),
            Column::Local => {
                let dev = match s.ifindex {
                    Some(i) if i != 0 => Some(cx.names.get(i)),
                    _ => None,
                };
                let host = host_name(&mut cx.hosts, s.local);
                grid.cell(|buf| endpoint_as(buf, s, s.local, host.as_deref(), dev, cx.services));
            }
            Column::Peer => {
                let host = host_name(&mut cx.hosts, s.remote);
                grid.cell(|buf| endpoint_as(buf, s, s.remote, host.as_deref(), None, cx.services))
            }
            Column::Timer => match &s.timer {
                Some(t) => grid.cell(|buf| {
                    buf.push_str(&timer_text(t.kind.name(), t.expires_ms, t.retrans));
                }),
                None => grid.text(""),
            },
            Column::Uid => uid_cell(grid, s.uid, cx.users),
            Column::Inode => grid.number(s.inode),
            Column::Cookie => cookie_cell(grid, s.cookie),
            Column::V6only => match s.v6only {
                Some(v) => grid.text(if v { "1" } else { "0" }),
                None => grid.text(""),
            },
            Column::Process => grid.free_cell(|buf| process(buf, s, cx.cmdline)),
        }
    }

    /// The cell of a packet or netlink socket, as ss -0 and ss -A netlink
    /// print them with -n: a packet socket's local end is `PROTO:IFACE`
    /// (`*` for every protocol or interface, `[2048]` for ETH_P_IP), a
    /// netlink socket's `FAMILY:PORTID`; the peer is `*`, or for a
    /// connected netlink socket `GROUP:PORTID`. The state is UNCONN.
    fn other(self, grid: &mut Grid, o: &OtherSocket, cx: &mut CellContext<'_>) {
        let (recv_q, send_q, uid, cookie) = match o {
            OtherSocket::Packet(p) => (p.recv_q, p.send_q, p.uid, p.cookie),
            OtherSocket::Netlink(n) => (n.recv_q, n.send_q, None, n.cookie),
        };
        match self {
            Column::Netns => grid.cell(|buf| buf.push_str(&cx.netns)),
            Column::Container => container_cell(grid, cx, o.owners()),
            Column::Netid => grid.text(o.netid()),
            Column::State => grid.text("UNCONN"),
            Column::RecvQ => opt_number(grid, recv_q),
            Column::SendQ => opt_number(grid, send_q),
            Column::Local => {
                let text = match o {
                    OtherSocket::Packet(p) => {
                        let mut t = if p.protocol == ETH_P_ALL {
                            "*".to_owned()
                        } else {
                            format!("[{}]", p.protocol)
                        };
                        t.push(':');
                        match p.ifindex {
                            Some(i) if i != 0 => t.push_str(&escape(cx.names.get(i))),
                            _ => t.push('*'),
                        }
                        t
                    }
                    // ss prints the port id as an int: -1 is `*`.
                    OtherSocket::Netlink(n) if n.portid == u32::MAX => {
                        format!("{}:*", n.protocol)
                    }
                    OtherSocket::Netlink(n) => format!("{}:{}", n.protocol, n.portid),
                };
                grid.cell(|buf| buf.push_str(&text));
            }
            Column::Peer => match o {
                OtherSocket::Netlink(n) if n.connected => grid.cell(|buf| {
                    let _ = write!(buf, "{}:{}", n.dst_group, n.dst_portid);
                }),
                _ => grid.text("*"),
            },
            Column::Timer | Column::V6only => grid.text(""),
            Column::Uid => uid_cell(grid, uid, cx.users),
            Column::Inode => grid.number(o.inode()),
            Column::Cookie => cookie_cell(grid, cookie),
            Column::Process => {
                grid.free_cell(|buf| owner_list(buf, o.owners().unwrap_or_default(), cx.cmdline))
            }
        }
    }

    /// The cell of a UNIX socket, as ss -x: `path inode` for the local end
    /// (`*` when unbound), `peer-path peer-inode` for the other (ss prints
    /// `*` for the peer's name; sockscope names it when the peer is
    /// listed).
    fn unix(self, grid: &mut Grid, u: &UnixSocket, cx: &mut CellContext<'_>) {
        match self {
            Column::Netns => grid.cell(|buf| buf.push_str(&cx.netns)),
            Column::Container => container_cell(grid, cx, u.owners.as_deref()),
            Column::Netid => grid.text(u.kind.netid()),
            Column::State => grid.text(u.state_name()),
            Column::RecvQ => opt_number(grid, u.recv_q),
            Column::SendQ => opt_number(grid, u.send_q),
            // A path is free text: cut to fit a terminal, as a process list.
            Column::Local => grid.free_cell(|buf| {
                match &u.path {
                    Some(p) => buf.push_str(&escape_bytes(p)),
                    None => buf.push('*'),
                }
                buf.push(' ');
                push_int(buf, u.inode);
            }),
            Column::Peer => grid.free_cell(|buf| {
                match &u.peer_path {
                    Some(p) => buf.push_str(&escape_bytes(p)),
                    None => buf.push('*'),
                }
                buf.push(' ');
                match u.peer_inode {
                    Some(i) => push_int(buf, i),
                    None => buf.push('-'),
                }
            }),
            Column::Timer | Column::V6only => grid.text(""),
            Column::Uid => uid_cell(grid, u.uid, cx.users),
            Column::Inode => grid.number(u.inode),
            Column::Cookie => cookie_cell(grid, u.cookie),
            Column::Process => grid.free_cell(|buf| {
                owner_list(buf, u.owners.as_deref().unwrap_or_default(), cx.cmdline)
            }),
        }
    }
}

/// The Container cell: the owner's container, else the namespace's, or
/// `-`.
fn container_cell(grid: &mut Grid, cx: &mut CellContext<'_>, owners: Option<&[Owner]>) {
    let Some(c) = cx.place.as_ref().and_then(|p| p.container_of(owners)) else {
        grid.text("-");
        return;
    };
    // Each container's escaped label is made once, not once per row.
    let label = cx
        .containers
        .entry(std::sync::Arc::as_ptr(c) as usize)
        .or_insert_with(|| escape(&c.label()).into_owned());
    grid.cell(|buf| buf.push_str(label));
}

/// A number, or `-` where the source cannot tell.
fn opt_number(grid: &mut Grid, n: Option<u32>) {
    match n {
        Some(n) => grid.number(n),
        None => grid.text("-"),
    }
}

/// The -e UID cell: a user name with -r, the uid, or `-`.
fn uid_cell(grid: &mut Grid, uid: Option<u32>, users: Option<&Users>) {
    match (uid, users.and_then(|db| uid.and_then(|id| db.name(id)))) {
        (_, Some(name)) => grid.cell(|buf| buf.push_str(&escape(name))),
        (Some(id), None) => grid.number(id),
        (None, None) => grid.text("-"),
    }
}

/// The -e Cookie cell: hex, or `-` from /proc.
fn cookie_cell(grid: &mut Grid, cookie: Option<u64>) {
    match cookie {
        Some(c) => grid.cell(|buf| {
            let _ = write!(buf, "{c:x}");
        }),
        None => grid.text("-"),
    }
}

/// Rows laid out in the columns of [`Column::list`]; [`TableWriter::flush`]
/// writes what it holds and keeps the column widths, so a long table can
/// be written in batches: [`TableWriter::fix_widths`] first sets every
/// column to what it can hold, so that the rows of later batches line up
/// with the first.
pub struct TableWriter<'a> {
    grid: Grid,
    opts: &'a TableOptions,
    columns: Vec<Column>,
    cx: CellContext<'a>,
    /// The widest cell each column can hold (0: unbounded, or the last
    /// column, which is never padded); worked out by the first
    /// [`TableWriter::fix_widths`], so a table of one batch never lists the
    /// interfaces for it.
    capacity: Option<Vec<usize>>,
}

impl<'a> TableWriter<'a> {
    pub fn new(
        opts: &'a TableOptions,
        services: Option<&'a Services>,
        users: Option<&'a Users>,
        rows: usize,
    ) -> TableWriter<'a> {
        let columns = Column::list(opts);
        let mut grid = Grid::with_capacity(columns.iter().map(|c| c.align()).collect(), rows);
        grid.fit(opts.width);
        for (i, column) in columns.iter().enumerate() {
            if matches!(column, Column::Local | Column::Peer) {
                grid.cap(i, super::grid::ADDRESS_CAP);
            }
        }
        if opts.header {
            for column in &columns {
                grid.text(column.header());
            }
        }
        TableWriter {
            grid,
            opts,
            columns,
            cx: CellContext {
                services,
                users,
                names: IfNames::default(),
                // Service names are there with -r only.
                hosts: services.map(|_| crate::source::hosts::HostNames::new()),
                cmdline: opts.cmdline,
                place: None,
                netns: String::new(),
                containers: HashMap::new(),
            },
            capacity: None,
        }
    }

    /// Sets every column at least as wide as anything it can hold, for a
    /// table written in batches: the widths of the first batch alone would
    /// not fit later rows (IPv6 rows come after IPv4 ones). Names from
    /// outside (-r service and user names, UNIX paths) have no such bound:
    /// a longer one still widens its column from its row on.
    pub fn fix_widths(&mut self) {
        let (columns, opts) = (&self.columns, self.opts);
        let capacity = self.capacity.get_or_insert_with(|| {
            let cap = Capacity::new(opts);
            columns.iter().map(|c| c.capacity(&cap)).collect()
        });
        self.grid.widen(capacity);
    }

    /// The rows that follow come from `place`: its name for the Netns
    /// column, its interfaces for `%dev` (looked up again inside it).
    pub fn enter(&mut self, place: &Place) {
        self.cx.netns = escape(&place.netns.label()).into_owned();
        self.cx.place = Some(place.clone());
        self.cx.names = IfNames::default();
    }

    /// Rows held, not yet written.
    pub fn pending(&self) -> usize {
        self.grid.rows()
    }

    /// Writes the rows held and forgets them, keeping the widths.
    pub fn flush(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.grid.write(out)?;
        self.grid.clear();
        Ok(())
    }

    /// [`TableWriter::flush`], each row's line starting with its mark
    /// (the header, when held, is a row too: give it its blank mark).
    pub fn flush_marked(&mut self, out: &mut dyn Write, marks: &[&str]) -> io::Result<()> {
        self.grid.write_marked(out, marks)?;
        self.grid.clear();
        Ok(())
    }

    /// Adds one inet socket, and its -i/-m line under it.
    pub fn row(&mut self, s: &Socket) {
        for column in &self.columns {
            column.inet(&mut self.grid, s, &mut self.cx);
        }
        let opts = self.opts;
        if let (true, Some(x)) = (opts.info || opts.memory, &s.extras) {
            let mut line = String::new();
            if let (true, Some(m)) = (opts.memory, &x.mem) {
                line.push(' ');
                line.push_str(&skmem_text(m));
            }
            if let (true, Some(i)) = (opts.info, &x.tcp_info) {
                let cong = x.congestion.as_deref();
                line.push_str(&if opts.timers {
                    tcp_info_text_with_options(i, cong)
                } else {
                    tcp_info_text(i, cong)
                });
            }
            if !line.is_empty() {
                let line = escape(&line).into_owned();
                if opts.oneline {
                    self.grid.detail_joined(line);
                } else {
                    self.grid.detail(line);
                }
            }
        }
    }

    /// Adds one UNIX socket, in the same columns.
    pub fn unix_row(&mut self, u: &UnixSocket) {
        for column in &self.columns {
            column.unix(&mut self.grid, u, &mut self.cx);
        }
    }

    /// Adds one packet or netlink socket, in the same columns, and under a
    /// packet socket its BPF program when the kernel sent it (-b), as ss:
    /// `bpf filter (N):  0xCODE JT JF K, ...`.
    pub fn other_row(&mut self, o: &OtherSocket) {
        for column in &self.columns {
            column.other(&mut self.grid, o, &mut self.cx);
        }
        if let OtherSocket::Packet(p) = o
            && let Some(filter) = &p.filter
        {
            let mut line = format!("bpf filter ({}): ", filter.len());
            for i in filter {
                let _ = write!(line, " 0x{:02x} {} {} {},", i.code, i.jt, i.jf, i.k);
            }
            self.grid.detail(line);
        }
    }
}

/// Decimal digits of the largest u32 (queues, uids, inodes).
const U32_DIGITS: usize = 10;

/// The widest cell of the bounded columns, for the options shown.
struct Capacity {
    netid: usize,
    state: usize,
    local: usize,
    peer: usize,
    timer: usize,
    uid: usize,
    netns: NetnsWidths,
}

impl Capacity {
    fn new(opts: &TableOptions) -> Capacity {
        use crate::model::{Protocol, TcpState, TimerKind, UnixKind};
        let netid = Protocol::ALL
            .iter()
            .map(|p| p.name().len())
            // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET.
            .chain(
                [1, 2, 5]
                    .into_iter()
                    .filter_map(UnixKind::from_kernel)
                    .map(|k| k.netid().len()),
            )
            .max()
            .unwrap_or(0);
        let state = Protocol::ALL
            .iter()
            .flat_map(|&p| TcpState::ALL.iter().map(move |s| s.name_for(p).len()))
            .max()
            .unwrap_or(0);
        // `[ffff:...:ffff]` (8 groups of 4 and 7 colons, in brackets) or
        // `255.255.255.255`, then `:65535`; a service name (-r) may be
        // longer and is not bounded here.
        let addr = if opts.ipv6 { 2 + 8 * 4 + 7 } else { 15 };
        let port = 1 + 5;
        // A bound device: `%` and the longest interface name there is.
        let dev = longest_ifname().map_or(0, |n| 1 + n);
        let timer = [
            TimerKind::On,
            TimerKind::KeepAlive,
            TimerKind::TimeWait,
            TimerKind::Persist,
        ]
        .iter()
        .map(|k| timer_text(k.name(), u64::MAX, u32::MAX).len())
        .max()
        .unwrap_or(0);
        Capacity {
            netid,
            state,
            local: addr + dev + port,
            peer: addr + port,
            timer,
            // A user name (-r -e) has no bound.
            uid: U32_DIGITS,
            netns: opts.netns.unwrap_or_default(),
        }
    }
}

/// The width of the longest interface name of this network namespace, as
/// the table shows it (escaped); None when they cannot be listed.
fn longest_ifname() -> Option<usize> {
    let all = crate::source::ifaces::Interfaces::read().ok()?;
    Some(all.names().map(|n| escape(&n).width()).max().unwrap_or(0))
}

/// The Process column: `comm/pid fd=N` per owner, comma-separated (with
/// `[cmdline]` after each when asked); for a connection waiting in a
/// listener's queue, `(accept queue of comm/pid)`, or `(accept queue of
/// one of comm/pid, comm/pid)` when the kernel's data cannot tell which
/// listener of several holds it. Names are quoted when they hold a
/// separator ([`push_name`]), so the column reads one way only.
pub fn process(buf: &mut String, s: &Socket, cmdline: bool) {
    owner_list(buf, s.owners.as_deref().unwrap_or_default(), cmdline);
    if let Some(q) = &s.queue {
        let _ = write!(buf, "({} queue of ", q.kind.name());
        if q.attribution == Attribution::OneOf {
            buf.push_str("one of ");
        }
        if q.listener_owners.is_empty() {
            let _ = write!(buf, "listener {}", q.listener);
        }
        for (i, o) in q.listener_owners.iter().enumerate() {
            if i > 0 {
                buf.push_str(", ");
            }
            owner(buf, o);
        }
        buf.push(')');
    }
}

/// `comm/pid fd=N` for each owner, comma-separated (`[cmdline]` after each
/// when asked).
fn owner_list(buf: &mut String, owners: &[Owner], cmdline: bool) {
    for (i, o) in owners.iter().enumerate() {
        if i > 0 {
            buf.push_str(", ");
        }
        owner(buf, o);
        if let Some(tid) = o.tid {
            buf.push_str(" tid=");
            push_int(buf, tid);
        }
        buf.push_str(" fd=");
        push_int(buf, o.fd);
        if let (true, Some(cmd)) = (cmdline, &o.cmdline) {
            buf.push_str(" [");
            push_name(buf, cmd, Field::Cmdline);
            buf.push(']');
        }
    }
}

/// `comm/pid`: the name escaped, and quoted when it holds a separator.
pub fn owner(buf: &mut String, o: &Owner) {
    push_name(buf, &o.comm, Field::Comm);
    buf.push('/');
    push_int(buf, o.pid);
}

/// Where a name stands in an owner list, which decides what separates it
/// from what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A process name, before `/pid`, in a `, `-separated list that may sit
    /// inside `(accept queue of ...)`.
    Comm,
    /// A command line, inside `[...]`.
    Cmdline,
}

impl Field {
    /// Characters that would make an unquoted name read as more than one
    /// part (README, "Owners"): for a process name white space printed as
    /// such (TAB, LF and the other controls are escaped to `\xNN` and
    /// separate nothing), `,`, `/`, `(`, `)`; for a command line `]`. `"`
    /// and `\` always, since they are the quoting's own characters.
    fn separates(self, c: char) -> bool {
        c == '"'
            || c == '\\'
            || match self {
                Field::Comm => {
                    (c.is_whitespace() && !needs_escape(c)) || matches!(c, ',' | '/' | '(' | ')')
                }
                Field::Cmdline => c == ']',
            }
    }
}

/// Writes `name` escaped ([`escape`]); when it is empty or holds a
/// separator of `field`, in double quotes with a `"` inside written `\"`
/// (a backslash is already `\\` by the escaping), as ss quotes its
/// `users:(("name",...))`. So an unquoted name never holds a separator, a
/// quoted one ends at the first `"` that no backslash escapes (read left to
/// right, a `\` takes what follows it), and an ordinary name
/// (`nginx/100 fd=3`) is printed as before.
pub fn push_name(buf: &mut String, name: &str, field: Field) {
    let shown = escape(name);
    if !name.is_empty() && !name.chars().any(|c| field.separates(c)) {
        buf.push_str(&shown);
        return;
    }
    buf.push('"');
    for c in shown.chars() {
        if c == '"' {
            buf.push('\\');
        }
        buf.push(c);
    }
    buf.push('"');
}

/// Writes `ADDR:PORT` as ss prints it: IPv6 in brackets, the IPv6 wildcard
/// that also accepts IPv4 as `*`, port 0 as `*`, a bound device as `%dev`
/// after the address.
pub fn endpoint(
    buf: &mut String,
    s: &Socket,
    addr: SocketAddr,
    dev: Option<&str>,
    services: Option<&Services>,
) {
    endpoint_as(buf, s, addr, None, dev, services)
}

/// -r: the host name of `addr` (an IPv4-mapped address by its IPv4 one,
/// as ss asks), when it has one.
fn host_name(
    hosts: &mut Option<crate::source::hosts::HostNames>,
    addr: SocketAddr,
) -> Option<String> {
    let hosts = hosts.as_mut()?;
    hosts.name(addr.ip().to_canonical()).map(str::to_owned)
}

/// [`endpoint`], with the address shown as `host` when it has a name
/// (ss -r: the name, escaped, without brackets).
fn endpoint_as(
    buf: &mut String,
    s: &Socket,
    addr: SocketAddr,
    host: Option<&str>,
    dev: Option<&str>,
    services: Option<&Services>,
) {
    match (host, addr) {
        (Some(name), _) => buf.push_str(&escape(name)),
        (None, SocketAddr::V4(a)) => push_ipv4(buf, a.ip().octets()),
        // Only a wildcard known to take IPv4 (/proc cannot tell: `[::]`).
        (None, SocketAddr::V6(a))
            if a.ip().is_unspecified() && s.dual_stack() == DualStack::Yes =>
        {
            buf.push('*')
        }
        (None, SocketAddr::V6(a)) => {
            let _ = write!(buf, "[{}]", a.ip());
        }
    }
    if let Some(dev) = dev {
        buf.push('%');
        buf.push_str(&escape(dev));
    }
    buf.push(':');
    match (
        addr.port(),
        services.and_then(|db| db.name(s.proto, addr.port())),
    ) {
        (0, _) => buf.push('*'),
        (_, Some(name)) => buf.push_str(&escape(name)),
        (port, None) => push_int(buf, port),
    }
}

/// a.b.c.d without the formatting machinery.
fn push_ipv4(buf: &mut String, o: [u8; 4]) {
    for (i, b) in o.into_iter().enumerate() {
        if i > 0 {
            buf.push('.');
        }
        push_int(buf, b);
    }
}

/// Interface names by index, looked up once each.
#[derive(Default)]
struct IfNames(HashMap<u32, String>);

impl IfNames {
    fn get(&mut self, index: u32) -> &str {
        self.0.entry(index).or_insert_with(|| ifname(index))
    }
}

fn ifname(index: u32) -> String {
    crate::source::ifaces::name_of(index).unwrap_or_else(|| index.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;

    fn sock(local: &str, remote: &str, v6only: Option<bool>) -> Socket {
        Socket {
            recv_q: 1,
            send_q: Some(128),
            inode: 7,
            cookie: Some(0xab),
            ifindex: Some(0),
            v6only,
            ..Socket::test_tcp(TcpState::Listen, local, remote)
        }
    }

    fn endpoint(
        s: &Socket,
        addr: SocketAddr,
        dev: Option<&str>,
        services: Option<&Services>,
    ) -> String {
        let mut buf = String::new();
        super::endpoint(&mut buf, s, addr, dev, services);
        buf
    }

    #[test]
    fn endpoints_look_like_ss() {
        let s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, None), "0.0.0.0:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "0.0.0.0:*");
        let s = sock("[::]:22", "[::]:0", Some(false));
        assert_eq!(endpoint(&s, s.local, None, None), "*:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "*:*");
        let s = sock("[::]:22", "[::]:0", Some(true));
        assert_eq!(endpoint(&s, s.local, None, None), "[::]:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "[::]:*");
        // v6only unknown (/proc): what the source knows, not a claim of IPv4.
        let s = sock("[::]:22", "[::]:0", None);
        assert_eq!(endpoint(&s, s.local, None, None), "[::]:22");
        assert_eq!(endpoint(&s, s.remote, None, None), "[::]:*");
        let s = sock("[::ffff:127.0.0.1]:80", "[::1]:4000", None);
        assert_eq!(endpoint(&s, s.local, None, None), "[::ffff:127.0.0.1]:80");
        let s = sock("127.0.0.1:53", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, Some("lo"), None), "127.0.0.1%lo:53");
        assert_eq!(
            endpoint(&s, s.local, Some("e\x1bvil"), None),
            "127.0.0.1%e\\x1bvil:53"
        );
    }

    fn owner_named(comm: &str, pid: u32, fd: u32, cmdline: Option<&str>) -> Owner {
        Owner {
            pid,
            fd,
            tid: None,
            comm: comm.into(),
            cmdline: cmdline.map(Into::into),
            raw: None,
        }
    }

    #[test]
    fn names_with_separators_are_quoted() {
        let list = |owners: &[Owner], cmdline: bool| {
            let mut buf = String::new();
            owner_list(&mut buf, owners, cmdline);
            buf
        };
        let plain = owner_named("nginx", 100, 3, Some("nginx: master process"));
        assert_eq!(list(std::slice::from_ref(&plain), false), "nginx/100 fd=3");
        assert_eq!(
            list(std::slice::from_ref(&plain), true),
            "nginx/100 fd=3 [nginx: master process]"
        );
        let forged = owner_named("nginx/1 fd=3, a", 7, 4, Some("x], b/2 fd=5 [y"));
        assert_eq!(
            list(&[forged.clone(), plain], true),
            r#""nginx/1 fd=3, a"/7 fd=4 ["x], b/2 fd=5 [y"], nginx/100 fd=3 [nginx: master process]"#
        );
        for (name, shown) in [
            ("", r#""""#),
            ("a\"b", r#""a\"b""#),
            ("a\\b", r#""a\\b""#),
            ("(x)", r#""(x)""#),
            ("a\tb", r"a\x09b"),
            ("a b", r#""a b""#),
            ("a\u{a0}b", "\"a\u{a0}b\""),
            ("e\u{1b}[2J", r"e\x1b[2J"),
            ("café", "café"),
        ] {
            let mut buf = String::new();
            push_name(&mut buf, name, Field::Comm);
            assert_eq!(buf, shown, "{name:?}");
        }
        let mut buf = String::new();
        push_name(&mut buf, "sh -c a/b", Field::Cmdline);
        assert_eq!(buf, "sh -c a/b");
    }

    #[test]
    fn service_names_with_r() {
        let db = Services::from_reader("ssh 22/tcp\n".as_bytes()).unwrap();
        let s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, Some(&db)), "0.0.0.0:ssh");
        let s = sock("0.0.0.0:2222", "0.0.0.0:0", None);
        assert_eq!(endpoint(&s, s.local, None, Some(&db)), "0.0.0.0:2222");
    }

    #[test]
    fn table_layout() {
        let socks = vec![
            sock("0.0.0.0:22", "0.0.0.0:0", None),
            sock("[::]:8080", "[::]:0", Some(false)),
        ];
        let opts = TableOptions {
            header: true,
            extended: false,
            netid: false,
            processes: false,
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
        };
        let mut out = Vec::new();
        write(&mut out, &socks, &[], &opts, None, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("State"), "{text}");
        assert!(lines[1].starts_with("LISTEN"), "{text}");
        assert!(
            lines[2].contains("*:8080") && lines[2].contains("*:*"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn unknown_backlog_and_extended() {
        let mut s = sock("0.0.0.0:22", "0.0.0.0:0", None);
        s.send_q = None;
        s.cookie = None;
        let opts = TableOptions {
            header: false,
            extended: true,
            netid: true,
            processes: false,
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
        };
        let mut out = Vec::new();
        write(&mut out, &[s], &[], &opts, None, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let cols: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            cols,
            [
                "tcp",
                "LISTEN",
                "1",
                "-",
                "0.0.0.0:22",
                "0.0.0.0:*",
                "0",
                "7",
                "-"
            ]
        );
    }
}
