//! Container attribution: which container a process runs in, from its
//! `/proc/PID/cgroup` ([`parse_cgroup`], pure) and the runtimes' local
//! metadata under a root directory ([`ContainerPaths`]), resolved and
//! cached by [`Containers`].
//!
//! The cgroup path names the runtime and the container id (the formats are
//! listed at [`parse_cgroup`]); ids are checked (64 lowercase hex digits
//! for Docker, containerd, CRI-O and Podman; a UUID for a pod), so a
//! directory named `docker-../../x.scope` or `libpod-conmon-<id>.scope`
//! names no container. Names come from files only root should write, but
//! are still untrusted text (kept bounded, escaped by the output layer).
//! A metadata file that is missing, unreadable, too large or not the JSON
//! expected gives a container without a name, never an error for the run;
//! read failures other than "missing" are kept as [`MetadataError`] notes.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::input;
use crate::model::{Container, Pod, Runtime, bounded_name, bounded_string};

/// The most of `/proc/PID/cgroup` read: a v1 host lists about 14
/// hierarchies, each path at most PATH_MAX (4096) bytes.
const MAX_CGROUP_FILE: u64 = 256 * 1024;
/// The largest Docker `config.v2.json` read (a few KiB usually; env and
/// labels can make it longer).
const MAX_DOCKER_CONFIG: u64 = 4 * 1024 * 1024;
/// The largest containers/storage `containers.json` read (about 1 KiB per
/// container).
const MAX_STORAGE_INDEX: u64 = 64 * 1024 * 1024;
/// The most `/var/log/pods` entries indexed.
const MAX_POD_DIRS: usize = 100_000;

/// What a cgroup path says about its container, before any metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CgroupRef {
    pub runtime: Runtime,
    /// 64 hex digits; the machine/container name for nspawn and LXC; the
    /// pod UID for a process in a pod but in none of its containers.
    pub id: String,
    /// The pod UID with dashes, when the path is inside a Kubernetes pod.
    pub pod_uid: Option<String>,
}

/// Where the runtimes keep their metadata. Every path is a parameter so
/// tests point them at a fixture tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPaths {
    /// Docker's data root (`/var/lib/docker`): `containers/<id>/config.v2.json`.
    pub docker: PathBuf,
    /// containers/storage roots (Podman and CRI-O; rootful
    /// `/var/lib/containers/storage`; a rootless user's
    /// `~/.local/share/containers/storage` may be added):
    /// `overlay-containers/containers.json` (or `vfs-containers/`).
    pub podman: Vec<PathBuf>,
    /// The kubelet's pod log directory (`/var/log/pods`), one
    /// `<namespace>_<pod>_<uid>` directory per pod.
    pub pod_logs: PathBuf,
}

impl ContainerPaths {
    /// The default locations under `root` (`/` on a live system).
    pub fn under(root: &Path) -> Self {
        ContainerPaths {
            docker: root.join("var/lib/docker"),
            podman: vec![root.join("var/lib/containers/storage")],
            pod_logs: root.join("var/log/pods"),
        }
    }
}

impl Default for ContainerPaths {
    fn default() -> Self {
        ContainerPaths::under(Path::new("/"))
    }
}

/// A metadata file that exists but could not be used; the container it
/// would have named is shown without a name.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot read {}", crate::text::escape_path(path))]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not the JSON expected", crate::text::escape_path(path))]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Resolves processes to containers, caching per container and per pod.
#[derive(Debug)]
pub struct Containers {
    paths: ContainerPaths,
    by_ref: HashMap<CgroupRef, Arc<Container>>,
    /// Pod UID → (namespace, name), from one listing of `pod_logs`.
    pods: Option<HashMap<String, (String, String)>>,
    /// Container id → first name, from every containers/storage index.
    storage: Option<HashMap<String, String>>,
    notes: Vec<MetadataError>,
}

impl Containers {
    pub fn new(paths: ContainerPaths) -> Self {
        Containers {
            paths,
            by_ref: HashMap::new(),
            pods: None,
            storage: None,
            notes: Vec::new(),
        }
    }

    /// The container of process `pid`, from `<proc_root>/<pid>/cgroup`.
    /// `None` when the process is in none, is gone or cannot be read.
    pub fn of_pid(&mut self, proc_root: &Path, pid: u32) -> Option<Arc<Container>> {
        let path = proc_root.join(pid.to_string()).join("cgroup");
        let content = read_bounded(&path, MAX_CGROUP_FILE).ok()?;
        self.of_cgroup(&content)
    }

    /// The container a `/proc/PID/cgroup` text names.
    pub fn of_cgroup(&mut self, content: &[u8]) -> Option<Arc<Container>> {
        let r = parse_cgroup(content)?;
        self.of_ref(r)
    }

