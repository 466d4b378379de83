//! Which container a process belongs to: the runtime that made it
//! ([`Runtime`]), its id and name ([`Container`]) and, for Kubernetes, its
//! pod ([`Pod`]). Found by `source::containers` from the process's cgroup
//! path and the runtimes' local metadata; no I/O here.
//!
//! Names are untrusted text: anyone who can write the runtime's metadata
//! files (or create its cgroup directories) chooses them. They are kept as
//! they were read (invalid UTF-8 replaced by U+FFFD, at most
//! [`MAX_NAME_BYTES`] bytes, see [`bounded_name`]) and escaped only by the
//! output layer (`text::escape`).

use std::fmt;

/// The longest name kept, in bytes; a longer one is cut at a character
/// boundary at or below this length.
pub const MAX_NAME_BYTES: usize = 256;

/// The software that made a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// Docker (`docker-<id>.scope`, `/docker/<id>`).
    Docker,
    /// containerd through its CRI plugin (`cri-containerd-<id>.scope`).
    Containerd,
    /// CRI-O (`crio-<id>.scope`).
    CriO,
    /// Podman (`libpod-<id>.scope`).
    Podman,
    /// A Kubernetes pod whose container runtime the cgroup path does not
    /// tell (cgroupfs driver: `/kubepods/<qos>/pod<uid>/<id>`).
    Kubernetes,
    /// systemd-nspawn (`machine.slice/systemd-nspawn@NAME.service`).
    Nspawn,
    /// LXC / LXD (`lxc.payload.NAME`, `/lxc/NAME`).
    Lxc,
}

impl Runtime {
    /// The name used in JSON and in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Kubernetes => "kubernetes",
            Runtime::Nspawn => "systemd-nspawn",
            Runtime::Lxc => "lxc",
        }
    }

    /// True when the runtime names its containers (nspawn machines, LXC
    /// containers) rather than numbering them with a hex id.
    pub fn ids_are_names(self) -> bool {
        matches!(self, Runtime::Nspawn | Runtime::Lxc)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Kubernetes pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pod {
    /// The pod's UID with dashes (`1b4e28ba-2fa1-11d2-883f-0016d3cca427`),
    /// or 32 hex digits for a static pod.
    pub uid: String,
    /// The pod's name, when the kubelet's local files tell it.
    pub name: Option<String>,
    /// The pod's Kubernetes namespace, when the kubelet's local files tell it.
    pub namespace: Option<String>,
}

/// A container a process runs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    pub runtime: Runtime,
    /// The full id as the cgroup path has it (64 hex digits); for
    /// systemd-nspawn and LXC the machine/container name. For a process in
    /// a pod's cgroup but in none of its containers, the pod's UID.
    pub id: String,
    /// The runtime's name for it (Docker's `web-1`, without the leading
    /// `/`), when its metadata was readable.
    pub name: Option<String>,
    /// The Kubernetes pod it belongs to.
    pub pod: Option<Pod>,
}

impl Container {
    /// The id as `docker ps` prints it: the first 12 characters of a hex
    /// id; the whole name for systemd-nspawn and LXC.
    pub fn short_id(&self) -> &str {
        if self.runtime.ids_are_names() {
            return &self.id;
        }
        match self.id.char_indices().nth(12) {
            Some((end, _)) => &self.id[..end],
            None => &self.id,
        }
    }

    /// `--container WANT` names this one: its name, its pod's name, or a
    /// prefix of its id of at least 4 characters.
    pub fn matches(&self, want: &str) -> bool {
        self.name.as_deref() == Some(want)
            || self.pod.as_ref().and_then(|p| p.name.as_deref()) == Some(want)
            || (want.len() >= 4 && self.id.starts_with(want))
    }

    /// The best human name: the container's name, else the pod's
    /// `namespace/name` (or its name alone), else `runtime:short_id`.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(pod) = &self.pod {
            match (&pod.namespace, &pod.name) {
                (Some(ns), Some(name)) => return format!("{ns}/{name}"),
                (None, Some(name)) => return name.clone(),
                _ => {}
            }
        }
        format!("{}:{}", self.runtime, self.short_id())
    }
}

