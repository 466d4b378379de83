//! `sockscope serve` end to end (issue 17): the built binary serving in a
//! private network namespace (as root; on shared loopback otherwise, on a
//! port the kernel picks), asked by a raw HTTP client, by curl over TLS
//! (certificates made by openssl here), with basic authentication (hashes
//! made by the bcrypt crate here). Every server is stopped by its pid,
//! every wait is bounded; the tests rely only on the exporter's own
//! `sockscope_kernel_reads_total` and on HTTP behaviour.
//!
//! A test that cannot run (no root, no openssl or curl) says why on
//! stderr; with CI=true a missing tool fails it instead.

pub mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::netns::{is_root, say};
use common::run::command;
use common::{Env, Sandbox};

/// The bound on every wait of these tests.
const BOUND: Duration = Duration::from_secs(60);

/// A running `sockscope serve`, killed by pid when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `sockscope serve ARGS` (from the sandbox's thread, so in its
    /// namespace) and waits for its "serving URL" line.
    fn start(env: &Env, args: &[&str]) -> Served {
        let mut child = command(env)
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sockscope serve");
        let err = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let text = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                text.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(url) = line.strip_prefix("sockscope: serving ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(BOUND) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "serve {args:?} never said it was serving: {}",
                    stderr.lock().unwrap()
                );
            }
        };
        let addr = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {url:?}"));
        Served {
            child,
            addr,
            url,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` to the server's pid and waits (bounded) for its end.
    fn stop(mut self, signal: libc::c_int) -> ExitStatus {
        // SAFETY: kill on the pid of our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        wait_bounded(&mut self.child, "serve after a stop signal")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child` at most [`BOUND`]; kills it and fails past that.
fn wait_bounded(child: &mut Child, what: &str) -> ExitStatus {
    let until = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command to its end, bounded; its output.
fn output_bounded(mut cmd: Command, what: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut o = Vec::new();
        let _ = out.read_to_end(&mut o);
        o
    });
    let mut e = Vec::new();
    let _ = err.read_to_end(&mut e);
    let status = wait_bounded(&mut child, what);
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr: e,
    }
}

/// One answer read back.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `raw` bytes and reads the answer to the close.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    try_exchange(addr, raw).unwrap_or_else(|e| panic!("{e}"))
}

/// [`exchange`], an error instead of a panic (a connection closed at once
/// when the server is at its limit).
fn try_exchange(addr: SocketAddr, raw: &[u8]) -> Result<Reply, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(BOUND)).unwrap();
    s.set_write_timeout(Some(BOUND)).unwrap();
    s.write_all(raw).map_err(|e| format!("send: {e}"))?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).map_err(|e| format!("read: {e}"))?;
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no head end in {:?}", String::from_utf8_lossy(&all)))?;
    let head = String::from_utf8(all[..end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("a header line");
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Ok(Reply {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    })
}

fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    exchange(addr, raw.as_bytes())
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[])
}

/// The value of `sockscope_kernel_reads_total` in an exposition.
fn kernel_reads(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("sockscope_kernel_reads_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no sockscope_kernel_reads_total in {text}"))
}

/// Whether `tool` can run; if not, the test says so (and fails in CI).
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v != "true"),
            "{tool} is needed in CI (install it in .ci/setup)"
        );
        say(&format!(
            "serve tests: {tool} is not installed: test not run"
        ));
    }
    ok
}

/// A directory of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sockscope-serve-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = output_bounded(
        {
            let mut c = Command::new("openssl");
            c.args(args).current_dir(dir);
            c
        },
        "openssl",
    );
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (ca.pem, ca.key), a server certificate for 127.0.0.1 signed by it
/// (server.pem, server.key), a client certificate signed by it
/// (client.pem, client.key) and a self-signed client one (stranger.pem,
/// stranger.key).
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=sockscope test CA",
    ];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, cn) in [("server", "/CN=localhost"), ("client", "/CN=prometheus")] {
        let mut req = vec!["req", "-new", "-subj", cn];
        req.extend(ec);
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        req.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &req);
        let (pem, ext) = (format!("{name}.pem"), format!("{name}.ext"));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
        );
    }
    let mut stranger = vec!["req", "-x509", "-days", "2", "-subj", "/CN=stranger"];
    stranger.extend(ec);
    stranger.extend(["-keyout", "stranger.key", "-out", "stranger.pem"]);
    openssl(dir, &stranger);
}

