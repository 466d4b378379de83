//! Accept-queue attribution with real listeners and clients in a private
//! namespace (interfaces made there): connections nobody accept()ed are tied
//! to the listener whose queue holds them as the kernel's own listener
//! lookup does (device, exact address over wildcard, family), checked
//! against each listener's Recv-Q (`ss` is the oracle), and "one of" where
//! the kernel's data cannot tell (an SO_REUSEPORT group). `-p`, `--pid`,
//! `who`, `listeners` and `why-bind` must all say the same.

pub mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Output;
use std::time::Duration;

use common::run::Holder;
use common::{Env, Sandbox};
use serde_json::Value;
use socket2::{Domain, Socket, Type};

fn run(env: &Env, args: &[&str]) -> Output {
    common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope")
}

fn json(env: &Env, args: &[&str]) -> Value {
    let out = run(env, args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "sockscope {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn sh(env: &Env, script: &str) {
    let out = env
        .command("sh")
        .args(["-c", script])
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A listener (SO_REUSEPORT so that wildcard and exact ones can coexist),
/// optionally bound to a device.
fn listen(addr: SocketAddr, dev: Option<&str>) -> Socket {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    s.set_reuse_port(true).unwrap();
    if addr.is_ipv6() {
        s.set_only_v6(true).unwrap();
    }
    if let Some(d) = dev {
        s.bind_device(Some(d.as_bytes())).unwrap();
    }
    s.bind(&addr.into()).unwrap();
    s.listen(16).unwrap();
    s
}

fn connect(to: SocketAddr) -> TcpStream {
    TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap()
}

fn inode(fd: i32) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    let link = link.to_string_lossy();
    link.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

/// A listener held by a `sleep` child alone (the test closes its copy).
struct Held {
    holder: Holder,
    inode: u64,
}

fn hold(env: &Env, s: Socket) -> Held {
    let inode = inode(s.as_raw_fd());
    let holder = Holder::spawn(env, &[s.as_raw_fd()]);
    drop(s);
    Held { holder, inode }
}

/// The oracle: the listener's Recv-Q (its accept queue) from `ss -tlnHe`.
fn ss_recv_q(env: &Env, inode: u64) -> u64 {
    let out = env.command("ss").args(["-tlnHe"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == format!("ino:{inode}")))
        .unwrap_or_else(|| panic!("no listener ino:{inode} in ss:\n{text}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// What a queued connection must show: the holders' pids, and whether the
/// listener is sure or one of several.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expect {
    pids: BTreeSet<u32>,
    attribution: &'static str,
}

fn sure(h: &Held) -> Expect {
    Expect {
        pids: BTreeSet::from([h.holder.pid()]),
        attribution: "sure",
    }
}

fn one_of(hs: &[&Held]) -> Expect {
    Expect {
        pids: hs.iter().map(|h| h.holder.pid()).collect(),
        attribution: "one_of",
    }
}

/// The holders' pids among a JSON owner list (a sibling test's child
/// caught between fork and exec may hold copies: only `sleep`s count).
fn pids(list: &Value) -> BTreeSet<u32> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["comm"] == "sleep")
        .map(|o| o["pid"].as_u64().unwrap() as u32)
        .collect()
}

fn what(r: &Value) -> Option<Expect> {
    (r["queue"] == "accept").then(|| Expect {
        pids: pids(&r["listener_owners"]),
        // Without the field (the schema before it), one listener is
        // claimed.
        attribution: match r.get("listener_attribution").map(|a| a.as_str()) {
            None | Some(Some("sure")) => "sure",
            Some(Some("one_of")) => "one_of",
            other => panic!("listener_attribution {other:?} in {r}"),
        },
    })
}

/// The server side of `client` among `rows`.
fn server_row(rows: &[Value], port: u16, client: SocketAddr) -> &Value {
    rows.iter()
        .find(|r| {
            r["local"]["port"] == port
                && r["remote"]["port"] == client.port()
                && r["state"] != "LISTEN"
        })
        .unwrap_or_else(|| panic!("no server row for client {client} in {rows:?}"))
}

/// Every view against the expectations and against ss's Recv-Q.
fn check(env: &Env, port: u16, listeners: &[&Held], expect: &[(SocketAddr, Expect)]) {
    let p = port.to_string();
    // -p: the table's records (streamed).
    let all = json(env, &["-tanp", "--json"]);
    let rows = all.as_array().unwrap().clone();
    for (client, want) in expect {
        let r = server_row(&rows, port, *client);
        assert_eq!(r["inode"], 0, "{r}");
        assert_eq!(what(r).as_ref(), Some(want), "-tanp, client {client}: {r}");
    }
    // Recv-Q: sockscope's equals ss's, and a listener named alone holds
    // no more connections than its Recv-Q says.
    for l in listeners {
        let q = ss_recv_q(env, l.inode);
        let mine = rows
            .iter()
            .find(|r| r["inode"] == l.inode)
            .unwrap_or_else(|| panic!("no listener {} in {rows:?}", l.inode));
        assert_eq!(mine["recv_q"], q, "{mine}");
        let sure_here = expect.iter().filter(|(_, e)| *e == sure(l)).count() as u64;
        let maybe = expect
            .iter()
            .filter(|(_, e)| e.pids.contains(&l.holder.pid()))
            .count() as u64;
        assert!(
            sure_here <= q && q <= maybe,
            "listener {} has Recv-Q {q}: {sure_here} sure, {maybe} possible",
            l.inode
        );
    }
    // --pid: each listener's holder keeps the connections it may hold.
    for l in listeners {
        let pid = l.holder.pid().to_string();
        let mine = json(env, &["-tanp", "--json", "--pid", &pid]);
        let mine = mine.as_array().unwrap();
        for (client, want) in expect {
            let has = mine
                .iter()
                .any(|r| r["local"]["port"] == port && r["remote"]["port"] == client.port());
            assert_eq!(
                has,
                want.pids.contains(&l.holder.pid()),
                "--pid {pid}, client {client}: {mine:?}"
            );
        }
    }
    // who: the same ties, and every queued connection counted.
    let who = json(env, &["who", &p, "--json"]);
    let socks = who["sockets"].as_array().unwrap();
    for (client, want) in expect {
        let r = server_row(socks, port, *client);
        assert_eq!(what(r).as_ref(), Some(want), "who, client {client}: {r}");
    }
    let n = expect.len();
    let summary = who["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "; {n} connection{} waiting to be accepted",
            if n == 1 { "" } else { "s" }
        )),
        "{summary}"
    );
    // listeners: Unaccepted is each listener's Recv-Q.
    let ls = json(env, &["listeners", "--json"]);
    let total: u64 = listeners
        .iter()
        .map(|l| {
            let row = ls["listeners"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| pids(&r["owners"]).contains(&l.holder.pid()))
                .unwrap_or_else(|| panic!("no listener of {} in {ls}", l.holder.pid()));
            let q = ss_recv_q(env, l.inode);
            assert_eq!(row["unaccepted"], q, "{row}");
            q
        })
        .sum();
    assert_eq!(
        total, n as u64,
        "the Recv-Qs add up to the queued connections"
    );
    // why-bind: the same ties; queued connections are not the application's.
    let wb = json(env, &["why-bind", &p, "--json"]);
    let holders = wb["holders"].as_array().unwrap();
    for (client, want) in expect {
        let r = server_row(holders, port, *client);
        assert_eq!(
            what(r).as_ref(),
            Some(want),
            "why-bind, client {client}: {r}"
        );
    }
    let reasons: Vec<&str> = wb["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with(&format!(
            "{n} connection{} completed by the kernel and waiting in an accept queue",
            if n == 1 { "" } else { "s" }
        ))),
        "{reasons:?}"
    );
    assert!(
        !reasons.iter().any(|r| r.contains("has not closed its end")),
        "{reasons:?}"
    );
    // The table says "one of" exactly where JSON does.
    let text = String::from_utf8(run(env, &["-tanp"]).stdout).unwrap();
    let one_of_rows = text
        .lines()
        .filter(|l| l.contains("(accept queue of one of "))
        .count();
    assert_eq!(
        one_of_rows,
        expect
            .iter()
            .filter(|(_, e)| e.attribution == "one_of")
            .count(),
        "{text}"
    );
}

