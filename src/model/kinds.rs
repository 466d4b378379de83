//! Which kinds of socket a run lists: [`SocketKind`] (ss's "socket tables":
//! tcp, udp, raw, u_str, p_raw, nl, ...), [`AddrFamily`] (ss's `-f`
//! families), and the sets of both ([`Kinds`], [`AddrFamilies`]). The
//! names are ss's (`-A`/`--query` and `-f` words, misc/ss.c).

use std::fmt;

/// One socket table of ss (misc/ss.c: TCP_DB ... XDP_DB), in ss's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SocketKind {
    Tcp,
    Mptcp,
    Dccp,
    Udp,
    Raw,
    UnixDgram,
    UnixStream,
    UnixSeqpacket,
    PacketDgram,
    PacketRaw,
    Netlink,
    Sctp,
    VsockStream,
    VsockDgram,
    Tipc,
    Xdp,
}

impl SocketKind {
    /// Every kind, in ss's table order.
    pub const ALL: [SocketKind; 16] = [
        SocketKind::Tcp,
        SocketKind::Mptcp,
        SocketKind::Dccp,
        SocketKind::Udp,
        SocketKind::Raw,
        SocketKind::UnixDgram,
        SocketKind::UnixStream,
        SocketKind::UnixSeqpacket,
        SocketKind::PacketDgram,
        SocketKind::PacketRaw,
        SocketKind::Netlink,
        SocketKind::Sctp,
        SocketKind::VsockStream,
        SocketKind::VsockDgram,
        SocketKind::Tipc,
        SocketKind::Xdp,
    ];

    /// The `-A` word naming this one kind.
    pub fn query_name(self) -> &'static str {
        match self {
            SocketKind::Tcp => "tcp",
            SocketKind::Mptcp => "mptcp",
            SocketKind::Dccp => "dccp",
            SocketKind::Udp => "udp",
            SocketKind::Raw => "raw",
            SocketKind::UnixDgram => "unix_dgram",
            SocketKind::UnixStream => "unix_stream",
            SocketKind::UnixSeqpacket => "unix_seqpacket",
            SocketKind::PacketDgram => "packet_dgram",
            SocketKind::PacketRaw => "packet_raw",
            SocketKind::Netlink => "netlink",
            SocketKind::Sctp => "sctp",
            SocketKind::VsockStream => "vsock_stream",
            SocketKind::VsockDgram => "vsock_dgram",
            SocketKind::Tipc => "tipc",
            SocketKind::Xdp => "xdp",
        }
    }

    /// ss's Netid word for rows of this kind (misc/ss.c: proto_name(),
    /// unix_netid_name(), sock_state_print()).
    pub fn ss_netid(self) -> &'static str {
        match self {
            SocketKind::UnixDgram => "u_dgr",
            SocketKind::UnixStream => "u_str",
            SocketKind::UnixSeqpacket => "u_seq",
            SocketKind::PacketDgram => "p_dgr",
            SocketKind::PacketRaw => "p_raw",
            SocketKind::Netlink => "nl",
            SocketKind::VsockStream => "v_str",
            SocketKind::VsockDgram => "v_dgr",
            other => other.query_name(),
        }
    }

    /// The family whose sockets this kind lists (ss's default_dbs[].families;
    /// the internet kinds list both IPv4 and IPv6).
    pub fn families(self) -> AddrFamilies {
        use AddrFamily as F;
        match self {
            SocketKind::Tcp
            | SocketKind::Mptcp
            | SocketKind::Dccp
            | SocketKind::Udp
            | SocketKind::Raw
            | SocketKind::Sctp => [F::Inet, F::Inet6].into_iter().collect(),
            SocketKind::UnixDgram | SocketKind::UnixStream | SocketKind::UnixSeqpacket => {
                F::Unix.into()
            }
            SocketKind::PacketDgram | SocketKind::PacketRaw => F::Packet.into(),
            SocketKind::Netlink => F::Netlink.into(),
            SocketKind::VsockStream | SocketKind::VsockDgram => F::Vsock.into(),
            SocketKind::Tipc => F::Tipc.into(),
            SocketKind::Xdp => F::Xdp.into(),
        }
    }

    /// What a human calls this kind in a message.
    pub fn label(self) -> &'static str {
        match self {
            SocketKind::Tcp => "TCP",
            SocketKind::Mptcp => "MPTCP",
            SocketKind::Dccp => "DCCP",
            SocketKind::Udp => "UDP",
            SocketKind::Raw => "raw",
            SocketKind::UnixDgram => "UNIX datagram",
            SocketKind::UnixStream => "UNIX stream",
            SocketKind::UnixSeqpacket => "UNIX seqpacket",
            SocketKind::PacketDgram => "packet (datagram)",
            SocketKind::PacketRaw => "packet (raw)",
            SocketKind::Netlink => "netlink",
            SocketKind::Sctp => "SCTP",
            SocketKind::VsockStream => "vsock stream",
            SocketKind::VsockDgram => "vsock datagram",
            SocketKind::Tipc => "TIPC",
            SocketKind::Xdp => "XDP",
        }
    }

    /// What a human calls the kind's family of kinds (`packet` for both
    /// packet kinds), for a message about all of them.
    pub fn group_label(self) -> &'static str {
        match self {
            SocketKind::UnixDgram | SocketKind::UnixStream | SocketKind::UnixSeqpacket => "UNIX",
            SocketKind::PacketDgram | SocketKind::PacketRaw => "packet",
            SocketKind::VsockStream | SocketKind::VsockDgram => "vsock",
            other => other.label(),
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl fmt::Display for SocketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.query_name())
    }
}

