//! The filter language on arbitrary bytes. The input is split at NUL bytes
//! into words, as argv reaches the CLI (a word may hold blanks, like a
//! quoted `'( dport = :https )'`). A filter that parses is compiled to
//! inet_diag bytecode, put into a dump request, and evaluated on a few
//! records; a filter that does not parse has its error message printed (it
//! draws a caret under the offending word). The same bytes are also read
//! as a `-F` filter file, and every filter is tried on UNIX records and
//! with UNIX names as the default family. Errors are fine; only a panic
//! (or a sanitizer report) fails.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use sockscope::filter::{bytecode, expr};
use sockscope::model::{
    Attribution, Family, Owner, Protocol, QueueKind, Queued, Socket, StateSet, TcpState,
    UnixKind, UnixSocket,
};
use sockscope::source::Query;
use sockscope::source::netlink::build_request;
use sockscope::source::services::Services;

static SERVICES: LazyLock<Services> = LazyLock::new(|| {
    Services::from_reader(
        &b"ssh 22/tcp\nhttp 80/tcp\nhttps 443/tcp\nhttp-alt 8080/tcp\ndomain 53/udp\n"[..],
    )
    .expect("services text")
});

static RECORDS: LazyLock<Vec<Socket>> = LazyLock::new(records);
static UNIX: LazyLock<Vec<UnixSocket>> = LazyLock::new(unix_records);

fuzz_target!(|data: &[u8]| {
    let words: Vec<String> = data
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let _ = sockscope::source::filter_file::words(&String::from_utf8_lossy(data));
    for unix in [false, true] {
        run(&words, unix);
    }
});

fn run(words: &[String], unix: bool) {
    let ifindex = |name: &str| match name {
        "lo" => Some(1),
        "eth0" => Some(2),
        _ => None,
    };
    let port_of = |name: &str| SERVICES.port(name);
    let resolve = |name: &str| match name {
        "localhost" => Ok(vec!["127.0.0.1".parse().expect("ip"), "::1".parse().expect("ip")]),
        _ => Err("unknown host".to_string()),
    };
    let cgroup = |path: &str| match path {
        "/" => Ok(1),
        "/web" => Ok(77),
        _ => Err("no such cgroup".to_string()),
    };
    let ctx = expr::Context {
        services: Ok(&port_of),
        ephemeral: (32768, 60999),
        ifindex: &ifindex,
        other_namespaces: false,
        family: unix.then_some(expr::AddrFamily::Unix),
        resolve: &resolve,
        cgroup: &cgroup,
    };
    let filter = match expr::parse(words, &ctx) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let states = filter.states.unwrap_or(StateSet::all());
    let _ = states.kernel_mask();
    let Some(e) = filter.expr else {
        return;
    };
    let _ = (e.needs_netlink(), e.needs_owners());
    let code = bytecode::compile(&e);
    let query = Query {
        protocols: Protocol::ALL.to_vec(),
        families: Family::ALL.to_vec(),
        states,
        bytecode: code,
        info: true,
        memory: true,
        ..Query::default()
    };
    for table in query.tables() {
        let _ = build_request(table, &query, 1);
    }
    for s in RECORDS.iter() {
        let _ = e.matches(s) && query.matches(s);
    }
    for s in UNIX.iter() {
        let _ = e.matches_unix(s);
    }
}

/// UNIX records: named, abstract, unnamed with a named peer.
fn unix_records() -> Vec<UnixSocket> {
    let u = |path: Option<&[u8]>, peer: Option<&[u8]>| UnixSocket {
        kind: UnixKind::Stream,
        state: TcpState::Established,
        path: path.map(<[u8]>::to_vec),
        inode: 10,
        peer_inode: Some(11),
        peer_path: peer.map(<[u8]>::to_vec),
        recv_q: Some(0),
        send_q: Some(0),
        uid: Some(0),
        cookie: None,
        owners: None,
            extras: None,
    };
    vec![
        u(Some(b"/run/docker.sock"), None),
        u(Some(b"@0001f"), None),
        u(None, Some(b"/tmp/.X11-unix/X0")),
        u(Some(b"/run/\xff[weird]"), Some(b"")),
    ]
}

/// A few records that differ in everything the language can test.
fn records() -> Vec<Socket> {
    let owner = |pid, comm: &str| Owner {
        pid,
        fd: 3,
        tid: None,
        comm: Arc::from(comm),
        cmdline: None,
        raw: None,
    };
    let sock = |proto, state, local: &str, remote: &str| {
        let local: SocketAddr = local.parse().expect("address");
        Socket {
            proto,
            family: if local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            },
            state,
            local,
            remote: remote.parse().expect("address"),
            recv_q: 0,
            send_q: Some(0),
            uid: Some(1000),
            inode: 1,
            cookie: None,
            ifindex: None,
            v6only: None,
            owners: None,
            queue: None,
            timer: None,
            extras: None,
        }
    };
    let mut listener = sock(Protocol::Tcp, TcpState::Listen, "0.0.0.0:22", "0.0.0.0:0");
    listener.owners = Some(vec![owner(1, "sshd")]);
    let mut estab = sock(
        Protocol::Tcp,
        TcpState::Established,
        "127.0.0.1:80",
        "127.0.0.2:45000",
    );
    estab.uid = Some(0);
    estab.owners = Some(vec![owner(2, "nginx"), owner(3, "nginx")]);
    let mut queued = sock(
        Protocol::Tcp,
        TcpState::SynRecv,
        "[::ffff:127.0.0.1]:443",
        "[::ffff:10.0.0.1]:50000",
    );
    queued.uid = None;
    queued.queue = Some(Box::new(Queued {
        kind: QueueKind::Syn,
        listener: "[::]:443".parse().expect("address"),
        listener_owners: vec![owner(4, "server")],
        attribution: Attribution::Sure,
        listener_inodes: vec![4],
    }));
    estab.extras = Some(Box::new(sockscope::model::Extras {
        mark: Some(0x31),
        cgroup_id: Some(77),
        ..Default::default()
    }));
    let mut link_local = sock(Protocol::Udp, TcpState::Close, "[fe80::1%2]:53", "[::]:0");
    link_local.ifindex = Some(2);
    let v6 = sock(
        Protocol::Tcp,
        TcpState::TimeWait,
        "[::1]:8080",
        "[2001:db8::1]:60000",
    );
    vec![listener, estab, queued, link_local, v6]
}
