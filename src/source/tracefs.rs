//! tracefs (`trace`): where it is mounted, the four TCP tracepoints' ids
//! and `format` files, each parsed into a typed [`Format`] (field name →
//! offset, size, signedness, common_* fields included), and the
//! [`Decoder`] that reads a PERF_SAMPLE_RAW record by those offsets into a
//! [`crate::model::TraceEvent`]. Nothing here hard-codes an offset:
//! a field the decoder needs that the format lacks, or has in a size it
//! cannot read, fails the run naming the file ([`TracefsError::Format`]),
//! never a wrong decode. sockscope never mounts tracefs: when it is not
//! mounted the error says the command that does.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};

use crate::model::{ExecContext as Context, Family, TcpState, TraceEvent, TraceKind};

/// The places tracefs is mounted by convention (the second through
/// debugfs's automount on older systems).
pub const TRACEFS_PATHS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// include/uapi/linux/magic.h: TRACEFS_MAGIC.
const TRACEFS_MAGIC: u64 = 0x7472_6163;

/// The command that mounts tracefs (said, never run).
pub const MOUNT_HINT: &str = "mount -t tracefs nodev /sys/kernel/tracing";

/// The tracepoints `trace` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tracepoint {
    /// include/trace/events/sock.h: inet_sock_set_state.
    SetState,
    /// include/trace/events/tcp.h: tcp_retransmit_skb.
    Retransmit,
    /// include/trace/events/tcp.h: tcp_send_reset.
    SendReset,
    /// include/trace/events/tcp.h: tcp_receive_reset.
    ReceiveReset,
}

impl Tracepoint {
    pub const ALL: [Tracepoint; 4] = [
        Tracepoint::SetState,
        Tracepoint::Retransmit,
        Tracepoint::SendReset,
        Tracepoint::ReceiveReset,
    ];

    /// `system/name`, the directory under `events/`.
    pub fn path(self) -> &'static str {
        match self {
            Tracepoint::SetState => "sock/inet_sock_set_state",
            Tracepoint::Retransmit => "tcp/tcp_retransmit_skb",
            Tracepoint::SendReset => "tcp/tcp_send_reset",
            Tracepoint::ReceiveReset => "tcp/tcp_receive_reset",
        }
    }
}

/// A failure to find or read tracefs or a tracepoint's format.
#[derive(Debug, thiserror::Error)]
pub enum TracefsError {
    #[error(
        "tracefs is not mounted (looked at {}): as root, run `{MOUNT_HINT}` \
         (sockscope never mounts anything itself)",
        TRACEFS_PATHS.join(" and ")
    )]
    NotMounted,
    #[error("{}: no such tracepoint in this kernel (CONFIG_TRACEPOINTS?)", .path.display())]
    NoTracepoint { path: PathBuf },
    #[error(
        "cannot read {}: permission denied (tracefs needs root: run as root, or with sudo)",
        .path.display()
    )]
    Denied {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A format file sockscope cannot decode by: said, never guessed.
    #[error("cannot use the tracepoint format {}: {reason}", .path.display())]
    Format { path: PathBuf, reason: String },
}

/// Where tracefs is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracefs {
    pub root: PathBuf,
}

impl Tracefs {
    /// The tracefs mount: `over` (SOCKSCOPE_TRACEFS, a recorded tree, taken
    /// as is), else the first of [`TRACEFS_PATHS`] whose filesystem is
    /// really tracefs (statfs magic).
    pub fn locate(over: Option<&Path>) -> Result<Tracefs, TracefsError> {
        if let Some(root) = over {
            return Ok(Tracefs { root: root.into() });
        }
        for p in TRACEFS_PATHS {
            if let Ok(fs) = rustix::fs::statfs(p) {
                #[allow(clippy::unnecessary_cast)]
                if fs.f_type as u64 == TRACEFS_MAGIC {
                    return Ok(Tracefs { root: p.into() });
                }
            }
        }
        Err(TracefsError::NotMounted)
    }

