//! The HTTP endpoint of `serve`: the listening socket, its connections and
//! what travels on them (HTTP/1.1, optionally inside TLS), with the web
//! configuration's basic authentication ([`webconfig`]).
//!
//! No async runtime: one thread accepts (polling the listener beside a
//! stop fd), one thread per connection (at most [`MAX_CONNECTIONS`] at a
//! time; more are closed at once) reads one request head with `httparse`
//! (at most [`MAX_HEAD`] bytes, [`IO_TIMEOUT`] for the whole head and
//! again for the answer), answers `/healthz` and every error itself, and
//! hands a `/metrics` request over a channel to the thread that owns the
//! reads of the kernel ([`MetricsRequest`]), whose answer it writes back.
//! Every answer closes the connection (`Connection: close`).
//!
//! Nothing here reads sockets of the kernel's tables: the command's thread
//! does (the namespace loop changes that thread's network namespace).

pub mod webconfig;

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub use webconfig::WebConfigError;

/// The most bytes of a request head (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// The most headers of a request.
const MAX_HEADERS: usize = 64;
/// The time a client has to send its request head (TLS handshake
/// included), and again to take the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The most connections served at a time.
pub const MAX_CONNECTIONS: usize = 16;
/// After the answer: how long and how much is read (and thrown away) while
/// the client closes, so that unread bytes do not make the close a reset
/// that could cut the answer.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;
/// The stack of a connection's thread (a TLS handshake and bcrypt fit
/// with room to spare).
const CONNECTION_STACK: usize = 512 << 10;

/// A failure to set up or run the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    WebConfig(#[from] WebConfigError),
    #[error("cannot listen on {addr}: address in use; sockscope why-bind {port} tells what holds it", port = addr.port())]
    InUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {error}{}", privileged_hint(*addr))]
    Denied { addr: SocketAddr, error: io::Error },
    #[error("cannot listen on {addr}: no interface of this network namespace has that address")]
    NotHere { addr: SocketAddr },
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: io::Error },
    #[error("cannot start the server's thread: {0}")]
    Thread(io::Error),
    #[error("cannot wait for connections: {0}")]
    Accept(io::Error),
}

/// Why a bind to a port below 1024 is refused.
fn privileged_hint(addr: SocketAddr) -> &'static str {
    if addr.port() < 1024 {
        " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)"
    } else {
        ""
    }
}

impl HttpError {
    /// A mistake of the user's (exit 2): the web configuration, or an
    /// address this host does not have.
    pub fn is_usage(&self) -> bool {
        matches!(self, HttpError::WebConfig(_) | HttpError::NotHere { .. })
    }
}

/// Basic authentication: user → bcrypt hash.
#[derive(Debug)]
struct BasicAuth {
    users: BTreeMap<String, String>,
    /// Checked for an unknown user, so that the answer takes as long as
    /// for a known one (no user enumeration by timing).
    decoy: String,
    /// Credentials already admitted, as salted SHA-256 digests (never the
    /// password): a scrape every few seconds does not pay bcrypt's cost
    /// each time (exporter-toolkit keeps such a cache too). At most
    /// [`ADMITTED_MAX`] entries; cleared when full.
    admitted: Mutex<HashSet<[u8; 32]>>,
    salt: [u8; 32],
}

/// The most admitted credentials remembered.
const ADMITTED_MAX: usize = 1024;

