//! `why-bind --try` binds what was asked for: the address with its IPv6
//! scope, or for a bare port both `0.0.0.0` and `[::]` dual-stack, and the
//! verdict follows the errno (EADDRINUSE, EADDRNOTAVAIL, EACCES, EINVAL).
//! Each case is checked against a real bind() made by the test itself.

pub mod common;

use std::net::{SocketAddr, SocketAddrV6};
use std::process::{Command, Output};

use common::{Env, Sandbox};
use serde_json::Value;
use socket2::{Domain, Socket, Type};

fn sockscope(env: &Env) -> Command {
    common::run::command(env)
}

fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("run sockscope")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The oracle: a plain bind() by the test, its errno or 0.
fn bind_errno(addr: SocketAddr, dual_stack: bool) -> i32 {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    if dual_stack {
        s.set_only_v6(false).unwrap();
    }
    match s.bind(&addr.into()) {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap(),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Only a v6only listener on [::1]:9090: 0.0.0.0:9090 binds, [::]:9090
/// dual-stack does not, and why-bind says so (exit 1), for the bare port
/// and for `[::]:9090`, whose JSON keeps the address asked for.
#[test]
fn bare_port_tries_both_wildcards() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let l = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
        l.set_only_v6(true).unwrap();
        l.bind(&"[::1]:9090".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        l.listen(8).unwrap();
        assert_eq!(bind_errno("0.0.0.0:9090".parse().unwrap(), false), 0);
        assert_eq!(
            bind_errno("[::]:9090".parse().unwrap(), true),
            libc::EADDRINUSE
        );

        let out = run(sockscope(env), &["why-bind", "9090", "--try"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.starts_with(
                "tcp port 9090: busy, bind() would fail for [::]:9090 (dual-stack); \
                 0.0.0.0:9090 is free\n"
            ),
            "{text}"
        );
        let v = json(&run(
            sockscope(env),
            &["why-bind", "9090", "--try", "--json"],
        ));
        assert_eq!(v["free"], false);
        assert_eq!(v["reason"], "in_use");
        let tries = v["tries"].as_array().unwrap();
        assert_eq!(tries.len(), 2, "{v}");
        assert_eq!(
            (&tries[0]["addr"], &tries[0]["plain_ok"]),
            (&Value::from("0.0.0.0:9090"), &Value::from(true))
        );
        assert_eq!(
            (
                &tries[1]["addr"],
                &tries[1]["plain_reason"],
                &tries[1]["dual_stack"]
            ),
            (
                &Value::from("[::]:9090"),
                &Value::from("in_use"),
                &Value::from(true)
            )
        );
        assert_eq!(v["try"]["addr"], "[::]:9090", "the failed attempt");

        let out = run(
            sockscope(env),
            &["why-bind", "[::]:9090", "--try", "--json"],
        );
        assert_eq!(out.status.code(), Some(1));
        let v = json(&out);
        assert_eq!(v["addr"], "::", "the address asked for");
        assert_eq!(v["try"]["addr"], "[::]:9090");
        assert_eq!(v["try"]["plain_reason"], "in_use");
        assert_eq!(v["tries"].as_array().unwrap().len(), 1);
    });
}

/// An address this host does not have: EADDRNOTAVAIL, not "busy".
#[test]
fn foreign_address_is_not_available() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let to: SocketAddr = "1.2.3.4:80".parse().unwrap();
        assert_eq!(bind_errno(to, false), libc::EADDRNOTAVAIL);
        let out = run(sockscope(env), &["why-bind", "1.2.3.4:80", "--try"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.starts_with("tcp 1.2.3.4:80: address not available, bind() would fail\n"),
            "{text}"
        );
        assert!(!text.contains("busy"), "{text}");
        let v = json(&run(
            sockscope(env),
            &["why-bind", "1.2.3.4:80", "--try", "--json"],
        ));
        assert_eq!(v["reason"], "address_not_available");
        assert_eq!(v["addr"], "1.2.3.4");
        assert_eq!(v["try"]["plain_reason"], "address_not_available");
    });
}

/// Port 81 as nobody: EACCES (permission), while root binds it.
#[test]
fn privileged_port_as_nobody_is_permission() {
    Sandbox::run(|env| {
        if !env.private_ns || !is_root() {
            return;
        }
        let out = run(sockscope(env), &["why-bind", "81", "--try", "--json"]);
        assert_eq!(out.status.code(), Some(0), "root binds port 81");
        assert_eq!(json(&out)["free"], true);
        let mut nobody = env.command("setpriv");
        nobody
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockscope"))
            .env_remove("SOCKSCOPE_PROC_ROOT")
            .env_remove("SOCKSCOPE_NETLINK_REPLAY")
            .env_remove("SOCKSCOPE_NETLINK_RECORD");
        let out = run(nobody, &["why-bind", "81", "--try", "--json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json(&out);
        assert_eq!(v["reason"], "permission", "{v}");
        for t in v["tries"].as_array().unwrap() {
            assert_eq!(t["plain_reason"], "permission", "{t}");
        }
        assert!(
            v["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().contains("CAP_NET_BIND_SERVICE")),
            "{v}"
        );
    });
}

/// A link-local address keeps its scope, by name or number; without one
/// the kernel says EINVAL; on an interface without it, EADDRNOTAVAIL.
#[test]
fn link_local_scope_is_kept() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let out = env
            .command("sh")
            .args([
                "-c",
                "ip link add d1 type veth peer name d1p && ip link set d1 up && \
                 ip link set d1p up && ip -6 addr add fe80::1/64 dev d1 nodad",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(
            env.command("ip")
                .args(["-o", "link", "show", "d1"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let idx: u32 = text.split(':').next().unwrap().trim().parse().unwrap();
        let scoped = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 0, idx));
        assert_eq!(bind_errno(scoped, false), 0);
        assert_eq!(
            bind_errno("[fe80::1]:80".parse().unwrap(), false),
            libc::EINVAL
        );
        for asked in ["[fe80::1%d1]:80".to_owned(), format!("[fe80::1%{idx}]:80")] {
            let out = run(sockscope(env), &["why-bind", &asked, "--try", "--json"]);
            assert_eq!(out.status.code(), Some(0), "{asked}");
            let v = json(&out);
            assert_eq!(v["addr"], "fe80::1");
            assert_eq!(v["scope_id"], idx);
            assert_eq!(v["try"]["addr"], format!("[fe80::1%{idx}]:80"));
            assert_eq!(v["try"]["plain_ok"], true);
        }
        let out = run(
            sockscope(env),
            &["why-bind", "[fe80::1]:80", "--try", "--json"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(json(&out)["reason"], "invalid");
        let out = run(
            sockscope(env),
            &["why-bind", "[fe80::1%lo]:80", "--try", "--json"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(json(&out)["reason"], "address_not_available");
        // A scope that names no interface is the user's mistake: exit 2.
        let out = run(sockscope(env), &["why-bind", "[fe80::1%nosuch]:80"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no interface named \"nosuch\""), "{err}");
    });
}
