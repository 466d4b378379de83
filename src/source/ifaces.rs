//! Network interfaces of the calling thread's network namespace: the one
//! place sockscope asks the system for interface names and indexes (nix's
//! safe wrapper of if_nameindex; rustix has no listing).

use nix::errno::Errno;

/// The interfaces listed once (if_nameindex), for the names a command line
/// gives (`dev eth0`, `[fe80::1%eth0]:80`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interfaces {
    /// (index, name as the kernel spells it: bytes).
    list: Vec<(u32, Vec<u8>)>,
}

impl Interfaces {
    /// Lists the interfaces of this network namespace.
    pub fn read() -> Result<Interfaces, Errno> {
        let list = nix::net::if_::if_nameindex()?
            .iter()
            .map(|i| (i.index(), i.name().to_bytes().to_vec()))
            .collect();
        Ok(Interfaces { list })
    }

    /// The index of the interface called `name`, as if_nametoindex.
    pub fn index(&self, name: &str) -> Option<u32> {
        self.list
            .iter()
            .find(|(_, n)| n.as_slice() == name.as_bytes())
            .map(|(i, _)| *i)
    }

    /// The name of interface `index` (lossy UTF-8).
    pub fn name(&self, index: u32) -> Option<String> {
        self.list
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, n)| String::from_utf8_lossy(n).into_owned())
    }

    /// Every name (lossy UTF-8, as the table shows them).
    pub fn names(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        self.list.iter().map(|(_, n)| String::from_utf8_lossy(n))
    }
}

/// The name of interface `index` (lossy UTF-8), `None` when there is no
/// such interface or the interfaces cannot be listed. From the listing:
/// nix 0.32's if_indextoname misses glibc's NULL return (its sentinel is
/// -1) and rustix's SIOCGIFNAME refuses a name that is not UTF-8.
pub fn name_of(index: u32) -> Option<String> {
    Interfaces::read().ok()?.name(index)
}

/// The addresses of this network namespace's interfaces (getifaddrs, which
/// asks the kernel with RTM_GETADDR on a netlink socket of the calling
/// thread, so of the namespace it is in): what `who` calls this host.
pub fn host_addresses() -> Result<Vec<std::net::IpAddr>, Errno> {
    let mut addrs = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs()? {
        let Some(address) = ifa.address else {
            continue;
        };
        if let Some(v4) = address.as_sockaddr_in() {
            addrs.push(std::net::IpAddr::V4(v4.ip()));
        } else if let Some(v6) = address.as_sockaddr_in6() {
            addrs.push(std::net::IpAddr::V6(v6.ip()));
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lo is index 1 in every network namespace.
    #[test]
    fn loopback_both_ways() {
        let all = Interfaces::read().unwrap();
        assert_eq!(all.index("lo"), Some(1));
        assert!(all.names().any(|n| n == "lo"));
        assert_eq!(all.index("no-such-if0"), None);
        assert_eq!(name_of(1).as_deref(), Some("lo"));
        assert_eq!(name_of(0), None);
    }

    /// lo's 127.0.0.1 is one of the host's addresses (lo is up here; in a
    /// fresh namespace it is down and holds none).
    #[test]
    fn host_addresses_list_loopback_when_up() {
        let addrs = host_addresses().unwrap();
        let lo_up = std::fs::read_to_string("/sys/class/net/lo/operstate")
            .is_ok_and(|s| s.trim() != "down");
        if lo_up {
            assert!(
                addrs.contains(&std::net::IpAddr::from([127, 0, 0, 1])),
                "{addrs:?}"
            );
        }
    }
}