impl BasicAuth {
    fn new(users: BTreeMap<String, String>) -> BasicAuth {
        let cost = users
            .values()
            .filter_map(|h| h.parse::<bcrypt::HashParts>().ok())
            .map(|p| p.get_cost())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        let decoy = bcrypt::hash_with_salt(b"sockscope decoy", cost, [7; 16])
            .map(|p| p.to_string())
            .unwrap_or_default();
        let mut salt = [0u8; 32];
        // Without randomness the cache is simply not used (see `digest`).
        let salted = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt);
        BasicAuth {
            users,
            decoy,
            admitted: Mutex::new(HashSet::new()),
            salt: if salted.is_ok() { salt } else { [0; 32] },
        }
    }

    /// The cache's key of a user and password (`None`: no cache).
    fn digest(&self, user: &[u8], password: &[u8]) -> Option<[u8; 32]> {
        if self.salt == [0; 32] {
            return None;
        }
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&self.salt);
        ctx.update(&(user.len() as u64).to_be_bytes());
        ctx.update(user);
        ctx.update(password);
        ctx.finish().as_ref().try_into().ok()
    }

    /// Whether an `Authorization` header value names a user and the
    /// password of its hash.
    fn admits(&self, header: Option<&[u8]>) -> bool {
        let Some((user, password)) = header.and_then(basic_credentials) else {
            return false;
        };
        let key = self.digest(&user, &password);
        if let (Some(key), Ok(admitted)) = (key, self.admitted.lock())
            && admitted.contains(&key)
        {
            return true;
        }
        let ok = match std::str::from_utf8(&user)
            .ok()
            .and_then(|u| self.users.get(u))
        {
            Some(hash) => bcrypt::verify(&password, hash).unwrap_or(false),
            None => {
                let _ = bcrypt::verify(&password, &self.decoy);
                false
            }
        };
        if ok && let (Some(key), Ok(mut admitted)) = (key, self.admitted.lock()) {
            if admitted.len() >= ADMITTED_MAX {
                admitted.clear();
            }
            admitted.insert(key);
        }
        ok
    }
}

/// `Basic base64(user:password)` → (user, password).
fn basic_credentials(header: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, rest) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64_decode(rest.trim())?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// Standard base64 with padding (RFC 4648), as basic authentication
/// sends (the base64 crate, which bcrypt already brings).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// What protects the endpoint: TLS and basic authentication, from the web
/// configuration file (or neither).
#[derive(Debug, Default)]
pub struct Security {
    tls: Option<Arc<ServerConfig>>,
    auth: Option<BasicAuth>,
}

impl Security {
    /// Reads `--web.config.file` (none: plain HTTP, no authentication).
    pub fn load(path: Option<&Path>) -> Result<Security, HttpError> {
        let Some(path) = path else {
            return Ok(Security::default());
        };
        let (config, tls) = webconfig::load(path)?;
        let auth = (!config.users.is_empty()).then(|| BasicAuth::new(config.users));
        Ok(Security { tls, auth })
    }

    /// Whether connections are TLS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether `/metrics` asks for a user and password.
    pub fn authenticates(&self) -> bool {
        self.auth.is_some()
    }
}

/// The exposition a scraper asked for (by its `Accept` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// Prometheus text 0.0.4: the default.
    PrometheusText,
    /// An `Accept` naming `application/openmetrics-text` (not with q=0).
    OpenMetrics,
}

impl Wanted {
    /// Content negotiation on an `Accept` header value.
    pub fn negotiate(accept: Option<&[u8]>) -> Wanted {
        let Some(text) = accept.and_then(|a| std::str::from_utf8(a).ok()) else {
            return Wanted::PrometheusText;
        };
        let named = text.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        });
        if named {
            Wanted::OpenMetrics
        } else {
            Wanted::PrometheusText
        }
    }
}

/// What the command's thread answers to a [`MetricsRequest`].
#[derive(Debug, Clone)]
pub enum Answer {
    /// The exposition, with its Content-Type.
    Exposition {
        content_type: &'static str,
        body: Arc<[u8]>,
    },
    /// The read failed: HTTP 500 with this text.
    Failed(String),
}

/// A `/metrics` request (GET or HEAD), authenticated, waiting for the
/// command's thread to answer it.
#[derive(Debug)]
pub struct MetricsRequest {
    /// The exposition asked for.
    pub wanted: Wanted,
    reply: mpsc::SyncSender<Answer>,
}

