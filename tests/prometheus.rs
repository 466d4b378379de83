//! The deploy/ files against the real tools, and sockscope scraped by a real
//! Prometheus server:
//!
//! - deploy/alerts.yml passes `promtool check rules` and `promtool test rules
//!   deploy/alerts_test.yml`; every alert there has a case that fires and one
//!   that does not, and uses only metric names of the metrics contract.
//! - deploy/prometheus.yml passes `promtool check config`; the systemd units
//!   pass `systemd-analyze verify`; deploy/grafana-dashboard.json is JSON whose
//!   queries use only the contract's names and cover its families.
//! - End to end: in a private network namespace, a listener with backlog 1
//!   and two connections it never accepts (accept queue 2 > backlog 1: full)
//!   plus a third client left in SYN_SENT; `sockscope serve` and `prometheus`
//!   (deploy/alerts.yml loaded) run inside it; Prometheus's HTTP API must
//!   answer `sockscope_listener_full == 1` with that listener, its queue
//!   length, and SockscopeAcceptQueueFull firing, within 60 s.
//!
//! A test that cannot run (no root, no promtool/prometheus/systemd-analyze)
//! says why on stderr; with CI=true that is a failure instead.

pub mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::netns::{NsProc, TestNetns, is_root, run_bounded, say};
use regex::Regex;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;
use socket2::{Domain, Socket, Type};

// ----- the metrics contract ------------------------------------------------

/// Every metric name of the metrics contract (README.md, "Metrics"), as
/// PromQL sees them: counters with `_total`, the rtt histogram's series.
const CONTRACT: &[&str] = &[
    "sockscope_sockets",
    "sockscope_listener_accept_queue",
    "sockscope_listener_backlog",
    "sockscope_listener_full",
    "sockscope_listener_half_open",
    "sockscope_listener_unaccepted",
    "sockscope_tcp_listen_overflows_total",
    "sockscope_tcp_listen_drops_total",
    "sockscope_tcp_req_q_full_drop_total",
    "sockscope_tcp_req_q_full_do_cookies_total",
    "sockscope_tcp_syncookies_sent_total",
    "sockscope_tcp_syncookies_recv_total",
    "sockscope_tcp_syncookies_failed_total",
    "sockscope_ephemeral_port_range_size",
    "sockscope_ephemeral_ports_used",
    "sockscope_ephemeral_ports_used_ratio",
    "sockscope_time_wait_sockets",
    "sockscope_close_wait_sockets",
    "sockscope_tcp_rtt_seconds_bucket",
    "sockscope_tcp_rtt_seconds_sum",
    "sockscope_tcp_rtt_seconds_count",
    "sockscope_tcp_retransmitted_segments",
    "sockscope_scrape_duration_seconds",
    "sockscope_scrape_sockets_read",
    "sockscope_scrape_errors_total",
    "sockscope_kernel_reads_total",
    "sockscope_series_dropped_total",
    "sockscope_build_info",
];

/// The metric names `text` (PromQL) uses.
fn metric_names(text: &str) -> BTreeSet<String> {
    let re = Regex::new(r"\bsockscope_[a-z0-9_]+").expect("regex");
    re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

/// Names in `text` that are not in the contract.
fn unknown_names(text: &str) -> Vec<String> {
    metric_names(text)
        .into_iter()
        .filter(|n| !CONTRACT.contains(&n.as_str()))
        .collect()
}

// ----- tools, files, processes ---------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn deploy(file: &str) -> PathBuf {
    repo().join("deploy").join(file)
}

use common::can_run;

/// `None` when `tool` runs (`tool --version`), else the reason.
fn missing_tool(tool: &str) -> Option<String> {
    match Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => None,
        Err(e) => Some(format!(
            "{tool} cannot be run ({e}): install Debian's prometheus package (.ci/setup does)"
        )),
    }
}

