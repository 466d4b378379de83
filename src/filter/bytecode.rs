//! Kernel-side filtering: the expression compiled to inet_diag bytecode
//! (INET_DIAG_REQ_BYTECODE, include/uapi/linux/inet_diag.h), so the kernel
//! sends only matching sockets, as ss does.
//!
//! Each condition op is `{code, yes, no}`: `yes` steps to the next op,
//! `no` jumps 4 bytes past the end of its sub-program (reject). A program
//! accepts when execution ends exactly at its end. `a and b` is a then b,
//! with a's reject jumps moved past b; `a or b` is a, `JMP` over b, b; `not
//! a` is a, `JMP` 8 (an accept of a now lands past the end, a reject of a
//! lands exactly on the end).
//!
//! `fwmark` and `cgroup` compile as ss compiles them (INET_DIAG_BC_MARK_COND
//! with struct inet_diag_markcond, INET_DIAG_BC_CGROUP_COND with a u64 id);
//! the kernel accepts MARK_COND only from CAP_NET_ADMIN (inet_diag_bc_audit
//! answers EPERM otherwise), so without it a `fwmark` term is left to user
//! space, which then sees no marks either (the kernel does not send them).
//!
//! Terms the kernel cannot evaluate (`uid`, `pid`, `comm`) make the program
//! a superset: `and` drops them, `or` and `not` over them give up on that
//! branch. User space always evaluates the whole expression again.

use super::expr::{Conj, Expr, HostCond, Side};

// include/uapi/linux/inet_diag.h: enum { INET_DIAG_BC_NOP, ... }
pub const BC_JMP: u8 = 1;
pub const BC_S_GE: u8 = 2;
pub const BC_S_LE: u8 = 3;
pub const BC_D_GE: u8 = 4;
pub const BC_D_LE: u8 = 5;
pub const BC_AUTO: u8 = 6;
pub const BC_S_COND: u8 = 7;
pub const BC_D_COND: u8 = 8;
pub const BC_DEV_COND: u8 = 9;
pub const BC_MARK_COND: u8 = 10;
pub const BC_CGROUP_COND: u8 = 13;

/// Compiles what the kernel can check. `None` when nothing can be pushed
/// down; otherwise a program that accepts at least every socket the
/// expression accepts (exactly those when every term is a kernel term).
pub fn compile(expr: &Expr) -> Option<Vec<u8>> {
    let (code, _exact) = relaxed(expr);
    // Jump offsets are 16 bits; a program that long is left to user space.
    code.filter(|c| c.len() <= MAX_PROGRAM)
}

/// The longest program sent (jump offsets are u16, attributes < 64 KiB).
const MAX_PROGRAM: usize = 60_000;