impl super::Protocol {
    /// The socket kind of an internet protocol.
    pub fn kind(self) -> SocketKind {
        match self {
            super::Protocol::Tcp => SocketKind::Tcp,
            super::Protocol::Udp => SocketKind::Udp,
            super::Protocol::Raw => SocketKind::Raw,
            super::Protocol::Mptcp => SocketKind::Mptcp,
        }
    }
}

/// A set of socket kinds (ss's `dbs` mask).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Kinds(u32);

impl Kinds {
    pub const EMPTY: Kinds = Kinds(0);

    pub fn contains(self, k: SocketKind) -> bool {
        self.0 & k.bit() != 0
    }

    pub fn with(self, k: SocketKind) -> Kinds {
        Kinds(self.0 | k.bit())
    }

    pub fn without(self, k: SocketKind) -> Kinds {
        Kinds(self.0 & !k.bit())
    }

    pub fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many kinds are in the set (ss shows Netid when more than one).
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The kinds in ss's table order.
    pub fn iter(self) -> impl Iterator<Item = SocketKind> {
        SocketKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<SocketKind> for Kinds {
    fn from_iter<I: IntoIterator<Item = SocketKind>>(iter: I) -> Self {
        Kinds(iter.into_iter().fold(0, |m, k| m | k.bit()))
    }
}

impl From<SocketKind> for Kinds {
    fn from(k: SocketKind) -> Kinds {
        Kinds(k.bit())
    }
}

/// An address family of ss's `-f` (and `-4`, `-6`, `-0`, `-x`, `--vsock`,
/// `--tipc`, `--xdp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum AddrFamily {
    Inet,
    Inet6,
    Unix,
    /// AF_PACKET, ss's `link`.
    Packet,
    Netlink,
    Vsock,
    Tipc,
    Xdp,
}

impl AddrFamily {
    pub const ALL: [AddrFamily; 8] = [
        AddrFamily::Inet,
        AddrFamily::Inet6,
        AddrFamily::Unix,
        AddrFamily::Packet,
        AddrFamily::Netlink,
        AddrFamily::Vsock,
        AddrFamily::Tipc,
        AddrFamily::Xdp,
    ];

    /// The `-f` word.
    pub fn name(self) -> &'static str {
        match self {
            AddrFamily::Inet => "inet",
            AddrFamily::Inet6 => "inet6",
            AddrFamily::Unix => "unix",
            AddrFamily::Packet => "link",
            AddrFamily::Netlink => "netlink",
            AddrFamily::Vsock => "vsock",
            AddrFamily::Tipc => "tipc",
            AddrFamily::Xdp => "xdp",
        }
    }

    /// The `-f` word's family, or `None` (`help` is not a family).
    pub fn parse(word: &str) -> Option<AddrFamily> {
        AddrFamily::ALL.into_iter().find(|f| f.name() == word)
    }

