//! JSON and JSON Lines output. The schema is a public API (README): fields
//! are added, never renamed or removed. Strings carry the exact text.
//!
//! Every JSON document sockscope prints goes through [`to_writer`], which
//! escapes U+2028, U+2029 and U+0085 as `\u2028`, `\u2029`, `\u0085`: valid
//! JSON may carry them raw, but line splitters (JavaScript before ES2019,
//! Python's `str.splitlines`, many JSON Lines readers) take them for line
//! ends and cut a record in two.

use std::io::{self, Write};
use std::net::SocketAddr;

use serde::Serialize;
use serde_json::ser::Formatter;

/// serde_json's compact output, but with the three characters that some
/// readers take for line breaks written as `\uXXXX` escapes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineSafe;

impl Formatter for LineSafe {
    /// `fragment` is a run of a string that needs no JSON escape. The
    /// three characters are U+0085 (C2 85), U+2028 (E2 80 A8) and U+2029
    /// (E2 80 A9) in UTF-8: an ASCII fragment (the common case, checked a
    /// word at a time) or one without a C2 or E2 byte is written as it is;
    /// nothing is allocated either way.
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + Write,
    {
        let bytes = fragment.as_bytes();
        if bytes.is_ascii() || !bytes.iter().any(|&b| b == 0xc2 || b == 0xe2) {
            return writer.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped: &[u8] = match c {
                '\u{85}' => b"\\u0085",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                _ => continue,
            };
            writer.write_all(&bytes[start..i])?;
            writer.write_all(escaped)?;
            start = i + c.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }
}

/// Writes `value` as compact JSON with [`LineSafe`]'s escapes: the one way
/// sockscope writes JSON.
pub fn to_writer<W, T>(writer: W, value: &T) -> io::Result<()>
where
    W: Write,
    T: ?Sized + Serialize,
{
    let mut ser = serde_json::Serializer::with_formatter(writer, LineSafe);
    value.serialize(&mut ser).map_err(io::Error::from)
}

use crate::model::{
    Container, NetnsName, OtherSocket, Owner, SkMemInfo, Socket, TcpInfo, UnixSocket,
};
use crate::pipeline::netns::Place;

/// One socket as JSON.
#[derive(Debug, Serialize)]
pub struct JsonSocket<'a> {
    pub proto: &'static str,
    pub family: &'static str,
    pub state: &'static str,
    pub local: JsonEndpoint,
    pub remote: JsonEndpoint,
    pub recv_q: u32,
    /// `null` where the source cannot tell (a LISTEN backlog from /proc).
    pub send_q: Option<u32>,
    /// `null` where the kernel does not say (SYN_RECV over netlink).
    pub uid: Option<u32>,
    pub inode: u64,
    /// `"0x..."`, `null` from /proc.
    pub cookie: Option<String>,
    /// Bound interface index, 0 for none, `null` from /proc.
    pub ifindex: Option<u32>,
    /// IPV6_V6ONLY for inet6 LISTEN/unconnected sockets, else `null`.
    pub v6only: Option<bool>,
    /// Processes holding the socket; `null` when not looked up (no -p).
    pub owners: Option<Vec<JsonOwner<'a>>>,
    /// `"accept"` or `"syn"` for a connection waiting in a listener's queue.
    pub queue: Option<&'static str>,
    /// The owners of that listener; `null` when not queued.
    pub listener_owners: Option<Vec<JsonOwner<'a>>>,
    /// `"sure"` when one listener holds it, `"one_of"` when it is one of
    /// several (an SO_REUSEPORT group): `listener_owners` lists them all;
    /// `null` when not queued.
    pub listener_attribution: Option<&'static str>,
    /// The running TCP timer, `null` when none.
    pub timer: Option<JsonTimer>,
    /// With -i (netlink): struct tcp_info, units in the names, and the
    /// congestion algorithm; `null` otherwise.
    pub tcp_info: Option<JsonTcpInfo<'a>>,
    /// With -m (netlink): socket memory; `null` otherwise.
    pub mem: Option<&'a SkMemInfo>,
    /// The network namespace the socket lives in; `null` where the view
    /// does not say (it is the namespace the answer is about).
    pub netns: Option<JsonNetns<'a>>,
    /// The container of its first owner with one, else of its namespace;
    /// `null` when none.
    pub container: Option<JsonContainer<'a>>,
}