    /// The container a parsed cgroup path names, with its metadata.
    pub fn of_ref(&mut self, r: CgroupRef) -> Option<Arc<Container>> {
        if let Some(found) = self.by_ref.get(&r) {
            return Some(found.clone());
        }
        let c = Arc::new(self.resolve(&r));
        self.by_ref.insert(r, c.clone());
        Some(c)
    }

    /// Metadata files that exist but could not be used, so far.
    pub fn notes(&self) -> &[MetadataError] {
        &self.notes
    }

    fn resolve(&mut self, r: &CgroupRef) -> Container {
        let mut runtime = r.runtime;
        let name = match r.runtime {
            Runtime::Docker => self.docker_name(&r.id),
            Runtime::Podman | Runtime::CriO => self.storage_name(&r.id),
            Runtime::Containerd => None,
            // The cgroupfs driver hides the runtime: Docker's or
            // containers/storage's metadata for the id tells it.
            Runtime::Kubernetes => {
                if let Some(n) = self.docker_name(&r.id) {
                    runtime = Runtime::Docker;
                    Some(n)
                } else if let Some(n) = self.storage_name(&r.id) {
                    runtime = Runtime::CriO;
                    Some(n)
                } else {
                    None
                }
            }
            Runtime::Nspawn | Runtime::Lxc => Some(r.id.clone()),
        };
        let pod = r.pod_uid.as_ref().map(|uid| {
            let (namespace, name) = self.pod_names(uid).unzip();
            Pod {
                uid: uid.clone(),
                namespace,
                name,
            }
        });
        Container {
            runtime,
            id: r.id.clone(),
            name,
            pod,
        }
    }

    /// Docker: `<docker>/containers/<id>/config.v2.json`, field `Name`
    /// (`"/web-1"`; moby daemon/container.Container.Name).
    fn docker_name(&mut self, id: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Config {
            #[serde(rename = "Name")]
            name: Option<String>,
        }
        let path = self
            .paths
            .docker
            .join("containers")
            .join(id)
            .join("config.v2.json");
        let bytes = self.read_metadata(&path, MAX_DOCKER_CONFIG)?;
        let config: Config = match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(source) => {
                self.notes.push(MetadataError::Json { path, source });
                return None;
            }
        };
        let name = config.name?;
        let name = name.strip_prefix('/').unwrap_or(&name);
        (!name.is_empty()).then(|| bounded_string(name.to_string()))
    }

    /// Podman and CRI-O: containers/storage's
    /// `<root>/overlay-containers/containers.json`, an array of
    /// `{"id": …, "names": [...]}` (containers/storage containers.go).
    fn storage_name(&mut self, id: &str) -> Option<String> {
        if self.storage.is_none() {
            self.storage = Some(self.load_storage());
        }
        self.storage.as_ref()?.get(id).cloned()
    }

    fn load_storage(&mut self) -> HashMap<String, String> {
        #[derive(Deserialize)]
        struct Entry {
            id: String,
            #[serde(default)]
            names: Vec<String>,
        }
        let mut index = HashMap::new();
        let roots = self.paths.podman.clone();
        for root in roots {
            for driver in ["overlay-containers", "vfs-containers"] {
                let path = root.join(driver).join("containers.json");
                let Some(bytes) = self.read_metadata(&path, MAX_STORAGE_INDEX) else {
                    continue;
                };
                let entries: Vec<Entry> = match serde_json::from_slice(&bytes) {
                    Ok(e) => e,
                    Err(source) => {
                        self.notes.push(MetadataError::Json { path, source });
                        continue;
                    }
                };
                for e in entries {
                    if let Some(name) = e.names.into_iter().find(|n| !n.is_empty()) {
                        index.entry(e.id).or_insert_with(|| bounded_string(name));
                    }
                }
            }
        }
        index
    }

    /// Kubernetes: the kubelet's `<pod_logs>/<namespace>_<pod>_<uid>`
    /// directories (kubelet kuberuntime BuildPodLogsDirectory), indexed by
    /// UID on first use.
    fn pod_names(&mut self, uid: &str) -> Option<(String, String)> {
        if self.pods.is_none() {
            self.pods = Some(self.load_pods());
        }
        self.pods.as_ref()?.get(uid).cloned()
    }

    fn load_pods(&mut self) -> HashMap<String, (String, String)> {
        let mut index = HashMap::new();
        let dir = match std::fs::read_dir(&self.paths.pod_logs) {
            Ok(d) => d,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    self.notes.push(MetadataError::Read {
                        path: self.paths.pod_logs.clone(),
                        source: e,
                    });
                }
                return index;
            }
        };
        for entry in dir.take(MAX_POD_DIRS).flatten() {
            if let Some((ns, pod, uid)) = split_pod_dir(entry.file_name().as_bytes()) {
                index.entry(uid).or_insert((ns, pod));
            }
        }
        index
    }

    /// A metadata file's bytes; `None` (with a note unless it is simply
    /// missing) when it cannot be read whole within `limit`.
    fn read_metadata(&mut self, path: &Path, limit: u64) -> Option<Vec<u8>> {
        match read_bounded(path, limit) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                self.notes.push(MetadataError::Read {
                    path: path.to_path_buf(),
                    source,
                });
                None
            }
        }
    }
}

