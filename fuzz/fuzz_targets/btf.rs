//! The BTF reader and the owners' iterator layout on corrupt BTF. The
//! first byte picks how the rest is read:
//! - 0: a whole BTF blob (seeded with the recorded 6.18 extract);
//! - 1: the recorded extract, then field mutations the rest drives;
//! - 2: valid random records built with `btf::build::Builder` (named like
//!   what the layout looks for), then field mutations.
//! A field mutation picks a record and changes one field of it: a member's
//! bit offset, the vlen, the kind (or kind_flag), a name offset, a type id
//! (the record's, a member's, an array's or a parameter's) or any word.
//! Then `Btf::parse`, `Layout::from_btf` and, on a layout, its invariants
//! (`Layout::check`: every load inside its struct as BTF says); reading
//! every record's shape, members and parameters must not panic either.
//! Errors are fine; only a panic or a broken invariant fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::source::bpf::layout::Layout;
use sockscope::source::btf::build::Builder;
use sockscope::source::btf::{Btf, Kind};
use sockscope_fuzz::Gen;

const EXTRACT: &[u8] = include_bytes!("../../fixtures/btf/vmlinux-6.18-extract.btf");

/// Names the layout looks up (layout::names), and one it does not.
static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut names = sockscope::source::bpf::layout::names();
    names.push("x");
    names
});

fn name(g: &mut Gen) -> &'static str {
    NAMES[usize::from(g.u8()) % NAMES.len()]
}

/// A type id: mostly one that exists (or void, or just past the end).
fn id(g: &mut Gen, count: u32) -> u32 {
    if g.one_in(16) {
        g.u32()
    } else {
        u32::from(g.u16()) % (count + 3)
    }
}

/// A new value for a field that held `old`.
fn value(g: &mut Gen, old: u32) -> u32 {
    match g.below(5) {
        0 => old.wrapping_add(u32::from(g.u8())),
        1 => old.wrapping_sub(u32::from(g.u8())),
        2 => old ^ (1 << g.below(32)),
        3 => u32::from(g.u16()),
        _ => g.u32(),
    }
}

/// Valid random records.
fn records(g: &mut Gen) -> Builder {
    let mut b = Builder::new();
    let n = g.below(48);
    for _ in 0..n {
        let count = b.count;
        match g.below(11) {
            0 => {
                let size = [1, 2, 4, 8][usize::from(g.below(4))];
                b.int(name(g), size, g.one_in(2));
            }
            1 => {
                let to = id(g, count);
                b.ptr(to);
            }
            2 => {
                let (elem, index, len) = (id(g, count), id(g, count), u32::from(g.below(4)));
                b.array(elem, index, len);
            }
            3 | 4 => {
                let union = g.one_in(4);
                let struct_name = name(g);
                let size = u32::from(g.u16());
                let members: Vec<(&str, u32, u32)> = (0..g.below(6))
                    .map(|_| {
                        let bits = if g.one_in(8) {
                            g.u32()
                        } else {
                            u32::from(g.u8()) * 8
                        };
                        (name(g), id(g, count), bits)
                    })
                    .collect();
                b.composite(union, struct_name, size, &members);
            }
            5 => {
                let (n, to) = (name(g), id(g, count));
                b.typedef(n, to);
            }
            6 => {
                b.fwd(name(g));
            }
            7 => {
                let ret = id(g, count);
                let params: Vec<(&str, u32)> =
                    (0..g.below(6)).map(|_| (name(g), id(g, count))).collect();
                b.func_proto(ret, &params);
            }
            8 => {
                let (n, proto) = (name(g), id(g, count));
                b.func(n, proto);
            }
            9 => {
                // VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64, ENUM
                let (kind, per) = [
                    (14, 4),
                    (15, 12),
                    (16, 0),
                    (17, 4),
                    (18, 0),
                    (19, 12),
                    (6, 8),
                ][usize::from(g.below(7))];
                let vlen = u32::from(g.below(4));
                let len = if matches!(kind, 14 | 17) {
                    4
                } else {
                    per * vlen
                };
                let extra: Vec<u8> = (0..len).map(|_| g.u8()).collect();
                let to = id(g, count);
                b.raw(kind, vlen, to, &extra);
            }
            _ => {
                b.int(name(g), u32::from(g.below(16)), g.one_in(2));
            }
        }
    }
    b
}