/// curl's answer: the HTTP status it got (None: the exchange failed) and
/// the body.
fn curl(env: &Env, dir: &Path, url: &str, args: &[&str]) -> (Option<u16>, String) {
    let mut c = env.command("curl");
    c.current_dir(dir)
        .args([
            "-sS",
            "--max-time",
            "30",
            "-o",
            "body",
            "-w",
            "%{http_code}",
        ])
        .args(args)
        .arg(url);
    let _ = std::fs::remove_file(dir.join("body"));
    let out = output_bounded(c, "curl");
    let code = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
    let body = std::fs::read_to_string(dir.join("body")).unwrap_or_default();
    match out.status.success() {
        true => (code, body),
        false => (None, String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

#[test]
fn endpoints_formats_and_refusals() {
    Sandbox::run(|env| {
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--min-interval", "1h"]);
        let r = get(s.addr, "/metrics");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        assert_eq!(r.header("connection"), Some("close"));
        assert_eq!(r.header("content-length"), Some(&*r.body.len().to_string()));
        assert_eq!(kernel_reads(&r.text()), 1);
        assert!(!r.text().contains("# EOF"));

        // Prometheus's own Accept header: OpenMetrics.
        let om = request(
            s.addr,
            "GET",
            "/metrics?debug=1",
            &[(
                "Accept",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                 version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            )],
        );
        assert_eq!(om.status, 200);
        assert_eq!(
            om.header("content-type"),
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
        );
        assert!(om.text().ends_with("# EOF\n"), "{}", om.text());
        let plain = request(s.addr, "GET", "/metrics", &[("Accept", "text/plain")]);
        assert_eq!(
            plain.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );

        let head = request(s.addr, "HEAD", "/metrics", &[]);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-length"),
            Some(&*r.body.len().to_string())
        );

        let h = get(s.addr, "/healthz");
        assert_eq!((h.status, h.text().as_str()), (200, "ok\n"));
        assert_eq!(get(s.addr, "/").status, 404);
        assert_eq!(get(s.addr, "/metrics/x").status, 404);
        let post = request(s.addr, "POST", "/metrics", &[]);
        assert_eq!(post.status, 405);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
        assert_eq!(request(s.addr, "DELETE", "/healthz", &[]).status, 405);
        assert_eq!(exchange(s.addr, b"HELLO THERE\r\n\r\n").status, 400);
        assert_eq!(
            exchange(s.addr, b"GET /metrics HTTP/1.1\r\nNo colon\r\n\r\n").status,
            400
        );
        let mut big = b"GET /metrics HTTP/1.1\r\nX-Padding: ".to_vec();
        big.resize(9 * 1024, b'a');
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(exchange(s.addr, &big).status, 431);
        let body = request(s.addr, "GET", "/metrics", &[("Content-Length", "5")]);
        assert_eq!(body.status, 413);

        // Every answer above came from the one read.
        assert_eq!(kernel_reads(&get(s.addr, "/metrics").text()), 1);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
    });
}

#[test]
fn a_scrape_storm_reads_the_kernel_once_per_interval() {
    Sandbox::run(|env| {
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--min-interval", "1h"]);
        let addr = s.addr;
        // 200 requests from 20 threads (made on the sandbox's thread, so in
        // its namespace), at most 16 connections served at a time: a
        // refused connection is retried (bounded).
        let workers: Vec<_> = (0..20)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut reads = Vec::new();
                    for _ in 0..10 {
                        let mut tries = 0;
                        let text = loop {
                            tries += 1;
                            let raw = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                            match try_exchange(addr, raw.as_bytes()) {
                                Ok(r) if r.status == 200 => break r.text(),
                                _ if tries < 50 => {
                                    std::thread::sleep(Duration::from_millis(20));
                                }
                                other => panic!("no answer after {tries} tries: {other:?}"),
                            }
                        };
                        reads.push(kernel_reads(&text));
                    }
                    reads
                })
            })
            .collect();
        let mut answers = 0;
        for w in workers {
            for reads in w.join().unwrap() {
                assert_eq!(reads, 1);
                answers += 1;
            }
        }
        assert_eq!(answers, 200);
        assert_eq!(kernel_reads(&get(addr, "/metrics").text()), 1);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));

        // A short interval: a request after it has passed reads again.
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--min-interval", "50ms"]);
        assert_eq!(kernel_reads(&get(s.addr, "/metrics").text()), 1);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(kernel_reads(&get(s.addr, "/metrics").text()), 2);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
    });
}

