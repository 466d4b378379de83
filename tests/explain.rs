//! The explain views on real sockets: a full accept queue, half-open
//! connections, a port held by TIME_WAIT, a free port, a port held by a
//! child process, and ephemeral ports running out for one destination.

pub mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Output;

use common::run::Holder;
use common::{Env, ListenOpts, Sandbox, Scenario};
use serde_json::Value;

fn run(env: &Env, args: &[&str]) -> Output {
    common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn listener_row(v: &Value, addr: SocketAddr) -> &Value {
    v["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["local"]["port"] == addr.port() && l["local"]["addr"] == addr.ip().to_string())
        .unwrap_or_else(|| panic!("no listener {addr} in {v}"))
}

#[test]
fn listeners_full_queue_and_half_open() {
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let full = sc.listen_with(
            "127.0.0.1:0".parse().unwrap(),
            ListenOpts {
                v6only: None,
                defer_accept_secs: None,
                backlog: 2,
            },
        );
        // Three clients are let in (the queue is full only past the
        // backlog); none is ever accepted.
        let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(full).unwrap()).collect();
        let deferred = sc.listen_with(
            "127.0.0.1:0".parse().unwrap(),
            ListenOpts {
                v6only: None,
                defer_accept_secs: Some(30),
                backlog: 16,
            },
        );
        let half: Vec<TcpStream> = (0..2)
            .map(|_| TcpStream::connect(deferred).unwrap())
            .collect();
        let ok = common::poll_until(std::time::Duration::from_secs(2), || {
            let out = run(env, &["listeners", "--json"]);
            let v = json(&out);
            listener_row(&v, full)["accept_queue"] == 3
                && listener_row(&v, deferred)["half_open"] == 2
        });
        assert!(ok, "queues did not settle");
        let out = run(env, &["listeners", "--json"]);
        let v = json(&out);
        let f = listener_row(&v, full);
        assert_eq!(f["backlog"], 2, "{f}");
        assert_eq!(f["full"], true, "{f}");
        assert_eq!(f["unaccepted"], 3, "{f}");
        assert_eq!(f["level"], "critical");
        assert_eq!(f["owners"][0]["pid"], std::process::id());
        let d = listener_row(&v, deferred);
        assert_eq!(
            (d["half_open"].as_u64(), d["full"].as_bool()),
            (Some(2), Some(false))
        );
        assert!(v["limits"]["somaxconn"].as_u64().unwrap() > 0);
        assert!(
            v["counters"]
                .as_object()
                .unwrap()
                .contains_key("ListenOverflows")
        );
        if env.private_ns {
            assert_eq!(out.status.code(), Some(1), "a full queue exits 1");
        }
        let text = String::from_utf8(run(env, &["listeners"]).stdout).unwrap();
        assert!(text.contains("3/2") && text.contains("FULL"), "{text}");
        assert!(text.contains("Limits: net.core.somaxconn"), "{text}");
        drop((clients, half));
    });
}

#[test]
fn why_bind_time_wait_listener_and_free() {
    Sandbox::run(|env| {
        // A restarted server's situation: the server closed its connection
        // first (so its end is in TIME_WAIT on the server's port), then the
        // listener went away. std's TcpListener sets SO_REUSEADDR, as most
        // servers do, and the TIME_WAIT socket inherits it.
        let old = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = old.local_addr().unwrap();
        let client = TcpStream::connect(server_addr).unwrap();
        let (server, _) = old.accept().unwrap();
        drop(server);
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(client);
        drop(old);
        let ok = common::poll_until(std::time::Duration::from_secs(2), || {
            let v = json(&run(env, &["-tan", "--json", "state", "time-wait"]));
            v.as_array()
                .unwrap()
                .iter()
                .any(|r| r["local"]["port"] == server_addr.port())
        });
        assert!(ok, "no TIME_WAIT on the server's port");
        let port = server_addr.port().to_string();
        let out = run(env, &["why-bind", &port, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v = json(&out);
        assert_eq!(v["free"], false);
        let reasons = v["reasons"].to_string();
        assert!(
            reasons.contains("TIME_WAIT") && reasons.contains("SO_REUSEADDR"),
            "{v}"
        );
        assert_eq!(
            v["holders"].as_array().unwrap().len(),
            1,
            "TIME_WAIT alone: {v}"
        );
        let left = v["holders"][0]["timer"]["expires_ms"].as_u64().unwrap();
        assert!(left > 0 && left <= 60_000, "{v}");
        // --try agrees: a plain bind fails, SO_REUSEADDR binds.
        let out = run(
            env,
            &["why-bind", &format!("127.0.0.1:{port}"), "--try", "--json"],
        );
        let v = json(&out);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(v["try"]["plain_ok"], false, "{v}");
        assert_eq!(v["try"]["reuseaddr_ok"], true, "{v}");
        let text = String::from_utf8(run(env, &["why-bind", &port]).stdout).unwrap();
        assert!(
            text.contains("busy") && text.contains("TIME_WAIT"),
            "{text}"
        );
        // An outgoing client's TIME_WAIT port did not have SO_REUSEADDR:
        // --try shows that even SO_REUSEADDR cannot bind it yet.
        let mut sc = Scenario::new();
        let l = sc.listen_v4();
        let tw = sc.time_wait(l);
        let v = json(&run(
            env,
            &["why-bind", &tw.client.to_string(), "--try", "--json"],
        ));
        assert_eq!(
            (v["free"].as_bool(), v["try"]["reuseaddr_ok"].as_bool()),
            (Some(false), Some(false)),
            "{v}"
        );

        // A port held by a child process's listener: the owner is named.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let child = Holder::spawn(env, &[listener.as_raw_fd()]);
        drop(listener);
        let out = run(env, &["why-bind", &addr.to_string()]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&format!("sleep/{}", child.pid())), "{text}");
        assert!(text.contains("SO_REUSEPORT"), "{text}");

        // A free port: bind one, note it, let it go.
        let free = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if env.private_ns {
            let out = run(env, &["why-bind", &free.to_string(), "--try"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("free"));
        }
    });
}

#[test]
fn ports_run_out_per_destination() {
    Sandbox::run(|env| {
        if !env.private_ns {
            common::skip(
                "ports_run_out_per_destination: needs a private namespace to shrink ip_local_port_range; skipped",
            );
            return;
        }
        // 2000 ephemeral ports in this namespace only.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open("/proc/thread-self/../../sys/net/ipv4/ip_local_port_range")
            .or_else(|_| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/proc/sys/net/ipv4/ip_local_port_range")
            })
            .unwrap();
        f.write_all(b"40000 41999\n").unwrap();
        drop(f);
        let mut sc = Scenario::new();
        // 1100 connections to one destination: 55 % of the range.
        sc.bulk(1100);
        let out = run(env, &["ports", "--json"]);
        let v = json(&out);
        assert_eq!(v["range_size"], 2000, "{v}");
        let top = &v["destinations"][0];
        assert_eq!(top["count"], 1100, "{top}");
        assert_eq!(top["level"], "warn", "{top}");
        assert_eq!(out.status.code(), Some(0));
        // 1850 more to another destination: 92.5 % there, while the same
        // local ports serve the first destination too (four-tuples differ).
        sc.bulk(1850);
        let out = run(env, &["ports"]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("CRITICAL") && text.contains("four-tuple"),
            "{text}"
        );
        let v = json(&run(env, &["ports", "--json"]));
        assert!(
            v["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["level"] == "critical"),
            "{v}"
        );
    });
}