/// `,"netns":NETNS,"container":`.
fn tail_of(netns: Option<JsonNetns<'_>>) -> Vec<u8> {
    let mut tail = br#","netns":"#.to_vec();
    match netns {
        // Serialising a struct of a number and a string cannot fail.
        Some(n) => {
            if to_writer(&mut tail, &n).is_err() {
                tail.extend_from_slice(b"null");
            }
        }
        None => tail.extend_from_slice(b"null"),
    }
    tail.extend_from_slice(br#","container":"#);
    tail
}

/// A network namespace.
#[derive(Debug, Clone, Serialize)]
pub struct JsonNetns<'a> {
    /// The nsfs inode (`stat -L /proc/PID/ns/net`, `ip netns identify`).
    pub inode: u64,
    /// `host`, the `ip netns` name, the container's name, `pid:N`;
    /// `null` when nothing names it.
    pub name: Option<&'a str>,
}

/// A container.
#[derive(Debug, Clone, Serialize)]
pub struct JsonContainer<'a> {
    /// `docker`, `containerd`, `cri-o`, `podman`, `kubernetes`,
    /// `systemd-nspawn`, `lxc`.
    pub runtime: &'static str,
    /// The short id (12 characters, as `docker ps`); the machine name for
    /// systemd-nspawn and LXC.
    pub id: &'a str,
    /// The id as the runtime spells it in full.
    pub full_id: &'a str,
    /// From the runtime's metadata, when readable.
    pub name: Option<&'a str>,
    /// Kubernetes: the pod's name and namespace.
    pub pod: Option<&'a str>,
    pub pod_namespace: Option<&'a str>,
}

impl<'a> From<&'a Container> for JsonContainer<'a> {
    fn from(c: &'a Container) -> Self {
        JsonContainer {
            runtime: c.runtime.as_str(),
            id: c.short_id(),
            full_id: &c.id,
            name: c.name.as_deref(),
            pod: c.pod.as_ref().and_then(|p| p.name.as_deref()),
            pod_namespace: c.pod.as_ref().and_then(|p| p.namespace.as_deref()),
        }
    }
}

/// What a printer keeps of the namespace its records come from, so each
/// row borrows it.
#[derive(Debug, Clone, Default)]
pub struct PlaceJson {
    place: Option<Place>,
    /// The namespace's name, worked out once.
    name: Option<String>,
    /// `,"netns":{...},"container":` serialised once: what every row of
    /// the namespace ends with, before its container.
    tail: Vec<u8>,
}

/// How a row of no namespace ends: `netns` and `container`, the last two
/// fields of [`JsonSocket`], both null.
const UNTAGGED_END: &[u8] = br#","netns":null,"container":null}"#;

impl PlaceJson {
    pub fn new(place: &Place) -> PlaceJson {
        let mut tags = PlaceJson {
            name: (place.netns.name != NetnsName::Inode).then(|| place.netns.label()),
            place: Some(place.clone()),
            tail: Vec::new(),
        };
        tags.tail = tail_of(tags.netns());
        tags
    }

