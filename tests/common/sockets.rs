//! Low-level socket helpers: what std cannot do before `bind`/`listen`
//! (IPV6_V6ONLY, TCP_DEFER_ACCEPT, SO_BINDTODEVICE, a non-blocking connect),
//! through libc, and [`fill_send_buffer`] to keep data queued.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

pub(super) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(super) fn new_socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is owned right away.
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: fd is a fresh, valid descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: pointer/length describe a valid c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

pub(super) fn to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn family(addr: SocketAddr) -> libc::c_int {
    if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    }
}

/// Options for [`Scenario::listen_with`].
#[derive(Debug, Clone, Copy)]
pub struct ListenOpts {
    /// IPV6_V6ONLY for IPv6 listeners (`None`: system default).
    pub v6only: Option<bool>,
    /// TCP_DEFER_ACCEPT in seconds.
    pub defer_accept_secs: Option<i32>,
    /// listen(2) backlog.
    pub backlog: i32,
}

impl Default for ListenOpts {
    fn default() -> Self {
        ListenOpts {
            v6only: None,
            defer_accept_secs: None,
            backlog: 1024,
        }
    }
}

pub(super) fn make_tcp_listener(addr: SocketAddr, opts: ListenOpts) -> io::Result<TcpListener> {
    let fd = new_socket(family(addr), libc::SOCK_STREAM)?;
    let raw = fd.as_raw_fd();
    if let (Some(v6only), true) = (opts.v6only, addr.is_ipv6()) {
        set_int_opt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v6only as libc::c_int,
        )?;
    }
    if let Some(secs) = opts.defer_accept_secs {
        set_int_opt(raw, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, secs)?;
    }
    let (sa, len) = to_sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr.
    cvt(unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_storage).cast(), len) })?;
    // SAFETY: plain syscall on a valid fd.
    cvt(unsafe { libc::listen(raw, opts.backlog) })?;
    Ok(TcpListener::from(fd))
}

pub(super) fn make_udp_socket(
    addr: SocketAddr,
    v6only: Option<bool>,
    device: Option<&str>,
) -> io::Result<UdpSocket> {
    let fd = new_socket(family(addr), libc::SOCK_DGRAM)?;
    let raw = fd.as_raw_fd();
    if let (Some(v6only), true) = (v6only, addr.is_ipv6()) {
        set_int_opt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v6only as libc::c_int,
        )?;
    }
    if let Some(dev) = device {
        // SAFETY: pointer/length describe the device name bytes.
        cvt(unsafe {
            libc::setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                dev.as_ptr().cast(),
                dev.len() as libc::socklen_t,
            )
        })?;
    }
    let (sa, len) = to_sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr.
    cvt(unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(UdpSocket::from(fd))
}

/// Starts a non-blocking connect; returns the socket (still connecting).
pub(super) fn connect_nonblocking(target: SocketAddr) -> io::Result<TcpStream> {
    let fd = new_socket(family(target), libc::SOCK_STREAM | libc::SOCK_NONBLOCK)?;
    let (sa, len) = to_sockaddr(target);
    // SAFETY: sa/len describe a valid sockaddr.
    let ret = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
    }
    Ok(TcpStream::from(fd))
}

/// Waits up to `ms` milliseconds for `fd` to become writable.
fn poll_writable(fd: RawFd, ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = cvt(unsafe { libc::poll(&mut pfd, 1, ms) })?;
    Ok(n > 0)
}

/// Writes into `stream` until the peer's receive window and our send buffer are
/// full (the peer must not be reading), so that data and any later FIN stay
/// queued. Bounded by 64 MiB and 5 s. Returns the bytes written.
pub fn fill_send_buffer(stream: &TcpStream) -> io::Result<usize> {
    set_int_opt(
        stream.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_SNDBUF,
        16 * 1024,
    )?;
    stream.set_nonblocking(true)?;
    let chunk = [0x5au8; 16 * 1024];
    let mut total = 0usize;
    let start = Instant::now();
    let mut writer = stream;
    let result = loop {
        if total > 64 << 20 || start.elapsed() > Duration::from_secs(5) {
            break Err(io::Error::other(format!(
                "send buffer never filled ({total} bytes written): is the peer reading?"
            )));
        }
        match writer.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Full for 100 ms: the window is closed and the queue is stuck.
                match poll_writable(stream.as_raw_fd(), 100) {
                    Ok(false) => break Ok(total),
                    Ok(true) => {}
                    Err(e) => break Err(e),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    result
}
