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
    /// Each process asked about: a process holds many sockets.
    by_pid: HashMap<u32, Option<Arc<Container>>>,
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
            by_pid: HashMap::new(),
            by_ref: HashMap::new(),
            pods: None,
            storage: None,
            notes: Vec::new(),
        }
    }

    /// The container of process `pid`, from `<proc_root>/<pid>/cgroup`
    /// (read once per pid and resolver). `None` when the process is in
    /// none, is gone or cannot be read.
    pub fn of_pid(&mut self, proc_root: &Path, pid: u32) -> Option<Arc<Container>> {
        if let Some(known) = self.by_pid.get(&pid) {
            return known.clone();
        }
        let path = proc_root.join(pid.to_string()).join("cgroup");
        let found = match read_bounded(&path, MAX_CGROUP_FILE) {
            Ok(content) => self.of_cgroup(&content),
            Err(_) => None,
        };
        self.by_pid.insert(pid, found.clone());
        found
    }

    /// The container a `/proc/PID/cgroup` text names.
    pub fn of_cgroup(&mut self, content: &[u8]) -> Option<Arc<Container>> {
        let r = parse_cgroup(content)?;
        Some(self.of_ref(r))
    }

    /// The container a parsed cgroup path names, with its metadata.
    pub fn of_ref(&mut self, r: CgroupRef) -> Arc<Container> {
        if let Some(found) = self.by_ref.get(&r) {
            return found.clone();
        }
        let c = Arc::new(self.resolve(&r));
        self.by_ref.insert(r, c.clone());
        c
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
///
/// A path ending at a pod's cgroup names the pod (runtime Kubernetes, id
/// the pod UID); nspawn's own `supervisor` cgroup names nothing.
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
    let mut pod_is_last = false;
    for comp in path.split('/') {
        pod_is_last = false;
        if let Some(uid) = pod_of(comp, in_kubepods) {
            pod = Some(uid);
            pod_is_last = true;
        } else if let Some((runtime, id)) = container_of(comp, prev, pod.is_some()) {
            found = Some((runtime, id, pod.clone()));
        } else if comp == "supervisor" && prev.starts_with("systemd-nspawn@") {
            // systemd-nspawn itself (src/nspawn/nspawn-cgroup.c puts it in
            // `supervisor`, the container in `payload`), like conmon: not
            // the container.
            found = None;
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
        // In the pod's own cgroup (cgroupfs driver), not below it in
        // something else (CRI-O's conmon scope).
        (None, Some(uid)) if pod_is_last => Some(CgroupRef {
            runtime: Runtime::Kubernetes,
            id: uid.clone(),
            pod_uid: Some(uid),
        }),
        (None, _) => None,
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
        // systemd cgroup driver: runc/libcontainer names the scope
        // `<ScopePrefix>-<id>.scope`; dockerd sets the prefix `docker`,
        // containerd's CRI `cri-containerd`, CRI-O `crio` (its conmon
        // `crio-conmon-<id>`), Podman `libpod` (`libpod-conmon-<id>`).
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
        // systemd-machined's scope for a registered machine
        // (src/machine/machine.c: `machine-<unit-escaped name>.scope`).
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
    // The systemd-nspawn@.service template unit (`machinectl start NAME`).
    if prev == "machine.slice"
        && let Some(service) = comp.strip_suffix(".service")
        && let Some(escaped) = service.strip_prefix("systemd-nspawn@")
    {
        let name = unit_unescape(escaped)?;
        return is_machine_name(&name).then_some((Runtime::Nspawn, name));
    }
    // cgroupfs drivers: dockerd's cgroup parent `/docker` (moby daemon/daemon_unix.go),
    // CRI-O's `crio-<id>`, Podman's `libpod_parent/libpod-<id>`.
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
        36 => s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                hex(b)
            }
        }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MAX_NAME_BYTES;
    use proptest::prelude::*;

    const DOCKER_WEB: &str = "f31f384749f9115acf01fcf82f5a966b59dcc0a4cbd7c9740888c0bf32aa2bbb";
    const DOCKER_DB: &str = "aed4cebcaf364cb3d8e610e862b1e5ecdeae9c59aaab8913729ae5647465b7bc";
    const DOCKER_OLD: &str = "1f5e86fc650fe006eeb67c7267cf8b740c58cfee68f367f1583d32d72465f059";
    const CTRD_NGINX: &str = "9e31278b3013ac69aaf305a5231b01105e17489d852569544c59ea1e02887367";
    const CTRD_SIDECAR: &str = "f7fb7f8ef2338177eb0e6d759e3882cfee766d6acc330c36f6a30abbf6c13f1a";
    const CRIO_APP: &str = "610713dca419d7deb83a1246d0c1ee0ac2e23b81cbb29bba37147e88e1848cda";
    const CRIO_APP2: &str = "5dac6b3b263be797554a7f6fefe59c818a7c36720cb550a9b3e426dbcf621add";
    const PODMAN_WEB: &str = "f9d688036191e04636c64024ce221730446495d6568b72e14d6ebc8aa23e434f";
    const PODMAN_ROOTLESS: &str =
        "56dfa3bc944415a972b0fe05883435f6f061150cc65600d923a24fd565932362";
    const PODMAN_PARENT: &str = "e7b66482fb8cd3de796d9804163f52c0905070d1d89a72be46e6ee034bd23864";
    const K8S_BARE: &str = "7009672f66485d6cf59b1b57ad34947e5d07e5f2c66cc0363070e76bcefb7da1";
    const K8S_DOCKER: &str = "bacfd3abce0724663fdd5182a15e26aa4f2f88a4e65e4acc875b4a4196ac6c7b";
    const K8S_STATIC: &str = "4275f839f8121c8bad758ac6f295becf73466abac7a0b2fac29a60d401c86165";
    const K8S_KIND: &str = "aa626bc6479577b52513ce93b839fa531e6a9a0e2e21617da4fb33c6d7da1efc";

    fn tree(runtime: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/containers")
            .join(runtime)
    }

    /// The resolver over one fixture tree, and the container of each pid.
    struct Fixture {
        root: PathBuf,
        resolver: Containers,
    }

    impl Fixture {
        fn new(runtime: &str) -> Self {
            let root = tree(runtime);
            Fixture {
                resolver: Containers::new(ContainerPaths::under(&root)),
                root,
            }
        }
        fn pid(&mut self, pid: u32) -> Option<Arc<Container>> {
            self.resolver.of_pid(&self.root.join("proc"), pid)
        }
    }

    /// One line per container: `runtime short-id name [pod uid namespace/name]`
    /// (`-` for what is unknown); the full id is checked apart.
    fn summary(c: &Container) -> String {
        let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        let mut s = format!("{} {} {}", c.runtime, c.short_id(), opt(&c.name));
        if let Some(p) = &c.pod {
            s += &format!(" pod {} {}/{}", p.uid, opt(&p.namespace), opt(&p.name));
        }
        s
    }

    #[test]
    fn docker() {
        let mut f = Fixture::new("docker");
        let web = f.pid(1001).unwrap();
        assert_eq!(summary(&web), "docker f31f384749f9 web-1");
        assert_eq!((web.id.as_str(), web.label()), (DOCKER_WEB, "web-1".into()));
        // v1 hybrid, systemd driver.
        let db = f.pid(1002).unwrap();
        assert_eq!(summary(&db), "docker aed4cebcaf36 db");
        assert_eq!(db.id, DOCKER_DB);
        // v1 cgroupfs driver: /docker/<id> on name=systemd, `0::/`.
        let old = f.pid(1003).unwrap();
        assert_eq!(summary(&old), "docker 1f5e86fc650f legacy_app");
        assert_eq!(old.id, DOCKER_OLD);
        // A service inside a container running systemd: still that container,
        // and the same record (cached per id).
        let inner = f.pid(1004).unwrap();
        assert!(Arc::ptr_eq(&inner, &web));
        // dockerd itself and a login session: no container.
        assert_eq!(f.pid(1005), None);
        assert_eq!(f.pid(1006), None);
        // A process that does not exist.
        assert_eq!(f.pid(1), None);
        assert!(f.resolver.notes().is_empty(), "{:?}", f.resolver.notes());
    }

    #[test]
    fn containerd_in_kubernetes() {
        let mut f = Fixture::new("containerd");
        let c = f.pid(2001).unwrap();
        assert_eq!(
            summary(&c),
            "containerd 9e31278b3013 - pod 1b4e28ba-2fa1-11d2-883f-0016d3cca427 prod/web-7d4b9c"
        );
        assert_eq!(
            (c.id.as_str(), c.label()),
            (CTRD_NGINX, "prod/web-7d4b9c".into())
        );
        // Guaranteed QoS (kubepods-pod<uid>.slice), v1; the pod has no log
        // directory: a pod without names.
        let c = f.pid(2002).unwrap();
        assert_eq!(
            summary(&c),
            "containerd f7fb7f8ef233 - pod 6f1c2a3b-4d5e-4f60-8172-93a4b5c6d7e8 -/-"
        );
        assert_eq!(c.id, CTRD_SIDECAR);
        assert_eq!(c.label(), "containerd:f7fb7f8ef233");
    }

    #[test]
    fn crio() {
        let mut f = Fixture::new("crio");
        let uid = "8c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e";
        let c = f.pid(3001).unwrap();
        assert_eq!(
            summary(&c),
            format!("cri-o 610713dca419 k8s_app_cart-0_shop_{uid}_0 pod {uid} shop/cart-0")
        );
        assert_eq!(c.id, CRIO_APP);
        // conmon, in the pod's slice: not the container, nor the pod.
        assert_eq!(f.pid(3002), None);
        // cgroupfs driver, v1.
        let c = f.pid(3003).unwrap();
        assert_eq!(
            summary(&c),
            format!("cri-o 5dac6b3b263b k8s_app2_cart-0_shop_{uid}_0 pod {uid} shop/cart-0")
        );
        assert_eq!(c.id, CRIO_APP2);
    }

    #[test]
    fn podman() {
        let mut f = Fixture::new("podman");
        let c = f.pid(4001).unwrap();
        assert_eq!(summary(&c), "podman f9d688036191 webapp");
        assert_eq!(c.id, PODMAN_WEB);
        assert_eq!(f.pid(4002), None, "conmon");
        // Rootless, in the container's own sub-cgroup; not in the rootful
        // storage: no name.
        let c = f.pid(4003).unwrap();
        assert_eq!(summary(&c), "podman 56dfa3bc9444 -");
        assert_eq!(
            (c.id.as_str(), c.label()),
            (PODMAN_ROOTLESS, "podman:56dfa3bc9444".into())
        );
        // cgroupfs (libpod_parent), v1; the first non-empty name.
        let c = f.pid(4004).unwrap();
        assert_eq!(summary(&c), "podman e7b66482fb8c cache");
        assert_eq!(c.id, PODMAN_PARENT);
        // In a Podman pod's slice (machine-libpod_pod_<pod id>.slice).
        let c = f.pid(4005).unwrap();
        assert_eq!(summary(&c), "podman 2c7dc02dfb8c shop-db");
        // A missing storage root before the real one changes nothing.
        let mut paths = ContainerPaths::under(&tree("podman"));
        paths.podman.insert(0, tree("podman").join("nowhere"));
        let mut r = Containers::new(paths);
        let c = r.of_pid(&tree("podman").join("proc"), 4001).unwrap();
        assert_eq!(c.name.as_deref(), Some("webapp"));
    }

    #[test]
    fn kubernetes_cgroupfs() {
        let mut f = Fixture::new("kubernetes");
        let uid = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";
        // Bare id under the pod: the runtime is not told.
        let c = f.pid(5001).unwrap();
        assert_eq!(
            summary(&c),
            format!("kubernetes 7009672f6648 - pod {uid} default/api-6b8f")
        );
        assert_eq!(
            (c.id.as_str(), c.label()),
            (K8S_BARE, "default/api-6b8f".into())
        );
        // ... unless Docker's metadata knows the id.
        let c = f.pid(5002).unwrap();
        assert_eq!(
            summary(&c),
            format!(
                "docker bacfd3abce07 k8s_api_api-6b8f_default_{uid}_0 pod {uid} default/api-6b8f"
            )
        );
        assert_eq!(c.id, K8S_DOCKER);
        // A static pod (32 hex digits), guaranteed QoS.
        let c = f.pid(5003).unwrap();
        assert_eq!(
            summary(&c),
            "kubernetes 4275f839f812 - pod d2c3a61c3e2b4f0f9a1e6b2c7d8e9f01 kube-system/etcd-node1"
        );
        assert_eq!(c.id, K8S_STATIC);
        // kind's kubelet-kubepods prefix, systemd driver.
        let c = f.pid(5004).unwrap();
        assert_eq!(
            summary(&c),
            "containerd aa626bc64795 - pod 3b4c5d6e-7f80-4a91-8b2c-3d4e5f607182 \
             local-path-storage/local-path-provisioner-7b9f"
        );
        assert_eq!(c.id, K8S_KIND);
        // In the pod's cgroup, in none of its containers: the pod.
        let c = f.pid(5005).unwrap();
        assert_eq!(
            summary(&c),
            format!("kubernetes 2a3b4c5d-6e7 - pod {uid} default/api-6b8f")
        );
        assert_eq!(c.id, uid);
    }

    #[test]
    fn nspawn() {
        let mut f = Fixture::new("nspawn");
        let c = f.pid(6001).unwrap();
        assert_eq!(summary(&c), "systemd-nspawn debian debian");
        assert_eq!(c.id, "debian");
        // machined's scope, the name unit-escaped.
        let c = f.pid(6002).unwrap();
        assert_eq!(summary(&c), "systemd-nspawn fedora-40 fedora-40");
        let c = f.pid(6003).unwrap();
        assert_eq!(summary(&c), "systemd-nspawn arch-box arch-box");
        assert_eq!(c.label(), "arch-box");
        // A libvirt VM, and nspawn's own supervisor: not containers.
        assert_eq!(f.pid(6004), None);
        assert_eq!(f.pid(6005), None);
    }

    #[test]
    fn lxc() {
        let mut f = Fixture::new("lxc");
        let c = f.pid(7001).unwrap();
        assert_eq!(summary(&c), "lxc web web");
        assert_eq!(c.id, "web");
        let c = f.pid(7002).unwrap();
        assert_eq!(summary(&c), "lxc db db");
        assert_eq!(f.pid(7003), None, "the monitor");
        let c = f.pid(7004).unwrap();
        assert_eq!(summary(&c), "lxc cache cache");
    }

    #[test]
    fn hostile_paths_name_no_container() {
        let mut f = Fixture::new("hostile");
        for pid in [
            9001, 9002, 9003, 9004, 9005, 9013, 9014, 9015, 9016, 9017, 9018, 9019,
        ] {
            assert_eq!(f.pid(pid), None, "pid {pid}");
        }
    }

    fn hostile_name(pid: u32) -> (Option<String>, Vec<String>) {
        let mut f = Fixture::new("hostile");
        let c = f.pid(pid).unwrap();
        assert_eq!(c.runtime, Runtime::Docker);
        let notes = f.resolver.notes().iter().map(|n| n.to_string()).collect();
        (c.name.clone(), notes)
    }

    #[test]
    fn hostile_names_are_kept_bounded_and_raw() {
        // Escapes, BEL, newline, RLO, CR, NUL: kept as they are (the output
        // layer escapes them).
        let (name, notes) = hostile_name(9006);
        assert_eq!(
            name.as_deref(),
            Some("\u{1b}]0;pwned\u{7}web\n\u{202e}exe.txt\r\0")
        );
        assert!(notes.is_empty());
        let (name, _) = hostile_name(9007);
        assert_eq!(name.unwrap(), "x".repeat(MAX_NAME_BYTES));
    }

    #[test]
    fn broken_metadata_gives_a_container_without_a_name() {
        for (pid, note) in [
            (9008, Some("is not the JSON expected")),
            (9009, Some("is not the JSON expected")),
            (9010, Some("a character device, not a regular file")),
            (9011, Some("a directory")),
            (9012, Some("is not the JSON expected")),
            // Invalid UTF-8 inside the name's string.
            (9022, Some("is not the JSON expected")),
            (9020, None),
            (9021, None),
        ] {
            let (name, notes) = hostile_name(pid);
            assert_eq!(name, None, "pid {pid}");
            match note {
                Some(n) => {
                    assert_eq!(notes.len(), 1, "pid {pid}: {notes:?}");
                    assert!(notes[0].contains("config.v2.json"), "{notes:?}");
                    let full = f_note(pid);
                    assert!(full.contains(n), "pid {pid}: {full}");
                }
                None => assert!(notes.is_empty(), "pid {pid}: {notes:?}"),
            }
        }
    }

    /// The first note of the hostile tree's `pid`, with its causes.
    fn f_note(pid: u32) -> String {
        let mut f = Fixture::new("hostile");
        f.pid(pid);
        error_chain(f.resolver.notes().first().unwrap())
    }

    fn error_chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            s.push_str(": ");
            s.push_str(&c.to_string());
            cause = c.source();
        }
        s
    }

    /// A private scratch tree under the system's temp directory, removed
    /// when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let p = std::env::temp_dir()
                .join(format!("sockscope-containers-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn huge_config_gives_no_name() {
        let s = Scratch::new("huge");
        let dir = s.0.join("var/lib/docker/containers").join(DOCKER_WEB);
        std::fs::create_dir_all(&dir).unwrap();
        // Valid JSON, one byte over the limit.
        let pad = MAX_DOCKER_CONFIG as usize - r#"{"Name":"/big","X":""}"#.len() + 1;
        let json = format!(r#"{{"Name":"/big","X":"{}"}}"#, "a".repeat(pad));
        std::fs::write(dir.join("config.v2.json"), &json).unwrap();
        let mut r = Containers::new(ContainerPaths::under(&s.0));
        let cg = format!("0::/system.slice/docker-{DOCKER_WEB}.scope\n");
        let c = r.of_cgroup(cg.as_bytes()).unwrap();
        assert_eq!(c.name, None);
        let note = error_chain(&r.notes()[0]);
        assert!(note.contains("larger than 4194304 bytes"), "{note}");
        // At the limit it is read.
        let json = format!(r#"{{"Name":"/big","X":"{}"}}"#, "a".repeat(pad - 1));
        assert_eq!(json.len() as u64, MAX_DOCKER_CONFIG);
        std::fs::write(dir.join("config.v2.json"), &json).unwrap();
        let mut r = Containers::new(ContainerPaths::under(&s.0));
        assert_eq!(
            r.of_cgroup(cg.as_bytes()).unwrap().name.as_deref(),
            Some("big")
        );
    }

    #[test]
    fn each_pid_is_read_once() {
        let s = Scratch::new("pids");
        let dir = s.0.join("proc/42");
        std::fs::create_dir_all(&dir).unwrap();
        let cg = format!("0::/system.slice/docker-{DOCKER_WEB}.scope\n");
        std::fs::write(dir.join("cgroup"), cg).unwrap();
        let mut r = Containers::new(ContainerPaths::under(&s.0));
        let first = r.of_pid(&s.0.join("proc"), 42).unwrap();
        std::fs::remove_file(dir.join("cgroup")).unwrap();
        let again = r.of_pid(&s.0.join("proc"), 42).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(r.of_pid(&s.0.join("proc"), 43), None);
    }

    #[test]
    fn hostile_pod_directories() {
        use std::ffi::OsStr;
        let s = Scratch::new("pods");
        let logs = s.0.join("var/log/pods");
        let uid1 = "11111111-2222-4333-8444-555555555555";
        let uid2 = "66666666-7777-4888-9999-000000000000";
        let mut bad_ns = b"n\xffs\x1b[2J".to_vec();
        bad_ns.extend_from_slice(format!("_web\u{202e}1_{uid1}").as_bytes());
        std::fs::create_dir_all(logs.join(OsStr::from_bytes(&bad_ns))).unwrap();
        // A file name is at most 255 bytes: the longest pod name fits whole.
        let long = "p".repeat(255 - 4 - 36);
        std::fs::create_dir_all(logs.join(format!("ns_{long}_{uid2}"))).unwrap();
        // Not pods: no uid, a forged uid, too few parts.
        std::fs::create_dir_all(logs.join("ns_pod_../../etc")).unwrap();
        std::fs::create_dir_all(logs.join(format!("_{uid1}"))).unwrap();
        std::fs::create_dir_all(logs.join("junk")).unwrap();
        let mut r = Containers::new(ContainerPaths::under(&s.0));
        let cg = |uid: &str| {
            format!(
                "0::/kubepods.slice/kubepods-pod{}.slice/cri-containerd-{CTRD_NGINX}.scope\n",
                uid.replace('-', "_")
            )
        };
        let c = r.of_cgroup(cg(uid1).as_bytes()).unwrap();
        let pod = c.pod.as_ref().unwrap();
        assert_eq!(pod.namespace.as_deref(), Some("n\u{fffd}s\u{1b}[2J"));
        assert_eq!(pod.name.as_deref(), Some("web\u{202e}1"));
        let c = r.of_cgroup(cg(uid2).as_bytes()).unwrap();
        let pod = c.pod.as_ref().unwrap();
        assert_eq!(pod.name.as_deref(), Some(long.as_str()));
        assert_eq!(r.pods.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn names_in_cgroup_paths() {
        // A bidi override is kept (escaped on output); a control character,
        // invalid UTF-8, `.` or an over-long name names nothing.
        let r = parse_cgroup("0::/lxc.payload.a\u{202e}b\n".as_bytes()).unwrap();
        assert_eq!((r.runtime, r.id.as_str()), (Runtime::Lxc, "a\u{202e}b"));
        assert_eq!(parse_cgroup(b"0::/lxc.payload.a\x1b[2Jb\n"), None);
        assert_eq!(parse_cgroup(b"0::/lxc.payload.a\xffb\n"), None);
        assert_eq!(parse_cgroup(b"0::/lxc/.\n"), None);
        let long = format!("0::/lxc.payload.{}\n", "n".repeat(MAX_NAME_BYTES + 1));
        assert_eq!(parse_cgroup(long.as_bytes()), None);
        // nspawn names are machine names: escapes decoded, then checked.
        let r = parse_cgroup(b"0::/machine.slice/machine-a\\x2db.scope\n").unwrap();
        assert_eq!(r.id, "a-b");
        assert_eq!(
            parse_cgroup(b"0::/machine.slice/machine-a\\x1bb.scope\n"),
            None
        );
        assert_eq!(
            parse_cgroup(b"0::/machine.slice/machine-a\\x+fb.scope\n"),
            None
        );
        assert_eq!(
            parse_cgroup(b"0::/machine.slice/systemd-nspawn@.service\n"),
            None
        );
        // Outside machine.slice, a machine scope is not one.
        assert_eq!(parse_cgroup(b"0::/user.slice/machine-web.scope\n"), None);
    }

    #[test]
    fn line_choice() {
        let a = format!("docker-{DOCKER_WEB}.scope");
        let b = format!("docker-{DOCKER_DB}.scope");
        // name=systemd wins over an earlier line.
        let text = format!("3:memory:/system.slice/{a}\n1:name=systemd:/system.slice/{b}\n0::/\n");
        assert_eq!(parse_cgroup(text.as_bytes()).unwrap().id, DOCKER_DB);
        // Else the first line that names one.
        let text = format!(
            "3:memory:/\n2:pids:/system.slice/{a}\n1:name=systemd:/init.scope\n0::/x/{b}\n"
        );
        assert_eq!(parse_cgroup(text.as_bytes()).unwrap().id, DOCKER_WEB);
        // A cgroup name with ':' is still one path.
        let text = format!("0::/a:b/{a}");
        assert_eq!(parse_cgroup(text.as_bytes()).unwrap().id, DOCKER_WEB);
        assert_eq!(parse_cgroup(b""), None);
        assert_eq!(parse_cgroup(b"0::/\n"), None);
    }

    /// The live /proc: every process's cgroup file reads and parses (the
    /// count found is shown, not checked: a host may run containers, and
    /// the tests may run in one).
    #[test]
    fn live_proc() {
        let start = std::time::Instant::now();
        let mut r = Containers::new(ContainerPaths::default());
        let (mut procs, mut found) = (0, 0);
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            procs += 1;
            found += usize::from(r.of_pid(Path::new("/proc"), pid).is_some());
        }
        assert!(procs > 0);
        eprintln!(
            "live /proc: {procs} processes, {found} in a container, {:?}",
            start.elapsed()
        );
    }

    /// Valid lines of every runtime, for the property test's mutations.
    fn valid_lines() -> Vec<String> {
        let uid = "1b4e28ba_2fa1_11d2_883f_0016d3cca427";
        vec![
            format!("0::/system.slice/docker-{DOCKER_WEB}.scope"),
            format!("1:name=systemd:/docker/{DOCKER_OLD}"),
            format!(
                "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice/cri-containerd-{CTRD_NGINX}.scope"
            ),
            format!("0::/kubepods.slice/kubepods-pod{uid}.slice/crio-{CRIO_APP}.scope"),
            format!("0::/machine.slice/libpod-{PODMAN_WEB}.scope/container"),
            format!(
                "4:pids:/kubepods/burstable/pod1b4e28ba-2fa1-11d2-883f-0016d3cca427/{K8S_BARE}"
            ),
            "0::/machine.slice/systemd-nspawn@debian.service/payload".to_string(),
            "0::/machine.slice/machine-fedora\\x2d40.scope".to_string(),
            "0::/lxc.payload.web/init.scope".to_string(),
            "2:cpu,cpuacct:/lxc/db".to_string(),
        ]
    }

    #[test]
    fn every_valid_line_names_a_container() {
        for l in valid_lines() {
            assert!(parse_cgroup(l.as_bytes()).is_some(), "{l}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_cgroup(&data);
        }

        #[test]
        fn never_panics_on_mutated_lines(
            which in 0usize..10,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let mut line = valid_lines()[which].clone().into_bytes();
            for (pos, byte, op) in edits {
                let at = pos % (line.len() + 1);
                match op {
                    0 => line.insert(at, byte),
                    1 if at < line.len() => { line.remove(at); }
                    _ if at < line.len() => line[at] = byte,
                    _ => {}
                }
            }
            if let Some(r) = parse_cgroup(&line) {
                // Whatever is found is well formed.
                if !r.runtime.ids_are_names() && r.pod_uid.as_deref() != Some(r.id.as_str()) {
                    prop_assert!(is_hex64(&r.id), "{:?}", r);
                }
                if let Some(uid) = &r.pod_uid {
                    prop_assert!(is_pod_uid(uid), "{:?}", r);
                }
                prop_assert!(!r.id.contains('/') && r.id != ".." && r.id != ".");
            }
        }
    }
}
