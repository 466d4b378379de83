//! Every record type: the socket records every reader produces and every
//! later layer consumes (sockets, UNIX sockets, owners, states, timers,
//! tcp_info and socket memory, packet and netlink sockets), and the
//! kernel's counters and knobs
//! (`ss -s`'s sockstat, TcpExt, network sysctls). One flat namespace: the
//! files below only group the types.
//!
//! Nothing here knows where a record came from (netlink or /proc) or how it
//! will be shown: it only says what the kernel said, with `None` wherever the
//! source could not tell (never a made-up zero).

mod container;
mod counters;
mod kinds;
mod knobs;
mod linklayer;
mod live;
mod netns;
mod owner;
mod socket;
mod sockstat;
mod states;
mod tcpinfo;
mod trace;
mod unix;

pub use container::{Container, MAX_NAME_BYTES, Pod, Runtime, bounded_name, bounded_string};
pub use counters::{Counter, Counters};
pub use kinds::{AddrFamilies, AddrFamily, Kinds, QUERY_WORDS, SocketKind, query_word};
pub use knobs::{DEFAULT_PORT_RANGE, NetKnobs, TcpExtCounters};
pub use linklayer::{
    BpfInsn, ETH_P_ALL, NetlinkSocket, OtherSocket, PacketInfo, PacketKind, PacketSocket,
};
pub use live::{EventKind, Stamp};
pub use netns::{Netns, NetnsId, NetnsName};
pub use owner::{Owner, RawNames};
pub use socket::{
    Attribution, CcInfo, DualStack, Extras, InetSockopt, QueueKind, Queued, Socket, Timer,
    TimerKind,
};
pub use sockstat::{FragCounts, SockStat, TcpCounts, UdpCounts};
pub use states::{Family, IPPROTO_MPTCP, Protocol, StateSet, TcpState};
pub use tcpinfo::{SkMemInfo, TcpInfo, TcpOptions};
pub use trace::{ExecContext, TraceEvent, TraceKind, TraceProcess, Traced};
pub use unix::{UnixExtras, UnixKind, UnixSocket};