    /// Appends the JSON object of `s` to `buf`: serde writes the row with
    /// `netns` and `container` null, and their text is replaced by this
    /// namespace's, serialised once (at 100k rows, 7 % of `--json`'s time
    /// went to writing the same `netns` object on every row).
    pub fn write_socket(&self, buf: &mut Vec<u8>, s: &Socket) -> io::Result<()> {
        let start = buf.len();
        to_writer(&mut *buf, &JsonSocket::from(s))?;
        if buf[start..].ends_with(UNTAGGED_END) {
            buf.truncate(buf.len() - UNTAGGED_END.len());
            if self.tail.is_empty() {
                buf.extend_from_slice(&tail_of(None));
            } else {
                buf.extend_from_slice(&self.tail);
            }
            match self.container(s.owners.as_deref()) {
                Some(c) => to_writer(&mut *buf, &c)?,
                None => buf.extend_from_slice(b"null"),
            }
            buf.push(b'}');
        }
        Ok(())
    }

    /// The namespace of every row.
    pub fn netns(&self) -> Option<JsonNetns<'_>> {
        self.place
            .as_ref()
            .filter(|p| !p.netns.is_unknown())
            .map(|p| JsonNetns {
                inode: p.netns.id.inode,
                name: self.name.as_deref(),
            })
    }

    /// The container of a row held by `owners`.
    pub fn container(&self, owners: Option<&[Owner]>) -> Option<JsonContainer<'_>> {
        let place = self.place.as_ref()?;
        place
            .container_of(owners)
            .map(|c| JsonContainer::from(&**c))
    }

    /// `s` with its namespace and container.
    pub fn socket<'s>(&'s self, s: &'s Socket) -> JsonSocket<'s> {
        JsonSocket {
            netns: self.netns(),
            container: self.container(s.owners.as_deref()),
            ..JsonSocket::from(s)
        }
    }

    /// `u` with its namespace and container.
    pub fn other<'s>(&'s self, o: &'s OtherSocket) -> JsonOtherSocket<'s> {
        JsonOtherSocket {
            netns: self.netns(),
            container: self.container(o.owners()),
            ..JsonOtherSocket::from(o)
        }
    }

    pub fn unix<'s>(&'s self, u: &'s UnixSocket) -> JsonUnixSocket<'s> {
        JsonUnixSocket {
            netns: self.netns(),
            container: self.container(u.owners.as_deref()),
            ..JsonUnixSocket::from(u)
        }
    }
}

/// tcp_info with the congestion algorithm beside its fields.
#[derive(Debug, Serialize)]
pub struct JsonTcpInfo<'a> {
    #[serde(flatten)]
    pub info: &'a TcpInfo,
    pub congestion: Option<&'a str>,
}

/// A running timer.
#[derive(Debug, Serialize)]
pub struct JsonTimer {
    /// `on` (retransmit), `keepalive`, `timewait`, `persist`.
    pub kind: &'static str,
    pub expires_ms: u64,
    pub retrans: u32,
}

/// A process holding a socket.
#[derive(Debug, Serialize)]
pub struct JsonOwner<'a> {
    pub pid: u32,
    pub comm: &'a str,
    pub fd: u32,
    /// Only with --cmdline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<&'a str>,
    /// Only when `comm` is not UTF-8: its exact bytes in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm_hex: Option<String>,
    /// Only when `cmdline` is not UTF-8: its exact bytes (NULs as spaces)
    /// in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline_hex: Option<String>,
}

impl<'a> From<&'a Owner> for JsonOwner<'a> {
    fn from(o: &'a Owner) -> Self {
        JsonOwner {
            pid: o.pid,
            comm: &o.comm,
            fd: o.fd,
            cmdline: o.cmdline.as_deref(),
            comm_hex: o.raw.as_ref().and_then(|r| r.comm.as_deref()).map(hex),
            cmdline_hex: o.raw.as_ref().and_then(|r| r.cmdline.as_deref()).map(hex),
        }
    }
}

fn owners(list: &[Owner]) -> Vec<JsonOwner<'_>> {
    list.iter().map(JsonOwner::from).collect()
}

