//! The scenario builders: loopback sockets put into known TCP/UDP states
//! (LISTEN, ESTABLISHED, SYN_RECV, SYN_SENT, FIN_WAIT1/2, CLOSE_WAIT,
//! LAST_ACK, CLOSING, TIME_WAIT, UDP UNCONN/ESTABLISHED, ...), held open by a
//! [`Scenario`] that records the [`Row`]s `ss` is expected to show for them.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::oracle::wait_for_tcp;
use super::rows::{Row, canonical_addr, diff_rows, endpoint_port};
use super::sandbox::{Env, raise_nofile_limit};
use super::sockets::{
    ListenOpts, connect_nonblocking, cvt, fill_send_buffer, make_tcp_listener, make_udp_socket,
    new_socket, to_sockaddr,
};

/// How long builders wait for the kernel to reach an expected TCP state.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

enum Holder {
    Listener(TcpListener),
    Stream(TcpStream),
    Udp(UdpSocket),
    Fd(OwnedFd),
}

impl Holder {
    fn raw_fd(&self) -> RawFd {
        match self {
            Holder::Listener(l) => l.as_raw_fd(),
            Holder::Stream(s) => s.as_raw_fd(),
            Holder::Udp(u) => u.as_raw_fd(),
            Holder::Fd(f) => f.as_raw_fd(),
        }
    }
}

/// One socket a [`Scenario`] expects to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The row it should produce.
    pub row: Row,
    /// The descriptor in this process that owns it, or `None` when no process
    /// owns it (TIME_WAIT, orphaned FIN_WAIT2, SYN_RECV request sockets and
    /// connections still in a listener's accept queue; ss shows inode 0 there).
    pub fd: Option<RawFd>,
    /// `false` for sockets ss 6.1 never lists (a TCP socket that is only bound).
    pub ss_visible: bool,
}

/// A listener known to a scenario.
struct ListenerInfo {
    addr: SocketAddr,
    holder: usize,
    pending: usize,
    defer_accept: bool,
}

/// The two ends of a TCP connection built by a [`Scenario`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// Client's local address.
    pub client: SocketAddr,
    /// Server side's local address (for an IPv4 client of a dual-stack listener
    /// this is the v4-mapped `[::ffff:127.0.0.1]:port`).
    pub server: SocketAddr,
    /// The listener the connection was made to.
    pub listener: SocketAddr,
}

/// A set of loopback sockets in known states plus the rows `ss` should show for
/// them. Keeps every descriptor open until dropped. Build it on the sandbox
/// thread (sockets join the namespace of the thread that creates them). Every
/// port is ephemeral, so scenarios in the shared namespace do not collide.
#[derive(Default)]
pub struct Scenario {
    holders: Vec<Holder>,
    expected: Vec<Expected>,
    listeners: Vec<ListenerInfo>,
    index: OnceCell<HashMap<String, Vec<(String, String)>>>,
}