/// The program and whether it is exact (accepts exactly the expression's
/// sockets) rather than a superset.
fn relaxed(expr: &Expr) -> (Option<Vec<u8>>, bool) {
    match expr {
        // Left to right, as the chain reads: a loop, not a recursion per
        // term.
        Expr::Chain(first, rest) => {
            let mut acc = relaxed(first);
            for (conj, e) in rest {
                let (ca, ea) = acc;
                let (cb, eb) = relaxed(e);
                acc = match conj {
                    Conj::And => {
                        let code = match (ca, cb) {
                            (Some(x), Some(y)) => Some(and(x, y)),
                            (x, None) => x,
                            (None, y) => y,
                        };
                        (code, ea && eb)
                    }
                    Conj::Or => match (ca, cb) {
                        (Some(x), Some(y)) => (Some(or(x, y)), ea && eb),
                        _ => (None, false),
                    },
                };
            }
            acc
        }
        Expr::Not(a) => match relaxed(a) {
            (Some(x), true) => (Some(not(x)), true),
            _ => (None, false),
        },
        Expr::Host(side, cond) => (Some(host(*side, cond)), true),
        Expr::PortGe(side, port) => (
            Some(port_cmp(
                if *side == Side::Src { BC_S_GE } else { BC_D_GE },
                *port,
            )),
            true,
        ),
        Expr::PortLe(side, port) => (
            Some(port_cmp(
                if *side == Side::Src { BC_S_LE } else { BC_D_LE },
                *port,
            )),
            true,
        ),
        Expr::AutoBound { .. } => (Some(op(BC_AUTO, 4, 8).to_vec()), true),
        Expr::Dev(index) | Expr::DevName(_, index) => {
            let mut v = op(BC_DEV_COND, 8, 12).to_vec();
            v.extend_from_slice(&index.to_ne_bytes());
            (Some(v), true)
        }
        // struct inet_diag_markcond { __u32 mark; __u32 mask; }
        Expr::Mark { value, mask } => {
            let mut v = op(BC_MARK_COND, 12, 16).to_vec();
            v.extend_from_slice(&value.to_ne_bytes());
            v.extend_from_slice(&mask.to_ne_bytes());
            (Some(v), true)
        }
        // a __u64 cgroup v2 id right after the op (packed)
        Expr::Cgroup(id) => {
            let mut v = op(BC_CGROUP_COND, 12, 16).to_vec();
            v.extend_from_slice(&id.to_ne_bytes());
            (Some(v), true)
        }
        Expr::Uid(..)
        | Expr::Pid(_)
        | Expr::Comm(_)
        | Expr::Netns(..)
        | Expr::Container(..)
        | Expr::UnixName(..) => (None, false),
    }
}

/// struct inet_diag_bc_op { __u8 code; __u8 yes; __u16 no; }
fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let n = no.to_ne_bytes();
    [code, yes, n[0], n[1]]
}

/// An op, then struct inet_diag_hostcond { __u8 family; __u8 prefix_len;
/// int port; __be32 addr[]; } (2 bytes of padding before `port`).
fn host(side: Side, cond: &HostCond) -> Vec<u8> {
    let (family, prefix_len, addr): (u8, u8, Vec<u8>) = match cond.prefix {
        None => (libc::AF_UNSPEC as u8, 0, Vec::new()),
        Some(p) => match p.addr {
            std::net::IpAddr::V4(a) => (libc::AF_INET as u8, p.len, a.octets().to_vec()),
            std::net::IpAddr::V6(a) => (libc::AF_INET6 as u8, p.len, a.octets().to_vec()),
        },
    };
    let len = 4 + 8 + addr.len();
    let code = if side == Side::Src {
        BC_S_COND
    } else {
        BC_D_COND
    };
    let mut v = op(code, len as u8, len as u16 + 4).to_vec();
    v.extend_from_slice(&[family, prefix_len, 0, 0]);
    let port: i32 = cond.port.map_or(-1, i32::from);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(&addr);
    v
}

/// An op and a second op whose `no` field holds the port.
fn port_cmp(code: u8, port: u16) -> Vec<u8> {
    let mut v = op(code, 8, 12).to_vec();
    v.extend_from_slice(&op(0, 0, port));
    v
}

fn yes(code: &[u8], at: usize) -> usize {
    code[at + 1] as usize
}

fn no(code: &[u8], at: usize) -> usize {
    u16::from_ne_bytes([code[at + 2], code[at + 3]]) as usize
}

fn and(mut a: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    // Reject jumps of `a` (to 4 past its end) must now pass `b` too.
    let mut at = 0;
    while at < a.len() {
        let rest = a.len() - at;
        if no(&a, at) == rest + 4 {
            let moved = (rest + 4 + b.len()) as u16;
            a[at + 2..at + 4].copy_from_slice(&moved.to_ne_bytes());
        }
        at += yes(&a, at).max(4);
    }
    a.extend_from_slice(&b);
    a
}

fn or(mut a: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    // a accepted: jump over b to the end; a rejected: lands on b.
    a.extend_from_slice(&op(BC_JMP, 4, b.len() as u16 + 4));
    a.extend_from_slice(&b);
    a
}

fn not(mut a: Vec<u8>) -> Vec<u8> {
    a.extend_from_slice(&op(BC_JMP, 4, 8));
    a
}

#[cfg(test)]
pub mod tests;