/// (a) P1 on 0.0.0.0, a client waits, then P2 on the exact address: the
/// kernel put the client in P1's queue (ss: P1 Recv-Q 1, P2 0).
#[test]
fn wildcard_listener_keeps_what_it_queued_before_the_exact_one() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let p1 = hold(env, listen("0.0.0.0:8092".parse().unwrap(), None));
        let c = connect("127.0.0.1:8092".parse().unwrap());
        let p2 = hold(env, listen("127.0.0.1:8092".parse().unwrap(), None));
        assert_eq!(ss_recv_q(env, p1.inode), 1);
        assert_eq!(ss_recv_q(env, p2.inode), 0);
        check(
            env,
            8092,
            &[&p1, &p2],
            &[(c.local_addr().unwrap(), sure(&p1))],
        );
    });
}

/// (b) The exact listener is bound to a device: it takes only that
/// device's connections. A client queued by the wildcard listener before
/// the bound one existed, and one queued by the bound one: one each.
#[test]
fn listener_bound_to_a_device_takes_only_its_devices_connections() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        sh(
            env,
            "ip link add d1 type veth peer name d1p && ip link set d1 up && \
             ip link set d1p up && ip addr add 10.9.0.1/24 dev d1",
        );
        let p1 = hold(env, listen("0.0.0.0:8093".parse().unwrap(), None));
        let to: SocketAddr = "10.9.0.1:8093".parse().unwrap();
        let a = connect(to);
        let p2 = hold(env, listen(to, Some("d1")));
        let b = connect(to);
        assert_eq!(ss_recv_q(env, p1.inode), 1);
        assert_eq!(ss_recv_q(env, p2.inode), 1);
        check(
            env,
            8093,
            &[&p1, &p2],
            &[
                (a.local_addr().unwrap(), sure(&p1)),
                (b.local_addr().unwrap(), sure(&p2)),
            ],
        );
    });
}