impl MetricsRequest {
    /// A request as a connection makes it, and where its answer arrives
    /// (for the tests of the thread that answers).
    pub fn new(wanted: Wanted) -> (MetricsRequest, mpsc::Receiver<Answer>) {
        let (reply, answer) = mpsc::sync_channel(1);
        (MetricsRequest { wanted, reply }, answer)
    }

    /// Sends the answer back to the connection (gone already: no matter).
    pub fn answer(self, answer: Answer) {
        let _ = self.reply.send(answer);
    }
}

/// The listening socket, not yet accepting.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    security: Arc<Security>,
}

impl Server {
    /// Listens on `addr` (port 0: one the kernel picks).
    pub fn bind(addr: SocketAddr, security: Security) -> Result<Server, HttpError> {
        let listener = TcpListener::bind(addr).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => HttpError::InUse { addr },
            Some(libc::EACCES) | Some(libc::EPERM) => HttpError::Denied { addr, error: e },
            Some(libc::EADDRNOTAVAIL) => HttpError::NotHere { addr },
            _ => HttpError::Bind { addr, error: e },
        })?;
        let addr = listener
            .local_addr()
            .map_err(|error| HttpError::Bind { addr, error })?;
        Ok(Server {
            listener,
            addr,
            security: Arc::new(security),
        })
    }

    /// The address listened on, with the real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `/metrics`.
    pub fn url(&self) -> String {
        let scheme = if self.security.tls() { "https" } else { "http" };
        format!("{scheme}://{}/metrics", self.addr)
    }

    /// Starts accepting on a thread of its own: `/metrics` requests arrive
    /// on `requests`. Accepting stops when `stop` becomes readable (a
    /// signalfd); the listener is closed then, and `requests` disconnects
    /// once the connections in flight are answered.
    pub fn start<S: AsFd + Send + 'static>(
        self,
        stop: S,
        requests: mpsc::Sender<MetricsRequest>,
    ) -> Result<Running<S>, HttpError> {
        self.listener
            .set_nonblocking(true)
            .map_err(HttpError::Accept)?;
        let handle = std::thread::Builder::new()
            .name("sockscope-accept".into())
            .spawn(move || {
                let result = accept_loop(self.listener, &stop, &self.security, &requests);
                (stop, result)
            })
            .map_err(HttpError::Thread)?;
        Ok(Running { handle })
    }
}

/// The accepting thread.
#[derive(Debug)]
pub struct Running<S> {
    handle: JoinHandle<(S, Result<(), HttpError>)>,
}

impl<S> Running<S> {
    /// Waits for the accepting thread to end (once `stop` is readable or
    /// it failed) and gives `stop` back.
    pub fn finish(self) -> (S, Result<(), HttpError>) {
        self.handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

/// Counts a connection while its thread lives.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn accept_loop(
    listener: TcpListener,
    stop: &impl AsFd,
    security: &Arc<Security>,
    requests: &mpsc::Sender<MetricsRequest>,
) -> Result<(), HttpError> {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let mut fds = [
            PollFd::new(&listener, PollFlags::IN),
            PollFd::new(stop, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(HttpError::Accept(e.into())),
        }
        if !fds[1].revents().is_empty() {
            return Ok(());
        }
        loop {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO)
                    ) =>
                {
                    continue;
                }
                // Out of descriptors: the connections in flight will give
                // some back; wait a little instead of spinning on poll.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
                Err(e) => return Err(HttpError::Accept(e)),
            };
            // Too many at a time: closed at once.
            if active.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                active.fetch_sub(1, Ordering::AcqRel);
                drop(stream);
                continue;
            }
            let slot = Slot(active.clone());
            let (security, requests) = (security.clone(), requests.clone());
            let spawned = std::thread::Builder::new()
                .name("sockscope-http".into())
                .stack_size(CONNECTION_STACK)
                .spawn(move || {
                    let _slot = slot;
                    connection(stream, &security, &requests);
                });
            // A thread that cannot start drops its stream and slot.
            drop(spawned);
        }
    }
}