/// An address and port as JSON.
#[derive(Debug, Serialize)]
pub struct JsonEndpoint {
    pub addr: String,
    pub port: u16,
    /// inet6 only: the scope (interface index) of a link-local address, 0
    /// for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<u32>,
}

impl From<SocketAddr> for JsonEndpoint {
    fn from(a: SocketAddr) -> Self {
        JsonEndpoint {
            addr: a.ip().to_string(),
            port: a.port(),
            scope_id: match a {
                SocketAddr::V4(_) => None,
                SocketAddr::V6(v6) => Some(v6.scope_id()),
            },
        }
    }
}

impl<'a> From<&'a Socket> for JsonSocket<'a> {
    fn from(s: &'a Socket) -> Self {
        JsonSocket {
            proto: s.proto.name(),
            family: s.family.name(),
            state: s.state.name_for(s.proto),
            local: s.local.into(),
            remote: s.remote.into(),
            recv_q: s.recv_q,
            send_q: s.send_q,
            uid: s.uid,
            inode: s.inode,
            cookie: s.cookie.map(|c| format!("{c:#x}")),
            ifindex: s.ifindex,
            v6only: s.v6only,
            owners: s.owners.as_deref().map(owners),
            queue: s.queue.as_ref().map(|q| q.kind.name()),
            listener_owners: s.queue.as_ref().map(|q| owners(&q.listener_owners)),
            listener_attribution: s.queue.as_ref().map(|q| q.attribution.name()),
            tcp_info: s.extras.as_ref().and_then(|x| {
                x.tcp_info.as_ref().map(|info| JsonTcpInfo {
                    info,
                    congestion: x.congestion.as_deref(),
                })
            }),
            mem: s.extras.as_ref().and_then(|x| x.mem.as_ref()),
            timer: s.timer.map(|t| JsonTimer {
                kind: t.kind.name(),
                expires_ms: t.expires_ms,
                retrans: t.retrans,
            }),
            netns: None,
            container: None,
        }
    }
}

/// One UNIX socket as JSON.
#[derive(Debug, Serialize)]
pub struct JsonUnixSocket<'a> {
    /// `u_str`, `u_dgr`, `u_seq`.
    pub proto: &'static str,
    /// Always `unix`.
    pub family: &'static str,
    /// `ESTABLISHED`, `LISTEN`, `UNCONN`, `SYN_SENT`.
    pub state: &'static str,
    pub local: JsonUnixName,
    pub remote: JsonUnixName,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
    pub uid: Option<u32>,
    pub inode: u64,
    /// The peer's inode, 0 when unconnected, `null` from /proc.
    pub peer_inode: Option<u64>,
    pub cookie: Option<String>,
    pub owners: Option<Vec<JsonOwner<'a>>>,
    /// As for inet sockets.
    pub netns: Option<JsonNetns<'a>>,
    pub container: Option<JsonContainer<'a>>,
}

/// A UNIX name: the exact path (an abstract name starts with `@`);
/// `null` when unbound. Bytes that are not UTF-8 become U+FFFD in `path`,
/// and then (only then) `path_hex` carries every byte of the name.
#[derive(Debug, Serialize)]
pub struct JsonUnixName {
    pub path: Option<String>,
    /// The name's bytes in lowercase hex, present only when they are not
    /// UTF-8 (so `path` could not carry them exactly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
}

impl JsonUnixName {
    fn new(bytes: Option<&[u8]>) -> JsonUnixName {
        match bytes {
            None => JsonUnixName {
                path: None,
                path_hex: None,
            },
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => JsonUnixName {
                    path: Some(s.to_owned()),
                    path_hex: None,
                },
                Err(_) => JsonUnixName {
                    path: Some(String::from_utf8_lossy(b).into_owned()),
                    path_hex: Some(hex(b)),
                },
            },
        }
    }
}

/// Lowercase hex, two digits a byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

