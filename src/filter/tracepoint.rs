//! `trace`'s kernel-side filter: the part of a [`Selection`] (and the
//! family flags) that a tracepoint filter (kernel/trace/trace_events_filter.c:
//! `field op value` joined by `&&`, `||` and parentheses, over the fields
//! of the tracepoint's format file) can express, written for one
//! tracepoint. What cannot be expressed is left out of the string (the
//! events are still checked in user space, so the kernel filter only
//! saves work): a filter here must never drop an event the selection
//! keeps.

use crate::model::{Family, StateSet, TcpState};

use super::Selection;
use super::expr::{Conj, Expr, HostCond, Side};

/// include/net/tcp_states.h: TCP_NEW_SYN_RECV, the request socket's state
/// (shown as SYN_RECV).
const TCP_NEW_SYN_RECV: u8 = 12;
/// include/linux/socket.h: AF_INET, AF_INET6.
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// The tracepoint fields a filter may name, as found in its format file.
pub struct Fields<'a> {
    pub has: &'a dyn Fn(&str) -> bool,
    /// The state fields compared with the state words: `newstate`,
    /// `oldstate` for inet_sock_set_state (either matches), `state` for the
    /// others.
    pub states: &'a [&'a str],
}

/// What was pushed into the kernel and what was not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFilter {
    /// The filter text, `None` when nothing could be expressed.
    pub text: Option<String>,
    /// Parts of the selection left to user space (said with -v).
    pub left: Vec<&'static str>,
}

/// The tracepoint filter for `sel`, `families` and, when `tcp_only` names
/// the protocol field, IPPROTO_TCP.
pub fn kernel_filter(
    sel: &Selection,
    families: &[Family],
    tcp_only: Option<&str>,
    fields: &Fields<'_>,
) -> KernelFilter {
    let mut terms: Vec<String> = Vec::new();
    let mut left = Vec::new();
    if let Some(p) = tcp_only.filter(|p| (fields.has)(p)) {
        terms.push(format!("{p} == 6"));
    }
    if families.len() == 1 {
        if (fields.has)("family") {
            let af = if families[0] == Family::Inet6 {
                AF_INET6
            } else {
                AF_INET
            };
            terms.push(format!("family == {af}"));
        } else {
            left.push("family");
        }
    }
    if sel.states != StateSet::all() && sel.states != StateSet::every() {
        let usable: Vec<&str> = fields
            .states
            .iter()
            .copied()
            .filter(|f| (fields.has)(f))
            .collect();
        if usable.is_empty() {
            left.push("states");
        } else {
            let mut alts = Vec::new();
            for s in sel.states.iter() {
                let mut nums = vec![s as u8];
                if s == TcpState::SynRecv {
                    nums.push(TCP_NEW_SYN_RECV);
                }
                for n in nums {
                    for f in &usable {
                        alts.push(format!("{f} == {n}"));
                    }
                }
            }
            terms.push(if alts.is_empty() {
                // No state at all: nothing can match.
                "common_type == 0".to_owned()
            } else {
                format!("({})", alts.join(" || "))
            });
        }
    }
    if let Some(e) = &sel.expr {
        let (pushed, all) = conjuncts(e, fields);
        terms.extend(pushed);
        if !all {
            left.push(if terms.is_empty() {
                "the expression"
            } else {
                "parts of the expression"
            });
        }
    }
    if sel.process.is_some() {
        left.push("processes");
    }
    if sel.local.is_some() {
        left.push("the local port");
    }
    KernelFilter {
        text: (!terms.is_empty()).then(|| terms.join(" && ")),
        left,
    }
}

/// The terms of `e`'s top-level conjunction the filter can say, and
/// whether that was all of `e`. A chain reads left to right (`a or b and
/// c` is `(a or b) and c`): the part up to its last `or` is one term, each
/// `and` after it another.
fn conjuncts(e: &Expr, fields: &Fields<'_>) -> (Vec<String>, bool) {
    let Expr::Chain(first, rest) = e else {
        return match expr(e, fields) {
            Some(t) => (vec![t], true),
            None => (Vec::new(), false),
        };
    };
    let split = rest
        .iter()
        .rposition(|(c, _)| *c == Conj::Or)
        .map_or(0, |k| k + 1);
    let mut out = Vec::new();
    let mut all = true;
    let head = Expr::Chain(first.clone(), rest[..split].to_vec());
    match expr(&head, fields) {
        Some(t) => out.push(t),
        None => all = false,
    }
    for (_, t) in &rest[split..] {
        let (more, whole) = conjuncts(t, fields);
        out.extend(more);
        all &= whole;
    }
    (out, all)
}