/// A TCP stream whose reads and writes end at a deadline.
struct Timed {
    tcp: TcpStream,
    deadline: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::from(io::ErrorKind::TimedOut))
        } else {
            Ok(left)
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.left()?))?;
        self.tcp.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.left()?))?;
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A connection, plain or TLS, over a [`Timed`] stream.
trait Conn: Read + Write {
    fn timed(&mut self) -> &mut Timed;
}

impl Conn for Timed {
    fn timed(&mut self) -> &mut Timed {
        self
    }
}

impl Conn for StreamOwned<ServerConnection, Timed> {
    fn timed(&mut self) -> &mut Timed {
        &mut self.sock
    }
}

/// One connection: one request, one answer, closed.
fn connection(tcp: TcpStream, security: &Security, requests: &mpsc::Sender<MetricsRequest>) {
    let _ = tcp.set_nodelay(true);
    let timed = Timed {
        tcp,
        deadline: Instant::now() + IO_TIMEOUT,
    };
    match &security.tls {
        None => {
            let mut conn = timed;
            exchange(&mut conn, security, requests);
            linger(conn.tcp);
        }
        Some(config) => {
            let Ok(tls) = ServerConnection::new(config.clone()) else {
                return;
            };
            let mut conn = StreamOwned::new(tls, timed);
            exchange(&mut conn, security, requests);
            conn.conn.send_close_notify();
            let _ = conn.flush();
            linger(conn.sock.tcp);
        }
    }
}

/// Ends the sending side, then reads what the client still sends, bounded
/// in time and bytes, so that closing does not reset the connection under
/// an answer the client has not read yet.
fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut seen = 0;
    let mut buf = [0u8; 4096];
    while seen < LINGER_BYTES {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen += n,
        }
    }
}

/// The request methods the endpoint tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Head,
    Other,
}

/// What is kept of a request head.
#[derive(Debug)]
struct Request {
    method: Method,
    path: String,
    accept: Option<Vec<u8>>,
    authorization: Option<Vec<u8>>,
    has_body: bool,
}

/// The outcome of reading a request head.
#[derive(Debug)]
enum Head {
    Request(Request),
    /// Malformed or too large: answered with this status.
    Refused(Status),
    /// The client left, timed out or the TLS handshake failed: no answer.
    Gone,
}

/// The statuses the endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    BadRequest,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    HeadTooLarge,
    ServerError,
    Unavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::Unauthorized => "401 Unauthorized",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::PayloadTooLarge => "413 Content Too Large",
            Status::HeadTooLarge => "431 Request Header Fields Too Large",
            Status::ServerError => "500 Internal Server Error",
            Status::Unavailable => "503 Service Unavailable",
        }
    }

    /// The body of an error answer.
    fn text(self) -> &'static str {
        match self {
            Status::Ok => "ok\n",
            Status::BadRequest => "malformed request\n",
            Status::Unauthorized => "unauthorized\n",
            Status::NotFound => "not found: the endpoints are /metrics and /healthz\n",
            Status::MethodNotAllowed => "method not allowed: GET or HEAD\n",
            Status::PayloadTooLarge => "a request body is not accepted\n",
            Status::HeadTooLarge => "request head too large (8 KiB at most)\n",
            Status::ServerError => "internal error\n",
            Status::Unavailable => "shutting down\n",
        }
    }
}

fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Reads one request head, [`MAX_HEAD`] bytes at most.
fn read_head(conn: &mut impl Read) -> Head {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        if len == MAX_HEAD {
            return Head::Refused(Status::HeadTooLarge);
        }
        match conn.read(&mut buf[len..]) {
            Ok(0) | Err(_) => return Head::Gone,
            Ok(n) => len += n,
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..len]) {
            Ok(httparse::Status::Partial) => continue,
            Err(httparse::Error::TooManyHeaders) => return Head::Refused(Status::HeadTooLarge),
            Err(_) => return Head::Refused(Status::BadRequest),
            Ok(httparse::Status::Complete(_)) => {
                let method = match req.method {
                    Some("GET") => Method::Get,
                    Some("HEAD") => Method::Head,
                    _ => Method::Other,
                };
                let path = req.path.unwrap_or("");
                let path = path.split(['?', '#']).next().unwrap_or("").to_owned();
                let length = header(req.headers, "content-length");
                let has_body = header(req.headers, "transfer-encoding").is_some()
                    || length.is_some_and(|l| l.iter().any(|&b| b != b'0' && b != b' '));
                return Head::Request(Request {
                    method,
                    path,
                    accept: header(req.headers, "accept").map(<[u8]>::to_vec),
                    authorization: header(req.headers, "authorization").map(<[u8]>::to_vec),
                    has_body,
                });
            }
        }
    }
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Metrics,
    Healthz,
}

/// One answer, ready to write.
struct Response {
    status: Status,
    content_type: &'static str,
    body: Arc<[u8]>,
    /// HEAD: the headers only (Content-Length still the body's).
    head_only: bool,
}

impl Response {
    fn text(status: Status, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Arc::from(text.as_bytes()),
            head_only: false,
        }
    }
}

/// Reads the request, answers it.
fn exchange(conn: &mut impl Conn, security: &Security, requests: &mpsc::Sender<MetricsRequest>) {
    let response = match read_head(conn) {
        Head::Gone => return,
        Head::Refused(status) => Response::text(status, status.text()),
        Head::Request(req) => respond(&req, security, requests),
    };
    conn.timed().deadline = Instant::now() + IO_TIMEOUT;
    let _ = write_response(conn, &response);
}

fn respond(
    req: &Request,
    security: &Security,
    requests: &mpsc::Sender<MetricsRequest>,
) -> Response {
    let route = match req.path.as_str() {
        "/metrics" => Route::Metrics,
        "/healthz" => Route::Healthz,
        _ => return Response::text(Status::NotFound, Status::NotFound.text()),
    };
    if req.method == Method::Other {
        return Response::text(Status::MethodNotAllowed, Status::MethodNotAllowed.text());
    }
    if req.has_body {
        return Response::text(Status::PayloadTooLarge, Status::PayloadTooLarge.text());
    }
    let head_only = req.method == Method::Head;
    let mut response = match route {
        // Open to every client: it says only that the server answers.
        Route::Healthz => Response::text(Status::Ok, "ok\n"),
        Route::Metrics => {
            if let Some(auth) = &security.auth
                && !auth.admits(req.authorization.as_deref())
            {
                return Response::text(Status::Unauthorized, Status::Unauthorized.text());
            }
            metrics(req, requests)
        }
    };
    response.head_only = head_only;
    response
}

/// Hands a `/metrics` request to the command's thread and waits for it.
fn metrics(req: &Request, requests: &mpsc::Sender<MetricsRequest>) -> Response {
    let (request, answer) = MetricsRequest::new(Wanted::negotiate(req.accept.as_deref()));
    if requests.send(request).is_err() {
        return Response::text(Status::Unavailable, Status::Unavailable.text());
    }
    match answer.recv() {
        Ok(Answer::Exposition { content_type, body }) => Response {
            status: Status::Ok,
            content_type,
            body,
            head_only: false,
        },
        Ok(Answer::Failed(text)) => Response::text(
            Status::ServerError,
            &format!("reading the kernel failed: {text}\n"),
        ),
        Err(_) => Response::text(Status::Unavailable, Status::Unavailable.text()),
    }
}