/// (c) An SO_REUSEPORT group: the kernel spreads connections over the
/// members by hash and does not say which went where; members with a
/// Recv-Q are "one of" (a member with none holds none).
#[test]
fn reuseport_group_is_one_of_its_members() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let to: SocketAddr = "127.0.0.1:8094".parse().unwrap();
        let a = hold(env, listen(to, None));
        let b = hold(env, listen(to, None));
        let clients: Vec<TcpStream> = (0..8).map(|_| connect(to)).collect();
        let qa = ss_recv_q(env, a.inode);
        let qb = ss_recv_q(env, b.inode);
        assert_eq!(qa + qb, 8);
        let want = match (qa, qb) {
            (0, _) => sure(&b),
            (_, 0) => sure(&a),
            _ => one_of(&[&a, &b]),
        };
        let expect: Vec<(SocketAddr, Expect)> = clients
            .iter()
            .map(|c| (c.local_addr().unwrap(), want.clone()))
            .collect();
        check(env, 8094, &[&a, &b], &expect);
        let text = String::from_utf8(run(env, &["-tanp"]).stdout).unwrap();
        if want.attribution == "one_of" {
            let line = format!(
                "(accept queue of one of sleep/{}, sleep/{})",
                a.holder.pid().min(b.holder.pid()),
                a.holder.pid().max(b.holder.pid())
            );
            assert!(text.contains(&line), "{line} in\n{text}");
        }
    });
}

/// (d) One link-local address on two interfaces, a listener on each:
/// a connection is the listener's of its own device.
#[test]
fn link_local_address_on_two_interfaces() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        sh(
            env,
            "for d in d1 d2; do ip link add $d type veth peer name ${d}p && \
             ip link set $d up && ip link set ${d}p up && \
             ip -6 addr add fe80::1/64 dev $d nodad || exit 1; done",
        );
        let idx = |d: &str| {
            let out = env
                .command("ip")
                .args(["-o", "link", "show", d])
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            text.split(':')
                .next()
                .unwrap()
                .trim()
                .parse::<u32>()
                .unwrap()
        };
        let (i1, i2) = (idx("d1"), idx("d2"));
        let at = |i: u32| {
            SocketAddr::V6(std::net::SocketAddrV6::new(
                "fe80::1".parse().unwrap(),
                8095,
                0,
                i,
            ))
        };
        let l1 = hold(env, listen(at(i1), None));
        let l2 = hold(env, listen(at(i2), None));
        let c1 = connect(at(i1));
        let c2 = connect(at(i2));
        let c3 = connect(at(i2));
        assert_eq!(ss_recv_q(env, l1.inode), 1);
        assert_eq!(ss_recv_q(env, l2.inode), 2);
        check(
            env,
            8095,
            &[&l1, &l2],
            &[
                (c1.local_addr().unwrap(), sure(&l1)),
                (c2.local_addr().unwrap(), sure(&l2)),
                (c3.local_addr().unwrap(), sure(&l2)),
            ],
        );
    });
}

/// A client that closed before its connection was accepted leaves it in
/// the accept queue as CLOSE_WAIT (inode 0, counted in Recv-Q): it is the
/// listener's too.
#[test]
fn close_wait_in_the_accept_queue_is_attributed() {
    Sandbox::run(|env| {
        if !env.private_ns {
            return;
        }
        let to: SocketAddr = "127.0.0.1:8096".parse().unwrap();
        let l = hold(env, listen(to, None));
        let open = connect(to);
        let closed = connect(to);
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let ok = common::poll_until(Duration::from_secs(5), || {
            let rows = json(env, &["-tan", "--json"]);
            rows.as_array()
                .unwrap()
                .iter()
                .any(|r| r["state"] == "CLOSE_WAIT" && r["remote"]["port"] == closed_addr.port())
        });
        assert!(ok, "the server side did not reach CLOSE_WAIT");
        assert_eq!(ss_recv_q(env, l.inode), 2);
        check(
            env,
            8096,
            &[&l],
            &[
                (open.local_addr().unwrap(), sure(&l)),
                (closed_addr, sure(&l)),
            ],
        );
        let wb = json(env, &["why-bind", "8096", "--json"]);
        assert!(
            wb["reasons"].as_array().unwrap().iter().any(|r| r
                .as_str()
                .unwrap()
                .contains("the client already closed 1 of them")),
            "{wb}"
        );
    });
}
