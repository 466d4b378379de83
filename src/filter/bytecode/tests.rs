//! The compiler checked against a model of the kernel: an interpreter and
//! validator written after net/ipv4/inet_diag.c (inet_diag_bc_run,
//! inet_diag_bc_audit), and property tests that the kernel path and the
//! user-space evaluator select the same sockets.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::filter::expr::{Cmp, Prefix};
use crate::model::{Socket, TcpState};

/// What the kernel fills in per socket (inet_diag_bc_sk).
struct Entry {
    family: u8,
    saddr: [u8; 16],
    daddr: [u8; 16],
    sport: u16,
    dport: u16,
    ifindex: u32,
    /// sk_mark (tw_mark, ir_mark); 0 when unknown
    mark: u32,
    /// the cgroup v2 id of a full socket, else 0
    cgroup: u64,
}

fn entry(s: &Socket) -> Entry {
    let bytes = |a: SocketAddr| {
        let mut b = [0u8; 16];
        match a.ip() {
            IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => b.copy_from_slice(&v6.octets()),
        }
        b
    };
    Entry {
        family: s.family.af(),
        saddr: bytes(s.local),
        daddr: bytes(s.remote),
        sport: s.local.port(),
        dport: s.remote.port(),
        ifindex: s.ifindex.unwrap_or(0),
        mark: s.extras.as_ref().and_then(|x| x.mark).unwrap_or(0),
        cgroup: s.extras.as_ref().and_then(|x| x.cgroup_id).unwrap_or(0),
    }
}