#[test]
fn sigterm_ends_it_with_0_and_frees_the_port_sigint_as_every_run() {
    Sandbox::run(|env| {
        let s = Served::start(env, &["--listen", "127.0.0.1:0"]);
        let addr = s.addr;
        assert_eq!(get(addr, "/healthz").status, 200);
        let status = s.stop(libc::SIGTERM);
        assert_eq!(status.code(), Some(0), "{status:?}");
        // The port is free again: it can be listened on at once.
        TcpListener::bind(addr).expect("the port is free after SIGTERM");

        let s = Served::start(env, &["--listen", "127.0.0.1:0"]);
        assert_eq!(get(s.addr, "/metrics").status, 200);
        let status = s.stop(libc::SIGINT);
        assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    });
}

#[test]
fn a_busy_port_exits_3_with_the_why_bind_hint_an_absent_address_2() {
    Sandbox::run(|env| {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut c = command(env);
        c.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
        let out = output_bounded(c, "serve on a busy port");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains(&format!(
                "address in use; sockscope why-bind {port} tells what holds it"
            )),
            "{err}"
        );
        // An address no interface has (TEST-NET-1): the user's mistake.
        let mut c = command(env);
        c.args(["serve", "--listen", "192.0.2.1:0"]);
        let out = output_bounded(c, "serve on an address not here");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("cannot listen on 192.0.2.1:0: no interface"),
            "{err}"
        );
    });
}

#[test]
fn a_privileged_port_without_privilege_exits_3_with_the_reason() {
    if !is_root() || !have("setpriv") {
        common::skip(
            "serve tests: not root (or no setpriv): the EACCES test needs to drop to nobody",
        );
        return;
    }
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip("serve tests: no private namespace: port 80 left alone");
            return;
        }
        let mut c = env.command("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(["serve", "--listen", "127.0.0.1:80"]);
        let out = output_bounded(c, "serve on port 80 as nobody");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("cannot listen on 127.0.0.1:80: Permission denied"),
            "{err}"
        );
        assert!(err.contains("CAP_NET_BIND_SERVICE"), "{err}");
    });
}

#[test]
fn a_bad_web_config_exits_2_naming_the_file_and_the_problem() {
    let dir = TempDir::new("badconfig");
    let cases: Vec<(PathBuf, String)> = vec![
        (
            dir.path("missing.yml"),
            "missing.yml: cannot read it".into(),
        ),
        (
            dir.write("typo.yml", "tls_server_config:\n  cert_flie: x.pem\n"),
            "cert_flie".into(),
        ),
        (
            dir.write(
                "nocert.yml",
                "tls_server_config:\n  cert_file: gone.pem\n  key_file: gone.key\n",
            ),
            format!("cert_file {}", dir.path("gone.pem").display()),
        ),
        (
            dir.write("plain.yml", "basic_auth_users:\n  alice: secret\n"),
            "\"alice\" is not a bcrypt hash".into(),
        ),
        (
            dir.write(
                "sans.yml",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
            ),
            "client_allowed_sans is not supported".into(),
        ),
        (
            dir.write("yaml.yml", "tls_server_config: [\n"),
            "yaml.yml".into(),
        ),
    ];
    Sandbox::run(move |env| {
        for (path, word) in &cases {
            let mut c = command(env);
            c.args(["serve", "--listen", "127.0.0.1:0", "--web.config.file"])
                .arg(path);
            let out = output_bounded(c, "serve with a bad web config");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains(word.as_str()), "want {word:?}: {err}");
            assert!(!err.contains("serving"), "{err}");
        }
        drop(dir);
    });
}