fn write_response(conn: &mut impl Write, r: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status.line(),
        r.content_type,
        r.body.len()
    );
    match r.status {
        Status::Unauthorized => {
            head.push_str("WWW-Authenticate: Basic realm=\"sockscope\", charset=\"UTF-8\"\r\n");
        }
        Status::MethodNotAllowed => head.push_str("Allow: GET, HEAD\r\n"),
        _ => {}
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if !r.head_only {
        conn.write_all(&r.body)?;
    }
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_what_clients_send() {
        assert_eq!(base64_decode("YWxpY2U6c2VjcmV0").unwrap(), b"alice:secret");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("YQ=").is_none());
        assert!(base64_decode("YQ==YWI=").is_none());
        assert!(base64_decode("Y!==").is_none());
        assert_eq!(
            basic_credentials(b"Basic YWxpY2U6c2U6Y3JldA=="),
            Some((b"alice".to_vec(), b"se:cret".to_vec()))
        );
        assert_eq!(basic_credentials(b"Bearer YWxpY2U6c2VjcmV0"), None);
    }

    #[test]
    fn basic_auth_admits_the_right_password_only() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let auth = BasicAuth::new([("alice".to_owned(), hash)].into());
        assert!(auth.admits(Some(b"Basic YWxpY2U6c2VjcmV0")));
        assert!(auth.admits(Some(b"basic  YWxpY2U6c2VjcmV0 ")));
        // alice:wrong, bob:secret, none
        assert!(!auth.admits(Some(b"Basic YWxpY2U6d3Jvbmc=")));
        assert!(!auth.admits(Some(b"Basic Ym9iOnNlY3JldA==")));
        assert!(!auth.admits(None));
        // Admitted once, remembered (by digest), and still only for the
        // right password.
        assert_eq!(auth.admitted.lock().unwrap().len(), 1);
        assert!(auth.admits(Some(b"Basic YWxpY2U6c2VjcmV0")));
        assert!(!auth.admits(Some(b"Basic YWxpY2U6d3Jvbmc=")));
        assert_eq!(auth.admitted.lock().unwrap().len(), 1);
        assert_eq!(
            auth.decoy.parse::<bcrypt::HashParts>().unwrap().get_cost(),
            4
        );
    }

    #[test]
    fn negotiation_follows_accept() {
        use Wanted::*;
        assert_eq!(Wanted::negotiate(None), PrometheusText);
        assert_eq!(Wanted::negotiate(Some(b"text/plain")), PrometheusText);
        assert_eq!(
            Wanted::negotiate(Some(
                b"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            )),
            OpenMetrics
        );
        assert_eq!(
            Wanted::negotiate(Some(b"text/plain, Application/OpenMetrics-Text ; q=0.3")),
            OpenMetrics
        );
        assert_eq!(
            Wanted::negotiate(Some(b"application/openmetrics-text;q=0")),
            PrometheusText
        );
    }

    fn head(bytes: &[u8]) -> Head {
        read_head(&mut io::Cursor::new(bytes.to_vec()))
    }

    #[test]
    fn heads_are_parsed_bounded_and_refused() {
        let Head::Request(r) =
            head(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n")
        else {
            panic!("not parsed")
        };
        assert_eq!((r.method, r.path.as_str()), (Method::Get, "/metrics"));
        assert_eq!(r.accept.as_deref(), Some(&b"text/plain"[..]));
        assert!(!r.has_body);
        let Head::Request(r) = head(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") else {
            panic!("not parsed")
        };
        assert_eq!(r.method, Method::Other);
        assert!(r.has_body);
        assert!(matches!(
            head(b"GARBAGE\r\n\r\n"),
            Head::Refused(Status::BadRequest)
        ));
        assert!(matches!(head(b"GET /metrics HTTP/1.1\r\n"), Head::Gone));
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        assert!(matches!(head(&big), Head::Refused(Status::HeadTooLarge)));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            many.extend_from_slice(format!("X{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(head(&many), Head::Refused(Status::HeadTooLarge)));
    }

    /// A client that sends part of a head and then nothing: the head's
    /// deadline (not each read's) ends it, so trickling bytes cannot hold
    /// a connection past it.
    #[test]
    fn the_deadline_bounds_the_whole_head() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (tcp, _) = l.accept().unwrap();
        client.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        let mut t = Timed {
            tcp,
            deadline: Instant::now() + Duration::from_millis(100),
        };
        assert!(matches!(read_head(&mut t), Head::Gone));
        let e = t.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let e = t.write(b"late").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
