//! Host names and cgroups, as ss looks them up for filters and `-r`:
//! forward lookups of a filter's host names ([`resolve`], getaddrinfo:
//! /etc/hosts and whatever resolver nsswitch.conf names), reverse lookups
//! for `-r` ([`HostNames`], getnameinfo, cached) and the id of a cgroup v2
//! directory ([`cgroup_id`]).
//!
//! Lookups run on a thread of their own and are given up after
//! [`LOOKUP_TIMEOUT`]: a resolver that does not answer slows a run by that
//! much, once (after that `-r` shows numbers), never more (the thread is
//! left to finish alone).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long one lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1500);

/// Runs `f` on its own thread; `None` when it did not answer in time.
fn with_timeout<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("sockscope-lookup".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    match spawned {
        Ok(_) => rx.recv_timeout(LOOKUP_TIMEOUT).ok(),
        Err(_) => None,
    }
}

/// The addresses of host `name` (getaddrinfo through the standard
/// library), or why there are none.
pub fn resolve(name: &str) -> Result<Vec<IpAddr>, String> {
    let owned = name.to_owned();
    let answer = with_timeout(move || {
        (owned.as_str(), 0u16)
            .to_socket_addrs()
            .map(|it| it.map(|sa: SocketAddr| sa.ip()).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    });
    match answer {
        Some(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Some(Ok(_)) => Err("no address".into()),
        Some(Err(e)) => Err(e),
        None => Err(format!(
            "no answer within {} ms",
            LOOKUP_TIMEOUT.as_millis()
        )),
    }
}

/// Reverse lookups for `-r`, each address asked once per run, one after
/// another on one lookup thread (started at the first lookup).
#[derive(Debug, Default)]
pub struct HostNames {
    cache: HashMap<IpAddr, Option<String>>,
    worker: Option<Worker>,
    /// Set once a lookup timed out: the resolver is not answering, so the
    /// remaining addresses are shown as numbers instead of each waiting.
    stalled: bool,
}

#[derive(Debug)]
struct Worker {
    ask: mpsc::Sender<IpAddr>,
    answers: mpsc::Receiver<Option<String>>,
}

impl Worker {
    fn start() -> Option<Worker> {
        let (ask, questions) = mpsc::channel::<IpAddr>();
        let (tell, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("sockscope-names".into())
            .spawn(move || {
                // getnameinfo(NI_NAMEREQD): /etc/hosts, then whatever
                // nsswitch.conf names (DNS PTR queries among them).
                let flags = libc::NI_NAMEREQD | libc::NI_NUMERICSERV;
                for ip in questions {
                    let name = dns_lookup::getnameinfo(&SocketAddr::new(ip, 0), flags)
                        .ok()
                        .map(|(host, _)| host);
                    if tell.send(name).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker { ask, answers })
    }
}

impl HostNames {
    pub fn new() -> HostNames {
        HostNames::default()
    }

    /// The name of `ip`, or `None`. Wildcard addresses have none (ss shows
    /// them as numbers).
    pub fn name(&mut self, ip: IpAddr) -> Option<&str> {
        if ip.is_unspecified() {
            return None;
        }
        if !self.cache.contains_key(&ip) {
            let found = if self.stalled { None } else { self.ask(ip) };
            // An address for a name (a hosts line may say so) is none.
            let found = found.filter(|n| n.parse::<IpAddr>().is_err());
            self.cache.insert(ip, found);
        }
        self.cache.get(&ip).and_then(|n| n.as_deref())
    }

    fn ask(&mut self, ip: IpAddr) -> Option<String> {
        if self.worker.is_none() {
            self.worker = Worker::start();
        }
        let worker = self.worker.as_ref()?;
        worker.ask.send(ip).ok()?;
        match worker.answers.recv_timeout(LOOKUP_TIMEOUT) {
            Ok(name) => name,
            Err(_) => {
                self.stalled = true;
                None
            }
        }
    }
}

/// Why a cgroup path has no id.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup2 file system is mounted (see {mounts})")]
    NoMount { mounts: PathBuf },
    #[error("cgroup {path}: {source}")]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a cgroup2 directory")]
    NotCgroup { path: PathBuf },
}

/// statfs f_type of cgroup2 (include/uapi/linux/magic.h: CGROUP2_SUPER_MAGIC).
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// The cgroup v2 id of `path`, as ss finds it (lib/fs.c: get_cgroup2_id):
/// the path itself when it is a cgroup2 directory, else the path under
/// the first cgroup2 mount in `mounts` (`/system.slice` is
/// `/sys/fs/cgroup/system.slice` where cgroup2 is mounted there). The id
/// is the directory's inode number (kernfs ids, since Linux 5.5; what
/// name_to_handle_at gives ss).
pub fn cgroup_id(path: &str, mounts: &Path) -> Result<u64, CgroupError> {
    let on_cgroup2 = |p: &Path| -> Result<Option<u64>, CgroupError> {
        let st = rustix::fs::statfs(p).map_err(|e| CgroupError::Stat {
            path: p.to_owned(),
            source: e.into(),
        })?;
        if st.f_type as i64 != CGROUP2_SUPER_MAGIC {
            return Ok(None);
        }
        let meta = rustix::fs::stat(p).map_err(|e| CgroupError::Stat {
            path: p.to_owned(),
            source: e.into(),
        })?;
        Ok(Some(meta.st_ino))
    };
    let given = Path::new(path);
    if given.is_absolute()
        && given.exists()
        && let Ok(Some(id)) = on_cgroup2(given)
    {
        return Ok(id);
    }
    let text = std::fs::read_to_string(mounts).map_err(|e| CgroupError::Stat {
        path: mounts.to_owned(),
        source: e,
    })?;
    let mount = super::cgroups::cgroup2_mount(&text).ok_or_else(|| CgroupError::NoMount {
        mounts: mounts.to_owned(),
    })?;
    let under = mount.join(path.trim_start_matches('/'));
    match on_cgroup2(&under)? {
        Some(id) => Ok(id),
        None => Err(CgroupError::NotCgroup { path: under }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_numbers_and_localhost() {
        assert_eq!(
            resolve("127.0.0.1").unwrap(),
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        let lo = resolve("localhost").unwrap();
        assert!(lo.iter().any(|a| a.is_loopback()), "{lo:?}");
    }

    /// 127.0.0.1 is named by every /etc/hosts (localhost here); wildcards
    /// are never looked up; an answer is kept.
    #[test]
    fn reverse_names_are_cached() {
        let mut h = HostNames::new();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let name = h.name(lo).map(str::to_owned);
        assert!(name.is_some(), "127.0.0.1 has no name in /etc/hosts?");
        assert_eq!(h.name(lo).map(str::to_owned), name);
        assert_eq!(h.cache.len(), 1);
        assert_eq!(h.name("0.0.0.0".parse().unwrap()), None);
        assert_eq!(h.cache.len(), 1, "wildcards are not asked");
    }

    #[test]
    fn cgroup_ids_without_a_mount() {
        let dir = std::env::temp_dir().join(format!("sockscope-cg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounts = dir.join("mounts");
        std::fs::write(&mounts, "proc /proc proc rw 0 0\n").unwrap();
        let e = cgroup_id("/x", &mounts).unwrap_err();
        assert!(e.to_string().contains("no cgroup2"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
