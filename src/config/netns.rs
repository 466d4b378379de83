//! Which network namespaces a run reads (a system fact, read once with the
//! others): `-N NAME|PATH|pid:PID`, `--all-netns`, `--container`, and the
//! namespaces of the processes `--pid`/`--comm`/`--process` name. Each
//! gets its id and its best name: `host` for PID 1's, else its `ip netns`
//! name, its container's, `pid:N` of a process in it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cli::Cli;
use crate::model::{Container, Netns, NetnsId, NetnsName};
use crate::pipeline::netns::{Namespaces, NetnsTarget, Reach};
use crate::source::containers::{ContainerPaths, Containers};
use crate::source::netns::{self, Discovery, Found, NetnsDirs, NetnsError, NsFile};
use crate::source::owners;
use crate::text::escape;

/// A namespace the command line names that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetnsArgError {
    #[error("no network namespace named {0:?} under /run/netns (see `ip netns list`)")]
    UnknownName(String),
    #[error("invalid network namespace name {0:?}")]
    BadName(String),
    #[error("{0}: not a network namespace")]
    NotNetns(String),
    #[error("{0}")]
    Missing(String),
    #[error("invalid pid in {0:?}: expected pid:NUMBER")]
    BadPid(String),
    #[error("pid:{0}: no such process")]
    NoProcess(u32),
    /// (The text says why: [`denied`].)
    #[error("{0}")]
    Denied(String),
    #[error("--container {0:?}: no running container has that name or id")]
    NoContainer(String),
    #[error("cannot list the network namespaces: {0}")]
    Discover(String),
}

impl NetnsArgError {
    /// A refusal (exit 3) rather than a bad name (exit 2).
    pub fn is_permission(&self) -> bool {
        matches!(self, NetnsArgError::Denied(_) | NetnsArgError::Discover(_))
    }
}

/// The command line asks for namespaces other than sockscope's own (or
/// for the namespaces of processes).
pub fn wanted(cli: &Cli) -> bool {
    every(cli)
        || !cli.net.is_empty()
        || !cli.container.is_empty()
        || !cli.pid.is_empty()
        || cli.comm.is_some()
        || cli.process.is_some()
}

/// Every namespace is a candidate: `--all-netns`, or a filter that
/// selects by namespace or container (`netns NAME`, `container NAME`:
/// decided per namespace before it is read).
fn every(cli: &Cli) -> bool {
    cli.all_netns
        || cli.net.is_empty()
            && cli.filter.iter().any(|w| {
                w.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
                    .any(|word| word == "netns" || word == "container")
            })
}

/// The namespace of the calling thread, named.
pub fn own(proc_root: &Path) -> Netns {
    let id =
        netns::id_of(Path::new("/proc/thread-self/ns/net")).unwrap_or(NetnsId { dev: 0, inode: 0 });
    // Not root: neither PID 1's link nor kthreadd's can be read; the host
    // is the likely guess.
    let init = netns::init_id(proc_root);
    Netns {
        id,
        name: match init {
            Some(init) if init != id => NetnsName::Pid(std::process::id()),
            _ => NetnsName::Host,
        },
        container: None,
    }
}

/// What a namespace is called, from what is known about it.
fn name_of(
    id: NetnsId,
    me: &Netns,
    found: &Found,
    d: &Discovery,
    container: Option<&Container>,
) -> NetnsName {
    // PID 1's; or sockscope's own when PID 1's cannot be read (as own()).
    if d.init == Some(id) || (d.init.is_none() && id == me.id && me.name == NetnsName::Host) {
        NetnsName::Host
    } else if let Some(ip) = found.ip_names.first() {
        NetnsName::Ip(ip.clone())
    } else if let Some(c) = container {
        // A pod's containers share its namespace: the pod names it.
        match c
            .pod
            .as_ref()
            .and_then(|p| Some((p.namespace.as_ref()?, p.name.as_ref()?)))
        {
            Some((ns, pod)) => NetnsName::Container(format!("{ns}/{pod}")),
            None => NetnsName::Container(c.label()),
        }
    } else if let Some(docker) = found.docker.first() {
        NetnsName::Docker(docker.clone())
    } else if let Some(pid) = found.pids.first() {
        NetnsName::Pid(*pid)
    } else {
        NetnsName::Inode
    }
}