fn bits(a: &[u8], b: &[u8], n: usize) -> bool {
    let whole = n / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = n % 8;
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

fn cond_match(code: &[u8], at: usize, e: &Entry, src: bool) -> bool {
    let family = code[at + 4];
    let plen = code[at + 5] as usize;
    let port = i32::from_ne_bytes(code[at + 8..at + 12].try_into().unwrap());
    let caddr = &code[at + 12..];
    let (eport, eaddr) = if src {
        (e.sport, &e.saddr)
    } else {
        (e.dport, &e.daddr)
    };
    if port != -1 && port != i32::from(eport) {
        return false;
    }
    if family != 0 && family != e.family {
        if e.family == libc::AF_INET6 as u8
            && family == libc::AF_INET as u8
            && eaddr[..10] == [0; 10]
            && eaddr[10..12] == [0xff, 0xff]
        {
            return bits(&eaddr[12..], caddr, plen);
        }
        return false;
    }
    plen == 0 || bits(eaddr, caddr, plen)
}

/// inet_diag_bc_run: follow `yes` or `no`; accept when landing on the end.
fn run(code: &[u8], e: &Entry) -> bool {
    let mut at = 0usize;
    let mut len = code.len() as isize;
    while len > 0 {
        let c = code[at];
        let no_field = |i: usize| u16::from_ne_bytes([code[i + 2], code[i + 3]]);
        let ok = match c {
            BC_JMP => false,
            BC_S_GE => e.sport >= no_field(at + 4),
            BC_S_LE => e.sport <= no_field(at + 4),
            BC_D_GE => e.dport >= no_field(at + 4),
            BC_D_LE => e.dport <= no_field(at + 4),
            BC_AUTO => true,
            BC_S_COND => cond_match(code, at, e, true),
            BC_D_COND => cond_match(code, at, e, false),
            BC_DEV_COND => {
                e.ifindex == u32::from_ne_bytes(code[at + 4..at + 8].try_into().unwrap())
            }
            BC_MARK_COND => {
                let mark = u32::from_ne_bytes(code[at + 4..at + 8].try_into().unwrap());
                let mask = u32::from_ne_bytes(code[at + 8..at + 12].try_into().unwrap());
                e.mark & mask == mark
            }
            BC_CGROUP_COND => {
                e.cgroup == u64::from_ne_bytes(code[at + 4..at + 12].try_into().unwrap())
            }
            other => panic!("unknown op {other}"),
        };
        let step = if ok {
            code[at + 1] as isize
        } else {
            no_field(at) as isize
        };
        at = (at as isize + step) as usize;
        len -= step;
    }
    len == 0
}

/// inet_diag_bc_audit: every op long enough, every jump on an op boundary
/// or exactly 4 past the end, aligned, and the `yes` chain ends on the end.
fn audit(code: &[u8]) -> Result<(), String> {
    let starts: Vec<usize> = {
        let mut v = Vec::new();
        let mut at = 0;
        while at < code.len() {
            v.push(at);
            at += (code[at + 1] as usize).max(4);
        }
        v
    };
    let mut at = 0usize;
    while at < code.len() {
        let len = code.len() - at;
        let min = match code[at] {
            BC_S_COND | BC_D_COND => {
                let alen = match code[at + 4] as i32 {
                    0 => 0,
                    libc::AF_INET => 4,
                    libc::AF_INET6 => 16,
                    f => return Err(format!("bad family {f}")),
                };
                if code[at + 5] as usize > alen * 8 {
                    return Err("prefix too long".into());
                }
                4 + 8 + alen
            }
            BC_S_GE | BC_S_LE | BC_D_GE | BC_D_LE | BC_DEV_COND => 8,
            BC_MARK_COND | BC_CGROUP_COND => 12,
            BC_AUTO | BC_JMP => 4,
            c => return Err(format!("bad op {c}")),
        };
        if len < min {
            return Err("op runs past the end".into());
        }
        let yes = code[at + 1] as usize;
        let no = u16::from_ne_bytes([code[at + 2], code[at + 3]]) as usize;
        for (name, j) in [("yes", yes), ("no", no)] {
            if j < min || j > len + 4 || j % 4 != 0 {
                return Err(format!("bad {name} jump {j} at {at}"));
            }
            if j < len && !starts.contains(&(at + j)) {
                return Err(format!("{name} jump into an op at {at}"));
            }
        }
        at += yes;
    }
    if at == code.len() {
        Ok(())
    } else {
        Err("yes chain overshoots".into())
    }
}

fn sock(local: SocketAddr, remote: SocketAddr, ifindex: u32) -> Socket {
    Socket {
        uid: Some(1000),
        ifindex: Some(ifindex),
        // A few marks and cgroups, some unknown (TIME_WAIT-like).
        extras: Some(Box::new(crate::model::Extras {
            mark: [None, Some(0), Some(0x11)][(ifindex % 3) as usize],
            cgroup_id: [Some(1), None, Some(77)][(local.port() % 3) as usize],
            ..Default::default()
        })),
        ..Socket::test_tcp(
            TcpState::Established,
            &local.to_string(),
            &remote.to_string(),
        )
    }
}

const V4: [&str; 4] = ["127.0.0.1", "127.0.0.2", "10.1.2.3", "0.0.0.0"];
const V6: [&str; 4] = ["::1", "::ffff:127.0.0.1", "fe80::1", "::"];
const PORTS: [u16; 5] = [0, 22, 80, 1024, 40000];

fn arb_socket() -> impl Strategy<Value = Socket> {
    (
        any::<bool>(),
        0..4usize,
        0..4usize,
        0..5usize,
        0..5usize,
        0..3u32,
    )
        .prop_map(|(v6, l, r, lp, rp, dev)| {
            let pool = if v6 { V6 } else { V4 };
            let a = |i: usize, p: usize| SocketAddr::new(pool[i].parse().unwrap(), PORTS[p]);
            sock(a(l, lp), a(r, rp), dev)
        })
}

fn arb_prefix() -> impl Strategy<Value = Option<Prefix>> {
    let addrs: Vec<&str> = V4
        .iter()
        .chain(V6.iter())
        .copied()
        .chain(["127.0.0.0"])
        .collect();
    prop_oneof![
        Just(None),
        (proptest::sample::select(addrs), 0..=128u8).prop_map(|(a, l)| {
            let addr: IpAddr = a.parse().unwrap();
            let max = if addr.is_ipv4() { 32 } else { 128 };
            Some(Prefix {
                addr,
                len: l % (max + 1),
            })
        }),
    ]
}

fn arb_leaf(with_user_terms: bool) -> BoxedStrategy<Expr> {
    let side = prop_oneof![Just(Side::Src), Just(Side::Dst)];
    let port = proptest::sample::select(PORTS.to_vec());
    let mut leaves = vec![
        (
            side.clone(),
            arb_prefix(),
            proptest::option::of(port.clone()),
        )
            .prop_map(|(s, prefix, port)| Expr::Host(s, HostCond { prefix, port }))
            .boxed(),
        (side.clone(), port.clone())
            .prop_map(|(s, p)| Expr::PortGe(s, p))
            .boxed(),
        (side, port).prop_map(|(s, p)| Expr::PortLe(s, p)).boxed(),
        (0..3u32).prop_map(Expr::Dev).boxed(),
        (
            proptest::sample::select(vec![0u32, 1, 0x10, 0x11]),
            proptest::sample::select(vec![u32::MAX, 0x0f, 0xf0, 0]),
        )
            .prop_map(|(value, mask)| Expr::Mark { value, mask })
            .boxed(),
        proptest::sample::select(vec![0u64, 1, 77])
            .prop_map(Expr::Cgroup)
            .boxed(),
    ];
    if with_user_terms {
        leaves.push((0..2000u32).prop_map(|u| Expr::Uid(Cmp::Ge, u)).boxed());
    }
    proptest::strategy::Union::new(leaves).boxed()
}

fn arb_expr(with_user_terms: bool) -> impl Strategy<Value = Expr> {
    arb_leaf(with_user_terms).prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::or(a, b)),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Kernel terms only: the kernel model and the evaluator agree on every
    /// socket, and the kernel's validator accepts the program.
    #[test]
    fn kernel_and_user_space_select_the_same(expr in arb_expr(false), socks in proptest::collection::vec(arb_socket(), 1..12)) {
        let code = compile(&expr).expect("kernel terms always compile");
        prop_assert_eq!(audit(&code), Ok(()));
        for s in &socks {
            prop_assert_eq!(run(&code, &entry(s)), expr.matches(s), "{:?} on {:?}", expr, s);
        }
    }

    /// With terms only user space knows, the kernel's selection is a
    /// superset: it never drops a socket the expression keeps.
    #[test]
    fn kernel_program_is_a_superset(expr in arb_expr(true), socks in proptest::collection::vec(arb_socket(), 1..12)) {
        if let Some(code) = compile(&expr) {
            prop_assert_eq!(audit(&code), Ok(()));
            for s in &socks {
                if expr.matches(s) {
                    prop_assert!(run(&code, &entry(s)), "{:?} dropped {:?}", expr, s);
                }
            }
        }
    }
}