    /// The kinds a family lists when no kind of it was asked for (ss's
    /// default_afs[].dbs).
    pub fn kinds(self) -> Kinds {
        SocketKind::ALL
            .into_iter()
            .filter(|k| k.families().contains(self))
            .collect()
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of address families (ss's `families` mask).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AddrFamilies(u32);

impl AddrFamilies {
    pub const EMPTY: AddrFamilies = AddrFamilies(0);

    pub fn contains(self, f: AddrFamily) -> bool {
        self.0 & f.bit() != 0
    }

    pub fn with(self, f: AddrFamily) -> AddrFamilies {
        AddrFamilies(self.0 | f.bit())
    }

    pub fn union(self, other: AddrFamilies) -> AddrFamilies {
        AddrFamilies(self.0 | other.0)
    }

    pub fn intersects(self, other: AddrFamilies) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = AddrFamily> {
        AddrFamily::ALL
            .into_iter()
            .filter(move |f| self.contains(*f))
    }
}

impl FromIterator<AddrFamily> for AddrFamilies {
    fn from_iter<I: IntoIterator<Item = AddrFamily>>(iter: I) -> Self {
        AddrFamilies(iter.into_iter().fold(0, |m, f| m | f.bit()))
    }
}

impl From<AddrFamily> for AddrFamilies {
    fn from(f: AddrFamily) -> AddrFamilies {
        AddrFamilies(f.bit())
    }
}

/// The `-A` words (misc/ss.c: filter_db_parse), each with the kinds it
/// names; `!WORD` removes them.
pub const QUERY_WORDS: &[(&str, &[SocketKind])] = {
    use SocketKind as K;
    &[
        (
            "all",
            &[
                K::Udp,
                K::Dccp,
                K::Tcp,
                K::Mptcp,
                K::Raw,
                K::UnixStream,
                K::UnixDgram,
                K::UnixSeqpacket,
                K::PacketRaw,
                K::PacketDgram,
                K::Netlink,
                K::Sctp,
                K::VsockStream,
                K::VsockDgram,
                K::Xdp,
            ],
        ),
        (
            "inet",
            &[K::Udp, K::Dccp, K::Tcp, K::Mptcp, K::Sctp, K::Raw],
        ),
        ("udp", &[K::Udp]),
        ("dccp", &[K::Dccp]),
        ("tcp", &[K::Tcp]),
        ("mptcp", &[K::Mptcp]),
        ("sctp", &[K::Sctp]),
        ("raw", &[K::Raw]),
        ("unix", &[K::UnixStream, K::UnixDgram, K::UnixSeqpacket]),
        ("unix_stream", &[K::UnixStream]),
        ("u_str", &[K::UnixStream]),
        ("unix_dgram", &[K::UnixDgram]),
        ("u_dgr", &[K::UnixDgram]),
        ("unix_seqpacket", &[K::UnixSeqpacket]),
        ("u_seq", &[K::UnixSeqpacket]),
        ("packet", &[K::PacketRaw, K::PacketDgram]),
        ("packet_raw", &[K::PacketRaw]),
        ("p_raw", &[K::PacketRaw]),
        ("packet_dgram", &[K::PacketDgram]),
        ("p_dgr", &[K::PacketDgram]),
        ("netlink", &[K::Netlink]),
        ("tipc", &[K::Tipc]),
        ("vsock", &[K::VsockStream, K::VsockDgram]),
        ("vsock_stream", &[K::VsockStream]),
        ("v_str", &[K::VsockStream]),
        ("vsock_dgram", &[K::VsockDgram]),
        ("v_dgr", &[K::VsockDgram]),
        ("xdp", &[K::Xdp]),
    ]
};

/// The kinds an `-A` word names, or `None` for an unknown word.
pub fn query_word(word: &str) -> Option<Kinds> {
    QUERY_WORDS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, kinds)| kinds.iter().copied().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_families_agree_with_ss() {
        let inet = query_word("inet").unwrap();
        assert_eq!(inet, AddrFamily::Inet.kinds());
        assert_eq!(inet, AddrFamily::Inet6.kinds());
        assert_eq!(query_word("unix").unwrap(), AddrFamily::Unix.kinds());
        assert_eq!(query_word("packet").unwrap(), AddrFamily::Packet.kinds());
        // ss's "all" leaves TIPC out.
        let all = query_word("all").unwrap();
        assert_eq!(all.len(), 15);
        assert!(!all.contains(SocketKind::Tipc));
        assert!(query_word("bogus").is_none());
        assert_eq!(SocketKind::PacketRaw.ss_netid(), "p_raw");
        assert_eq!(SocketKind::Netlink.ss_netid(), "nl");
        assert_eq!(AddrFamily::parse("link"), Some(AddrFamily::Packet));
        assert_eq!(AddrFamily::parse("help"), None);
    }
}
