//! `who PORT` shows both sides, as `lsof -i :PORT` does (issue 18, who):
//! in a private namespace, a server (a child named who-srv) with two
//! accepted connections, two clients (children who-cli-a, who-cli-b) and a
//! UDP socket on the same port number (who-udp); `who` lists the server's
//! sockets as holders and the clients' as connected, checked socket for
//! socket (pid and fd) against lsof run in the same namespace; `--pids`
//! and fuser's `PORT/tcp`, `PORT/udp` give exact pid sets. Then the habits:
//! subcommand typos and lsof's `-i :PORT`.

pub mod common;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Output;

use common::run::command;
use common::{Env, Named, Sandbox};
use serde_json::Value;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the test can go on: says on stderr why not, and fails in CI.
fn can_run(env: &Env, test: &str) -> bool {
    let why = if !env.private_ns {
        Some(format!(
            "needs a private network namespace ({})",
            env.shared_reason.as_deref().unwrap_or("?")
        ))
    } else if std::process::Command::new("lsof")
        .arg("-v")
        .output()
        .is_err()
    {
        Some("lsof is not installed (bash .ci/setup installs it)".to_owned())
    } else {
        None
    };
    match why {
        None => true,
        Some(why) if in_ci() => panic!("{test}: {why} (CI=true: nothing may be skipped)"),
        Some(why) => {
            eprintln!("{test}: skipped: {why}");
            false
        }
    }
}