    fn read(&self, tp: Tracepoint, file: &str) -> Result<(PathBuf, String), TracefsError> {
        let dir = self.root.join("events").join(tp.path());
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok((path, String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !dir.exists() => {
                Err(TracefsError::NoTracepoint { path: dir })
            }
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                Err(TracefsError::Denied { path, source: e })
            }
            Err(e) => Err(TracefsError::Read { path, source: e }),
        }
    }

    /// The tracepoint's `format` file, parsed; its id from the `id` file
    /// (which must agree with the format's `ID:` line).
    pub fn format(&self, tp: Tracepoint) -> Result<Format, TracefsError> {
        let (path, text) = self.read(tp, "format")?;
        let format = Format::parse(&text).map_err(|reason| TracefsError::Format {
            path: path.clone(),
            reason,
        })?;
        let (id_path, id) = self.read(tp, "id")?;
        let id: u32 = id.trim().parse().map_err(|_| TracefsError::Format {
            path: id_path.clone(),
            reason: format!("not a tracepoint id: {:?}", crate::text::escape(id.trim())),
        })?;
        if id != format.id {
            return Err(TracefsError::Format {
                path: id_path,
                reason: format!("id {id} differs from the format's ID {}", format.id),
            });
        }
        Ok(format)
    }
}

/// One field of a tracepoint record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C type as the format writes it (`__u16`, `const void *`).
    pub ctype: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
    /// `name[N]`: the array's length.
    pub array: Option<usize>,
}

/// A tracepoint's `format` file (kernel/trace/trace_events.c:
/// f_show → `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub name: String,
    pub id: u32,
    pub fields: Vec<Field>,
}

/// Longest format file and most fields taken (the kernel's are ~2 KiB).
const MAX_FORMAT: usize = 1 << 20;
const MAX_FIELDS: usize = 256;

impl Format {
    /// Parses a format file's text; the reason a line cannot be read.
    pub fn parse(text: &str) -> Result<Format, String> {
        if text.len() > MAX_FORMAT {
            return Err("the file is too long".into());
        }
        let mut name = None;
        let mut id = None;
        let mut fields: Vec<Field> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            let at = || format!("line {}", n + 1);
            if let Some(v) = line.strip_prefix("name:") {
                name = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("ID:") {
                id = Some(
                    v.trim()
                        .parse::<u32>()
                        .map_err(|_| format!("{}: ID is not a number", at()))?,
                );
            } else if line.starts_with("field:") {
                if fields.len() >= MAX_FIELDS {
                    return Err("too many fields".into());
                }
                let field = parse_field(line).map_err(|e| format!("{}: {e}", at()))?;
                if fields.iter().any(|f| f.name == field.name) {
                    return Err(format!("{}: field {} twice", at(), field.name));
                }
                fields.push(field);
            } else if line.starts_with("print fmt:") {
                break;
            }
        }
        Ok(Format {
            name: name.ok_or("no name: line")?,
            id: id.ok_or("no ID: line")?,
            fields,
        })
    }

    /// The record's length: the end of its last field.
    pub fn record_len(&self) -> usize {
        self.fields
            .iter()
            .map(|f| f.offset.saturating_add(f.size))
            .max()
            .unwrap_or(0)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// `field:TYPE NAME[N];\toffset:N;\tsize:N;\tsigned:N;`
fn parse_field(line: &str) -> Result<Field, String> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, None);
    for part in line.split(';') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("field:") {
            decl = Some(v.trim());
        } else if let Some(v) = part.strip_prefix("offset:") {
            offset = Some(v.trim().parse::<usize>().map_err(|_| "bad offset")?);
        } else if let Some(v) = part.strip_prefix("size:") {
            size = Some(v.trim().parse::<usize>().map_err(|_| "bad size")?);
        } else if let Some(v) = part.strip_prefix("signed:") {
            signed = Some(match v.trim() {
                "0" => false,
                "1" => true,
                _ => return Err("bad signed".into()),
            });
        }
    }
    let decl = decl.ok_or("no field declaration")?;
    let (ctype, mut name) = decl
        .rsplit_once(|c: char| c.is_whitespace() || c == '*')
        .map(|(t, n)| (t.trim(), n.trim()))
        .ok_or("no field name")?;
    let mut array = None;
    if let Some((base, rest)) = name.split_once('[') {
        let len = rest.strip_suffix(']').ok_or("bad array")?;
        array = Some(len.parse::<usize>().map_err(|_| "bad array length")?);
        name = base;
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("bad field name {:?}", crate::text::escape(name)));
    }
    let ctype = if decl.contains('*') && !ctype.contains('*') {
        format!("{ctype} *")
    } else {
        ctype.to_owned()
    };
    Ok(Field {
        name: name.to_owned(),
        ctype,
        offset: offset.ok_or("no offset")?,
        size: size.ok_or("no size")?,
        signed: signed.ok_or("no signed")?,
        array,
    })
}