#[test]
fn tls_and_client_certificates_through_curl() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let dir = TempDir::new("tls");
    make_certs(&dir.0);
    // Relative paths: from the configuration file's directory.
    let tls = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n",
    );
    let mtls = dir.write(
        "mtls.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  \
         min_version: TLS13\n",
    );
    let any = dir.write(
        "any.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  \
         client_auth_type: RequireAnyClientCert\n",
    );
    Sandbox::run(move |env| {
        let d = &dir.0;
        let web = tls.to_str().unwrap();
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--web.config.file", web]);
        assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
        let (code, body) = curl(env, d, &s.url, &["--cacert", "ca.pem"]);
        assert_eq!(code, Some(200), "{body}");
        assert_eq!(kernel_reads(&body), 1);
        let (code, body) = curl(
            env,
            d,
            &s.url,
            &[
                "--cacert",
                "ca.pem",
                "-H",
                "Accept: application/openmetrics-text",
            ],
        );
        assert_eq!(code, Some(200));
        assert!(body.ends_with("# EOF\n"), "{body}");
        // A client that does not trust the certificate gives up.
        let (code, err) = curl(env, d, &s.url, &[]);
        assert_eq!(code, None, "{err}");
        // Plain HTTP on the TLS port gets no answer.
        let (code, _) = curl(env, d, &s.url.replace("https", "http"), &[]);
        assert!(code.is_none() || code == Some(0), "{code:?}");
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));

        let web = mtls.to_str().unwrap();
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--web.config.file", web]);
        let client = [
            "--cacert",
            "ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
        ];
        let (code, body) = curl(env, d, &s.url, &client);
        assert_eq!(code, Some(200), "{body}");
        assert_eq!(kernel_reads(&body), 1);
        let (code, err) = curl(env, d, &s.url, &["--cacert", "ca.pem"]);
        assert_eq!(code, None, "no client certificate: {err}");
        let stranger = [
            "--cacert",
            "ca.pem",
            "--cert",
            "stranger.pem",
            "--key",
            "stranger.key",
        ];
        let (code, err) = curl(env, d, &s.url, &stranger);
        assert_eq!(code, None, "a certificate of another CA: {err}");
        // /healthz is behind the handshake too.
        let healthz = s.url.replace("/metrics", "/healthz");
        assert_eq!(curl(env, d, &healthz, &["--cacert", "ca.pem"]).0, None);
        // TLS 1.2 is refused (min_version: TLS13).
        let mut old = client.to_vec();
        old.extend(["--tls-max", "1.2"]);
        assert_eq!(curl(env, d, &s.url, &old).0, None);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));

        let web = any.to_str().unwrap();
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--web.config.file", web]);
        let (code, body) = curl(env, d, &s.url, &stranger);
        assert_eq!(code, Some(200), "any certificate will do: {body}");
        let (code, err) = curl(env, d, &s.url, &["--cacert", "ca.pem"]);
        assert_eq!(code, None, "but one is required: {err}");
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
        drop(dir);
    });
}

#[test]
fn basic_auth_admits_the_user_and_refuses_the_rest() {
    let dir = TempDir::new("auth");
    let hash = bcrypt::hash("s3cret:x", 4).unwrap();
    let web = dir.write("web.yml", &format!("basic_auth_users:\n  alice: {hash}\n"));
    Sandbox::run(move |env| {
        let web = web.to_str().unwrap();
        let s = Served::start(env, &["--listen", "127.0.0.1:0", "--web.config.file", web]);
        let none = get(s.addr, "/metrics");
        assert_eq!(none.status, 401);
        assert_eq!(
            none.header("www-authenticate"),
            Some("Basic realm=\"sockscope\", charset=\"UTF-8\"")
        );
        // alice:s3cret:x (the password holds a colon), alice:wrong, bob:s3cret:x
        let basic = |creds: &str| {
            let b64 = base64(creds.as_bytes());
            request(
                s.addr,
                "GET",
                "/metrics",
                &[("Authorization", &format!("Basic {b64}"))],
            )
        };
        let ok = basic("alice:s3cret:x");
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(kernel_reads(&ok.text()), 1);
        assert_eq!(basic("alice:wrong").status, 401);
        assert_eq!(basic("bob:s3cret:x").status, 401);
        assert_eq!(basic("alice").status, 401);
        // /healthz stays open (it says only "ok").
        assert_eq!(get(s.addr, "/healthz").status, 200);
        // Refused requests do not read the kernel.
        assert_eq!(kernel_reads(&basic("alice:s3cret:x").text()), 1);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
        drop(dir);
    });
}