/// Untrusted bytes as a name: invalid UTF-8 replaced by U+FFFD, cut to at
/// most [`MAX_NAME_BYTES`] bytes at a character boundary. Control and
/// bidirectional characters are kept (the output layer escapes them).
pub fn bounded_name(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(MAX_NAME_BYTES)];
    let mut s = String::from_utf8_lossy(head).into_owned();
    // U+FFFD takes 3 bytes where a bad byte took 1: cut again.
    if s.len() > MAX_NAME_BYTES {
        let mut end = MAX_NAME_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// [`bounded_name`] of a string already decoded (from JSON).
pub fn bounded_string(mut s: String) -> String {
    if s.len() > MAX_NAME_BYTES {
        let mut end = MAX_NAME_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

    fn c(runtime: Runtime, id: &str) -> Container {
        Container {
            runtime,
            id: id.to_string(),
            name: None,
            pod: None,
        }
    }

    #[test]
    fn runtime_names() {
        let all = [
            (Runtime::Docker, "docker"),
            (Runtime::Containerd, "containerd"),
            (Runtime::CriO, "cri-o"),
            (Runtime::Podman, "podman"),
            (Runtime::Kubernetes, "kubernetes"),
            (Runtime::Nspawn, "systemd-nspawn"),
            (Runtime::Lxc, "lxc"),
        ];
        for (r, s) in all {
            assert_eq!(r.as_str(), s);
            assert_eq!(r.to_string(), s);
        }
    }

    #[test]
    fn short_ids() {
        assert_eq!(c(Runtime::Docker, ID).short_id(), "3f2a1b4c5d6e");
        assert_eq!(c(Runtime::Podman, "abc").short_id(), "abc");
        assert_eq!(
            c(Runtime::Nspawn, "a-very-long-machine-name").short_id(),
            "a-very-long-machine-name"
        );
        assert_eq!(c(Runtime::Lxc, "web").short_id(), "web");
        // Never cuts inside a character.
        assert_eq!(
            c(Runtime::Docker, "ééééééééééééé").short_id(),
            "éééééééééééé"
        );
    }

    #[test]
    fn labels() {
        let mut x = c(Runtime::Containerd, ID);
        assert_eq!(x.label(), "containerd:3f2a1b4c5d6e");
        x.pod = Some(Pod {
            uid: "u".into(),
            name: Some("web-7d4b9".into()),
            namespace: Some("prod".into()),
        });
        assert_eq!(x.label(), "prod/web-7d4b9");
        x.name = Some("nginx".into());
        assert_eq!(x.label(), "nginx");
        let mut y = c(Runtime::Kubernetes, ID);
        y.pod = Some(Pod {
            uid: "u".into(),
            name: None,
            namespace: None,
        });
        assert_eq!(y.label(), "kubernetes:3f2a1b4c5d6e");
    }

    #[test]
    fn names_are_bounded_not_escaped() {
        assert_eq!(bounded_name(b"a\x1b[2Jb\n\xff"), "a\x1b[2Jb\n\u{fffd}");
        assert_eq!(bounded_name("x\u{202e}y".as_bytes()), "x\u{202e}y");
        let long = vec![b'n'; 10_000];
        assert_eq!(bounded_name(&long).len(), MAX_NAME_BYTES);
        // 256 invalid bytes become 256 U+FFFD, cut to 85 of them (255 bytes).
        let bad = vec![0xffu8; 300];
        let s = bounded_name(&bad);
        assert_eq!(s.len(), 255);
        assert!(s.chars().all(|c| c == '\u{fffd}'));
        let multi = "é".repeat(200);
        let s = bounded_string(multi);
        assert_eq!(s.len(), 256);
        let s = bounded_string("€".repeat(100));
        assert_eq!(s.len(), 255);
    }
}