/// Where one integer the decoder reads lies in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    offset: usize,
    size: usize,
}

impl Slot {
    fn bytes(self, raw: &[u8]) -> Option<&[u8]> {
        raw.get(self.offset..self.offset.checked_add(self.size)?)
    }

    /// A native-endian unsigned integer of 1, 2, 4 or 8 bytes (tracepoint
    /// fields are stored in the CPU's order).
    fn uint(self, raw: &[u8]) -> Option<u64> {
        let b = self.bytes(raw)?;
        Some(match self.size {
            1 => u64::from(b[0]),
            2 => u64::from(u16::from_ne_bytes(b.try_into().ok()?)),
            4 => u64::from(u32::from_ne_bytes(b.try_into().ok()?)),
            8 => u64::from_ne_bytes(b.try_into().ok()?),
            _ => return None,
        })
    }
}

/// What a field must be for the decoder to read it.
#[derive(Clone, Copy)]
enum Need {
    /// An integer of exactly one of these sizes.
    Int(&'static [usize]),
    /// A byte array of exactly this many bytes.
    Bytes(usize),
    /// A byte array of at least this many bytes (a sockaddr buffer).
    AtLeast(usize),
}

fn slot(format: &Format, path: &Path, name: &str, need: Need) -> Result<Slot, TracefsError> {
    let bad = |reason: String| TracefsError::Format {
        path: path.to_owned(),
        reason,
    };
    let f = format
        .field(name)
        .ok_or_else(|| bad(format!("no field {name}")))?;
    let ok = match need {
        Need::Int(sizes) => f.array.is_none() && sizes.contains(&f.size),
        Need::Bytes(n) => f.size == n,
        Need::AtLeast(n) => f.size >= n,
    };
    if !ok {
        return Err(bad(format!(
            "field {name} has size {} ({}), which sockscope cannot read",
            f.size,
            crate::text::escape(&f.ctype)
        )));
    }
    Ok(Slot {
        offset: f.offset,
        size: f.size,
    })
}

/// include/linux/trace_events.h: enum trace_flag_type, the bits of
/// common_flags that say which context the event ran in.
const TRACE_FLAG_HARDIRQ: u64 = 0x08;
const TRACE_FLAG_SOFTIRQ: u64 = 0x10;
const TRACE_FLAG_NMI: u64 = 0x40;

/// include/linux/socket.h: AF_INET, AF_INET6.
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
/// include/uapi/linux/in.h: IPPROTO_TCP.
pub const IPPROTO_TCP: u64 = 6;

/// The common_* fields every tracepoint record starts with.
#[derive(Debug, Clone, Copy)]
struct Common {
    ty: Slot,
    flags: Slot,
    pid: Slot,
}

/// An address as the tracepoints store it: `family`, `sport`/`dport`
/// (host order), `saddr[4]`/`daddr[4]` and `saddr_v6[16]`/`daddr_v6[16]`
/// (network order) — include/trace/events/net_probe_common.h:
/// TP_STORE_ADDRS.
#[derive(Debug, Clone, Copy)]
struct Tuple {
    family: Slot,
    sport: Slot,
    dport: Slot,
    saddr: Slot,
    daddr: Slot,
    saddr6: Slot,
    daddr6: Slot,
}

impl Tuple {
    fn new(f: &Format, path: &Path) -> Result<Tuple, TracefsError> {
        Ok(Tuple {
            family: slot(f, path, "family", Need::Int(&[2]))?,
            sport: slot(f, path, "sport", Need::Int(&[2]))?,
            dport: slot(f, path, "dport", Need::Int(&[2]))?,
            saddr: slot(f, path, "saddr", Need::Bytes(4))?,
            daddr: slot(f, path, "daddr", Need::Bytes(4))?,
            saddr6: slot(f, path, "saddr_v6", Need::Bytes(16))?,
            daddr6: slot(f, path, "daddr_v6", Need::Bytes(16))?,
        })
    }

