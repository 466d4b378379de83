//! What kind of socket and in which state: [`Protocol`], [`Family`],
//! [`TcpState`] (the kernel's numbering, also used for UDP and UNIX
//! sockets) and [`StateSet`], the states a query selects.

use std::fmt;

/// Transport protocol of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    /// Raw IP sockets (SOCK_RAW); their "port" is the IP protocol number.
    Raw,
    /// Multipath TCP sockets (IPPROTO_MPTCP), one row per MPTCP socket (its
    /// subflows are TCP sockets of their own).
    Mptcp,
}

impl Protocol {
    /// All protocols sockscope reads, in the order it dumps them.
    pub const ALL: [Protocol; 4] = [Protocol::Tcp, Protocol::Udp, Protocol::Raw, Protocol::Mptcp];

    /// Lower-case name, as in ss's Netid column and the JSON `proto` field.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Raw => "raw",
            Protocol::Mptcp => "mptcp",
        }
    }

    /// ss's Netid word for the protocol (misc/ss.c: proto_name()): the
    /// same as [`Protocol::name`] for every protocol sockscope reads.
    pub fn ss_netid(self) -> &'static str {
        self.name()
    }

    /// The IPPROTO_* number (include/uapi/linux/in.h); IPPROTO_MPTCP is
    /// 262, past a byte.
    pub fn ipproto(self) -> u32 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u32,
            Protocol::Udp => libc::IPPROTO_UDP as u32,
            Protocol::Raw => libc::IPPROTO_RAW as u32,
            Protocol::Mptcp => IPPROTO_MPTCP,
        }
    }

    /// inet_diag_req_v2.sdiag_protocol, a u8: the protocol's low byte (for
    /// MPTCP the request carries the whole number in
    /// INET_DIAG_REQ_PROTOCOL, as ss does).
    pub fn sdiag_protocol(self) -> u8 {
        (self.ipproto() & 0xff) as u8
    }

    /// Whether the kernel's number does not fit sdiag_protocol.
    pub fn needs_protocol_attribute(self) -> bool {
        self.ipproto() > 255
    }
}

/// include/uapi/linux/in.h: IPPROTO_MPTCP.
pub const IPPROTO_MPTCP: u32 = 262;

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Address family of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Inet, Family::Inet6];

    /// Name used in JSON (`inet`, `inet6`), as `ip` and ss's `-f` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }

    /// The AF_* number (include/linux/socket.h).
    pub fn af(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A socket state as the kernel numbers it (include/net/tcp_states.h).
///
/// UDP reuses two of them: `Established` for a connected socket and `Close`
/// for an unconnected one (shown as `UNCONN`, as ss does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    /// TCP_BOUND_INACTIVE (include/net/tcp_states.h, kernel 6.8+): a TCP
    /// socket bound to a port but neither listening nor connected. The
    /// kernel dumps such sockets only when this bit is in the request's
    /// states and reports them with state TCP_CLOSE: the reader maps a TCP
    /// CLOSE row to this state.
    BoundInactive = 13,
}

/// include/net/tcp_states.h: TCP_NEW_SYN_RECV, the kernel's request socket.
const TCP_NEW_SYN_RECV: u8 = 12;

impl TcpState {
    /// Every state, in kernel order.
    pub const ALL: [TcpState; 12] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::BoundInactive,
    ];

    /// Maps the kernel's state number; NEW_SYN_RECV (a request socket) is
    /// SYN_RECV to the user, as in /proc/net/tcp and ss.
    pub fn from_kernel(n: u8) -> Option<TcpState> {
        if n == TCP_NEW_SYN_RECV {
            return Some(TcpState::SynRecv);
        }
        TcpState::ALL.iter().copied().find(|s| *s as u8 == n)
    }

    /// The kernel/netstat spelling for TCP (`ESTABLISHED`, `TIME_WAIT`, ...).
    pub fn kernel_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::BoundInactive => "BOUND_INACTIVE",
        }
    }

    /// The name shown for a socket of `proto`: an unconnected UDP socket is
    /// `UNCONN` (ss's word), everything else the kernel spelling.
    pub fn name_for(self, proto: Protocol) -> &'static str {
        match (proto, self) {
            (Protocol::Udp | Protocol::Raw, TcpState::Close) => "UNCONN",
            _ => self.kernel_name(),
        }
    }

    /// This state's bit in an inet_diag states mask (1 << state).
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of states, stored as the kernel's inet_diag states bitmask (the
/// default is empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StateSet(u32);

impl StateSet {
    pub const EMPTY: StateSet = StateSet(0);

