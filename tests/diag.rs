//! `-D/--diag FILE` end to end, in a private network namespace made by the
//! test: the file sockscope writes is what iproute2's reader takes back
//! (`TCPDIAG_FILE=FILE ss -tan` shows the namespace's rows, as for a file
//! `ss -D` wrote), nothing is printed, an existing file or a symbolic link
//! is refused, a filter expression is refused. Without root: said on
//! stderr, only the refusals are checked.

pub mod common;

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::netns::{TestNetns, is_root};
use common::{Row, parse_ss_output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD")
        .stdin(Stdio::null());
    c
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `TCPDIAG_FILE=FILE ss -H -tan`: the rows iproute2 reads back.
fn read_back(file: &Path) -> Vec<Row> {
    let out = Command::new("ss")
        .args(["-H", "-tan"])
        .env("TCPDIAG_FILE", file)
        .stdin(Stdio::null())
        .output()
        .expect("run ss");
    assert!(out.status.success(), "{}", show(&out));
    let mut rows =
        parse_ss_output(&["-t", "-a"], &String::from_utf8_lossy(&out.stdout)).expect("parse ss");
    rows.sort();
    rows
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sockscope-diag-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn diag_file_reads_back_in_ss() {
    let refused = bin()
        .args(["-D", "/nonexistent/x", "-t", "dport", "=", ":80"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    if !is_root() {
        common::skip(
            "diag_file_reads_back_in_ss: not root: no namespace made; only the refusal of an expression checked",
        );
        return;
    }
    let ns = TestNetns::named();
    let dir = temp_dir("readback");
    // Two connections and their listener (v4), one v6 listener.
    let _keep = ns.enter(|| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let b = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (sa, _) = l.accept().unwrap();
        let (sb, _) = l.accept().unwrap();
        let l6 = TcpListener::bind("[::1]:0").unwrap();
        (l, a, b, sa, sb, l6)
    });
    let ours = dir.join("ours");
    let out = bin()
        .args(["-N", &ns.selector(), "-D"])
        .arg(&ours)
        .arg("-ta")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
    let mode = std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // iproute2 reads up to the first NLMSG_DONE: the IPv4 dump.
    let mut expected: Vec<Row> = ns
        .ss(&["-t", "-a", "-4"])
        .into_iter()
        .map(|o| o.row)
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 5, "{expected:?}");
    assert_eq!(read_back(&ours), expected);
    // The same as a file ss -D wrote for the same flags.
    let theirs = dir.join("theirs");
    let st = ns
        .exec("ss")
        .arg("-D")
        .arg(&theirs)
        .arg("-ta")
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(read_back(&theirs), read_back(&ours));
    // -6: the IPv6 dump alone, its listener.
    let six = dir.join("six");
    let out = bin()
        .args(["-N", &ns.selector(), "-D"])
        .arg(&six)
        .args(["-t6", "state", "listening"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let rows = read_back(&six);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].state, "LISTEN");
    assert!(rows[0].local.starts_with("[::1]:"), "{rows:?}");

    // Never over an existing file, never through a symbolic link.
    let before = std::fs::read(&ours).unwrap();
    let out = bin()
        .args(["-N", &ns.selector(), "-D"])
        .arg(&ours)
        .arg("-ta")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&ours).unwrap(), before);
    let link = dir.join("link");
    let target = dir.join("target");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = bin()
        .args(["-N", &ns.selector(), "-D"])
        .arg(&link)
        .arg("-ta")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert!(!target.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