fn show(what: &str, out: &Output) -> String {
    format!(
        "{what}: exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A directory of the test's own under the system's temporary directory,
/// removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sockscope-prom-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process the test started; killed by its pid and reaped on drop.
struct Started {
    what: &'static str,
    child: Child,
    log: PathBuf,
}

impl Started {
    /// Spawns `cmd` with stdout and stderr to `log`.
    fn spawn(what: &'static str, cmd: &mut Command, log: PathBuf) -> Started {
        let file = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let file2 = file.try_clone().expect("dup log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(file2))
            .spawn()
            .unwrap_or_else(|e| panic!("start {what} ({cmd:?}): {e}"));
        Started { what, child, log }
    }

    /// `Some(description)` once the process has exited.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited ({status}):\n{}", self.what, self.log())),
            _ => None,
        }
    }

    /// What it wrote so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- promtool on the rules ----------------------------------------------

#[test]
fn alert_rules_pass_promtool_check() {
    if !can_run(missing_tool("promtool"), "promtool check rules") {
        return;
    }
    let out = run_bounded(
        Command::new("promtool")
            .args(["check", "rules"])
            .arg(deploy("alerts.yml")),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        show("promtool check rules", &out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SUCCESS: 6 rules found"),
        "{}",
        show("promtool check rules", &out)
    );
}

#[test]
fn alert_rules_pass_promtool_unit_tests() {
    if !can_run(missing_tool("promtool"), "promtool test rules") {
        return;
    }
    let out = run_bounded(
        Command::new("promtool")
            .args(["test", "rules"])
            .arg(deploy("alerts_test.yml")),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        show("promtool test rules", &out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("SUCCESS"),
        "{}",
        show("promtool test rules", &out)
    );
}

fn read_yaml(path: &Path) -> Yaml {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn seq<'a>(v: &'a Yaml, key: &str) -> &'a [Yaml] {
    v.get(key)
        .and_then(Yaml::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn string<'a>(v: &'a Yaml, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Yaml::as_str)
}

/// The alerting rules of alerts.yml: (name, expression, annotations).
fn alert_rules() -> Vec<(String, String, Yaml)> {
    let doc = read_yaml(&deploy("alerts.yml"));
    let mut rules = Vec::new();
    for group in seq(&doc, "groups") {
        for rule in seq(group, "rules") {
            let name = string(rule, "alert").expect("an alerting rule").to_owned();
            let expr = string(rule, "expr").expect("expr").to_owned();
            let annotations = rule.get("annotations").cloned().unwrap_or(Yaml::Null);
            rules.push((name, expr, annotations));
        }
    }
    rules
}

#[test]
fn every_alert_is_tested_firing_and_quiet_and_uses_contract_names() {
    let rules = alert_rules();
    let names: BTreeSet<String> = rules.iter().map(|r| r.0.clone()).collect();
    let wanted = [
        "SockscopeAcceptQueueFull",
        "SockscopeListenOverflows",
        "SockscopeEphemeralPortsExhausting",
        "SockscopeCloseWaitGrowing",
        "SockscopeTimeWaitStorm",
        "SockscopeExporterErrors",
    ];
    for w in wanted {
        assert!(names.contains(w), "alerts.yml has no {w}: {names:?}");
    }
    for (name, expr, annotations) in &rules {
        let unknown = unknown_names(expr);
        assert!(
            unknown.is_empty(),
            "{name}: names outside the contract: {unknown:?}"
        );
        assert!(
            !metric_names(expr).is_empty(),
            "{name} uses no sockscope metric"
        );
        for key in ["summary", "description"] {
            assert!(
                string(annotations, key).is_some_and(|s| !s.trim().is_empty()),
                "{name} has no {key} annotation"
            );
        }
    }
    let tests = read_yaml(&deploy("alerts_test.yml"));
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in seq(&tests, "tests") {
        for check in seq(case, "alert_rule_test") {
            let name = string(check, "alertname").expect("alertname").to_owned();
            if seq(check, "exp_alerts").is_empty() {
                quiet.insert(name);
            } else {
                fires.insert(name);
            }
        }
        for series in seq(case, "input_series") {
            let s = string(series, "series").expect("series");
            let unknown = unknown_names(s);
            assert!(
                unknown.is_empty(),
                "alerts_test.yml series outside the contract: {unknown:?}"
            );
        }
    }
    for name in &names {
        assert!(fires.contains(name), "no test case where {name} fires");
        assert!(
            quiet.contains(name),
            "no test case where {name} stays quiet"
        );
    }
}

// ----- prometheus.yml and the systemd units --------------------------------

#[test]
fn scrape_configuration_passes_promtool() {
    if !can_run(missing_tool("promtool"), "promtool check config") {
        return;
    }
    // The files prometheus.yml names, beside a copy of it.
    let dir = TempDir::new("config");
    for (from, to) in [
        ("prometheus.yml", "prometheus.yml"),
        ("alerts.yml", "sockscope-alerts.yml"),
        ("sockscope-targets.yml", "sockscope-targets.yml"),
    ] {
        std::fs::copy(deploy(from), dir.path().join(to))
            .unwrap_or_else(|e| panic!("copy {from}: {e}"));
    }
    let out = run_bounded(
        Command::new("promtool")
            .args(["check", "config"])
            .arg(dir.path().join("prometheus.yml")),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        show("promtool check config", &out)
    );
    // The file_sd example: a list of {targets, labels}.
    let targets = read_yaml(&deploy("sockscope-targets.yml"));
    let groups = targets.as_sequence().expect("a list of target groups");
    assert!(!groups.is_empty());
    for g in groups {
        let t = seq(g, "targets");
        assert!(!t.is_empty(), "a target group without targets: {g:?}");
        for target in t {
            let s = target.as_str().expect("a target is a string");
            assert!(
                s.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok()),
                "target {s} is not HOST:PORT"
            );
        }
    }
}

const UNITS: &[&str] = &[
    "sockscope.service",
    "sockscope-textfile.service",
    "sockscope-textfile.timer",
];

#[test]
fn systemd_units_verify() {
    let missing = match Command::new("systemd-analyze")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => None,
        Err(e) => Some(format!("systemd-analyze cannot be run: {e}")),
    };
    // The capabilities checked by hand (README.md, "On one host and on a
    // fleet") are the only ones, in both services.
    for unit in ["sockscope.service", "sockscope-textfile.service"] {
        let text = std::fs::read_to_string(deploy(unit)).expect("read unit");
        for key in ["AmbientCapabilities", "CapabilityBoundingSet"] {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{unit} has no {key}="));
            assert_eq!(
                line,
                format!("{key}=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE"),
                "{unit}"
            );
        }
        for option in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "ProtectKernelTunables=yes",
            "RestrictAddressFamilies=AF_NETLINK AF_INET AF_INET6 AF_UNIX",
            "SystemCallFilter=@system-service",
            "MemoryDenyWriteExecute=yes",
            "LockPersonality=yes",
        ] {
            assert!(text.lines().any(|l| l == option), "{unit} lacks {option}");
        }
    }
    if !can_run(missing, "systemd-analyze verify") {
        return;
    }
    // verify wants the ExecStart binary to exist: the built one stands in
    // for /usr/local/bin/sockscope.
    let dir = TempDir::new("units");
    for unit in UNITS {
        let text = std::fs::read_to_string(deploy(unit)).expect("read unit");
        let text = text.replace("/usr/local/bin/sockscope", env!("CARGO_BIN_EXE_sockscope"));
        std::fs::write(dir.path().join(unit), text).expect("write unit");
    }
    let mut cmd = Command::new("systemd-analyze");
    cmd.args(["verify", "--man=no"]);
    for unit in UNITS {
        cmd.arg(dir.path().join(unit));
    }
    let out = run_bounded(&mut cmd, Duration::from_secs(60));
    // An unknown or misspelt key is only a warning (exit 0): none wanted.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        show("systemd-analyze verify", &out)
    );
}