    /// Every state of the connection tables (ss 6.1's `-a`, `state all`):
    /// all but BOUND_INACTIVE. Asking for that bit makes the kernel walk
    /// the whole bind hash table as well (net/ipv4/inet_diag.c), which is
    /// shared by the namespaces, so it is walked again for each one:
    /// measured here with the bit in `-a`, `-tan` at 1M sockets took 1.35 s
    /// (the binary before it 0.98 s in the same rounds; 1.07 s without the
    /// bit in the rerun), and `-tan --all-netns` over 201 namespaces 6.7 s
    /// (4.5 s without it in the rerun, the bare dumps 4.2 s). -B,
    /// `state bound-inactive`, who and why-bind ask for it
    /// ([`StateSet::every`]).
    pub fn all() -> StateSet {
        StateSet::every().without(&[TcpState::BoundInactive])
    }

    /// Every state, BOUND_INACTIVE too (iproute2 7.1's `-a`): what holds a
    /// port (who, why-bind).
    pub fn every() -> StateSet {
        TcpState::ALL.iter().copied().collect()
    }

    /// ss's default: every state but LISTEN, CLOSE, TIME_WAIT and SYN_RECV
    /// (ss.c's SS_CONN), nor BOUND_INACTIVE: a bound socket that is not
    /// connected (iproute2 7.1's SS_CONN keeps that bit, so its plain `ss -t`
    /// also lists them, as UNCONN; see README).
    pub fn connected() -> StateSet {
        StateSet::all().without(&[
            TcpState::Listen,
            TcpState::Close,
            TcpState::TimeWait,
            TcpState::SynRecv,
        ])
    }

    /// What ss `-l` shows: LISTEN, and CLOSE (an unconnected UDP socket).
    pub fn listening() -> StateSet {
        [TcpState::Listen, TcpState::Close].into_iter().collect()
    }

    pub fn union(self, other: StateSet) -> StateSet {
        StateSet(self.0 | other.0)
    }

    pub fn minus(self, other: StateSet) -> StateSet {
        StateSet(self.0 & !other.0)
    }

    pub fn with(self, state: TcpState) -> StateSet {
        StateSet(self.0 | state.bit())
    }

    pub fn without(self, states: &[TcpState]) -> StateSet {
        StateSet(states.iter().fold(self.0, |m, s| m & !s.bit()))
    }

    pub fn contains(self, state: TcpState) -> bool {
        self.0 & state.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The mask for inet_diag_req_v2.idiag_states
    /// (include/uapi/linux/inet_diag.h). SYN_RECV also sets the
    /// NEW_SYN_RECV bit so request sockets are dumped on every kernel.
    pub fn kernel_mask(self) -> u32 {
        let mut mask = self.0;
        if self.contains(TcpState::SynRecv) {
            mask |= 1 << TCP_NEW_SYN_RECV;
        }
        mask
    }

    pub fn iter(self) -> impl Iterator<Item = TcpState> {
        TcpState::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<TcpState> for StateSet {
    fn from_iter<I: IntoIterator<Item = TcpState>>(iter: I) -> Self {
        StateSet(iter.into_iter().fold(0, |m, s| m | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_syn_recv_reads_as_syn_recv() {
        assert_eq!(TcpState::from_kernel(12), Some(TcpState::SynRecv));
        assert_eq!(TcpState::from_kernel(3), Some(TcpState::SynRecv));
        assert_eq!(TcpState::from_kernel(0), None);
        assert_eq!(TcpState::from_kernel(13), Some(TcpState::BoundInactive));
        assert_eq!(TcpState::from_kernel(14), None);
    }

    #[test]
    fn default_states_match_ss() {
        let s = StateSet::connected();
        assert!(s.contains(TcpState::Established));
        assert!(s.contains(TcpState::CloseWait));
        assert!(!s.contains(TcpState::Listen));
        assert!(!s.contains(TcpState::TimeWait));
        assert!(!s.contains(TcpState::SynRecv));
        assert!(!s.contains(TcpState::Close));
    }

    #[test]
    fn kernel_mask_adds_new_syn_recv() {
        let s: StateSet = [TcpState::SynRecv].into_iter().collect();
        assert_eq!(s.kernel_mask(), (1 << 3) | (1 << 12));
        assert_eq!(StateSet::all().kernel_mask(), 0xffe | (1 << 12));
        assert_eq!(
            StateSet::every().kernel_mask(),
            0xffe | (1 << 12) | (1 << 13)
        );
        assert!(!StateSet::connected().contains(TcpState::BoundInactive));
    }

    #[test]
    fn udp_close_is_unconn() {
        assert_eq!(TcpState::Close.name_for(Protocol::Udp), "UNCONN");
        assert_eq!(TcpState::Close.name_for(Protocol::Tcp), "CLOSE");
        assert_eq!(TcpState::SynRecv.name_for(Protocol::Tcp), "SYN_RECV");
    }
}