/// One expression term as a filter, or `None` when the tracepoint filter
/// cannot say it exactly.
fn expr(e: &Expr, fields: &Fields<'_>) -> Option<String> {
    let port = |side: Side| match side {
        Side::Src => "sport",
        Side::Dst => "dport",
    };
    let has = |f: &str| (fields.has)(f).then_some(());
    match e {
        Expr::Host(
            side,
            HostCond {
                prefix: None,
                port: Some(p),
            },
        ) => {
            has(port(*side))?;
            Some(format!("{} == {p}", port(*side)))
        }
        Expr::PortGe(side, p) => {
            has(port(*side))?;
            Some(format!("{} >= {p}", port(*side)))
        }
        Expr::PortLe(side, p) => {
            has(port(*side))?;
            Some(format!("{} <= {p}", port(*side)))
        }
        Expr::Chain(first, rest) => {
            // ss reads and/or left to right at one level: bracket each
            // step so the kernel's precedence cannot regroup them.
            let mut out = "(".repeat(rest.len().max(1));
            out.push_str(&expr(first, fields)?);
            for (c, t) in rest {
                out.push_str(match c {
                    Conj::And => " && ",
                    Conj::Or => " || ",
                });
                out.push_str(&expr(t, fields)?);
                out.push(')');
            }
            if rest.is_empty() {
                out.push(')');
            }
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::expr::Prefix;

    fn all_fields(f: &str) -> bool {
        [
            "sport", "dport", "family", "newstate", "oldstate", "protocol",
        ]
        .contains(&f)
    }

    fn sel(states: StateSet, expr: Option<Expr>) -> Selection {
        Selection {
            states,
            process: None,
            local: None,
            connected: false,
            expr,
        }
    }

    const SET: Fields<'static> = Fields {
        has: &all_fields,
        states: &["newstate", "oldstate"],
    };

    #[test]
    fn ports_families_and_states_are_pushed() {
        let port = |side, p| {
            Expr::Host(
                side,
                HostCond {
                    prefix: None,
                    port: Some(p),
                },
            )
        };
        let f = kernel_filter(
            &sel(StateSet::all(), Some(port(Side::Dst, 5001))),
            &[Family::Inet],
            Some("protocol"),
            &SET,
        );
        assert_eq!(
            f.text.as_deref(),
            Some("protocol == 6 && family == 2 && dport == 5001")
        );
        assert!(f.left.is_empty());
        let either = Expr::Chain(
            Box::new(port(Side::Src, 1)),
            vec![
                (Conj::Or, port(Side::Dst, 1)),
                (Conj::And, Expr::PortGe(Side::Src, 9)),
            ],
        );
        let f = kernel_filter(
            &sel(StateSet::all(), Some(either)),
            &[Family::Inet, Family::Inet6],
            None,
            &SET,
        );
        assert_eq!(
            f.text.as_deref(),
            Some("(sport == 1 || dport == 1) && sport >= 9")
        );
        let f = kernel_filter(
            &sel(StateSet::EMPTY.with(TcpState::SynRecv), None),
            &[Family::Inet, Family::Inet6],
            None,
            &SET,
        );
        assert_eq!(
            f.text.as_deref(),
            Some("(newstate == 3 || oldstate == 3 || newstate == 12 || oldstate == 12)")
        );
    }

    #[test]
    fn what_cannot_be_said_stays_in_user_space() {
        let host = Expr::Host(
            Side::Dst,
            HostCond {
                prefix: Some(Prefix {
                    addr: "127.0.0.1".parse().unwrap(),
                    len: 32,
                }),
                port: Some(80),
            },
        );
        let chain = Expr::Chain(
            Box::new(host.clone()),
            vec![(Conj::And, Expr::PortLe(Side::Dst, 100))],
        );
        let f = kernel_filter(
            &sel(StateSet::all(), Some(chain)),
            &[Family::Inet, Family::Inet6],
            None,
            &SET,
        );
        assert_eq!(f.text.as_deref(), Some("dport <= 100"));
        assert_eq!(f.left, vec!["parts of the expression"]);
        let or = Expr::Chain(
            Box::new(host),
            vec![(Conj::Or, Expr::PortLe(Side::Dst, 100))],
        );
        let f = kernel_filter(
            &sel(StateSet::all(), Some(or)),
            &[Family::Inet, Family::Inet6],
            None,
            &SET,
        );
        assert_eq!(f.text, None);
        let none = Fields {
            has: &|_| false,
            states: &["state"],
        };
        let f = kernel_filter(
            &sel(StateSet::EMPTY.with(TcpState::Listen), None),
            &[Family::Inet],
            None,
            &none,
        );
        assert_eq!(f.text, None);
        assert_eq!(f.left, vec!["family", "states"]);
    }
}