fn word(b: &Builder, at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.types.get(at..at + 4)?.try_into().ok()?,
    ))
}

fn set(b: &mut Builder, at: usize, v: u32) {
    if let Some(w) = b.types.get_mut(at..at + 4) {
        w.copy_from_slice(&v.to_ne_bytes());
    }
}

/// Field mutations of `b`'s records, in place.
fn mutate(g: &mut Gen, b: &mut Builder) {
    let Ok(btf) = Btf::parse(&b.finish()) else {
        return;
    };
    let count = btf.len() as u32;
    if count == 0 {
        return;
    }
    for _ in 0..g.below(8) {
        let rid = u32::from(g.u16()) % count + 1;
        let (Ok(t), Ok(span)) = (btf.get(rid), btf.span(rid)) else {
            continue;
        };
        let extra_words = (span.len() - 12) / 4;
        // The per-entry stride of the record's extra bytes, and where its
        // type ids are in an entry.
        let (stride, type_at) = match t.kind {
            Kind::Struct | Kind::Union => (12, Some(4)),
            Kind::FuncProto => (8, Some(4)),
            Kind::Array => (12, Some(usize::from(g.below(2)) * 4)),
            Kind::Enum => (8, None),
            _ => (12, None),
        };
        let entry = |g: &mut Gen| span.start + 12 + stride * (usize::from(g.u16()) % t.vlen.max(1));
        let info_at = span.start + 4;
        let info = word(b, info_at).unwrap_or(0);
        match g.below(7) {
            0 if matches!(t.kind, Kind::Struct | Kind::Union) && t.vlen > 0 => {
                let at = entry(g) + 8;
                let old = word(b, at).unwrap_or(0);
                let new = value(g, old);
                set(b, at, new);
            }
            1 => {
                let vlen = if g.one_in(4) {
                    g.u16()
                } else {
                    u16::from(g.below(8))
                };
                set(b, info_at, (info & !0xffff) | u32::from(vlen));
            }
            2 => {
                let kind = u32::from(g.below(32));
                set(b, info_at, (info & !(0x1f << 24)) | (kind << 24));
            }
            3 => set(b, info_at, info ^ (1 << 31)),
            4 => {
                let at = if t.vlen > 0 && g.one_in(2) && type_at.is_some() {
                    entry(g)
                } else {
                    span.start
                };
                let old = word(b, at).unwrap_or(0);
                let new = value(g, old);
                set(b, at, new);
            }
            5 => {
                let at = match type_at {
                    Some(k) if extra_words > 0 && g.one_in(2) => entry(g) + k,
                    _ => span.start + 8,
                };
                let new = id(g, count);
                set(b, at, new);
            }
            _ => {
                let at = span.start + 4 * (usize::from(g.u16()) % (3 + extra_words));
                let old = word(b, at).unwrap_or(0);
                let new = value(g, old);
                set(b, at, new);
            }
        }
    }
}

fn check(blob: &[u8]) {
    let Ok(btf) = Btf::parse(blob) else {
        return;
    };
    if let Ok(layout) = Layout::from_btf(&btf) {
        if let Err(broken) = layout.check(&btf) {
            panic!("{broken}: {layout:?}");
        }
    }
    for rid in 1..=btf.len().min(256) as u32 {
        let _ = btf.shape(rid);
        if let Ok(t) = btf.get(rid) {
            let _ = btf.member(&t, "i_ino");
            let _ = btf.params(&t);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check(rest),
        1 => {
            let mut g = Gen::new(rest);
            let mut b = Builder::from_blob(EXTRACT).expect("the recorded extract");
            mutate(&mut g, &mut b);
            check(&b.finish());
        }
        _ => {
            let mut g = Gen::new(rest);
            let mut b = records(&mut g);
            if Btf::parse(&b.finish()).is_err() {
                panic!("valid records did not parse");
            }
            mutate(&mut g, &mut b);
            check(&b.finish());
        }
    }
});