// ----- the Grafana dashboard -----------------------------------------------

/// Every string under a key `key`, anywhere in `v`.
fn strings_under(v: &Json, key: &str, out: &mut Vec<String>) {
    match v {
        Json::Object(map) => {
            for (k, child) in map {
                if k == key
                    && let Some(s) = child.as_str()
                {
                    out.push(s.to_owned());
                }
                strings_under(child, key, out);
            }
        }
        Json::Array(items) => {
            for item in items {
                strings_under(item, key, out);
            }
        }
        _ => {}
    }
}

#[test]
fn grafana_dashboard_is_json_on_contract_names() {
    let path = deploy("grafana-dashboard.json");
    let text = std::fs::read_to_string(&path).expect("read the dashboard");
    let doc: Json = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let mut exprs = Vec::new();
    strings_under(&doc, "expr", &mut exprs);
    let mut queries = Vec::new();
    strings_under(&doc, "query", &mut queries);
    let all = exprs
        .iter()
        .chain(&queries)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let unknown = unknown_names(&all);
    assert!(
        unknown.is_empty(),
        "names outside the contract: {unknown:?}"
    );
    // The families the dashboard is for.
    let used = metric_names(&exprs.join("\n"));
    for family in [
        "sockscope_listener_full",
        "sockscope_listener_accept_queue",
        "sockscope_listener_backlog",
        "sockscope_tcp_listen_overflows_total",
        "sockscope_ephemeral_ports_used_ratio",
        "sockscope_time_wait_sockets",
        "sockscope_close_wait_sockets",
        "sockscope_sockets",
    ] {
        assert!(used.contains(family), "no panel shows {family}: {used:?}");
    }
    // Variables for the instance and the namespace.
    let vars: BTreeSet<&str> = doc["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for v in ["instance", "netns"] {
        assert!(vars.contains(v), "no ${v} variable: {vars:?}");
    }
    // Every query is PromQL Prometheus parses: promtool checks them as
    // recording rules, Grafana's variables replaced by what they expand to.
    if can_run(
        missing_tool("promtool"),
        "promtool on the dashboard's queries",
    ) {
        let dir = TempDir::new("dashboard");
        let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
        for (i, e) in exprs.iter().enumerate() {
            let e = e
                .replace("$__rate_interval", "1m")
                .replace("$instance", ".*")
                .replace("$netns", ".*");
            let quoted = serde_json::to_string(&e).expect("quote");
            rules.push_str(&format!(
                "      - record: dashboard:q{i}\n        expr: {quoted}\n"
            ));
        }
        let file = dir.path().join("queries.yml");
        std::fs::write(&file, rules).expect("write queries.yml");
        let out = run_bounded(
            Command::new("promtool").args(["check", "rules"]).arg(&file),
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "{}",
            show("promtool check rules (dashboard queries)", &out)
        );
    }
    // Every panel has a title and a query.
    let panels = doc["panels"].as_array().expect("panels");
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert!(
            p["title"].as_str().is_some_and(|t| !t.is_empty()),
            "a panel without a title: {p}"
        );
        assert!(
            p["targets"].as_array().is_some_and(|t| !t.is_empty()),
            "panel {} has no query",
            p["title"]
        );
    }
}

