//! The /proc/PID/cgroup parser, structure-aware: the input drives a
//! generator that writes whole `hierarchy:controllers:path` lines as
//! proc_cgroup_show() does (kernel/cgroup/cgroup.c), v1 and v2, whose paths
//! are built component by component from every runtime's layout (Docker,
//! containerd, CRI-O, Podman, Kubernetes pods, systemd-nspawn, LXC) with
//! real-looking ids, then mutated inside fields and components (see
//! sockscope_fuzz::Gen). The raw input is also parsed as it is. What comes
//! out is resolved (against a root that does not exist: no metadata) and
//! labelled. Errors are fine; a panic fails, and so does a container whose
//! id or pod UID is not well formed (a forged container).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sockscope::model::Runtime;
use sockscope::source::containers::{CgroupRef, ContainerPaths, Containers, parse_cgroup};
use sockscope::text;
use sockscope_fuzz::Gen;

const CONTROLLERS: &[&[u8]] = &[
    b"name=systemd",
    b"",
    b"memory",
    b"cpu,cpuacct",
    b"net_cls,net_prio",
    b"pids",
    b"name=elogind",
];

fn hex64(g: &mut Gen) -> Vec<u8> {
    // Ids from a small set of seeds, so caches hit.
    let seed = g.below(4);
    (0..64)
        .map(|i| b"0123456789abcdef"[usize::from((seed.wrapping_mul(7) ^ i as u8) % 16)])
        .collect()
}

fn uid(g: &mut Gen, sep: u8) -> Vec<u8> {
    let h = hex64(g);
    if g.one_in(4) {
        return h[..32].to_vec();
    }
    let mut out = Vec::new();
    for (i, &n) in [8usize, 4, 4, 4, 12].iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend_from_slice(&h[i * 4..i * 4 + n]);
    }
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The components of one path in one runtime's layout.
fn components(g: &mut Gen) -> Vec<Vec<u8>> {
    let id = hex64(g);
    let tail = g.bytes(12);
    match g.below(12) {
        0 => vec![b"system.slice".to_vec(), cat(&[b"docker-", &id, b".scope"])],
        1 => vec![b"docker".to_vec(), id],
        2 | 3 => {
            let u = uid(g, b'_');
            let qos: &[u8] = [&b"burstable"[..], b"besteffort", b""][usize::from(g.below(3))];
            let scope: &[u8] = [
                &b"cri-containerd-"[..],
                b"crio-",
                b"crio-conmon-",
                b"docker-",
            ][usize::from(g.below(4))];
            let mut v = vec![b"kubepods.slice".to_vec()];
            let mut pod = b"kubepods".to_vec();
            if !qos.is_empty() {
                v.push(cat(&[b"kubepods-", qos, b".slice"]));
                pod = cat(&[b"kubepods-", qos]);
            }
            v.push(cat(&[&pod, b"-pod", &u, b".slice"]));
            v.push(cat(&[scope, &id, b".scope"]));
            v
        }
        4 => {
            let u = uid(g, b'-');
            vec![
                b"kubepods".to_vec(),
                b"burstable".to_vec(),
                cat(&[b"pod", &u]),
                id,
            ]
        }
        5 => vec![
            b"machine.slice".to_vec(),
            cat(&[b"libpod-", &id, b".scope"]),
            b"container".to_vec(),
        ],
        6 => vec![
            b"machine.slice".to_vec(),
            cat(&[b"libpod-conmon-", &id, b".scope"]),
        ],
        7 => vec![
            b"machine.slice".to_vec(),
            cat(&[b"systemd-nspawn@", &tail, b".service"]),
            [&b"payload"[..], b"supervisor"][usize::from(g.below(2))].to_vec(),
        ],
        8 => vec![
            b"machine.slice".to_vec(),
            cat(&[b"machine-", &tail, b"\\x2d", &tail, b".scope"]),
        ],
        9 => vec![cat(&[b"lxc.payload.", &tail]), b"init.scope".to_vec()],
        10 => vec![b"lxc".to_vec(), tail],
        _ => vec![b"user.slice".to_vec(), g.bytes(30), g.bytes(30)],
    }
}

fn line(g: &mut Gen, out: &mut Vec<u8>) {
    let mut comps = components(g);
    for c in comps.iter_mut() {
        if g.one_in(6) {
            g.mutate(c);
        }
    }
    if g.one_in(8) {
        // Nested: a container inside another one.
        comps.extend(components(g));
    }
    let mut path = Vec::new();
    for c in comps {
        path.push(b'/');
        path.extend_from_slice(&c);
    }
    let v2 = g.one_in(3);
    let hierarchy = if v2 {
        b"0".to_vec()
    } else {
        (1 + g.below(13)).to_string().into_bytes()
    };
    let controllers = if v2 {
        Vec::new()
    } else {
        CONTROLLERS[usize::from(g.below(7))].to_vec()
    };
    g.write_fields(vec![hierarchy, controllers, path], b":", out);
}

fn hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_uid(s: &str) -> bool {
    hex(s, 32)
        || (s.len() == 36
            && s.split('-').map(str::len).eq([8, 4, 4, 4, 12])
            && hex(&s.replace('-', ""), 32))
}

fn check(r: &CgroupRef) {
    if let Some(u) = &r.pod_uid {
        assert!(is_uid(u), "{r:?}");
    }
    match r.runtime {
        Runtime::Nspawn | Runtime::Lxc => {
            assert!(
                !r.id.is_empty() && !r.id.contains('/') && r.id != "..",
                "{r:?}"
            );
        }
        Runtime::Kubernetes if r.pod_uid.as_deref() == Some(r.id.as_str()) => {}
        _ => assert!(hex(&r.id, 64), "{r:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut resolver = Containers::new(ContainerPaths::under(Path::new(
        "/nonexistent-sockscope-fuzz-root",
    )));
    for text in [data.to_vec(), {
        let mut g = Gen::new(data);
        let mut out = Vec::new();
        while !g.done() && out.len() < 16 * 1024 {
            line(&mut g, &mut out);
        }
        out
    }] {
        if let Some(r) = parse_cgroup(&text) {
            check(&r);
            let c = resolver.of_ref(r);
            let _ = text::escape(&c.label());
            let _ = c.short_id();
        }
    }
});