impl<'a> From<&'a UnixSocket> for JsonUnixSocket<'a> {
    fn from(u: &'a UnixSocket) -> Self {
        let name = |p: &Option<Vec<u8>>| JsonUnixName::new(p.as_deref());
        JsonUnixSocket {
            proto: u.kind.netid(),
            family: "unix",
            state: u.state_name(),
            local: name(&u.path),
            remote: name(&u.peer_path),
            recv_q: u.recv_q,
            send_q: u.send_q,
            uid: u.uid,
            inode: u.inode,
            peer_inode: u.peer_inode,
            cookie: u.cookie.map(|c| format!("{c:#x}")),
            owners: u.owners.as_deref().map(owners),
            netns: None,
            container: None,
        }
    }
}

/// One packet or netlink socket as JSON: `proto` is ss's Netid (`p_raw`,
/// `p_dgr`, `nl`), `family` `packet` or `netlink`, `state` `UNCONN`.
#[derive(Debug, Serialize)]
pub struct JsonOtherSocket<'a> {
    pub proto: &'static str,
    pub family: &'static str,
    pub state: &'static str,
    pub local: JsonOtherEnd,
    pub remote: JsonOtherEnd,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
    pub uid: Option<u32>,
    pub inode: u64,
    pub cookie: Option<String>,
    /// A packet socket's classic BPF program (with -b, as the kernel sent
    /// it), `null` otherwise.
    pub bpf: Option<Vec<JsonBpfInsn>>,
    pub owners: Option<Vec<JsonOwner<'a>>>,
    pub netns: Option<JsonNetns<'a>>,
    pub container: Option<JsonContainer<'a>>,
}

/// An end of a packet or netlink socket. Packet: `protocol` (the ETH_P_*
/// number; 3, ETH_P_ALL, for every one) and `ifindex` (0: every
/// interface) on the local end; netlink: `protocol` (the netlink family)
/// and `portid` on the local end, `group` and `portid` on the remote end
/// when connected. Fields that do not apply are left out.
#[derive(Debug, Default, Serialize)]
pub struct JsonOtherEnd {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
}

/// One classic BPF instruction (struct sock_filter).
#[derive(Debug, Serialize)]
pub struct JsonBpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl<'a> From<&'a OtherSocket> for JsonOtherSocket<'a> {
    fn from(o: &'a OtherSocket) -> Self {
        let owners = o.owners().map(owners);
        match o {
            OtherSocket::Packet(p) => JsonOtherSocket {
                proto: o.netid(),
                family: "packet",
                state: "UNCONN",
                local: JsonOtherEnd {
                    protocol: Some(p.protocol),
                    ifindex: p.ifindex,
                    ..JsonOtherEnd::default()
                },
                remote: JsonOtherEnd::default(),
                recv_q: p.recv_q,
                send_q: p.send_q,
                uid: p.uid,
                inode: p.inode,
                cookie: p.cookie.map(|c| format!("{c:#x}")),
                bpf: p.filter.as_ref().map(|f| {
                    f.iter()
                        .map(|i| JsonBpfInsn {
                            code: i.code,
                            jt: i.jt,
                            jf: i.jf,
                            k: i.k,
                        })
                        .collect()
                }),
                owners,
                netns: None,
                container: None,
            },
            OtherSocket::Netlink(n) => JsonOtherSocket {
                proto: o.netid(),
                family: "netlink",
                state: "UNCONN",
                local: JsonOtherEnd {
                    protocol: Some(u16::from(n.protocol)),
                    portid: Some(n.portid),
                    ..JsonOtherEnd::default()
                },
                remote: if n.connected {
                    JsonOtherEnd {
                        portid: Some(n.dst_portid),
                        group: Some(n.dst_group),
                        ..JsonOtherEnd::default()
                    }
                } else {
                    JsonOtherEnd::default()
                },
                recv_q: n.recv_q,
                send_q: n.send_q,
                uid: None,
                inode: n.inode,
                cookie: n.cookie.map(|c| format!("{c:#x}")),
                bpf: None,
                owners,
                netns: None,
                container: None,
            },
        }
    }
}