/// Standard base64, for the Authorization header.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn listening_beyond_loopback_without_protection_is_warned_about() {
    if !is_root() {
        common::skip("serve tests: not root: no private namespace to listen on 0.0.0.0 in");
        return;
    }
    let dir = TempDir::new("warn");
    let hash = bcrypt::hash("pw", 4).unwrap();
    let auth = dir.write("auth.yml", &format!("basic_auth_users:\n  alice: {hash}\n"));
    Sandbox::run(move |env| {
        assert!(env.private_ns, "root, yet no private namespace");
        let warned = |s: &Served| s.stderr().contains("warning: serving on");
        let s = Served::start(env, &["--listen", "127.0.0.1:0"]);
        assert!(!warned(&s), "{}", s.stderr());
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
        let s = Served::start(env, &["--listen", "[::1]:0"]);
        assert!(!warned(&s), "{}", s.stderr());
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));

        let s = Served::start(env, &["--listen", "0.0.0.0:0"]);
        let err = s.stderr();
        assert!(
            err.contains("beyond loopback, without TLS or basic authentication"),
            "{err}"
        );
        // The warning is one line, before the serving line.
        assert_eq!(err.lines().count(), 2, "{err}");
        assert_eq!(get(s.addr, "/healthz").status, 200);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));

        let s = Served::start(
            env,
            &[
                "--listen",
                "0.0.0.0:0",
                "--web.config.file",
                auth.to_str().unwrap(),
            ],
        );
        let err = s.stderr();
        assert!(
            err.contains("beyond loopback, without TLS: passwords"),
            "{err}"
        );
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
        drop(dir);
    });
}

