//! UNIX sockets (-x): a stream listener, a connected pair, an abstract
//! name, datagram and seqpacket sockets, and hostile paths: all listed,
//! the same set as `ss -xa`, paths escaped in the table and exact in JSON.

pub mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::PathBuf;

use common::Sandbox;
use common::run::{records, sockscope};
use serde_json::Value;

/// A private directory for socket files, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("sockscope-unix-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An abstract-namespace listener (name starts with NUL).
fn abstract_listener(name: &str) -> UnixListener {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    UnixListener::bind_addr(&addr).unwrap()
}

fn seqpacket_listener(path: &std::path::Path) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (i, b) in path.as_os_str().as_bytes().iter().enumerate() {
            addr.sun_path[i] = *b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + path.as_os_str().len() + 1;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len as u32),
            0
        );
        assert_eq!(libc::listen(fd, 4), 0);
        std::os::fd::OwnedFd::from_raw_fd(fd)
    }
}

/// (netid, state, local path or "*", inode, peer inode) from ss -xaH.
fn ss_set(
    env: &common::Env,
    inodes: &BTreeSet<u64>,
) -> BTreeSet<(String, String, String, u64, u64)> {
    let out = env.command("ss").args(["-xaH"]).output().expect("run ss");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let inode: u64 = match f[5].parse() {
            Ok(i) => i,
            Err(_) => continue,
        };
        if !inodes.contains(&inode) {
            continue;
        }
        let state = match f[1] {
            "ESTAB" => "ESTABLISHED",
            "LISTEN" => "LISTEN",
            "UNCONN" => "UNCONN",
            other => other,
        };
        set.insert((
            f[0].to_owned(),
            state.to_owned(),
            f[4].to_owned(),
            inode,
            f[7].parse().unwrap(),
        ));
    }
    set
}