/// One JSON array, one socket object per line inside it.
pub fn write_array(out: &mut dyn Write, sockets: &[Socket], unix: &[UnixSocket]) -> io::Result<()> {
    if sockets.is_empty() && unix.is_empty() {
        return out.write_all(b"[]\n");
    }
    out.write_all(b"[\n")?;
    let mut first = true;
    let mut sep = |out: &mut dyn Write| -> io::Result<()> {
        if !std::mem::take(&mut first) {
            out.write_all(b",\n")?;
        }
        Ok(())
    };
    for s in sockets {
        sep(out)?;
        to_writer(&mut *out, &JsonSocket::from(s))?;
    }
    for u in unix {
        sep(out)?;
        to_writer(&mut *out, &JsonUnixSocket::from(u))?;
    }
    out.write_all(b"\n]\n")
}

/// One JSON object per line (JSON Lines).
pub fn write_lines(
    out: &mut dyn Write,
    place: &PlaceJson,
    sockets: &[Socket],
    unix: &[UnixSocket],
) -> io::Result<()> {
    let mut buf = Vec::new();
    for s in sockets {
        buf.clear();
        place.write_socket(&mut buf, s)?;
        buf.push(b'\n');
        out.write_all(&buf)?;
    }
    for u in unix {
        to_writer(&mut *out, &place.unix(u))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Protocol, TcpState};

    fn sample() -> Socket {
        Socket {
            proto: Protocol::Tcp,
            family: Family::Inet,
            state: TcpState::Established,
            local: "127.0.0.1:9090".parse().unwrap(),
            remote: "127.0.0.1:51234".parse().unwrap(),
            recv_q: 0,
            send_q: Some(0),
            uid: Some(1000),
            inode: 23456,
            cookie: Some(0x2a),
            ifindex: Some(0),
            v6only: None,
            owners: None,
            queue: None,
            timer: None,
            extras: None,
        }
    }

    #[test]
    fn schema_of_one_socket() {
        let v = serde_json::to_value(JsonSocket::from(&sample())).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "proto": "tcp", "family": "inet", "state": "ESTABLISHED",
                "local": {"addr": "127.0.0.1", "port": 9090},
                "remote": {"addr": "127.0.0.1", "port": 51234},
                "recv_q": 0, "send_q": 0, "uid": 1000, "inode": 23456,
                "cookie": "0x2a", "ifindex": 0, "v6only": null,
                "owners": null, "queue": null, "listener_owners": null,
                "listener_attribution": null,
                "timer": null, "tcp_info": null, "mem": null,
                "netns": null, "container": null
            })
        );
    }

    #[test]
    fn mapped_and_scoped_v6() {
        let mut s = sample();
        s.family = Family::Inet6;
        s.local = "[::ffff:127.0.0.1]:80".parse().unwrap();
        s.remote = "[fe80::1%3]:80".parse().unwrap();
        let v = serde_json::to_value(JsonSocket::from(&s)).unwrap();
        assert_eq!(v["local"]["addr"], "::ffff:127.0.0.1");
        assert_eq!(v["local"]["scope_id"], 0);
        assert_eq!(v["remote"]["addr"], "fe80::1");
        assert_eq!(v["remote"]["scope_id"], 3);
    }

    #[test]
    fn array_parses_and_lines_parse() {
        let socks = vec![sample(), sample()];
        let mut buf = Vec::new();
        write_array(&mut buf, &socks, &[]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        let mut buf = Vec::new();
        write_array(&mut buf, &[], &[]).unwrap();
        assert_eq!(buf, b"[]\n");
        let mut buf = Vec::new();
        write_lines(&mut buf, &PlaceJson::default(), &socks, &[]).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 2);
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }

    #[test]
    fn owner_names_exact_or_with_hex() {
        let plain = Owner {
            pid: 7,
            fd: 3,
            tid: None,
            comm: "e\u{1b}[2J".into(),
            cmdline: None,
            raw: None,
        };
        assert_eq!(
            serde_json::to_value(JsonOwner::from(&plain)).unwrap(),
            serde_json::json!({"pid": 7, "comm": "e\u{1b}[2J", "fd": 3})
        );
        let bad = Owner {
            comm: "a\u{fffd}".into(),
            cmdline: Some("x\u{fffd} y".into()),
            raw: Some(std::sync::Arc::new(crate::model::RawNames {
                comm: Some(Box::from(&b"a\xff"[..])),
                cmdline: Some(Box::from(&b"x\x9b y"[..])),
            })),
            ..plain
        };
        assert_eq!(
            serde_json::to_value(JsonOwner::from(&bad)).unwrap(),
            serde_json::json!({"pid": 7, "comm": "a\u{fffd}", "fd": 3,
                "cmdline": "x\u{fffd} y", "comm_hex": "61ff", "cmdline_hex": "789b2079"})
        );
    }

    #[test]
    fn line_breaking_characters_are_escaped() {
        let text = "a\u{2028}b\u{2029}c\u{85}d\u{84}\u{2027}e\u{202e}\n\u{ff}";
        let mut out = Vec::new();
        to_writer(&mut out, &[text, "plain"]).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert_eq!(
            json,
            "[\"a\\u2028b\\u2029c\\u0085d\u{84}\u{2027}e\u{202e}\\n\u{ff}\",\"plain\"]"
        );
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [text, "plain"]);
    }

    #[test]
    fn unix_names_exact_or_with_hex() {
        let v = |b: Option<&[u8]>| serde_json::to_value(JsonUnixName::new(b)).unwrap();
        assert_eq!(v(None), serde_json::json!({"path": null}));
        assert_eq!(
            v(Some(b"/tmp/e\x1b[2J\n\\\xe2\x80\xae")),
            serde_json::json!({"path": "/tmp/e\u{1b}[2J\n\\\u{202e}"})
        );
        assert_eq!(
            v(Some(b"@a\xff\x9b")),
            serde_json::json!({"path": "@a\u{fffd}\u{fffd}", "path_hex": "4061ff9b"})
        );
    }

    /// The spliced row equals serde's whole object with the namespace and
    /// container fields set (with and without a container, and for no
    /// namespace).
    #[test]
    fn spliced_rows_equal_serde_rows() {
        use crate::model::{Container, Netns, NetnsId, Runtime};
        use std::collections::HashMap;
        use std::sync::Arc;
        let container = Arc::new(Container {
            runtime: Runtime::Docker,
            id: "3f2a".repeat(16),
            name: Some("web\u{1b}[2J-1".into()),
            pod: None,
        });
        let mut owned = sample();
        owned.owners = Some(vec![Owner {
            pid: 812,
            fd: 6,
            tid: None,
            comm: "nginx".into(),
            cmdline: None,
            raw: None,
        }]);
        let place = Place {
            netns: Arc::new(Netns {
                id: NetnsId {
                    dev: 4,
                    inode: 4026531840,
                },
                name: NetnsName::Ip("a\"b\u{2028}".into()),
                container: None,
            }),
            containers: Arc::new(HashMap::from([(812, container)])),
        };
        for tags in [PlaceJson::default(), PlaceJson::new(&place)] {
            for s in [sample(), owned.clone()] {
                let mut buf = Vec::new();
                tags.write_socket(&mut buf, &s).unwrap();
                let got: serde_json::Value = serde_json::from_slice(&buf).unwrap();
                let want = serde_json::to_value(tags.socket(&s)).unwrap();
                assert_eq!(got, want);
                assert!(!buf.windows(3).any(|w| w == "\u{2028}".as_bytes()));
            }
        }
    }
}