    fn read(&self, raw: &[u8]) -> Result<(Family, SocketAddr, SocketAddr), DecodeError> {
        let family = self.family.uint(raw).ok_or(DecodeError::Short)?;
        let sport = self.sport.uint(raw).ok_or(DecodeError::Short)? as u16;
        let dport = self.dport.uint(raw).ok_or(DecodeError::Short)? as u16;
        match family {
            AF_INET => {
                let s = v4(self.saddr.bytes(raw).ok_or(DecodeError::Short)?);
                let d = v4(self.daddr.bytes(raw).ok_or(DecodeError::Short)?);
                Ok((
                    Family::Inet,
                    SocketAddr::new(IpAddr::V4(s), sport),
                    SocketAddr::new(IpAddr::V4(d), dport),
                ))
            }
            AF_INET6 => {
                let s = v6(self.saddr6.bytes(raw).ok_or(DecodeError::Short)?);
                let d = v6(self.daddr6.bytes(raw).ok_or(DecodeError::Short)?);
                Ok((
                    Family::Inet6,
                    SocketAddr::V6(SocketAddrV6::new(s, sport, 0, 0)),
                    SocketAddr::V6(SocketAddrV6::new(d, dport, 0, 0)),
                ))
            }
            other => Err(DecodeError::Family(other)),
        }
    }
}

fn v4(b: &[u8]) -> Ipv4Addr {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    Ipv4Addr::from(a)
}

fn v6(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// A `struct sockaddr_in6`-sized buffer holding a sockaddr_in or
/// sockaddr_in6 (include/trace/events/tcp.h: tcp_send_reset's saddr and
/// daddr, TP_STORE_ADDR_PORTS): family in host order at 0, port in
/// network order at 2, the IPv4 address at 4 or the IPv6 one at 8.
fn sockaddr(b: &[u8]) -> Result<(Family, SocketAddr), DecodeError> {
    let family = u64::from(u16::from_ne_bytes([b[0], b[1]]));
    let port = u16::from_be_bytes([b[2], b[3]]);
    match family {
        AF_INET => Ok((
            Family::Inet,
            SocketAddr::V4(SocketAddrV4::new(v4(&b[4..8]), port)),
        )),
        AF_INET6 => Ok((
            Family::Inet6,
            SocketAddr::V6(SocketAddrV6::new(v6(&b[8..24]), port, 0, 0)),
        )),
        other => Err(DecodeError::Family(other)),
    }
}

/// Why one record could not be decoded (counted, said at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("a record shorter than its format")]
    Short,
    #[error("a record of an unknown tracepoint id {0}")]
    Unknown(u64),
    #[error("an unknown address family {0}")]
    Family(u64),
    #[error("an unknown TCP state {0}")]
    State(u64),
}

#[derive(Debug, Clone, Copy)]
struct SetState {
    id: u64,
    /// The record's length by its format: a shorter one is refused.
    len: usize,
    skaddr: Slot,
    oldstate: Slot,
    newstate: Slot,
    protocol: Slot,
    tuple: Tuple,
}

#[derive(Debug, Clone, Copy)]
struct Retransmit {
    id: u64,
    /// The record's length by its format: a shorter one is refused.
    len: usize,
    skaddr: Slot,
    state: Slot,
    tuple: Tuple,
}

#[derive(Debug, Clone, Copy)]
struct SendReset {
    id: u64,
    /// The record's length by its format: a shorter one is refused.
    len: usize,
    skaddr: Slot,
    state: Slot,
    saddr: Slot,
    daddr: Slot,
}

#[derive(Debug, Clone, Copy)]
struct ReceiveReset {
    id: u64,
    /// The record's length by its format: a shorter one is refused.
    len: usize,
    skaddr: Slot,
    tuple: Tuple,
}

/// Reads raw tracepoint records by the offsets of their format files.
#[derive(Debug, Clone)]
pub struct Decoder {
    common: Common,
    set_state: SetState,
    retransmit: Retransmit,
    send_reset: SendReset,
    receive_reset: ReceiveReset,
}

/// The four formats a [`Decoder`] is built from, with the path each was
/// read from (for the error naming it).
pub struct Formats {
    pub set_state: (PathBuf, Format),
    pub retransmit: (PathBuf, Format),
    pub send_reset: (PathBuf, Format),
    pub receive_reset: (PathBuf, Format),
}

impl Formats {
    /// Reads the four formats under `tracefs`.
    pub fn read(tracefs: &Tracefs) -> Result<Formats, TracefsError> {
        let one = |tp: Tracepoint| -> Result<(PathBuf, Format), TracefsError> {
            let path = tracefs.root.join("events").join(tp.path()).join("format");
            Ok((path, tracefs.format(tp)?))
        };
        Ok(Formats {
            set_state: one(Tracepoint::SetState)?,
            retransmit: one(Tracepoint::Retransmit)?,
            send_reset: one(Tracepoint::SendReset)?,
            receive_reset: one(Tracepoint::ReceiveReset)?,
        })
    }