#[test]
fn unix_sockets_match_ss_and_paths_are_safe() {
    Sandbox::run(|env| {
        let dir = Dir::new("set");
        let lpath = dir.0.join("listen.sock");
        let listener = UnixListener::bind(&lpath).unwrap();
        let client = UnixStream::connect(&lpath).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let abs = abstract_listener("sockscope-test-abstract");
        let dgram = UnixDatagram::bind(dir.0.join("dgram.sock")).unwrap();
        let seq = seqpacket_listener(&dir.0.join("seq.sock"));
        // Hostile: ESC sequence and a newline in the file name.
        let hostile = dir.0.join("evil\x1b[31m\nname.sock");
        let evil = UnixDatagram::bind(&hostile).unwrap();

        let recs = records(env, &["-xa", "--jsonl"]);
        let mine: Vec<&Value> = recs
            .iter()
            .filter(|r| {
                let p = |v: &Value| v["path"].as_str().map(str::to_owned);
                let local = p(&r["local"]).unwrap_or_default();
                let remote = p(&r["remote"]).unwrap_or_default();
                local.contains("sockscope-unix-set")
                    || local.contains("sockscope-test-abstract")
                    || remote.contains("sockscope-unix-set")
                    || env.private_ns
            })
            .collect();
        let find = |path: &str| {
            mine.iter()
                .find(|r| r["local"]["path"].as_str() == Some(path))
                .unwrap_or_else(|| panic!("no socket named {path:?}"))
        };
        let l = find(lpath.to_str().unwrap());
        assert!(l["state"] == "LISTEN" || l["state"] == "ESTABLISHED");
        let lrow = mine
            .iter()
            .find(|r| r["state"] == "LISTEN" && r["local"]["path"].as_str() == lpath.to_str())
            .unwrap();
        assert_eq!(lrow["proto"], "u_str");
        assert!(lrow["send_q"].as_u64().unwrap() > 0, "backlog: {lrow}");
        let abs_row = find("@sockscope-test-abstract");
        assert_eq!(abs_row["state"], "LISTEN");
        let d = find(dir.0.join("dgram.sock").to_str().unwrap());
        assert_eq!(
            (d["proto"].as_str(), d["state"].as_str()),
            (Some("u_dgr"), Some("UNCONN"))
        );
        let s = find(dir.0.join("seq.sock").to_str().unwrap());
        assert_eq!(s["proto"], "u_seq");
        // JSON carries the exact hostile name.
        let e = find(hostile.to_str().unwrap());
        assert_eq!(e["proto"], "u_dgr");
        // The table escapes it and keeps one line per socket.
        let table = String::from_utf8(sockscope(env, &["-xaH"]).stdout).unwrap();
        assert!(!table.contains('\x1b'), "raw ESC in the table");
        assert!(table.contains("evil\\x1b[31m\\x0aname.sock"), "{table}");
        // The connected pair: each end names the other's inode.
        let pair: Vec<&&Value> = mine
            .iter()
            .filter(|r| {
                r["proto"] == "u_str" && r["state"] == "ESTABLISHED" && r["local"]["path"].is_null()
            })
            .collect();
        for r in &pair {
            let peer = r["peer_inode"].as_u64().unwrap();
            if peer != 0 && !env.private_ns {
                continue;
            }
            assert!(
                peer == 0 || recs.iter().any(|o| o["inode"].as_u64() == Some(peer)),
                "peer {peer} of {r} not listed"
            );
        }

        // The same set as ss -xa (ss's own line breaks on the hostile name
        // are skipped by its parser: compare the sockets ss can print).
        let inodes: BTreeSet<u64> = mine.iter().map(|r| r["inode"].as_u64().unwrap()).collect();
        let theirs = ss_set(env, &inodes);
        let ours: BTreeSet<(String, String, String, u64, u64)> = mine
            .iter()
            .filter(|r| r["local"]["path"].as_str() != hostile.to_str())
            .map(|r| {
                (
                    r["proto"].as_str().unwrap().to_owned(),
                    r["state"].as_str().unwrap().to_owned(),
                    r["local"]["path"].as_str().unwrap_or("*").to_owned(),
                    r["inode"].as_u64().unwrap(),
                    r["peer_inode"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ours, theirs);
        // Unnamed sockets of the pair are only recognisable in a private
        // namespace.
        assert!(ours.len() >= if env.private_ns { 8 } else { 6 }, "{ours:?}");

        // /proc/net/unix lists the same sockets (no queues, peers, uids).
        let proc = records(env, &["-xa", "--jsonl", "--source", "proc"]);
        let proc_inodes: BTreeSet<u64> =
            proc.iter().map(|r| r["inode"].as_u64().unwrap()).collect();
        assert!(
            inodes.is_subset(&proc_inodes),
            "missing from /proc: {:?}",
            inodes.difference(&proc_inodes)
        );
        drop((client, server, a, b, abs, dgram, seq, evil, listener));
    });
}

/// Owners with -p, and the default state set (connected only), like ss -x.
#[test]
fn unix_owners_and_default_states() {
    Sandbox::run(|env| {
        let dir = Dir::new("own");
        let path = dir.0.join("srv.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let _c = UnixStream::connect(&path).unwrap();
        let (_s, _) = listener.accept().unwrap();
        let me = std::process::id();
        let recs = records(env, &["-xp", "--jsonl"]);
        assert!(
            recs.iter().all(|r| r["state"] == "ESTABLISHED"),
            "-x shows connected sockets only"
        );
        let srv = recs
            .iter()
            .find(|r| r["local"]["path"].as_str() == path.to_str())
            .expect("the accepted end carries the listener's name");
        assert!(
            srv["owners"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["pid"] == me),
            "{srv}"
        );
        let listening = records(env, &["-xl", "--jsonl"]);
        assert!(
            listening
                .iter()
                .any(|r| r["state"] == "LISTEN" && r["local"]["path"].as_str() == path.to_str())
        );
        assert!(
            listening
                .iter()
                .all(|r| r["state"] == "LISTEN" || r["state"] == "UNCONN")
        );
    });
}

/// Issue 12 item 5: an abstract name holding a newline and a well-formed
/// /proc/net/unix line would forge a socket with any path and the inode of
/// another socket, which then lent it its owner. Through `--source proc
/// -xap`, the victim's inode is one row, with its own path, and the forged
/// path is nowhere; a warning counts the line left out.
#[test]
fn a_name_holding_a_record_forges_nothing() {
    use std::os::fd::AsRawFd;
    Sandbox::run(|env| {
        let dir = Dir::new("forge");
        // A name long enough that its line cannot be the rest of a name.
        let path = dir.0.join(format!("victim-{}", "v".repeat(60)));
        let victim = UnixListener::bind(&path).unwrap();
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", victim.as_raw_fd()))
            .unwrap()
            .ino();
        let forged = format!(
            "x\n0000000000000000: 00000002 00000000 00010000 0001 01 {inode} /run/docker.sock"
        );
        assert!(forged.len() <= 107);
        let attacker = abstract_listener(&forged);
        let out = common::run::command(env)
            .args(["--source", "proc", "-xap", "--jsonl"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let recs: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let claims: Vec<&Value> = recs.iter().filter(|r| r["inode"] == inode).collect();
        assert_eq!(claims.len(), 1, "one row for one inode: {claims:?}");
        assert_eq!(claims[0]["local"]["path"].as_str(), path.to_str());
        assert!(!text.contains("/run/docker.sock"), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("left out 1 line"), "{err}");
        drop((attacker, victim));
    });
}

/// Issue 12 item 10: one mapping of /proc/net/unix's St column. St 2
/// (SS_CONNECTING: TCP_ESTABLISHED without a struct socket) is ESTABLISHED,
/// as the parser's ss names say, not SYN_SENT; St 4 is CLOSE.
#[test]
fn unix_proc_states_have_one_mapping() {
    let dir = Dir::new("states");
    std::fs::create_dir_all(dir.0.join("net")).unwrap();
    std::fs::write(
        dir.0.join("net/unix"),
        "Num       RefCount Protocol Flags    Type St Inode Path\n\
         0000000000000000: 00000002 00000000 00000000 0001 02 71 @two\n\
         0000000000000000: 00000002 00000000 00000000 0001 03 72 @three\n\
         0000000000000000: 00000002 00000000 00000000 0002 04 73 @four\n\
         0000000000000000: 00000002 00000000 00010000 0001 01 74 @listen\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .args(["--source", "proc", "-xa", "--jsonl", "--proc-root"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let states: Vec<(u64, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["inode"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        (71, "ESTABLISHED"),
        (72, "ESTABLISHED"),
        (73, "UNCONN"),
        (74, "LISTEN"),
    ];
    let want: Vec<(u64, String)> = want.iter().map(|(i, s)| (*i, s.to_string())).collect();
    assert_eq!(states, want);
}
