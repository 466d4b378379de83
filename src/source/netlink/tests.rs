use super::*;
use crate::model::StateSet;

const TCP4: Table = Table {
    family: Family::Inet,
    proto: Protocol::Tcp,
};

/// A reply datagram of two messages, as kernel 6.18 sends it (little-endian):
/// one LISTEN socket on 127.0.0.1:5000 with backlog 128 and 1 connection
/// waiting, then NLMSG_DONE.
#[rustfmt::skip]
const LISTEN_THEN_DONE: [u8; 116] = [
    // struct nlmsghdr
    0x60, 0x00, 0x00, 0x00, // nlmsg_len = 96
    0x14, 0x00,             // nlmsg_type = SOCK_DIAG_BY_FAMILY (20)
    0x02, 0x00,             // nlmsg_flags = NLM_F_MULTIPART
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq = 1
    0x39, 0x30, 0x00, 0x00, // nlmsg_pid = 12345
    // struct inet_diag_msg
    0x02,                   // idiag_family = AF_INET
    0x0a,                   // idiag_state = TCP_LISTEN
    0x00,                   // idiag_timer = none
    0x00,                   // idiag_retrans = 0
    0x13, 0x88,             // id.idiag_sport = 5000 (network order)
    0x00, 0x00,             // id.idiag_dport = 0
    0x7f, 0x00, 0x00, 0x01, // id.idiag_src = 127.0.0.1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // (rest of src)
    0x00, 0x00, 0x00, 0x00, // id.idiag_dst = 0.0.0.0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // (rest of dst)
    0x00, 0x00, 0x00, 0x00, // id.idiag_if = 0
    0x2a, 0x10, 0x00, 0x00, // id.idiag_cookie[0] = 0x102a (low word)
    0x01, 0x00, 0x00, 0x00, // id.idiag_cookie[1] = 1 (high word)
    0x00, 0x00, 0x00, 0x00, // idiag_expires = 0 ms
    0x01, 0x00, 0x00, 0x00, // idiag_rqueue = 1 (accept queue)
    0x80, 0x00, 0x00, 0x00, // idiag_wqueue = 128 (backlog)
    0xe8, 0x03, 0x00, 0x00, // idiag_uid = 1000
    0x15, 0xcd, 0x5b, 0x07, // idiag_inode = 123456789
    // struct nlattr
    0x05, 0x00,             // nla_len = 5
    0x08, 0x00,             // nla_type = INET_DIAG_SHUTDOWN
    0x00,                   // shutdown = 0
    0x00, 0x00, 0x00,       // padding to 4 bytes
    // struct nlmsghdr
    0x14, 0x00, 0x00, 0x00, // nlmsg_len = 20
    0x03, 0x00,             // nlmsg_type = NLMSG_DONE
    0x02, 0x00,             // nlmsg_flags = NLM_F_MULTIPART
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq = 1
    0x39, 0x30, 0x00, 0x00, // nlmsg_pid = 12345
    0x00, 0x00, 0x00, 0x00, // int: 0 = success
];

fn feed(bytes: &[u8]) -> (Result<(), SourceError>, DumpParser, Vec<Socket>) {
    let mut parser = DumpParser::new(DumpId::Inet(TCP4));
    let mut rows = Vec::new();
    let r = parser.feed(bytes, &mut |p| {
        rows.push(parse_socket(p, Protocol::Tcp)?);
        Ok(())
    });
    (r, parser, rows)
}

/// A netlink message with `payload`, for the error cases.
fn nlmsg(kind: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + payload.len()) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&len.to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&7u32.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

#[cfg(target_endian = "little")]
#[test]
fn parses_listen_reply() {
    let (r, parser, rows) = feed(&LISTEN_THEN_DONE);
    r.unwrap();
    assert!(parser.done && !parser.interrupted);
    assert_eq!(rows.len(), 1);
    let s = &rows[0];
    assert_eq!(s.state, TcpState::Listen);
    assert_eq!(s.local, "127.0.0.1:5000".parse().unwrap());
    assert_eq!(s.remote, "0.0.0.0:0".parse().unwrap());
    assert_eq!((s.recv_q, s.send_q), (1, Some(128)));
    assert_eq!(s.uid, Some(1000));
    assert_eq!(s.inode, 123_456_789);
    assert_eq!(s.cookie, Some(0x1_0000_102a));
    assert_eq!(s.ifindex, Some(0));
    assert_eq!(s.v6only, None);
}

