//! Which socket kinds, families and default states the kind flags select,
//! computed the way ss does (misc/ss.c: filter_db_set, filter_af_set,
//! filter_merge_defaults): `-t -u -w -M -S -d` and `-A WORD[,WORD]` (with
//! `!WORD`) name kinds; `-x -4 -6 -0 --vsock --tipc --xdp` and `-f FAMILY`
//! name families; each adds its default states; then every kind without
//! one of its families gets its families, and every family without one of
//! its kinds gets its kinds.

use crate::model::{
    AddrFamilies, AddrFamily, Family, Kinds, Protocol, SocketKind, StateSet, TcpState, UnixKind,
    query_word,
};

/// A kind or family word the user typed that ss does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KindsError {
    #[error(
        "{word:?} is not a socket table of -A/--query (one of: all, inet, tcp, mptcp, udp, \
         raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, \
         packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; \
         !WORD leaves one out)"
    )]
    Query { word: String },
    #[error(
        "{word:?} is not a family of -f/--family (one of: inet, inet6, link, unix, netlink, \
         vsock, tipc, xdp)"
    )]
    Family { word: String },
}

/// The kind flags as typed, in the order ss reads them (the order matters
/// only for `!WORD`, which removes what came before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindFlags {
    /// -t -u -w -M -S -d, each its kind.
    pub kinds: Vec<SocketKind>,
    /// -x -4 -6 -0 --vsock --tipc --xdp and -f words, each its family.
    pub families: Vec<AddrFamily>,
    /// -A/--query values, each a comma-separated list of words.
    pub queries: Vec<String>,
    /// -a, -l or -B given (their states replace the kinds' defaults).
    pub states_given: bool,
    /// Kind flags given after the first -A (kept by it).
    pub after_query: Vec<SocketKind>,
    /// ss's format (--ss-format, invoked as ss): no kind flag lists every
    /// table, as plain `ss` does (misc/ss.c: do_default, "all"), instead
    /// of sockscope's internet tables.
    pub ss_default: bool,
}

/// What the kind flags select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub kinds: Kinds,
    pub families: AddrFamilies,
    /// The states the kinds and families add by default (used when no -a,
    /// -l, -B or state word says otherwise); `None`: ss's plain default
    /// (no kind flag at all).
    pub default_states: Option<StateSet>,
    /// Kinds named by a flag, -A word or -f family (not those merged in).
    pub named: Kinds,
}

impl Selected {
    /// The internet protocols to dump.
    pub fn protocols(&self) -> Vec<Protocol> {
        Protocol::ALL
            .into_iter()
            .filter(|p| self.kinds.contains(p.kind()))
            .collect()
    }

    /// The internet families to dump.
    pub fn inet_families(&self) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| {
                self.families.contains(match f {
                    Family::Inet => AddrFamily::Inet,
                    Family::Inet6 => AddrFamily::Inet6,
                })
            })
            .collect()
    }

    /// Whether UNIX sockets are listed, and which of their types are not.
    pub fn unix(&self) -> (bool, Vec<UnixKind>) {
        let types = [
            (SocketKind::UnixStream, UnixKind::Stream),
            (SocketKind::UnixDgram, UnixKind::Dgram),
            (SocketKind::UnixSeqpacket, UnixKind::SeqPacket),
        ];
        let listed = types.iter().any(|(k, _)| self.kinds.contains(*k));
        let left_out = types
            .iter()
            .filter(|(k, _)| !self.kinds.contains(*k))
            .map(|(_, u)| *u)
            .collect();
        (listed, left_out)
    }

    /// The kinds selected that sockscope does not read as rows.
    pub fn unread(&self) -> Kinds {
        self.kinds
            .iter()
            .filter(|k| {
                !matches!(
                    k,
                    SocketKind::Tcp
                        | SocketKind::Udp
                        | SocketKind::Raw
                        | SocketKind::Mptcp
                        | SocketKind::UnixStream
                        | SocketKind::UnixDgram
                        | SocketKind::UnixSeqpacket
                        | SocketKind::PacketRaw
                        | SocketKind::PacketDgram
                        | SocketKind::Netlink
                )
            })
            .collect()
    }

    /// The packet and netlink kinds selected (their own records).
    pub fn linklayer(&self) -> Kinds {
        self.kinds
            .iter()
            .filter(|k| {
                matches!(
                    k,
                    SocketKind::PacketRaw | SocketKind::PacketDgram | SocketKind::Netlink
                )
            })
            .collect()
    }
}