/// Chooses the namespaces for `cli`: every one read from `proc_root` and
/// the bind-mount directories under `host_root`.
pub fn choose(cli: &Cli, proc_root: &Path, host_root: &Path) -> Result<Namespaces, NetnsArgError> {
    let me = own(proc_root);
    if !wanted(cli) {
        return Ok(Namespaces::current(me));
    }
    let dirs = NetnsDirs::under(host_root);
    let d =
        netns::discover(proc_root, &dirs).map_err(|e| NetnsArgError::Discover(e.to_string()))?;
    // The container of every process seen (one cgroup file each): a row is
    // tagged with its owner's, a namespace with its lowest process's (the
    // host's with none: a container sharing it tags only its own rows).
    let mut resolver = Containers::new(ContainerPaths::under(host_root));
    let mut containers: HashMap<u32, Arc<Container>> = HashMap::new();
    for found in d.found.values() {
        for &pid in &found.pids {
            if let Some(c) = resolver.of_pid(proc_root, pid) {
                containers.insert(pid, c);
            }
        }
    }
    let host = d.init.or((me.name == NetnsName::Host).then_some(me.id));
    let container_of = |id: NetnsId, found: &Found| -> Option<Arc<Container>> {
        if Some(id) == host {
            return None;
        }
        found.pids.iter().find_map(|p| containers.get(p).cloned())
    };
    let mut notes = Vec::new();
    let mut chosen: Vec<(NetnsId, Found)> = Vec::new();
    let add = |id: NetnsId, found: Found, chosen: &mut Vec<(NetnsId, Found)>| {
        if !chosen.iter().any(|(c, _)| *c == id) {
            chosen.push((id, found));
        }
    };
    if every(cli) || !cli.container.is_empty() {
        // sockscope's own first, then the others in discovery order.
        if let Some(f) = d.found.get(&me.id) {
            add(me.id, f.clone(), &mut chosen);
        }
        for (id, f) in &d.found {
            add(*id, f.clone(), &mut chosen);
        }
        if d.denied > 0 {
            let why = if rustix::process::geteuid().is_root() {
                // A process with more privileges than ours (PID 1 of a
                // sandbox) refuses even root.
                "permission denied even to root"
            } else {
                "run as root to list every namespace"
            };
            notes.push(format!(
                "the network namespaces of {} process{} could not be seen ({why})",
                d.denied,
                if d.denied == 1 { "" } else { "es" }
            ));
        }
    }
    for arg in &cli.net {
        let (id, found) = resolve(arg, proc_root, &dirs, &d)?;
        add(id, found, &mut chosen);
    }
    if !every(cli) && cli.net.is_empty() && cli.container.is_empty() {
        // --pid / --comm: the namespaces those processes live in.
        add(
            me.id,
            d.found.get(&me.id).cloned().unwrap_or_default(),
            &mut chosen,
        );
        let mut pids: Vec<u32> = cli.pid.clone();
        if let Some(comm) = &cli.comm {
            pids.extend(
                d.found
                    .values()
                    .flat_map(|f| f.pids.iter().copied())
                    .filter(|p| comm_is(proc_root, *p, comm)),
            );
        }
        // An invalid regex is refused by Config::new, naming it.
        if let Some(Ok(re)) = cli.process.as_deref().map(regex::Regex::new) {
            pids.extend(
                d.found
                    .values()
                    .flat_map(|f| f.pids.iter().copied())
                    .filter(|p| process_matches(proc_root, *p, &re)),
            );
        }
        for pid in pids {
            for id in namespaces_of_process(proc_root, pid) {
                let found = d.found.get(&id).cloned().unwrap_or_default();
                add(id, found, &mut chosen);
            }
        }
    }
    let mut targets: Vec<NetnsTarget> = chosen
        .into_iter()
        .map(|(id, found)| {
            let container = container_of(id, &found);
            let netns = Netns {
                id,
                name: name_of(id, &me, &found, &d, container.as_deref()),
                container,
            };
            let reach = if id == me.id {
                Reach::Current
            } else {
                Reach::Enter {
                    paths: found.paths(proc_root, &dirs),
                    pid: found.pids.first().copied(),
                }
            };
            NetnsTarget {
                netns: Arc::new(netns),
                reach,
            }
        })
        .collect();
    if !cli.container.is_empty() {
        // The namespaces those containers live in, or share (a container
        // on the host's network lives in the host's).
        let wanted = |c: &Container| cli.container.iter().any(|w| c.matches(w));
        targets.retain(|t| {
            t.netns.container.as_deref().is_some_and(wanted)
                || d.found.get(&t.netns.id).is_some_and(|f| {
                    f.pids
                        .iter()
                        .any(|p| containers.get(p).is_some_and(|c| wanted(c)))
                })
        });
        if targets.is_empty() {
            return Err(NetnsArgError::NoContainer(
                escape(&cli.container.join(",")).into_owned(),
            ));
        }
    }
    notes.extend(
        resolver
            .notes()
            .iter()
            .map(|e| format!("container metadata: {e}")),
    );
    let tagged = every(cli) || !cli.container.is_empty() || targets.len() > 1;
    Ok(Namespaces {
        targets,
        tagged,
        notes,
        containers: Arc::new(containers),
        only_containers: cli.container.clone(),
        named: !cli.net.is_empty() && !every(cli) && cli.container.is_empty(),
    })
}