#[test]
fn sport_eq_program_bytes() {
    let e = Expr::Host(
        Side::Src,
        HostCond {
            prefix: None,
            port: Some(22),
        },
    );
    let code = compile(&e).unwrap();
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[BC_S_COND, 12][..], &16u16.to_ne_bytes(), // op: yes 12, no 16 (reject)
        &[0, 0, 0, 0],                              // AF_UNSPEC, /0, padding
        &22i32.to_ne_bytes(),                       // port
    ].concat();
    assert_eq!(code, want);
}

/// As ss.c's ssfilter_bytecompile lays them out: MARK_COND with struct
/// inet_diag_markcond, CGROUP_COND with a packed u64.
#[test]
fn mark_and_cgroup_program_bytes() {
    let code = compile(&Expr::Mark {
        value: 0x10,
        mask: 0xf0,
    })
    .unwrap();
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[BC_MARK_COND, 12][..], &16u16.to_ne_bytes(),
        &0x10u32.to_ne_bytes(), &0xf0u32.to_ne_bytes(),
    ].concat();
    assert_eq!(code, want);
    let code = compile(&Expr::Cgroup(0x0102_0304_0506_0708)).unwrap();
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[BC_CGROUP_COND, 12][..], &16u16.to_ne_bytes(),
        &0x0102_0304_0506_0708u64.to_ne_bytes(),
    ].concat();
    assert_eq!(code, want);
    let not = compile(&Expr::Not(Box::new(Expr::Mark {
        value: 1,
        mask: u32::MAX,
    })))
    .unwrap();
    assert_eq!(audit(&not), Ok(()));
    assert_eq!(not.len(), 16);
    // A UNIX glob is never the kernel's: left to user space.
    assert!(compile(&Expr::UnixName(Side::Src, "/run/*".into())).is_none());
}

#[test]
fn user_terms_are_left_out() {
    let uid = Expr::Uid(Cmp::Eq, 0);
    let sport = Expr::Host(
        Side::Src,
        HostCond {
            prefix: None,
            port: Some(22),
        },
    );
    assert!(compile(&uid).is_none());
    let both = Expr::and(uid.clone(), sport.clone());
    assert_eq!(compile(&both), compile(&sport));
    assert!(compile(&Expr::or(uid.clone(), sport)).is_none());
    assert!(compile(&Expr::Not(Box::new(uid))).is_none());
}