    pub fn get(&self, tp: Tracepoint) -> &(PathBuf, Format) {
        match tp {
            Tracepoint::SetState => &self.set_state,
            Tracepoint::Retransmit => &self.retransmit,
            Tracepoint::SendReset => &self.send_reset,
            Tracepoint::ReceiveReset => &self.receive_reset,
        }
    }
}

fn common(f: &Format, path: &Path) -> Result<Common, TracefsError> {
    Ok(Common {
        ty: slot(f, path, "common_type", Need::Int(&[2]))?,
        flags: slot(f, path, "common_flags", Need::Int(&[1]))?,
        pid: slot(f, path, "common_pid", Need::Int(&[4]))?,
    })
}

impl Decoder {
    /// The decoder of these formats, or the first field it cannot read.
    pub fn new(formats: &Formats) -> Result<Decoder, TracefsError> {
        let (p, f) = &formats.set_state;
        let common_layout = common(f, p)?;
        // Every format must put the common fields where the first does:
        // the type is read before the record's format is known.
        for tp in Tracepoint::ALL {
            let (p, f) = formats.get(tp);
            let c = common(f, p)?;
            if c.ty != common_layout.ty
                || c.flags != common_layout.flags
                || c.pid != common_layout.pid
            {
                return Err(TracefsError::Format {
                    path: p.clone(),
                    reason: "its common_* fields differ from inet_sock_set_state's".into(),
                });
            }
        }
        let ptr = Need::Int(&[4, 8]);
        let int = Need::Int(&[4]);
        let set_state = SetState {
            id: u64::from(f.id),
            len: f.record_len(),
            skaddr: slot(f, p, "skaddr", ptr)?,
            oldstate: slot(f, p, "oldstate", int)?,
            newstate: slot(f, p, "newstate", int)?,
            protocol: slot(f, p, "protocol", Need::Int(&[2]))?,
            tuple: Tuple::new(f, p)?,
        };
        let (p, f) = &formats.retransmit;
        let retransmit = Retransmit {
            id: u64::from(f.id),
            len: f.record_len(),
            skaddr: slot(f, p, "skaddr", ptr)?,
            state: slot(f, p, "state", int)?,
            tuple: Tuple::new(f, p)?,
        };
        let (p, f) = &formats.send_reset;
        let send_reset = SendReset {
            id: u64::from(f.id),
            len: f.record_len(),
            skaddr: slot(f, p, "skaddr", ptr)?,
            state: slot(f, p, "state", int)?,
            saddr: slot(f, p, "saddr", Need::AtLeast(24))?,
            daddr: slot(f, p, "daddr", Need::AtLeast(24))?,
        };
        let (p, f) = &formats.receive_reset;
        let receive_reset = ReceiveReset {
            id: u64::from(f.id),
            len: f.record_len(),
            skaddr: slot(f, p, "skaddr", ptr)?,
            tuple: Tuple::new(f, p)?,
        };
        Ok(Decoder {
            common: common_layout,
            set_state,
            retransmit,
            send_reset,
            receive_reset,
        })
    }