/// The namespaces a process's sockets live in (its own, and any socket's
/// made elsewhere), or, when its descriptors cannot be looked at that way
/// (another user's process, a recorded /proc), the namespace it lives in.
fn namespaces_of_process(proc_root: &Path, pid: u32) -> Vec<NetnsId> {
    let live = proc_root == Path::new("/proc");
    match live.then(|| netns::socket_namespaces(proc_root, pid)) {
        Some(Ok(ids)) if !ids.is_empty() => ids,
        _ => netns::id_of(&proc_root.join(pid.to_string()).join("ns/net"))
            .into_iter()
            .collect(),
    }
}

/// True when `re` matches /proc/PID/comm or its command line (NULs as
/// spaces), as `--process` does.
fn process_matches(proc_root: &Path, pid: u32, re: &regex::Regex) -> bool {
    let dir = proc_root.join(pid.to_string());
    re.is_match(&String::from_utf8_lossy(&owners::read_comm(&dir)))
        || re.is_match(&String::from_utf8_lossy(&owners::read_cmdline(&dir)))
}

/// True when /proc/PID/comm is `comm`.
fn comm_is(proc_root: &Path, pid: u32, comm: &str) -> bool {
    owners::read_comm(&proc_root.join(pid.to_string())) == comm.as_bytes()
}

/// A refusal, with the hint that helps: root sees other users'
/// namespaces (a process with more privileges than root's refuses even
/// root, as PID 1 of some sandboxes does).
fn denied(what: String) -> NetnsArgError {
    if rustix::process::geteuid().is_root() {
        NetnsArgError::Denied(format!("{what} (refused even to root)"))
    } else {
        NetnsArgError::Denied(format!(
            "{what} (run as root to read other users' namespaces)"
        ))
    }
}