// ----- end to end: a real Prometheus scrapes sockscope serve ---------------

/// Where `sockscope serve` and Prometheus listen inside the test's private
/// namespace (nothing else listens there but the test's own listener, whose
/// port is ephemeral).
const SERVE_PORT: u16 = 9877;
const PROMETHEUS_PORT: u16 = 9090;
/// The longest the end-to-end test waits for Prometheus's answer.
const E2E_LIMIT: Duration = Duration::from_secs(60);

/// Percent-encodes a query-string value.
fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.0 GET to 127.0.0.1:`port` from the calling thread (in its
/// namespace): `(status, body)`, or the error as text.
fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no end of headers from {addr}: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line from {addr}: {head:?}"))?;
    Ok((status, body.to_owned()))
}

/// An instant query through Prometheus's HTTP API: the result vector.
fn prom_query(query: &str) -> Result<Vec<Json>, String> {
    let path = format!("/api/v1/query?query={}", encode_query(query));
    let (status, body) = http_get(PROMETHEUS_PORT, &path)?;
    let doc: Json =
        serde_json::from_str(&body).map_err(|e| format!("{path}: {status} {e}: {body}"))?;
    if status != 200 || doc["status"] != "success" {
        return Err(format!("{path}: {status} {body}"));
    }
    Ok(doc["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The value of the series of `result` whose labels include `labels`.
fn value_of(result: &[Json], labels: &[(&str, &str)]) -> Option<String> {
    result
        .iter()
        .find(|s| labels.iter().all(|(k, v)| s["metric"][*k] == *v))
        .and_then(|s| s["value"][1].as_str())
        .map(str::to_owned)
}

/// deploy/alerts.yml for a test that cannot wait minutes: every `for:` set to
/// 0s and every group evaluated each second, so SockscopeAcceptQueueFull fires
/// at the first evaluation that sees the full listener (the rules themselves,
/// expressions and labels, are the deployed ones).
fn rules_without_delays() -> String {
    let mut doc = read_yaml(&deploy("alerts.yml"));
    let groups = doc
        .get_mut("groups")
        .and_then(Yaml::as_sequence_mut)
        .expect("groups");
    for group in groups {
        if let Some(interval) = group.get_mut("interval") {
            *interval = Yaml::String("1s".into());
        }
        for rule in group
            .get_mut("rules")
            .and_then(Yaml::as_sequence_mut)
            .expect("rules")
        {
            if let Some(f) = rule.get_mut("for") {
                *f = Yaml::String("0s".into());
            }
        }
    }
    serde_norway::to_string(&doc).expect("serialize the rules")
}

/// The full listener, made on a thread inside `ns` and handed to a `sleep`
/// holder: listen(1), two connections completed and never accepted (accept
/// queue 2 > backlog 1: full), a third whose SYNs are dropped (SYN_SENT).
/// Returns the holder and the listener's port.
fn full_listener(ns: &TestNetns) -> (NsProc, u16) {
    ns.enter(|| {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        listener
            .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("bind 127.0.0.1:0");
        listener.listen(1).expect("listen(1)");
        let addr = listener
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("an inet address");
        let mut clients = Vec::new();
        for _ in 0..2 {
            let c = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
            c.connect(&addr.into())
                .expect("connect (queue not yet full)");
            clients.push(c);
        }
        let third = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        third.set_nonblocking(true).expect("nonblocking");
        match third.connect(&addr.into()) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            other => panic!("the third connect should be in progress: {other:?}"),
        }
        clients.push(third);
        let mut fds = vec![listener.as_raw_fd()];
        fds.extend(clients.iter().map(AsRawFd::as_raw_fd));
        let holder = NsProc::hold(&fds, false);
        (holder, addr.port())
    })
}

/// What the test waits for, as far as it got (for the failure message).
#[derive(Debug, Default)]
struct Seen {
    full: Option<String>,
    accept_queue: Option<String>,
    backlog: Option<String>,
    alert_state: Option<String>,
    last_error: Option<String>,
    /// Prometheus's view of the scrape target: health, last error, duration.
    target: Option<String>,
}

impl Seen {
    fn done(&self) -> bool {
        self.full.as_deref() == Some("1")
            && self.accept_queue.as_deref() == Some("2")
            && self.backlog.as_deref() == Some("1")
            && self.alert_state.as_deref() == Some("firing")
    }
}

/// One look at Prometheus's answers about the listener on `port`.
fn look(port: &str, seen: &mut Seen) -> Result<(), String> {
    let ours = [
        ("protocol", "tcp"),
        ("address", "127.0.0.1"),
        ("port", port),
        ("process", "sleep"),
    ];
    seen.full = value_of(&prom_query("sockscope_listener_full == 1")?, &ours);
    seen.accept_queue = value_of(&prom_query("sockscope_listener_accept_queue")?, &ours);
    seen.backlog = value_of(&prom_query("sockscope_listener_backlog")?, &ours);
    let (_, body) = http_get(PROMETHEUS_PORT, "/api/v1/targets?state=active")?;
    seen.target = serde_json::from_str::<Json>(&body).ok().and_then(|doc| {
        doc["data"]["activeTargets"].as_array()?.first().map(|t| {
            format!(
                "health {} lastError {:?} lastScrapeDuration {}",
                t["health"], t["lastError"], t["lastScrapeDuration"]
            )
        })
    });
    let (status, body) = http_get(PROMETHEUS_PORT, "/api/v1/alerts")?;
    let doc: Json = serde_json::from_str(&body).map_err(|e| format!("alerts: {status} {e}"))?;
    seen.alert_state = doc["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["labels"]["alertname"] == "SockscopeAcceptQueueFull" && a["labels"]["port"] == port
        })
        .and_then(|a| a["state"].as_str())
        .map(str::to_owned);
    Ok(())
}

#[test]
fn prometheus_scrapes_a_full_accept_queue_and_fires_the_alert() {
    let missing = if !is_root() {
        Some("not root: a private network namespace needs root".to_owned())
    } else {
        missing_tool("prometheus")
    };
    if !can_run(missing, "end to end with a real Prometheus") {
        return;
    }
    let dir = TempDir::new("e2e");
    let ns = TestNetns::named();
    let name = ns.name().expect("a named namespace").to_owned();
    let (holder, port) = full_listener(&ns);
    // The scenario as ss sees it: LISTEN, Recv-Q 2 (the accept queue), Send-Q 1.
    let out = run_bounded(
        ns.exec("ss").args(["-Hltn", &format!("sport = :{port}")]),
        Duration::from_secs(20),
    );
    let fields: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        fields.get(..3).map(<[String]>::to_vec),
        Some(vec!["LISTEN".into(), "2".into(), "1".into()]),
        "{}",
        show("ss -Hltn in the namespace", &out)
    );

    let serve = Started::spawn(
        "sockscope serve",
        ns.exec(env!("CARGO_BIN_EXE_sockscope")).args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{SERVE_PORT}"),
            "--min-interval",
            "1s",
        ]),
        dir.path().join("serve.log"),
    );

    std::fs::write(dir.path().join("alerts.yml"), rules_without_delays()).expect("write rules");
    // Scrapes every 3 s with a 3 s timeout; rules are evaluated every
    // second. With 1 s for both, of 6 runs here (load average 15 on 2
    // cores, other work on the machine) 2 found nothing in 60 s and one
    // took 37 s; the one failure with diagnostics had the target down
    // ("EOF" after 0.5 ms). Likely (not proven): scrapes Prometheus gave
    // up on keep serve's connection slots while a slow read runs, and
    // serve closes new connections once all 16 are taken.
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 3s\n  scrape_timeout: 3s\n  evaluation_interval: 1s\n\
             rule_files:\n  - alerts.yml\n\
             scrape_configs:\n  - job_name: sockscope\n    static_configs:\n      - targets: [\"127.0.0.1:{SERVE_PORT}\"]\n"
        ),
    )
    .expect("write prometheus.yml");
    let data = dir.path().join("data");
    let prometheus = Started::spawn(
        "prometheus",
        ns.exec("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}"))
            .arg("--log.level=warn"),
        dir.path().join("prometheus.log"),
    );
    let mut procs = [serve, prometheus];

    // Poll from a thread inside the namespace until everything is seen,
    // a process died, or E2E_LIMIT.
    let port_s = port.to_string();
    let mut seen = Seen::default();
    let mut died = None;
    let start = Instant::now();
    while start.elapsed() < E2E_LIMIT {
        if let Some(why) = procs.iter_mut().find_map(Started::exited) {
            died = Some(why);
            break;
        }
        let p = port_s.clone();
        let (s, r) = ns.enter(move || {
            let mut s = Seen::default();
            let r = look(&p, &mut s);
            (s, r)
        });
        seen = s;
        seen.last_error = r.err();
        if seen.done() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let [serve, prometheus] = &procs;
    if let Some(why) = died {
        panic!(
            "a process in namespace {name} ended before Prometheus reported the full listener \
             127.0.0.1:{port}: {why}\nseen: {seen:?}\n--- sockscope serve ---\n{}\n--- prometheus ---\n{}",
            serve.log(),
            prometheus.log()
        );
    }
    assert!(
        seen.done(),
        "Prometheus (in namespace {name}) did not report the full listener 127.0.0.1:{port} \
         within {E2E_LIMIT:?}\nseen: {seen:?}\n--- sockscope serve ---\n{}\n--- prometheus ---\n{}",
        serve.log(),
        prometheus.log()
    );
    say(&format!(
        "prometheus tests: end to end in {:.1?}: full listener 127.0.0.1:{port} (accept queue 2, backlog 1), SockscopeAcceptQueueFull firing",
        start.elapsed()
    ));
    // Processes first (killed by pid), then the holder, then the namespace.
    drop(procs);
    drop(holder);
    drop(ns);
}