#[test]
fn at_most_16_connections_at_a_time() {
    Sandbox::run(|env| {
        let s = Served::start(env, &["--listen", "127.0.0.1:0"]);
        // 16 clients that say nothing hold every slot (for the head's 10 s).
        let idle: Vec<TcpStream> = (0..16)
            .map(|_| TcpStream::connect(s.addr).expect("connect"))
            .collect();
        // Accepted in order after them, the 17th is closed at once: no
        // answer, though its request is complete.
        let refused = try_exchange(s.addr, b"GET /healthz HTTP/1.1\r\n\r\n");
        assert!(refused.is_err(), "{refused:?}");
        // The idle ones leave: their slots come back (bounded retries: the
        // server sees them leave asynchronously).
        drop(idle);
        let mut tries = 0;
        let answered = loop {
            tries += 1;
            match try_exchange(s.addr, b"GET /healthz HTTP/1.1\r\n\r\n") {
                Ok(r) => break r,
                Err(e) if tries >= 100 => panic!("no slot came back: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        assert_eq!(answered.status, 200);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
    });
}

/// A child killed by pid when dropped (prometheus).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // SAFETY: kill on the pid of our own child, not yet reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let until = Instant::now() + BOUND;
        while let Ok(None) = self.0.try_wait() {
            if Instant::now() > until {
                let _ = self.0.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.wait();
    }
}

/// A real Prometheus server scrapes `serve` over TLS with basic
/// authentication (the configuration a fleet uses), and its query API
/// answers with the exporter's own series.
#[test]
fn prometheus_scrapes_it_over_tls_with_basic_auth() {
    if !is_root() {
        common::skip("serve tests: not root: no private namespace for prometheus's fixed port");
        return;
    }
    if !have("openssl") || !have("curl") || !have("prometheus") {
        return;
    }
    let dir = TempDir::new("prometheus");
    make_certs(&dir.0);
    let hash = bcrypt::hash("scrape-pw", 4).unwrap();
    let web = dir.write(
        "web.yml",
        &format!(
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n\
             basic_auth_users:\n  prometheus: {hash}\n"
        ),
    );
    Sandbox::run(move |env| {
        assert!(env.private_ns, "root, yet no private namespace");
        let d = &dir.0;
        let s = Served::start(
            env,
            &[
                "--listen",
                "127.0.0.1:0",
                "--min-interval",
                "1h",
                "--web.config.file",
                web.to_str().unwrap(),
            ],
        );
        let config = dir.write(
            "prometheus.yml",
            &format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
                 - job_name: sockscope\n    scheme: https\n    tls_config:\n      ca_file: {ca}\n    \
                 basic_auth:\n      username: prometheus\n      password: scrape-pw\n    \
                 static_configs:\n      - targets: ['{addr}']\n",
                ca = d.join("ca.pem").display(),
                addr = s.addr
            ),
        );
        // The namespace is the test's own: prometheus's port is free.
        let log = std::fs::File::create(d.join("prometheus.log")).unwrap();
        let prometheus = Killed(
            env.command("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
                .arg("--web.listen-address=127.0.0.1:9090")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start prometheus"),
        );
        let query = |q: &str| {
            let mut c = env.command("curl");
            c.args([
                "-sS",
                "--max-time",
                "10",
                "http://127.0.0.1:9090/api/v1/query",
            ])
            .args(["--data-urlencode", &format!("query={q}")]);
            String::from_utf8_lossy(&output_bounded(c, "curl prometheus").stdout).into_owned()
        };
        // Bounded: until the first scrape is in (a query value of 1).
        let until = Instant::now() + BOUND;
        let answer = loop {
            let a = query("sockscope_kernel_reads_total{job=\"sockscope\"}");
            if a.contains("\"value\":[") {
                break a;
            }
            if Instant::now() > until {
                panic!(
                    "prometheus never scraped sockscope: {a}\n{}\nserve: {}",
                    std::fs::read_to_string(d.join("prometheus.log")).unwrap_or_default(),
                    s.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        // One read: every scrape since came from it.
        assert!(answer.contains("\"1\"]"), "{answer}");
        let up = query("up{job=\"sockscope\"}");
        assert!(up.contains("\"1\"]"), "{up}");
        drop(prometheus);
        assert_eq!(s.stop(libc::SIGTERM).code(), Some(0));
        drop(dir);
    });
}

/// Regression: every read's notes were said again, so a serve that cannot
/// see every owner (not root) wrote the same hint on every scrape; its
/// count changes from read to read, and it is still said once.
#[test]
fn a_note_is_said_once_not_once_a_scrape() {
    if !is_root() || !have("setpriv") {
        common::skip(
            "serve tests: not root (or no setpriv): the note test needs root's sockets hidden from nobody",
        );
        return;
    }
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip(
                "serve tests: no private namespace: the note test needs a namespace of its own",
            );
            return;
        }
        // Root's sockets in the namespace, which nobody cannot attribute.
        let mut held = vec![TcpListener::bind("127.0.0.1:0").expect("listen")];
        let mut c = env.command("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .args(["serve", "--listen", "127.0.0.1:0", "--min-interval", "0s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = Killed(c.spawn().expect("start serve as nobody"));
        let err = child.0.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let serving = rx.recv_timeout(BOUND).expect("serve's first line");
        let addr: SocketAddr = serving
            .strip_prefix("sockscope: serving http://")
            .and_then(|a| a.strip_suffix("/metrics"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {serving:?}"));
        for _ in 0..3 {
            assert_eq!(get(addr, "/metrics").status, 200);
            // One more socket: the note's count differs at the next read.
            held.push(TcpListener::bind("127.0.0.1:0").expect("listen"));
        }
        // SAFETY: kill on the pid of our own child, not yet reaped.
        unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_bounded(&mut child.0, "serve after SIGTERM");
        assert_eq!(status.code(), Some(0));
        reader.join().expect("stderr reader");
        let lines: Vec<String> = rx.try_iter().collect();
        let hints = lines
            .iter()
            .filter(|l| l.contains("no visible owner"))
            .count();
        assert_eq!(hints, 1, "{lines:#?}");
    });
}