fn wildcard_peer(local: SocketAddr) -> SocketAddr {
    match local {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// Address a client should connect to for a listener bound to `addr`.
fn connect_target(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// The address as an IPv6 socket sees it: v4 becomes v4-mapped when `v6` is set.
fn as_seen_by(addr: SocketAddr, v6: bool) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if v6 => SocketAddr::new(IpAddr::V6(a.ip().to_ipv6_mapped()), a.port()),
        other => other,
    }
}

fn settle(present: &[Row], absent: &[(String, String)], what: &str) {
    if let Err(e) = wait_for_tcp(present, absent, SETTLE_TIMEOUT) {
        panic!("{what}: kernel did not reach the expected states: {e}");
    }
}

impl Scenario {
    /// An empty scenario.
    pub fn new() -> Scenario {
        Scenario::default()
    }

    fn hold(&mut self, h: Holder) -> usize {
        self.holders.push(h);
        self.holders.len() - 1
    }

    fn expect(&mut self, row: Row, fd: Option<RawFd>) -> Row {
        self.push_expected(Expected {
            row: row.clone(),
            fd,
            ss_visible: true,
        });
        row
    }

    fn push_expected(&mut self, e: Expected) {
        self.expected.push(e);
        self.index = OnceCell::new();
    }

    fn listener_mut(&mut self, addr: SocketAddr) -> &mut ListenerInfo {
        self.listeners
            .iter_mut()
            .find(|l| l.addr == addr)
            .unwrap_or_else(|| panic!("{addr} is not a listener of this scenario"))
    }

    fn listener_ref(&self, addr: SocketAddr) -> &TcpListener {
        let l = self
            .listeners
            .iter()
            .find(|l| l.addr == addr)
            .unwrap_or_else(|| panic!("{addr} is not a listener of this scenario"));
        match &self.holders[l.holder] {
            Holder::Listener(t) => t,
            _ => unreachable!("listener holder"),
        }
    }

    // ----- listeners -------------------------------------------------------

    /// A TCP listener on `addr` (use port 0) with `opts`; returns its bound address.
    /// Expected row: `LISTEN addr -> 0.0.0.0:0` (or `[::]:0`).
    pub fn listen_with(&mut self, addr: SocketAddr, opts: ListenOpts) -> SocketAddr {
        let l = make_tcp_listener(addr, opts)
            .unwrap_or_else(|e| panic!("listen on {addr} ({opts:?}): {e}"));
        let local = l.local_addr().expect("listener local_addr");
        let fd = l.as_raw_fd();
        let holder = self.hold(Holder::Listener(l));
        self.listeners.push(ListenerInfo {
            addr: local,
            holder,
            pending: 0,
            defer_accept: opts.defer_accept_secs.is_some(),
        });
        self.expect(
            Row::from_addrs("tcp", "LISTEN", local, wildcard_peer(local)),
            Some(fd),
        );
        local
    }

    /// Listener on `127.0.0.1:0`.
    pub fn listen_v4(&mut self) -> SocketAddr {
        self.listen_v4_on(Ipv4Addr::LOCALHOST)
    }

    /// Listener on `ip:0` (any 127.0.0.0/8 address works on `lo`).
    pub fn listen_v4_on(&mut self, ip: Ipv4Addr) -> SocketAddr {
        self.listen_with(SocketAddr::new(ip.into(), 0), ListenOpts::default())
    }

    /// Listener on `0.0.0.0:0` (ss: `0.0.0.0:P`); clients connect via 127.0.0.1.
    pub fn listen_v4_any(&mut self) -> SocketAddr {
        self.listen_v4_on(Ipv4Addr::UNSPECIFIED)
    }

    /// Listener on `[::1]:0`.
    pub fn listen_v6_loopback(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0),
            ListenOpts {
                v6only: Some(true),
                ..ListenOpts::default()
            },
        )
    }

    /// Listener on `[::]:0` with IPV6_V6ONLY=1 (ss: `[::]:P`).
    pub fn listen_v6_only(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            ListenOpts {
                v6only: Some(true),
                ..ListenOpts::default()
            },
        )
    }

    /// Dual-stack listener on `[::]:0` with IPV6_V6ONLY=0 (ss: `*:P`, canonical
    /// `[::]:P`: the canonical form does not distinguish it from v6-only).
    pub fn listen_dual(&mut self) -> SocketAddr {
        self.listen_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            ListenOpts {
                v6only: Some(false),
                ..ListenOpts::default()
            },
        )
    }

    // ----- connections -----------------------------------------------------

    fn connect_blocking(target: SocketAddr) -> TcpStream {
        TcpStream::connect_timeout(&target, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to {target}: {e}"))
    }

    /// Accepts the connection whose peer is `client` (bounded wait).
    fn accept_from(&mut self, listener: SocketAddr, client: SocketAddr) -> TcpStream {
        let info = self.listener_mut(listener);
        assert!(
            info.pending == 0,
            "listener {listener} has {} unaccepted connection(s) queued; accept() is FIFO, \
             so use a separate listener for accepted pairs",
            info.pending
        );
        assert!(
            !info.defer_accept,
            "listener {listener} uses TCP_DEFER_ACCEPT; connections without data are never \
             accepted"
        );
        let l = self.listener_ref(listener);
        l.set_nonblocking(true).expect("listener nonblocking");
        let start = Instant::now();
        let accepted = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(
                        start.elapsed() < Duration::from_secs(5),
                        "accept on {listener}: nothing arrived within 5 s"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("accept on {listener}: {e}"),
            }
        };
        l.set_nonblocking(false).expect("listener blocking");
        accepted.set_nonblocking(false).expect("accepted blocking");
        let peer = accepted.peer_addr().expect("accepted peer_addr");
        assert_eq!(
            canonical_addr(peer),
            canonical_addr(as_seen_by(client, listener.is_ipv6())),
            "accept on {listener} returned an unexpected connection"
        );
        accepted
    }

    /// Connects to `listener` via `target` and accepts; returns both streams and the
    /// addresses (no rows recorded).
    fn raw_pair(
        &mut self,
        listener: SocketAddr,
        target: SocketAddr,
    ) -> (TcpStream, TcpStream, Conn) {
        let client = Self::connect_blocking(target);
        let client_addr = client.local_addr().expect("client local_addr");
        let server = self.accept_from(listener, client_addr);
        let server_addr = server.local_addr().expect("server local_addr");
        (
            client,
            server,
            Conn {
                client: client_addr,
                server: server_addr,
                listener,
            },
        )
    }

    fn conn_rows(conn: &Conn, client_state: &str, server_state: &str) -> (Row, Row) {
        let client_peer = as_seen_by(conn.server, false);
        // The client's view of the server: for a v4 client of a dual listener the
        // server's local address is mapped, the client sees plain v4.
        let client_peer = match (conn.client, client_peer) {
            (SocketAddr::V4(_), SocketAddr::V6(s)) => match s.ip().to_ipv4_mapped() {
                Some(v4) => SocketAddr::new(v4.into(), s.port()),
                None => client_peer,
            },
            _ => client_peer,
        };
        (
            Row::from_addrs("tcp", client_state, conn.client, client_peer),
            Row::from_addrs(
                "tcp",
                server_state,
                conn.server,
                as_seen_by(conn.client, conn.server.is_ipv6()),
            ),
        )
    }

    /// Connect + accept: both sides ESTABLISHED, both owned by this process.
    /// Connects to the listener's own address, or loopback for a wildcard one.
    pub fn established_pair(&mut self, listener: SocketAddr) -> Conn {
        self.established_pair_via(listener, connect_target(listener).ip())
    }

    /// [`Scenario::established_pair`] connecting to `ip` (e.g. 127.0.0.1 for a
    /// dual-stack listener: the server side then shows `[::ffff:127.0.0.1]`).
    pub fn established_pair_via(&mut self, listener: SocketAddr, ip: IpAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, SocketAddr::new(ip, listener.port()));
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "ESTABLISHED");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow, Some(cfd));
        self.expect(srow, Some(sfd));
        conn
    }

    /// IPv4 client (127.0.0.1) to a dual-stack listener ([`Scenario::listen_dual`]).
    pub fn established_v4_to_dual(&mut self, listener: SocketAddr) -> Conn {
        self.established_pair_via(listener, Ipv4Addr::LOCALHOST.into())
    }

    /// Connect, never accept: client ESTABLISHED (owned); server side ESTABLISHED,
    /// sitting in the accept queue, inode 0 / no owner. Later accepted pairs on
    /// the same listener are refused (accept is FIFO).
    pub fn unaccepted(&mut self, listener: SocketAddr) -> Conn {
        let target = connect_target(listener);
        let client = Self::connect_blocking(target);
        let client_addr = client.local_addr().expect("client local_addr");
        let conn = Conn {
            client: client_addr,
            server: as_seen_by(target, listener.is_ipv6()),
            listener,
        };
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "ESTABLISHED");
        self.listener_mut(listener).pending += 1;
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), None);
        settle(&[crow, srow], &[], "unaccepted");
        conn
    }

    /// A dedicated listener on `ip` with TCP_DEFER_ACCEPT (300 s) and a client that
    /// connects and sends nothing: client ESTABLISHED (owned); server side stays a
    /// SYN_RECV request socket (no owner) for minutes; listener LISTEN.
    pub fn syn_recv(&mut self, ip: IpAddr) -> Conn {
        let listener = self.listen_with(
            SocketAddr::new(ip, 0),
            ListenOpts {
                v6only: Some(true),
                defer_accept_secs: Some(300),
                ..ListenOpts::default()
            },
        );
        let client = Self::connect_blocking(listener);
        let conn = Conn {
            client: client.local_addr().expect("client local_addr"),
            server: listener,
            listener,
        };
        let (crow, srow) = Self::conn_rows(&conn, "ESTABLISHED", "SYN_RECV");
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), None);
        settle(&[crow, srow], &[], "syn_recv");
        conn
    }

    /// A dedicated listener on `ip` with backlog 0 whose accept queue is filled by
    /// one unaccepted connection (both ESTABLISHED), then a non-blocking connect
    /// whose SYNs are dropped: that client stays SYN_SENT (owned) until the
    /// kernel gives up (~2 min with tcp_syn_retries=6). Returns the SYN_SENT one.
    pub fn syn_sent(&mut self, ip: IpAddr) -> Conn {
        let listener = self.listen_with(
            SocketAddr::new(ip, 0),
            ListenOpts {
                v6only: Some(true),
                backlog: 0,
                ..ListenOpts::default()
            },
        );
        self.unaccepted(listener);
        let client = connect_nonblocking(listener)
            .unwrap_or_else(|e| panic!("non-blocking connect to {listener}: {e}"));
        let conn = Conn {
            client: client.local_addr().expect("client local_addr"),
            server: listener,
            listener,
        };
        let (crow, _) = Self::conn_rows(&conn, "SYN_SENT", "-");
        let cfd = client.as_raw_fd();
        self.hold(Holder::Stream(client));
        self.expect(crow.clone(), Some(cfd));
        settle(&[crow], &[], "syn_sent");
        conn
    }

    /// Accepted pair, then the client half-closes (`shutdown(Write)`, keeping its
    /// fd): client FIN_WAIT2 (owned, no timeout), server CLOSE_WAIT (owned).
    pub fn close_wait_fin_wait2(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "close_wait_fin_wait2");
        conn
    }

    /// Accepted pair, then the client close()s: client becomes an orphaned
    /// FIN_WAIT2 (kept as a timewait-type socket: no owner, inode 0, gone after
    /// tcp_fin_timeout = 60 s); server CLOSE_WAIT (owned).
    pub fn orphan_fin_wait2(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        drop(client);
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        let sfd = server.as_raw_fd();
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), None);
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "orphan_fin_wait2");
        conn
    }

    /// Accepted pair; the client closes first, then the server: the client side
    /// ends in TIME_WAIT (no owner, 60 s), the server side disappears. Waits (≤ 2 s)
    /// until that is visible.
    pub fn time_wait(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        drop(client);
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        settle(&[crow, srow.clone()], &[], "time_wait (first close)");
        drop(server);
        let (crow, _) = Self::conn_rows(&conn, "TIME_WAIT", "-");
        self.expect(crow.clone(), None);
        settle(&[crow], &[(srow.local, srow.remote)], "time_wait");
        conn
    }

    /// Accepted pair where the server does not read, the client fills its send
    /// queue and then half-closes: the FIN stays queued behind the data, so the
    /// client stays FIN_WAIT1 (owned) and the server ESTABLISHED (owned).
    pub fn fin_wait1(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&client).expect("fill client send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT1", "ESTABLISHED");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "fin_wait1");
        conn
    }

    /// Accepted pair where the client does not read and the server fills its send
    /// queue; the client half-closes (server CLOSE_WAIT), then the server
    /// half-closes with its FIN stuck behind the data: server LAST_ACK (owned),
    /// client FIN_WAIT2 (owned).
    pub fn last_ack(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&server).expect("fill server send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "CLOSE_WAIT");
        settle(&[crow, srow], &[], "last_ack (client FIN)");
        server.shutdown(Shutdown::Write).expect("server shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "FIN_WAIT2", "LAST_ACK");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "last_ack");
        conn
    }

    /// Simultaneous close: the client's FIN is stuck behind unsent data (server
    /// not reading) while the server's FIN goes through: client CLOSING (owned),
    /// server FIN_WAIT2 (owned).
    pub fn closing(&mut self, listener: SocketAddr) -> Conn {
        let (client, server, conn) = self.raw_pair(listener, connect_target(listener));
        fill_send_buffer(&client).expect("fill client send buffer");
        client.shutdown(Shutdown::Write).expect("client shutdown");
        server.shutdown(Shutdown::Write).expect("server shutdown");
        let (crow, srow) = Self::conn_rows(&conn, "CLOSING", "FIN_WAIT2");
        let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
        self.hold(Holder::Stream(client));
        self.hold(Holder::Stream(server));
        self.expect(crow.clone(), Some(cfd));
        self.expect(srow.clone(), Some(sfd));
        settle(&[crow, srow], &[], "closing");
        conn
    }

    /// A TCP socket bound to `127.0.0.1:0` that neither listens nor connects.
    /// Kernel state CLOSE; ss 6.1 never lists it (`ss_visible == false`), but
    /// inet_diag on Linux ≥ 6.8 reports it when asked for the bound-inactive
    /// state bit. Returns its address.
    pub fn tcp_bound_inactive(&mut self) -> SocketAddr {
        let fd = new_socket(libc::AF_INET, libc::SOCK_STREAM).expect("tcp socket");
        let (sa, len) = to_sockaddr(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0));
        // SAFETY: sa/len describe a valid sockaddr.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_storage).cast(),
                len,
            )
        })
        .expect("bind");
        let s = TcpListener::from(fd);
        let local = s.local_addr().expect("local_addr");
        let raw = s.as_raw_fd();
        self.hold(Holder::Fd(OwnedFd::from(s)));
        self.push_expected(Expected {
            row: Row::from_addrs("tcp", "CLOSE", local, wildcard_peer(local)),
            fd: Some(raw),
            ss_visible: false,
        });
        local
    }

    // ----- convenience: whole setups --------------------------------------

    /// `listen_v4` + `established_pair`.
    pub fn established_v4(&mut self) -> Conn {
        let l = self.listen_v4();
        self.established_pair(l)
    }

    /// `[::1]` listener + `established_pair`.
    pub fn established_v6(&mut self) -> Conn {
        let l = self.listen_v6_loopback();
        self.established_pair(l)
    }

    /// `bulk(n)`: a dedicated 127.0.0.1 listener and `n` accepted connections
    /// (2n + 1 sockets). `n` is capped at 5000; RLIMIT_NOFILE is raised first
    /// and checked.
    pub fn bulk(&mut self, n: usize) -> Vec<Conn> {
        assert!(n <= 5000, "bulk({n}): at most 5000 connections");
        let limit = raise_nofile_limit();
        assert!(
            (2 * n + 64) as libc::rlim_t <= limit,
            "bulk({n}) needs about {} descriptors, RLIMIT_NOFILE is {limit}",
            2 * n + 64
        );
        let listener = self.listen_v4();
        (0..n).map(|_| self.established_pair(listener)).collect()
    }

    // ----- UDP ---------------------------------------------------------------

    /// A UDP socket bound to `addr` (port 0), optionally with IPV6_V6ONLY and
    /// SO_BINDTODEVICE. Expected row: `UNCONN addr -> 0.0.0.0:0` (or `[::]:0`).
    pub fn udp_bound_with(
        &mut self,
        addr: SocketAddr,
        v6only: Option<bool>,
        device: Option<&str>,
    ) -> SocketAddr {
        let u = make_udp_socket(addr, v6only, device)
            .unwrap_or_else(|e| panic!("udp bind {addr}: {e}"));
        let local = u.local_addr().expect("udp local_addr");
        let fd = u.as_raw_fd();
        self.hold(Holder::Udp(u));
        self.expect(
            Row::from_addrs("udp", "UNCONN", local, wildcard_peer(local)),
            Some(fd),
        );
        local
    }

    /// UDP on `127.0.0.1:0` (UNCONN).
    pub fn udp_bound_v4(&mut self) -> SocketAddr {
        self.udp_bound_with(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0), None, None)
    }

    /// UDP on `[::1]:0` (UNCONN).
    pub fn udp_bound_v6(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0),
            Some(true),
            None,
        )
    }

    /// UDP on `[::]:0` with IPV6_V6ONLY=1 (ss: `[::]:P`).
    pub fn udp_bound_v6_only_any(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            Some(true),
            None,
        )
    }

    /// UDP on `[::]:0` with IPV6_V6ONLY=0 (ss: `*:P` and peer `*:*`).
    pub fn udp_bound_dual(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
            Some(false),
            None,
        )
    }

    /// UDP on `127.0.0.1:0` bound to device `lo` (ss: `127.0.0.1%lo:P`).
    pub fn udp_bound_to_lo(&mut self) -> SocketAddr {
        self.udp_bound_with(
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
            None,
            Some("lo"),
        )
    }

    /// A UDP socket connected to `target` (ESTABLISHED), bound on the loopback
    /// address of `target`'s family. Returns its local address.
    pub fn udp_connected(&mut self, target: SocketAddr) -> SocketAddr {
        let bind: SocketAddr = if target.is_ipv4() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)
        } else {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0)
        };
        let u = make_udp_socket(bind, Some(true), None).expect("udp socket");
        u.connect(target)
            .unwrap_or_else(|e| panic!("udp connect {target}: {e}"));
        let local = u.local_addr().expect("udp local_addr");
        let fd = u.as_raw_fd();
        self.hold(Holder::Udp(u));
        self.expect(
            Row::from_addrs("udp", "ESTABLISHED", local, target),
            Some(fd),
        );
        local
    }

    /// A bound UDP socket on 127.0.0.1 plus a second one connected to it.
    /// Returns (bound, connected).
    pub fn udp_pair_v4(&mut self) -> (SocketAddr, SocketAddr) {
        let a = self.udp_bound_v4();
        let b = self.udp_connected(a);
        (a, b)
    }

    // ----- inspection ----------------------------------------------------------

    /// Every socket the scenario expects, with owning fd and ss visibility.
    pub fn expected_sockets(&self) -> &[Expected] {
        &self.expected
    }

    /// Sorted rows that `ss -tuan` should show for this scenario.
    pub fn expected(&self) -> Vec<Row> {
        let mut v: Vec<Row> = self
            .expected
            .iter()
            .filter(|e| e.ss_visible)
            .map(|e| e.row.clone())
            .collect();
        v.sort();
        v
    }

    /// Sorted rows including the ones ss does not show (bound-inactive TCP).
    pub fn expected_all(&self) -> Vec<Row> {
        let mut v: Vec<Row> = self.expected.iter().map(|e| e.row.clone()).collect();
        v.sort();
        v
    }

    /// All local ports used by the scenario (tcp and udp together).
    pub fn ports(&self) -> BTreeSet<u16> {
        let mut ports = BTreeSet::new();
        for e in &self.expected {
            for ep in [&e.row.local, &e.row.remote] {
                if let Some(p) = endpoint_port(ep).filter(|p| *p != 0) {
                    ports.insert(p);
                }
            }
        }
        ports
    }

    /// Index of every expected socket (including the ones ss does not show):
    /// local endpoint -> (proto, remote endpoint). Built once, reset when the
    /// scenario grows.
    fn index(&self) -> &HashMap<String, Vec<(String, String)>> {
        self.index.get_or_init(|| {
            let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for e in &self.expected {
                map.entry(e.row.local.clone())
                    .or_default()
                    .push((e.row.proto.clone(), e.row.remote.clone()));
            }
            map
        })
    }

    /// Whether `row` belongs to this scenario: its protocol, local and remote
    /// endpoints equal those of one of the scenario's sockets (the state is not
    /// compared). Port numbers alone are not enough in a shared namespace:
    /// ephemeral ports get reused by other tests' listeners on other loopback
    /// addresses and by lingering TIME_WAIT sockets. Cheap to call per row.
    pub fn ours(&self, row: &Row) -> bool {
        self.index().get(row.local.as_str()).is_some_and(|v| {
            v.iter()
                .any(|(proto, remote)| *proto == row.proto && *remote == row.remote)
        })
    }

    /// Sorted subset of `rows` that [`Scenario::ours`] accepts.
    pub fn filter_ours(&self, rows: impl IntoIterator<Item = Row>) -> Vec<Row> {
        let mut v: Vec<Row> = rows.into_iter().filter(|r| self.ours(r)).collect();
        v.sort();
        v
    }

    /// Compares `actual` (e.g. [`ss_rows`] for `-tuan`) with [`Scenario::expected`]:
    /// exactly in a private namespace, after [`Scenario::filter_ours`]
    /// otherwise. `Err` holds a readable diff.
    pub fn check(&self, env: &Env, actual: &[Row]) -> Result<(), String> {
        let actual = if env.private_ns {
            let mut v = actual.to_vec();
            v.sort();
            v
        } else {
            self.filter_ours(actual.iter().cloned())
        };
        let diff = diff_rows(&self.expected(), &actual);
        if diff.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "rows differ (private_ns = {}):\n{diff}",
                env.private_ns
            ))
        }
    }

    /// The held `TcpStream` whose local address is `local`, if any.
    pub fn tcp_stream(&self, local: SocketAddr) -> Option<&TcpStream> {
        self.holders.iter().find_map(|h| match h {
            Holder::Stream(s) if s.local_addr().ok() == Some(local) => Some(s),
            _ => None,
        })
    }

    /// The held `TcpListener` bound to `local`, if any.
    pub fn tcp_listener(&self, local: SocketAddr) -> Option<&TcpListener> {
        self.holders.iter().find_map(|h| match h {
            Holder::Listener(l) if l.local_addr().ok() == Some(local) => Some(l),
            _ => None,
        })
    }

    /// The held `UdpSocket` bound to `local`, if any.
    pub fn udp_socket(&self, local: SocketAddr) -> Option<&UdpSocket> {
        self.holders.iter().find_map(|h| match h {
            Holder::Udp(u) if u.local_addr().ok() == Some(local) => Some(u),
            _ => None,
        })
    }

    /// Raw fds of every socket the scenario holds open.
    pub fn fds(&self) -> Vec<RawFd> {
        self.holders.iter().map(Holder::raw_fd).collect()
    }
}