/// ss's default_dbs[].states: the states a kind flag adds.
fn kind_states(k: SocketKind) -> StateSet {
    let one = |s: TcpState| [s].into_iter().collect::<StateSet>();
    match k {
        SocketKind::Udp | SocketKind::Raw => one(TcpState::Established),
        SocketKind::UnixDgram
        | SocketKind::PacketDgram
        | SocketKind::PacketRaw
        | SocketKind::Netlink
        | SocketKind::Xdp => one(TcpState::Close),
        SocketKind::Tipc => tipc_states(),
        _ => StateSet::connected(),
    }
}

/// ss's TIPC_SS_CONN.
fn tipc_states() -> StateSet {
    [TcpState::Established, TcpState::Listen, TcpState::Close]
        .into_iter()
        .collect()
}

/// ss's default_afs[].states: the states a family flag adds.
fn family_states(f: AddrFamily) -> StateSet {
    match f {
        AddrFamily::Packet | AddrFamily::Netlink | AddrFamily::Xdp => {
            [TcpState::Close].into_iter().collect()
        }
        AddrFamily::Tipc => tipc_states(),
        _ => StateSet::connected(),
    }
}

/// Applies ss's rules to the flags. With no kind or family flag at all,
/// sockscope lists its internet tables (tcp, udp, raw, mptcp; ss's default
/// lists every table, UNIX, packet and netlink ones too).
pub fn select(flags: &KindFlags) -> Result<Selected, KindsError> {
    let mut kinds = Kinds::EMPTY;
    let mut named = Kinds::EMPTY;
    let mut families = AddrFamilies::EMPTY;
    let mut states = StateSet::EMPTY;
    for &k in &flags.kinds {
        kinds = kinds.with(k);
        named = named.with(k);
        states = states.union(kind_states(k));
    }
    let mut saw_query = false;
    for value in &flags.queries {
        if !saw_query {
            // ss: the first -A forgets the kinds named before it and sets
            // the default states (ss.c: `current_filter.dbs = 0`).
            // Its states replace the others (`state_filter = SS_CONN`).
            kinds = Kinds::EMPTY;
            named = Kinds::EMPTY;
            saw_query = true;
        }
        for word in value.split(',') {
            let (enable, name) = match word.strip_prefix('!') {
                Some(rest) => (false, rest),
                None => (true, word),
            };
            let set = query_word(name).ok_or_else(|| KindsError::Query {
                word: word.to_owned(),
            })?;
            for k in set.iter() {
                if enable {
                    kinds = kinds.with(k);
                    states = states.union(kind_states(k));
                    // "all" and "inet" name a group: its kinds the kernel
                    // lacks go unmentioned, as in ss.
                    if !matches!(name, "all" | "inet") {
                        named = named.with(k);
                    }
                } else {
                    kinds = kinds.without(k);
                    named = named.without(k);
                }
            }
        }
    }
    for &k in &flags.after_query {
        kinds = kinds.with(k);
        named = named.with(k);
    }
    for &f in &flags.families {
        families = families.with(f);
        states = states.union(family_states(f));
        if !matches!(f, AddrFamily::Inet | AddrFamily::Inet6) {
            named = named.union(f.kinds());
        }
    }
    let any_flag = !flags.kinds.is_empty() || saw_query || !flags.families.is_empty();
    if !any_flag {
        // The kinds of "all" the kernel lacks go unmentioned, as in ss.
        kinds = query_word(if flags.ss_default { "all" } else { "inet" }).unwrap_or_default();
    }
    // filter_merge_defaults
    for k in kinds.iter() {
        if !k.families().intersects(families) {
            families = families.union(k.families());
        }
    }
    for f in families.iter() {
        if !f.kinds().intersects(kinds) {
            kinds = kinds.union(f.kinds());
        }
    }
    if saw_query {
        states = StateSet::connected();
    }

    Ok(Selected {
        kinds,
        families,
        default_states: any_flag.then_some(states),
        named,
    })
}