/// The namespace one `-N` argument names.
fn resolve(
    arg: &str,
    proc_root: &Path,
    dirs: &NetnsDirs,
    d: &Discovery,
) -> Result<(NetnsId, Found), NetnsArgError> {
    let shown = escape(arg).into_owned();
    let path: PathBuf = if let Some(pid) = arg.strip_prefix("pid:") {
        let pid: u32 = pid
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| NetnsArgError::BadPid(shown.clone()))?;
        let path = proc_root.join(pid.to_string()).join("ns/net");
        return match netns::id_of(&path) {
            Ok(id) => {
                let mut found = d.found.get(&id).cloned().unwrap_or_default();
                if !found.pids.contains(&pid) {
                    found.pids.insert(0, pid);
                }
                Ok((id, found))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(NetnsArgError::NoProcess(pid))
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(denied(format!("pid:{pid}: {e}")))
            }
            Err(e) => Err(NetnsArgError::Missing(format!("pid:{pid}: {e}"))),
        };
    } else if arg.contains('/') {
        PathBuf::from(arg)
    } else {
        if arg.is_empty() || arg == "." || arg == ".." {
            return Err(NetnsArgError::BadName(shown));
        }
        let path = dirs.ip.join(arg);
        if !path.exists() {
            return Err(NetnsArgError::UnknownName(shown));
        }
        path
    };
    let file = NsFile::open(&path).map_err(|e| match e {
        NetnsError::NotNetns { .. } => NetnsArgError::NotNetns(shown.clone()),
        e if e.is_permission() => denied(e.to_string()),
        e => NetnsArgError::Missing(e.to_string()),
    })?;
    let mut found = d.found.get(&file.id).cloned().unwrap_or_default();
    // The path given reaches it first (it was just opened).
    found.path = Some(path);
    Ok((file.id, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::cli::tests::cli;

    /// Every bad `-N` is refused with its own error, and nothing under the
    /// root is created (a fake tree: a plain file where a bind mount
    /// would be is no namespace).
    #[test]
    fn bad_names_are_refused() {
        let root = std::env::temp_dir().join(format!("sockscope-netns-{}", std::process::id()));
        std::fs::create_dir_all(root.join("run/netns")).unwrap();
        std::fs::write(root.join("run/netns/stale"), b"").unwrap();
        let proc = Path::new("/proc");
        let choose = |args: &[&str]| choose(&cli(args), proc, &root);
        assert_eq!(
            choose(&["-N", "nope"]).unwrap_err(),
            NetnsArgError::UnknownName("nope".into())
        );
        assert_eq!(
            choose(&["-N", "stale"]).unwrap_err(),
            NetnsArgError::NotNetns("stale".into())
        );
        assert_eq!(
            choose(&["-N", ".."]).unwrap_err(),
            NetnsArgError::BadName("..".into())
        );
        for bad in ["pid:abc", "pid:0", "pid:", "pid:-1"] {
            assert_eq!(
                choose(&["-N", bad]).unwrap_err(),
                NetnsArgError::BadPid(bad.into()),
                "{bad}"
            );
        }
        assert_eq!(
            choose(&["-N", "pid:4294967295"]).unwrap_err(),
            NetnsArgError::NoProcess(u32::MAX)
        );
        assert!(matches!(
            choose(&["-N", "/etc/hostname"]).unwrap_err(),
            NetnsArgError::NotNetns(_)
        ));
        let names: Vec<_> = std::fs::read_dir(root.join("run/netns")).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing was created");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Without a namespace option the run reads its own namespace,
    /// untagged; `-N pid:SELF` names the same one.
    #[test]
    fn own_namespace_by_default_and_by_pid() {
        let root = Path::new("/");
        let own = choose(&cli(&["-tan"]), Path::new("/proc"), root).unwrap();
        assert_eq!(own.targets.len(), 1);
        assert!(!own.tagged && !own.named);
        assert_eq!(own.targets[0].reach, Reach::Current);
        let me = format!("pid:{}", std::process::id());
        let by_pid = choose(&cli(&["-N", &me]), Path::new("/proc"), root).unwrap();
        assert_eq!(by_pid.targets.len(), 1);
        assert_eq!(by_pid.targets[0].netns.id, own.targets[0].netns.id);
        assert!(by_pid.named && !by_pid.tagged);
    }
}