#[test]
fn datagram_may_be_split_anywhere_between_messages() {
    let (first, done) = LISTEN_THEN_DONE.split_at(96);
    let mut parser = DumpParser::new(DumpId::Inet(TCP4));
    let mut n = 0;
    parser
        .feed(first, &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
    assert!(!parser.done);
    parser
        .feed(done, &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
    assert!(parser.done);
    assert_eq!(n, 1);
}

#[test]
fn negative_done_code_is_a_refusal() {
    let (r, ..) = feed(&nlmsg(NLMSG_DONE, 2, &(-2i32).to_ne_bytes()));
    assert!(
        matches!(r, Err(SourceError::KernelRefused { errno: 2, .. })),
        "{r:?}"
    );
}

/// Found by the netlink_inet fuzz target: an NLMSG_DONE whose code is
/// i32::MIN (0x80000000) overflowed negating it into an errno.
#[test]
fn done_code_i32_min_is_a_refusal_not_a_panic() {
    #[rustfmt::skip]
    let bytes: [u8; 20] = [
        0x14, 0x00, 0x00, 0x00, // nlmsg_len = 20
        0x03, 0x00,             // nlmsg_type = NLMSG_DONE
        0x02, 0x00,             // nlmsg_flags = NLM_F_MULTIPART
        0x04, 0x00, 0x00, 0x00, // nlmsg_seq
        0x7c, 0x0f, 0x00, 0x00, // nlmsg_pid
        0x00, 0x00, 0x00, 0x80, // int: i32::MIN (little-endian)
    ];
    let bytes = if cfg!(target_endian = "little") {
        bytes.to_vec()
    } else {
        nlmsg(NLMSG_DONE, 2, &i32::MIN.to_ne_bytes())
    };
    let errno = |bytes: &[u8]| match feed(bytes).0 {
        Err(SourceError::KernelRefused { errno, .. }) => Some(errno),
        _ => None,
    };
    assert_eq!(errno(&bytes), Some(i32::MAX));
    // The same code in an NLMSG_ERROR.
    assert_eq!(
        errno(&nlmsg(NLMSG_ERROR, 0, &i32::MIN.to_ne_bytes())),
        Some(i32::MAX)
    );
}

#[test]
fn nlmsg_error_is_a_refusal_and_ack_is_not() {
    let mut payload = (-22i32).to_ne_bytes().to_vec();
    payload.extend_from_slice(&[0; 16]); // the echoed request header
    let (r, ..) = feed(&nlmsg(NLMSG_ERROR, 0, &payload));
    assert!(
        matches!(r, Err(SourceError::KernelRefused { errno: 22, .. })),
        "{r:?}"
    );
    let mut ack = nlmsg(NLMSG_ERROR, 0, &[0; 20]);
    ack.extend(nlmsg(NLMSG_DONE, 2, &[0; 4]));
    let (r, parser, _) = feed(&ack);
    r.unwrap();
    assert!(parser.done);
}

#[test]
fn dump_intr_flag_is_noticed() {
    let mut bytes = LISTEN_THEN_DONE.to_vec();
    bytes[6] |= NLM_F_DUMP_INTR as u8;
    let (r, parser, rows) = feed(&bytes);
    r.unwrap();
    assert!(parser.interrupted);
    assert_eq!(rows.len(), 1);
}

#[test]
fn malformed_replies_are_typed_errors() {
    // short message: fewer bytes than a netlink header
    let (r, ..) = feed(&LISTEN_THEN_DONE[..10]);
    assert!(
        matches!(r, Err(SourceError::Malformed { offset: 0, .. })),
        "{r:?}"
    );
    // lying length field: says 200 bytes, the datagram holds 116
    let mut lying = LISTEN_THEN_DONE.to_vec();
    lying[0] = 200;
    let (r, ..) = feed(&lying);
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // a length below the header size
    lying[0] = 8;
    let (r, ..) = feed(&lying);
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // inet_diag_msg cut short (length field consistent, payload 40 bytes)
    let (r, ..) = feed(&nlmsg(SOCK_DIAG_BY_FAMILY, 2, &LISTEN_THEN_DONE[16..56]));
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // unknown address family
    let mut bad = LISTEN_THEN_DONE.to_vec();
    bad[16] = 99;
    let (r, ..) = feed(&bad);
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // unknown state
    let mut bad = LISTEN_THEN_DONE.to_vec();
    bad[17] = 42;
    let (r, ..) = feed(&bad);
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // an attribute whose length runs past the message
    let mut bad = LISTEN_THEN_DONE.to_vec();
    bad[88] = 60;
    let (r, ..) = feed(&bad);
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // unexpected message type
    let (r, ..) = feed(&nlmsg(99, 0, &[0; 4]));
    assert!(matches!(r, Err(SourceError::Malformed { .. })), "{r:?}");
    // anything after NLMSG_DONE
    let mut after = LISTEN_THEN_DONE.to_vec();
    after.extend_from_slice(&LISTEN_THEN_DONE[..96]);
    let (r, ..) = feed(&after);
    assert!(
        matches!(r, Err(SourceError::Malformed { offset: 116, .. })),
        "{r:?}"
    );
}

#[test]
fn request_bytes_carry_the_states_mask() {
    let query = Query {
        protocols: vec![Protocol::Tcp],
        families: vec![Family::Inet6],
        states: StateSet::listening(),
        ..Query::default()
    };
    let t = Table {
        family: Family::Inet6,
        proto: Protocol::Tcp,
    };
    let req = build_request(t, &query, 9);
    // nlmsghdr (16) + inet_diag_req_v2 (56)
    assert_eq!(req.len(), 72);
    assert_eq!(u32::from_ne_bytes(req[0..4].try_into().unwrap()), 72);
    assert_eq!(
        u16::from_ne_bytes(req[4..6].try_into().unwrap()),
        SOCK_DIAG_BY_FAMILY
    );
    assert_eq!(
        u16::from_ne_bytes(req[6..8].try_into().unwrap()),
        NLM_F_REQUEST | NLM_F_DUMP
    );
    assert_eq!(u32::from_ne_bytes(req[8..12].try_into().unwrap()), 9);
    assert_eq!(req[16], libc::AF_INET6 as u8); // sdiag_family
    assert_eq!(req[17], libc::IPPROTO_TCP as u8); // sdiag_protocol
    assert_eq!(req[18], 0); // idiag_ext: no extensions asked for
    let states = u32::from_ne_bytes(req[20..24].try_into().unwrap());
    assert_eq!(states, (1 << 10) | (1 << 7)); // LISTEN | CLOSE
}

#[test]
fn bytecode_travels_as_a_padded_attribute() {
    // The 12-byte program of `sport = :22` (filter::bytecode's tests).
    #[rustfmt::skip]
    let code: Vec<u8> = [
        &[7, 12][..], &16u16.to_ne_bytes(), // BC_S_COND: yes 12, no 16
        &[0, 0, 0, 0],                      // AF_UNSPEC, /0, padding
        &22i32.to_ne_bytes(),               // port
    ].concat();
    assert_eq!(bytecode_attribute(&code).len(), 16);
    let attr = bytecode_attribute(&code[..10]);
    assert_eq!(attr.len(), 16); // 4 + 10, padded to 4
    assert_eq!(u16::from_ne_bytes([attr[0], attr[1]]), 14);
    assert_eq!(u16::from_ne_bytes([attr[2], attr[3]]), 1); // INET_DIAG_REQ_BYTECODE
    let query = Query {
        protocols: vec![Protocol::Tcp],
        families: vec![Family::Inet],
        states: StateSet::all(),
        bytecode: Some(code.clone()),
        ..Query::default()
    };
    let req = build_request(TCP4, &query, 1);
    // nlmsghdr (16) + inet_diag_req_v2 (56) + the attribute (16)
    assert_eq!(req.len(), 88);
    assert_eq!(u32::from_ne_bytes(req[0..4].try_into().unwrap()), 88);
    assert_eq!(&req[76..], &code[..]);
}

#[test]
fn recording_splits_at_requests() {
    let query = Query {
        protocols: vec![Protocol::Tcp],
        families: vec![Family::Inet],
        states: StateSet::all(),
        ..Query::default()
    };
    let mut file = build_request(TCP4, &query, 1);
    file.extend_from_slice(&LISTEN_THEN_DONE);
    let udp = Table {
        family: Family::Inet,
        proto: Protocol::Udp,
    };
    file.extend(build_request(udp, &query, 2));
    file.extend(nlmsg(NLMSG_DONE, 2, &[0; 4]));
    let dumps = split_recording(&file).unwrap();
    assert_eq!(dumps.len(), 2);
    assert_eq!(dumps[0].replies, LISTEN_THEN_DONE);
    assert_eq!(dumps[1].protocol, libc::IPPROTO_UDP as u8);
    // replies with no request before them
    assert!(split_recording(&LISTEN_THEN_DONE).is_err());
    // a truncated recording
    assert!(split_recording(&file[..file.len() - 3]).is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = feed(&bytes);
        let _ = parse_unix(&bytes);
        let _ = split_recording(&bytes);
    }

    #[test]
    fn mutated_fixture_never_panics(pos in 0usize..116, value: u8, cut in 0usize..=116) {
        let mut bytes = LISTEN_THEN_DONE.to_vec();
        bytes[pos] = value;
        let _ = feed(&bytes[..cut]);
    }
}

/// A unix_diag reply for a listener on an abstract name, as kernel 6.18
/// sends it (little-endian), then a path name with its trailing NUL.
#[cfg(target_endian = "little")]
#[test]
fn parses_unix_reply() {
    #[rustfmt::skip]
    let msg: Vec<u8> = [
        // struct unix_diag_msg
        &[1u8][..],             // udiag_family = AF_UNIX
        &[1],                   // udiag_type = SOCK_STREAM
        &[10],                  // udiag_state = TCP_LISTEN
        &[0],                   // pad
        &1234u32.to_ne_bytes(), // udiag_ino
        &[7, 0, 0, 0, 0, 0, 0, 0], // udiag_cookie[2]
        // UNIX_DIAG_NAME: "\0ab\0c" (abstract, an inner NUL)
        &9u16.to_ne_bytes(), &0u16.to_ne_bytes(), &[0, b'a', b'b', 0, b'c'], &[0, 0, 0],
        // UNIX_DIAG_PEER: 0
        &8u16.to_ne_bytes(), &2u16.to_ne_bytes(), &0u32.to_ne_bytes(),
        // UNIX_DIAG_RQLEN: rqueue 2 (pending), wqueue 128 (backlog)
        &12u16.to_ne_bytes(), &4u16.to_ne_bytes(), &2u32.to_ne_bytes(), &128u32.to_ne_bytes(),
        // UNIX_DIAG_UID: 1000
        &8u16.to_ne_bytes(), &7u16.to_ne_bytes(), &1000u32.to_ne_bytes(),
    ]
    .concat();
    let u = parse_unix(&msg).unwrap();
    assert_eq!(u.kind, crate::model::UnixKind::Stream);
    assert_eq!(u.state, TcpState::Listen);
    assert_eq!(u.path.as_deref(), Some(&b"@ab@c"[..]));
    assert_eq!((u.inode, u.peer_inode, u.cookie), (1234, Some(0), Some(7)));
    assert_eq!(
        (u.recv_q, u.send_q, u.uid),
        (Some(2), Some(128), Some(1000))
    );
    assert_eq!(unix_name(b"/run/x.sock\0"), b"/run/x.sock");
    // too short, wrong family, unknown type
    assert!(parse_unix(&msg[..10]).is_err());
    let mut bad = msg.clone();
    bad[0] = 2;
    assert!(parse_unix(&bad).is_err());
    let mut bad = msg.clone();
    bad[1] = 9;
    assert!(parse_unix(&bad).is_err());
}

/// A recording made before `-a` asked for BOUND_INACTIVE answers `-a`
/// (without those sockets); a state it lacks otherwise is still a gap.
#[test]
fn bound_inactive_bit_is_optional_in_a_recording() {
    let old = RequestKeys {
        states: StateSet::all()
            .without(&[TcpState::BoundInactive])
            .kernel_mask(),
        ..RequestKeys::default()
    };
    let now = RequestKeys {
        states: StateSet::all().kernel_mask(),
        ..RequestKeys::default()
    };
    assert_eq!(old.lacks(&now), None);
    let listen_only = RequestKeys {
        states: TcpState::Listen.bit(),
        ..RequestKeys::default()
    };
    assert!(matches!(
        listen_only.lacks(&now),
        Some(ReplayGap::States(_))
    ));
}

/// MPTCP's request: sdiag_protocol is IPPROTO_MPTCP's low byte and the
/// whole number rides in INET_DIAG_REQ_PROTOCOL; read back, the attribute
/// is the request's protocol, not a kernel filter.
#[test]
fn mptcp_request_carries_the_protocol_attribute() {
    let query = Query {
        protocols: vec![Protocol::Mptcp],
        families: vec![Family::Inet],
        states: StateSet::all(),
        ..Query::default()
    };
    let table = crate::source::Table {
        family: Family::Inet,
        proto: Protocol::Mptcp,
    };
    let req = build_request(table, &query, 1);
    assert_eq!(
        u32::from_ne_bytes(req[..4].try_into().unwrap()) as usize,
        req.len()
    );
    assert_eq!(req[NLMSG_HDRLEN + 1], (262 & 0xff) as u8);
    let keys = RequestKeys::parse(&req[NLMSG_HDRLEN..]).unwrap();
    assert_eq!(keys.protocol, Some(262));
    assert!(keys.filter.is_empty());
}

/// Regression: a TCP CLOSE record is BOUND_INACTIVE only in a dump (the
/// bind-hash walk); parse_socket keeps CLOSE, as a destroy event (-E)
/// reports a closed socket.
#[test]
fn close_is_bound_inactive_only_in_a_dump() {
    let mut s = crate::model::Socket::test_tcp(TcpState::Close, "127.0.0.1:5000", "0.0.0.0:0");
    assert_eq!(dumped(s.clone()).state, TcpState::BoundInactive);
    s.proto = Protocol::Udp;
    assert_eq!(dumped(s).state, TcpState::Close);
}