    /// Decodes one raw record; `Ok(None)` for an event `trace` does not
    /// show (inet_sock_set_state of another protocol: MPTCP, SCTP).
    pub fn decode(&self, raw: &[u8]) -> Result<Option<TraceEvent>, DecodeError> {
        let ty = self.common.ty.uint(raw).ok_or(DecodeError::Short)?;
        let flags = self.common.flags.uint(raw).ok_or(DecodeError::Short)?;
        let pid = self.common.pid.uint(raw).ok_or(DecodeError::Short)? as u32;
        let context = if flags & TRACE_FLAG_NMI != 0 {
            Context::Nmi
        } else if flags & TRACE_FLAG_HARDIRQ != 0 {
            Context::HardIrq
        } else if flags & TRACE_FLAG_SOFTIRQ != 0 {
            Context::SoftIrq
        } else {
            Context::Process
        };
        let full = |len: usize| {
            if raw.len() < len {
                Err(DecodeError::Short)
            } else {
                Ok(())
            }
        };
        let state = |slot: Slot| -> Result<TcpState, DecodeError> {
            let n = slot.uint(raw).ok_or(DecodeError::Short)?;
            u8::try_from(n)
                .ok()
                .and_then(TcpState::from_kernel)
                .ok_or(DecodeError::State(n))
        };
        let (kind, skaddr, family, local, remote) = if ty == self.set_state.id {
            let s = &self.set_state;
            full(s.len)?;
            if s.protocol.uint(raw).ok_or(DecodeError::Short)? != IPPROTO_TCP {
                return Ok(None);
            }
            let kind = TraceKind::State {
                old: state(s.oldstate)?,
                new: state(s.newstate)?,
            };
            let (family, local, remote) = s.tuple.read(raw)?;
            (kind, s.skaddr, family, local, remote)
        } else if ty == self.retransmit.id {
            let s = &self.retransmit;
            full(s.len)?;
            let kind = TraceKind::Retransmit {
                state: state(s.state)?,
            };
            let (family, local, remote) = s.tuple.read(raw)?;
            (kind, s.skaddr, family, local, remote)
        } else if ty == self.send_reset.id {
            let s = &self.send_reset;
            full(s.len)?;
            // 0 when the reset answers a packet with no socket.
            let n = s.state.uint(raw).ok_or(DecodeError::Short)?;
            let st = if n == 0 { None } else { Some(state(s.state)?) };
            let (family, local) = sockaddr(s.saddr.bytes(raw).ok_or(DecodeError::Short)?)?;
            let (_, remote) = sockaddr(s.daddr.bytes(raw).ok_or(DecodeError::Short)?)?;
            (
                TraceKind::SendReset { state: st },
                s.skaddr,
                family,
                local,
                remote,
            )
        } else if ty == self.receive_reset.id {
            let s = &self.receive_reset;
            full(s.len)?;
            let (family, local, remote) = s.tuple.read(raw)?;
            (TraceKind::ReceiveReset, s.skaddr, family, local, remote)
        } else {
            return Err(DecodeError::Unknown(ty));
        };
        Ok(Some(TraceEvent {
            kind,
            family,
            local,
            remote,
            skaddr: skaddr.uint(raw).ok_or(DecodeError::Short)?,
            context,
            common_pid: pid,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(tp: Tracepoint) -> (PathBuf, Format) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tracefs/6.18");
        let fs = Tracefs::locate(Some(&root)).unwrap();
        let path = root.join("events").join(tp.path()).join("format");
        (path, fs.format(tp).unwrap())
    }

    fn formats() -> Formats {
        Formats {
            set_state: fixture(Tracepoint::SetState),
            retransmit: fixture(Tracepoint::Retransmit),
            send_reset: fixture(Tracepoint::SendReset),
            receive_reset: fixture(Tracepoint::ReceiveReset),
        }
    }

    #[test]
    fn parses_this_kernels_formats() {
        let (_, f) = fixture(Tracepoint::SetState);
        assert_eq!(f.name, "inet_sock_set_state");
        assert_eq!(f.id, 2287);
        assert_eq!(f.fields.len(), 15);
        let pid = f.field("common_pid").unwrap();
        assert_eq!((pid.offset, pid.size, pid.signed), (4, 4, true));
        let sk = f.field("skaddr").unwrap();
        assert_eq!(
            (sk.offset, sk.size, sk.ctype.as_str()),
            (8, 8, "const void *")
        );
        let v6 = f.field("daddr_v6").unwrap();
        assert_eq!((v6.offset, v6.size, v6.array), (56, 16, Some(16)));
        let (_, f) = fixture(Tracepoint::SendReset);
        assert_eq!(f.field("reason").unwrap().ctype, "enum sk_rst_reason");
        assert_eq!(f.field("saddr").unwrap().array, Some(28));
        let (_, f) = fixture(Tracepoint::ReceiveReset);
        assert_eq!(f.field("sock_cookie").unwrap().offset, 64);
    }

    #[test]
    fn bad_formats_name_the_field() {
        let mut fs = formats();
        fs.set_state.1.fields.retain(|f| f.name != "newstate");
        let e = Decoder::new(&fs).unwrap_err().to_string();
        assert!(
            e.contains("inet_sock_set_state/format") && e.contains("no field newstate"),
            "{e}"
        );
        let mut fs = formats();
        for f in &mut fs.retransmit.1.fields {
            if f.name == "sport" {
                f.size = 3;
            }
        }
        let e = Decoder::new(&fs).unwrap_err().to_string();
        assert!(e.contains("field sport has size 3"), "{e}");
        for bad in [
            "name: x\nformat:\n\tfield:int a;\toffset:zz;\tsize:4;\tsigned:1;\n",
            "name: x\nID: 1\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\n",
            "name: x\nID: 1\nformat:\n\tfield:int a[x];\toffset:0;\tsize:4;\tsigned:0;\n",
            "ID: 1\n",
        ] {
            assert!(Format::parse(bad).is_err(), "{bad}");
        }
    }

    /// Samples recorded on this kernel (fixtures/tracefs/6.18/samples).
    #[test]
    fn decodes_recorded_samples() {
        let d = Decoder::new(&formats()).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tracefs/6.18/samples");
        let connect = std::fs::read(root.join("set_state_connect.bin")).unwrap();
        let e = d.decode(&connect).unwrap().unwrap();
        assert_eq!(
            e.kind,
            TraceKind::State {
                old: TcpState::Close,
                new: TcpState::SynSent
            }
        );
        assert_eq!(e.context, Context::Process);
        assert_eq!(e.remote.port(), 5061);
        assert_eq!(e.family, Family::Inet);
        assert_eq!(e.local.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        let soft = std::fs::read(root.join("set_state_softirq.bin")).unwrap();
        let e = d.decode(&soft).unwrap().unwrap();
        assert_eq!(e.context, Context::SoftIrq);
        assert_eq!(
            e.kind,
            TraceKind::State {
                old: TcpState::Listen,
                new: TcpState::SynRecv
            }
        );
        let sent = std::fs::read(root.join("send_reset.bin")).unwrap();
        let e = d.decode(&sent).unwrap().unwrap();
        assert_eq!(
            e.kind,
            TraceKind::SendReset {
                state: Some(TcpState::Close)
            }
        );
        assert_eq!((e.local.port(), e.remote.port()), (5061, 42560));
        assert_eq!(e.context, Context::Process);
        let got = std::fs::read(root.join("receive_reset.bin")).unwrap();
        let e = d.decode(&got).unwrap().unwrap();
        assert_eq!(e.kind, TraceKind::ReceiveReset);
        assert_eq!((e.local.port(), e.remote.port()), (42560, 5061));
        assert_eq!(e.context, Context::SoftIrq);
        // Truncated: never a partial decode.
        for n in 0..connect.len().min(72) {
            assert_eq!(d.decode(&connect[..n]), Err(DecodeError::Short), "{n}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_fail_cleanly(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..128)) {
            let d = Decoder::new(&formats()).unwrap();
            let _ = d.decode(&raw);
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,200}") {
            let _ = Format::parse(&text);
        }
    }
}