/// A `-f` word: its family (`help` is handled before).
pub fn family_word(word: &str) -> Result<AddrFamily, KindsError> {
    AddrFamily::parse(word).ok_or_else(|| KindsError::Family {
        word: word.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(kinds: &[SocketKind], families: &[AddrFamily], queries: &[&str]) -> Selected {
        select(&KindFlags {
            kinds: kinds.to_vec(),
            families: families.to_vec(),
            queries: queries.iter().map(|q| q.to_string()).collect(),
            states_given: false,
            after_query: Vec::new(),
            ss_default: false,
        })
        .unwrap()
    }

    #[test]
    fn ss_merges_kinds_and_families() {
        use AddrFamily as F;
        use SocketKind as K;
        // -t -4: TCP over IPv4 only.
        let s = sel(&[K::Tcp], &[F::Inet], &[]);
        assert_eq!(s.protocols(), vec![Protocol::Tcp]);
        assert_eq!(s.inet_families(), vec![Family::Inet]);
        // -4 alone: every internet table.
        let s = sel(&[], &[F::Inet], &[]);
        assert_eq!(
            s.protocols(),
            vec![Protocol::Tcp, Protocol::Udp, Protocol::Raw, Protocol::Mptcp]
        );
        assert!(s.unread().contains(K::Sctp) && !s.named.contains(K::Sctp));
        // -t -x: TCP on both families, and UNIX.
        let s = sel(&[K::Tcp], &[F::Unix], &[]);
        assert_eq!(s.inet_families().len(), 2);
        assert_eq!(s.unix(), (true, vec![]));
        // -w alone: ESTAB only (ss's default_dbs[RAW_DB]).
        let s = sel(&[K::Raw], &[], &[]);
        assert_eq!(s.default_states.unwrap().iter().count(), 1);
        // -A 'tcp,!tcp': nothing.
        assert!(sel(&[], &[], &["tcp,!tcp"]).kinds.is_empty());
        // -t -A udp: -A forgets -t.
        assert_eq!(
            sel(&[K::Tcp], &[], &["udp"]).protocols(),
            vec![Protocol::Udp]
        );
        // -A unix_stream: the other UNIX types left out.
        let s = sel(&[], &[], &["unix_stream"]);
        assert_eq!(s.unix(), (true, vec![UnixKind::Dgram, UnixKind::SeqPacket]));
        // -f link: packet sockets, named.
        let s = sel(&[], &[F::Packet], &[]);
        assert!(s.named.contains(K::PacketRaw) && s.protocols().is_empty());
        // no flag: sockscope's internet tables.
        let s = sel(&[], &[], &[]);
        assert_eq!(s.protocols().len(), 4);
        assert!(s.default_states.is_none() && s.named.is_empty());
        // ... and in ss's format, every table, as plain ss (none named).
        let s = select(&KindFlags {
            ss_default: true,
            ..KindFlags::default()
        })
        .unwrap();
        assert!(s.kinds.contains(K::UnixStream) && s.kinds.contains(K::Netlink));
        assert!(s.default_states.is_none() && s.named.is_empty());
        assert!(matches!(
            select(&KindFlags {
                queries: vec!["tcp,bogus".into()],
                ..KindFlags::default()
            }),
            Err(KindsError::Query { .. })
        ));
    }
}
