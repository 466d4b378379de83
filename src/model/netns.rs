//! Network namespaces: which one a socket lives in ([`NetnsId`], the
//! device and inode of its nsfs file, as `stat -L /proc/PID/ns/net` shows)
//! and how it is called ([`Netns`]: its `ip netns` name, else its
//! container's, else `pid:N` of a process in it).

use std::sync::Arc;

use super::Container;

/// A network namespace: the nsfs device and inode. Two paths name the same
/// namespace when both agree (`/proc/*/ns/net`, `/run/netns/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetnsId {
    pub dev: u64,
    pub inode: u64,
}

/// Where a namespace's name comes from, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsName {
    /// The namespace of PID 1 (sockscope's own, when they agree).
    Host,
    /// A bind mount under /run/netns (`ip netns add`).
    Ip(String),
    /// The container whose processes live in it.
    Container(String),
    /// A bind mount under /run/docker/netns.
    Docker(String),
    /// A process living in it.
    Pid(u32),
    /// Nothing better: the namespace was named by a path (`-N PATH`) with
    /// no process and no name.
    Inode,
}

/// A network namespace, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netns {
    pub id: NetnsId,
    pub name: NetnsName,
    /// The container of the processes in it, if they run in one.
    pub container: Option<Arc<Container>>,
}

impl Netns {
    /// The namespace of records that come from no live namespace (a
    /// recording, a recorded /proc tree): inode 0, no name.
    pub fn unknown() -> Netns {
        Netns {
            id: NetnsId { dev: 0, inode: 0 },
            name: NetnsName::Inode,
            container: None,
        }
    }

    /// True for [`Netns::unknown`].
    pub fn is_unknown(&self) -> bool {
        self.id.inode == 0
    }

    /// The name shown (untrusted text for container and ip names: the
    /// printer escapes it).
    pub fn label(&self) -> String {
        match &self.name {
            NetnsName::Host => "host".to_owned(),
            NetnsName::Ip(n) | NetnsName::Container(n) => n.clone(),
            NetnsName::Docker(id) => format!("docker:{}", id.get(..12).unwrap_or(id)),
            NetnsName::Pid(pid) => format!("pid:{pid}"),
            NetnsName::Inode => format!("net:[{}]", self.id.inode),
        }
    }
}
