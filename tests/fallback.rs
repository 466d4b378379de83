//! netlink → /proc fallback: when the netlink socket cannot be opened (a
//! seccomp filter makes socket(AF_NETLINK) fail with EPERM, as a locked-down
//! container does) or the kernel refuses a dump (a recorded NLMSG_DONE with
//! -ENOENT), sockscope reads /proc instead and says so in one warning line.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use sockscope::model::{Family, Protocol, StateSet};
use sockscope::source::netlink::build_request;
use sockscope::source::{Query, Table};

fn sockscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    c.env_remove("SOCKSCOPE_PROC_ROOT")
        .env_remove("SOCKSCOPE_NETLINK_REPLAY")
        .env_remove("SOCKSCOPE_NETLINK_RECORD");
    c
}

/// Installs a seccomp filter in the child: socket(AF_NETLINK, ...) → EPERM.
fn deny_netlink(cmd: &mut Command) {
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JEQ_K: u16 = 0x15;
    const BPF_RET_K: u16 = 0x06;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    let f = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let program = [
        f(BPF_LD_W_ABS, 0, 0, 0), // seccomp_data.nr
        f(BPF_JEQ_K, 0, 3, libc::SYS_socket as u32),
        f(BPF_LD_W_ABS, 0, 0, 16), // seccomp_data.args[0], low half
        f(BPF_JEQ_K, 0, 1, libc::AF_NETLINK as u32),
        f(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | libc::EPERM as u32),
        f(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ];
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sorted_lines(out: &Output) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[cfg(target_endian = "little")]
#[test]
fn netlink_denied_falls_back_to_proc_with_one_warning() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/basic");
    let mut cmd = sockscope();
    cmd.args(["-tuan", "--jsonl", "--proc-root"]).arg(&fixture);
    deny_netlink(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "exactly one warning line: {err}");
    assert!(
        err.starts_with("sockscope: warning: netlink sock_diag unavailable"),
        "{err}"
    );
    assert!(err.contains("Operation not permitted"), "{err}");

    let direct = sockscope()
        .args(["-tuan", "--jsonl", "--source", "proc", "--proc-root"])
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(direct.stderr.is_empty());
    assert_eq!(sorted_lines(&out), sorted_lines(&direct));
}

#[test]
fn refused_dump_falls_back_for_that_table_only() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/basic");
    let query = Query {
        protocols: vec![Protocol::Tcp, Protocol::Udp],
        families: vec![Family::Inet],
        states: StateSet::all(),
        ..Query::default()
    };
    let tcp = Table {
        family: Family::Inet,
        proto: Protocol::Tcp,
    };
    let udp = Table {
        family: Family::Inet,
        proto: Protocol::Udp,
    };
    // tcp: an empty, successful dump; udp: NLMSG_DONE carrying -ENOENT, as a
    // kernel without udp_diag answers.
    let done = |code: i32| {
        let mut m = Vec::new();
        m.extend_from_slice(&20u32.to_ne_bytes()); // nlmsg_len
        m.extend_from_slice(&3u16.to_ne_bytes()); // NLMSG_DONE
        m.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTIPART
        m.extend_from_slice(&[0; 8]); // seq, pid
        m.extend_from_slice(&code.to_ne_bytes());
        m
    };
    let mut recording = build_request(tcp, &query, 1);
    recording.extend(done(0));
    recording.extend(build_request(udp, &query, 2));
    recording.extend(done(-libc::ENOENT));
    let path = std::env::temp_dir().join(format!("sockscope-refused-{}.bin", std::process::id()));
    std::fs::write(&path, &recording).unwrap();

    let out = sockscope()
        .args(["-tuan4", "--jsonl", "--replay"])
        .arg(&path)
        .arg("--proc-root")
        .arg(&fixture)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("read inet/udp from /proc/net"), "{err}");
    assert!(!err.contains("inet/tcp"), "{err}");
    let rows = sorted_lines(&out);
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.contains("\"proto\":\"udp\"")),
        "tcp came from the empty dump"
    );
}