/// A regular file read whole, failing past `limit` bytes.
fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input::Bounded::new(input::open_regular(path)?, limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `<namespace>_<pod>_<uid>` → (namespace, pod, uid). Namespaces and pod
/// names are DNS names (no `_`), so the first and last `_` split it.
fn split_pod_dir(name: &[u8]) -> Option<(String, String, String)> {
    let first = name.iter().position(|&b| b == b'_')?;
    let last = name.iter().rposition(|&b| b == b'_')?;
    if first == last || first == 0 || last == first + 1 {
        return None;
    }
    let uid = std::str::from_utf8(&name[last + 1..]).ok()?;
    if !is_pod_uid(uid) {
        return None;
    }
    Some((
        bounded_name(&name[..first]),
        bounded_name(&name[first + 1..last]),
        uid.to_string(),
    ))
}

/// Parses `/proc/PID/cgroup` (kernel/cgroup/cgroup.c proc_cgroup_show:
/// `hierarchy-ID:controller-list:path` per line; cgroup v2 is `0::/path`).
/// The `name=systemd` line wins when it names a container, else the first
/// line that does.
///
/// Recognised in a path (the innermost container component wins; the pod
/// may be any component before it):
/// - Docker: `docker-<id>.scope` (systemd driver), `/docker/<id>` (cgroupfs)
/// - containerd CRI: `cri-containerd-<id>.scope`
/// - CRI-O: `crio-<id>.scope`, `crio-<id>` (cgroupfs); not `crio-conmon-<id>`
/// - Podman: `libpod-<id>.scope`, `libpod-<id>` (cgroupfs); not `libpod-conmon-<id>`
/// - Kubernetes pods: `…kubepods…-pod<uid with _>.slice` (systemd driver),
///   `pod<uid>` under a `kubepods` component (cgroupfs), then a bare
///   `<id>` inside it (runtime not told: [`Runtime::Kubernetes`])
/// - systemd-nspawn: `machine.slice/systemd-nspawn@NAME.service`,
///   `machine.slice/machine-NAME.scope` (NAME unit-escaped; `machine-qemu-…`
///   is a libvirt VM, not a container)
/// - LXC: `lxc.payload.NAME`, `/lxc/NAME`, `/lxc.payload/NAME`
pub fn parse_cgroup(content: &[u8]) -> Option<CgroupRef> {
    let mut first = None;
    for line in content.split(|&b| b == b'\n') {
        let Some((hierarchy, rest)) = split_once(line, b':') else {
            continue;
        };
        let Some((controllers, path)) = split_once(rest, b':') else {
            continue;
        };
        if hierarchy.is_empty() || !hierarchy.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let Some(found) = parse_path(path) else {
            continue;
        };
        if controllers == b"name=systemd" {
            return Some(found);
        }
        if first.is_none() {
            first = Some(found);
        }
    }
    first
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// The container one cgroup path names.
fn parse_path(path: &[u8]) -> Option<CgroupRef> {
    let path = std::str::from_utf8(path).ok()?;
    let path = path.strip_prefix('/')?;
    let mut pod: Option<String> = None;
    let mut in_kubepods = false;
    let mut found: Option<(Runtime, String, Option<String>)> = None;
    let mut prev = "";
    for comp in path.split('/') {
        if let Some(uid) = pod_of(comp, in_kubepods) {
            pod = Some(uid);
        } else if let Some((runtime, id)) = container_of(comp, prev, pod.is_some()) {
            found = Some((runtime, id, pod.clone()));
        }
        if comp.contains("kubepods") {
            in_kubepods = true;
        }
        prev = comp;
    }
    match (found, pod) {
        (Some((runtime, id, pod_uid)), _) => Some(CgroupRef {
            runtime,
            id,
            pod_uid,
        }),
        (None, Some(uid)) => Some(CgroupRef {
            runtime: Runtime::Kubernetes,
            id: uid.clone(),
            pod_uid: Some(uid),
        }),
        (None, None) => None,
    }
}

/// The pod UID a path component names: the systemd driver's
/// `kubepods[-qos]-pod<uid with _ for ->.slice` (any prefix such as
/// `kubelet-` before `kubepods`), or cgroupfs's `pod<uid>` below a
/// `kubepods` component (kubelet pkg/kubelet/cm cgroup_manager_linux.go).
fn pod_of(comp: &str, in_kubepods: bool) -> Option<String> {
    if let Some(slice) = comp.strip_suffix(".slice") {
        let (head, uid) = slice.rsplit_once("-pod")?;
        if !head.contains("kubepods") {
            return None;
        }
        let uid = uid.replace('_', "-");
        return is_pod_uid(&uid).then_some(uid);
    }
    let uid = comp.strip_prefix("pod")?;
    (in_kubepods && is_pod_uid(uid)).then(|| uid.to_string())
}

/// The runtime and id a path component names.
fn container_of(comp: &str, prev: &str, in_pod: bool) -> Option<(Runtime, String)> {
    let hex_id = |s: &str| is_hex64(s).then(|| s.to_string());
    if let Some(scope) = comp.strip_suffix(".scope") {
        if let Some(id) = scope.strip_prefix("docker-") {
            return hex_id(id).map(|id| (Runtime::Docker, id));
        }
        if let Some(id) = scope.strip_prefix("cri-containerd-") {
            return hex_id(id).map(|id| (Runtime::Containerd, id));
        }
        if let Some(id) = scope.strip_prefix("crio-") {
            return hex_id(id).map(|id| (Runtime::CriO, id));
        }
        if let Some(id) = scope.strip_prefix("libpod-") {
            return hex_id(id).map(|id| (Runtime::Podman, id));
        }
        if prev == "machine.slice"
            && let Some(escaped) = scope.strip_prefix("machine-")
        {
            let name = unit_unescape(escaped)?;
            if name.starts_with("qemu-") {
                return None;
            }
            return is_machine_name(&name).then_some((Runtime::Nspawn, name));
        }
        return None;
    }
    if prev == "machine.slice"
        && let Some(service) = comp.strip_suffix(".service")
        && let Some(escaped) = service.strip_prefix("systemd-nspawn@")
    {
        let name = unit_unescape(escaped)?;
        return is_machine_name(&name).then_some((Runtime::Nspawn, name));
    }
    // cgroupfs drivers.
    if prev == "docker" {
        return hex_id(comp).map(|id| (Runtime::Docker, id));
    }
    if let Some(id) = comp.strip_prefix("crio-") {
        return hex_id(id).map(|id| (Runtime::CriO, id));
    }
    if let Some(id) = comp.strip_prefix("libpod-") {
        return hex_id(id).map(|id| (Runtime::Podman, id));
    }
    if in_pod && is_hex64(comp) {
        return Some((Runtime::Kubernetes, comp.to_string()));
    }
    // LXC 4+ (src/lxc/cgroups/cgfsng.c: "lxc.payload.%s"), and older LXC
    // and LXD ("/lxc/%s").
    if let Some(name) = comp.strip_prefix("lxc.payload.") {
        return is_lxc_name(name).then(|| (Runtime::Lxc, name.to_string()));
    }
    if prev == "lxc" || prev == "lxc.payload" {
        return is_lxc_name(comp).then(|| (Runtime::Lxc, comp.to_string()));
    }
    None
}

/// 64 lowercase hex digits: a Docker, containerd, CRI-O or Podman id.
fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A pod UID: a UUID (8-4-4-4-12 hex digits) or, for a static pod, 32 hex
/// digits (the kubelet's hash of its manifest).
fn is_pod_uid(s: &str) -> bool {
    let hex = |b: u8| matches!(b, b'0'..=b'9' | b'a'..=b'f');
    match s.len() {
        32 => s.bytes().all(hex),
        36 => s
            .bytes()
            .enumerate()
            .all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { hex(b) }),
        _ => false,
    }
}

/// A machine name as systemd-machined accepts it (hostname_is_valid):
/// 1-64 characters of `A-Za-z0-9-_.`, not starting with `.`.
fn is_machine_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An LXC container name: 1-256 bytes, no control characters (LXC refuses
/// `/` in names; the rest is shown escaped).
fn is_lxc_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= crate::model::MAX_NAME_BYTES
        && s != "."
        && s != ".."
        && !s.chars().any(char::is_control)
}

/// Undoes systemd's unit name escaping (`\x2d` for `-`); `None` when an
/// escape is malformed or the result is not UTF-8.
fn unit_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) != Some(&b'x') {
                return None;
            }
            let digits = b.get(i + 2..i + 4)?;
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(digits).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