fn run(env: &Env, args: &[&str]) -> Output {
    command(env).args(args).output().expect("run sockscope")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// (pid, fd) of sockets' owners.
type Fds = BTreeSet<(u32, u32)>;

/// (pid, fd) of every owner of the socket objects in `v`.
fn owned(v: &Value) -> Fds {
    v.as_array()
        .expect("an array of sockets")
        .iter()
        .flat_map(|s| s["owners"].as_array().cloned().unwrap_or_default())
        .map(|o| {
            (
                o["pid"].as_u64().unwrap() as u32,
                o["fd"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

/// lsof's sockets on `port` (`lsof -i :PORT -n -P -F pcfn`), as (pid, fd)
/// split into those whose local end is the port and those connected to it.
fn lsof_sides(env: &Env, port: u16) -> (Fds, Fds) {
    let out = env
        .command("lsof")
        .args(["-n", "-P", "-F", "pcfn", "-i", &format!(":{port}")])
        .output()
        .expect("run lsof");
    assert!(
        out.status.success(),
        "lsof: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut holds, mut connected) = (BTreeSet::new(), BTreeSet::new());
    let (mut pid, mut fd) = (0u32, 0u32);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (tag, value) = line.split_at(1);
        match tag {
            "p" => pid = value.parse().unwrap(),
            "f" => fd = value.parse().unwrap_or(u32::MAX),
            "n" => {
                // LOCAL:PORT, or LOCAL:PORT->REMOTE:PORT
                let (local, remote) = value.split_once("->").unwrap_or((value, ""));
                let port_of = |end: &str| end.rsplit(':').next().and_then(|p| p.parse().ok());
                if port_of(local) == Some(port) {
                    holds.insert((pid, fd));
                } else if port_of(remote) == Some(port) {
                    connected.insert((pid, fd));
                }
            }
            _ => {}
        }
    }
    (holds, connected)
}

fn pids(out: &Output) -> BTreeSet<u32> {
    stdout(out)
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("not a pid: {l:?}")))
        .collect()
}

#[test]
fn who_shows_holders_and_local_clients_as_lsof() {
    Sandbox::run(|env| {
        if !can_run(env, "who_shows_holders_and_local_clients_as_lsof") {
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port();
        let a = TcpStream::connect(addr).unwrap();
        let b = TcpStream::connect(addr).unwrap();
        let (sa, _) = listener.accept().unwrap();
        let (sb, _) = listener.accept().unwrap();
        let udp = UdpSocket::bind(addr).unwrap();
        let srv = Named::fork(
            b"who-srv",
            &[listener.as_raw_fd(), sa.as_raw_fd(), sb.as_raw_fd()],
        );
        let cli_a = Named::fork(b"who-cli-a", &[a.as_raw_fd()]);
        let cli_b = Named::fork(b"who-cli-b", &[b.as_raw_fd()]);
        let udp_owner = Named::fork(b"who-udp", &[udp.as_raw_fd()]);
        // Only the children hold them now.
        drop((listener, a, b, sa, sb, udp));
        let p = port.to_string();

        let out = run(env, &["who", &p, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (holds, connected) = lsof_sides(env, port);
        // listener + 2 accepted (who-srv) + UDP (who-udp); 2 clients.
        assert_eq!(holds.len(), 4, "lsof: {holds:?}");
        assert_eq!(connected.len(), 2, "lsof: {connected:?}");
        assert_eq!(owned(&v["sockets"]), holds, "{v}");
        assert_eq!(owned(&v["clients"]), connected, "{v}");
        assert_eq!(v["sockets"].as_array().unwrap().len(), 4, "{v}");
        assert_eq!(v["clients"].as_array().unwrap().len(), 2, "{v}");
        let client_pids: BTreeSet<u64> = v["client_owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(
            client_pids,
            [cli_a.pid() as u64, cli_b.pid() as u64]
                .into_iter()
                .collect()
        );
        let every: BTreeSet<u32> = [srv.pid(), cli_a.pid(), cli_b.pid(), udp_owner.pid()]
            .into_iter()
            .collect();
        let json_pids: BTreeSet<u32> = v["pids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(json_pids, every);
        assert!(
            v["client_summary"].as_str().unwrap().starts_with(&format!(
                "connected to port {port} from this host: 2 sockets"
            )),
            "{v}"
        );

        // The table: the two groups, each with its line.
        let out = run(env, &["who", &p]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        let second = text
            .find(&format!(
                "connected to port {port} from this host: 2 sockets, by "
            ))
            .unwrap_or_else(|| panic!("no second group:\n{text}"));
        let (first, rest) = text.split_at(second);
        assert!(
            first.contains("who-srv") && !first.contains("who-cli"),
            "{text}"
        );
        assert!(
            rest.contains("who-cli-a") && rest.contains("who-cli-b"),
            "{text}"
        );
        assert!(!rest.contains("who-srv"), "{text}");

        // --pids: every owner once, one per line, nothing else.
        let out = run(env, &["who", &p, "--pids"]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out).lines().count(), 4, "{}", stdout(&out));
        assert_eq!(pids(&out), every);
        // fuser's spelling narrows the protocol.
        let out = run(env, &["who", &format!("{port}/tcp"), "--pids"]);
        assert_eq!(
            pids(&out),
            [srv.pid(), cli_a.pid(), cli_b.pid()].into_iter().collect()
        );
        let out = run(env, &["who", &format!("{port}/udp"), "--pids"]);
        assert_eq!(pids(&out), [udp_owner.pid()].into_iter().collect());
        let out = run(env, &["who", &format!("127.0.0.1:{port}/TCP"), "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["protocols"], serde_json::json!(["tcp"]));
        assert_eq!(v["clients"].as_array().unwrap().len(), 2);
        // -t with /udp asks for nothing: a usage error.
        let out = run(env, &["who", "-t", &format!("{port}/udp")]);
        assert_eq!(out.status.code(), Some(2));

        // Nothing on a port: no pids, exit 1.
        drop((srv, cli_a, cli_b, udp_owner));
        let out = run(env, &["who", &p, "--pids"]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert_eq!(stdout(&out), "");
    });
}

/// A subcommand's typo gets "did you mean", a far word the filter's error;
/// valid filters still work.
#[test]
fn subcommand_typos_get_a_suggestion() {
    Sandbox::run(|env| {
        for (typo, want) in [
            ("listener", "listeners"),
            ("whybind", "why-bind"),
            ("lisen", "listeners"),
            ("wacth", "watch"),
            ("metric", "metrics"),
        ] {
            let out = run(env, &[typo]);
            assert_eq!(out.status.code(), Some(2), "{typo}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                format!("sockscope: unknown command '{typo}': did you mean '{want}'?\n")
            );
            assert!(out.stdout.is_empty());
        }
        for far in ["foo", "sprot"] {
            let out = run(env, &[far, "=", ":80"]);
            assert_eq!(out.status.code(), Some(2), "{far}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.starts_with("sockscope: bad filter: unknown word"),
                "{err}"
            );
            assert!(!err.contains("did you mean"), "{err}");
        }
        for good in [
            &["state", "listening"][..],
            &["-t", "sport", "=", ":80"],
            &["-tan", "dst", "127.0.0.1"],
        ] {
            let out = run(env, good);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{good:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
}

/// lsof's `-i :PORT` (where -i is ss's tcp_info) is answered with the
/// sockscope way; ss's own uses of -i are left alone.
#[test]
fn lsof_dash_i_is_answered() {
    Sandbox::run(|env| {
        for (args, want) in [
            (
                &["-i", ":8080"][..],
                "-i is ss's tcp_info here; for lsof -i :8080 use 'sockscope who 8080'",
            ),
            (
                &["-ni", "TCP:22"],
                "-i is ss's tcp_info here; for lsof -i TCP:22 use 'sockscope who 22/tcp'",
            ),
            (
                &["-i:53"],
                "-i is ss's tcp_info here; for lsof -i :53 use 'sockscope who 53'",
            ),
            (
                &["-iTCP", "-sTCP:LISTEN"],
                "-i is ss's tcp_info here; for lsof -i TCP -sTCP:LISTEN use 'sockscope -tlp'",
            ),
        ] {
            let out = run(env, args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                format!("sockscope: {want}\n"),
                "{args:?}"
            );
        }
        for ss in [&["-ti"][..], &["-i4", "-t"], &["-ti", "sport", "=", ":22"]] {
            let out = run(env, ss);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{ss:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // who's own -i: the word after it is who's target.
        let out = run(env, &["who", "-i", ":1"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}
