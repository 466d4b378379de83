//! The system facts a run needs, read once, here, before the command line
//! is turned into [`Config`](super::Config): the services and users
//! databases, the network sysctls (the ephemeral port range among them,
//! under `--proc-root`), the interfaces a command line names, the
//! effective uid. [`Config::new`](super::Config::new) only reads this
//! struct: no other part of `config` touches the system.

use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::cli::{Cli, Command};
use super::netns::NetnsArgError;
use crate::model::NetKnobs;
use crate::pipeline::netns::Namespaces;
use crate::source::filter_file::{self, FilterFileError};
use crate::source::hosts;
use crate::source::ifaces::Interfaces;
use crate::source::services::{Services, ServicesError, Users};
use crate::source::sysctl;

/// Where the services database lives.
pub const SERVICES_PATH: &str = "/etc/services";

/// Where user names come from for -r.
pub const USERS_PATH: &str = "/etc/passwd";

/// What the system says, read once. A file that cannot be read is kept as
/// its error: each user applies its own policy (a filter or a target says
/// it only where a service name needs the file; -r fails the run).
#[derive(Debug, Clone)]
pub struct Facts {
    /// /etc/services, read when the command line may name a port (a
    /// filter, a who/why-bind target that is not a number) or asks for
    /// names (-r); `None` when nothing needs it.
    pub services: Option<Result<Services, ServicesError>>,
    /// /etc/passwd, read for -r only.
    pub users: Option<Result<Users, ServicesError>>,
    /// The network sysctls under `proc_root`/sys.
    pub knobs: NetKnobs,
    /// The interfaces of this network namespace, listed when the command
    /// line may name one (a filter word `dev`, a `%scope` in a target).
    pub interfaces: Option<Result<Interfaces, Errno>>,
    /// The effective uid (why-bind: binding a privileged port).
    pub euid: u32,
    /// The /proc tree the facts were read under.
    pub proc_root: PathBuf,
    /// The network namespaces to read, or why one named cannot be.
    pub namespaces: Result<Namespaces, NetnsArgError>,
    /// `-F FILE`: the filter words it holds (they follow the command
    /// line's), or why it could not be read.
    pub filter_file: Option<Result<Vec<String>, FilterFileError>>,
    /// Whether SELinux is on, read when -Z or -z asks.
    pub selinux: Option<bool>,
    /// The terminal's width when stdout is one (COLUMNS first), else None
    /// (issue 18, width).
    pub width: Option<usize>,
}

impl Facts {
    /// Reads what `cli` needs, honouring `--proc-root`.
    pub fn read(cli: &Cli) -> Facts {
        let proc_root = proc_root(cli);
        let filter_file = cli.filter_file.as_deref().map(filter_file::read);
        // The whole filter: the command line's words (a live view's were
        // moved there by Cli::take_live_filter), then the file's.
        let words: Vec<&String> = cli
            .filter
            .iter()
            .chain(filter_file.iter().flat_map(|f| f.iter().flatten()))
            .collect();
        let target = match &cli.command {
            Some(Command::Who(args)) => Some(args.target.as_str()),
            Some(Command::WhyBind(args)) => Some(args.target.as_str()),
            _ => None,
        };
        let names_port =
            cli.resolve || ss_names(cli) || !words.is_empty() || target.is_some_and(names_service);
        let names_interface = words.iter().any(|w| w.to_ascii_lowercase().contains("dev"))
            || target.is_some_and(|t| t.contains('%'));
        // The sysctls: the explain views judge by them, and a filter's
        // `autobound` checks the ephemeral range; a plain listing needs none.
        let needs_knobs = !words.is_empty()
            || matches!(
                cli.command,
                Some(Command::Listeners | Command::WhyBind(_) | Command::Ports)
            );
        Facts {
            services: names_port.then(|| Services::from_file(Path::new(SERVICES_PATH))),
            users: (cli.resolve || ss_names(cli)).then(|| Users::from_file(Path::new(USERS_PATH))),
            knobs: if needs_knobs {
                sysctl::read_knobs(&proc_root)
            } else {
                NetKnobs::default()
            },
            interfaces: names_interface.then(Interfaces::read),
            euid: rustix::process::geteuid().as_raw(),
            namespaces: super::netns::choose(
                cli,
                &proc_root,
                cli.host_root.as_deref().unwrap_or(Path::new("/")),
            ),
            proc_root,
            filter_file,
            selinux: (cli.context || cli.contexts).then(crate::source::selinux::enabled),
            width: crate::source::terminal::width(),
        }
    }

    /// Facts that read nothing: no services, users or interfaces, default
    /// knobs (for tests and callers that bring their own).
    pub fn none(proc_root: PathBuf) -> Facts {
        Facts {
            services: None,
            users: None,
            knobs: NetKnobs::default(),
            interfaces: None,
            euid: u32::MAX,
            namespaces: Ok(Namespaces::current(crate::model::Netns::unknown())),
            proc_root,
            filter_file: None,
            selinux: None,
            width: None,
        }
    }

    /// A filter's host name's addresses (/etc/hosts and the system
    /// resolver, at most [`hosts::LOOKUP_TIMEOUT`]).
    pub fn resolve(&self, name: &str) -> Result<Vec<std::net::IpAddr>, String> {
        hosts::resolve(name)
    }

    /// A filter's cgroup path's id, under the cgroup2 mount that
    /// `proc_root`/mounts lists.
    pub fn cgroup_id(&self, path: &str) -> Result<u64, String> {
        hosts::cgroup_id(path, &self.proc_root.join("mounts")).map_err(|e| e.to_string())
    }

    /// The index of interface `name`, or why it is unknown (ENODEV, as
    /// if_nametoindex says; the listing's own error when it failed).
    pub fn ifindex(&self, name: &str) -> Result<u32, Errno> {
        match &self.interfaces {
            Some(Ok(all)) => all.index(name).ok_or(Errno::ENODEV),
            Some(Err(e)) => Err(*e),
            None => Err(Errno::ENODEV),
        }
    }
}

/// `--proc-root`, or /proc.
pub fn proc_root(cli: &Cli) -> PathBuf {
    cli.proc_root
        .clone()
        .unwrap_or_else(|| PathBuf::from("/proc"))
}

/// True when a who/why-bind target's port is a word, not a number: only
/// then does parsing it need /etc/services (see `parse_local_port`).
fn names_service(target: &str) -> bool {
    if target.parse::<std::net::SocketAddr>().is_ok() {
        return false;
    }
    let port = target.rsplit_once(':').map_or(target, |(_, p)| p);
    !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit())
}

// issue 15, format
/// Whether ports are shown as service names without -r: in ss's format
/// (`--ss-format`, or invoked as `ss`) unless -n, as ss does.
pub fn ss_names(cli: &Cli) -> bool {
    (cli.ss_format || cli.invoked_as_ss) && !cli.numeric && !cli.json && !cli.jsonl
}

/// The names -r shows: the services and users databases.
#[derive(Debug, Clone)]
pub struct Names {
    services: Result<Services, ServicesError>,
    users: Result<Users, ServicesError>,
}

impl Names {
    /// Takes -r's files out of `facts` (`None` when they were not read).
    pub fn take(facts: &mut Facts) -> Option<Names> {
        Some(Names {
            services: facts.services.take()?,
            users: facts.users.take()?,
        })
    }

    /// Both databases, or the first that could not be read (services
    /// first, as they were always read first).
    pub fn get(&self) -> Result<(&Services, &Users), ServicesError> {
        let services = self.services.as_ref().map_err(Clone::clone)?;
        let users = self.users.as_ref().map_err(Clone::clone)?;
        Ok((services, users))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::cli::tests::cli;

    /// A live view's filter words are filter words: the services database
    /// they may name ports from is read for them (it was not, and the
    /// filter was dropped in silence: `watch sport = :5000` showed every
    /// socket).
    #[test]
    fn live_views_filter_words_are_read_for() {
        for view in ["watch", "events", "trace"] {
            let facts = Facts::read(&cli(&[view, "sport", "=", ":5000"]));
            assert!(facts.services.is_some(), "{view}");
        }
    }

    /// The sysctls come from --proc-root, and only what the command line
    /// can use is read.
    #[test]
    fn reads_what_the_command_line_needs() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/owners");
        let f = Facts::read(&cli(&["--proc-root", root, "ports"]));
        assert_eq!(f.proc_root, Path::new(root));
        // fixtures/owners/sys/net/ipv4/ip_local_port_range, not the host's.
        assert_eq!(f.knobs.port_range(), (50001, 50099));
        // A plain listing judges nothing by the sysctls: none is read.
        let plain = Facts::read(&cli(&["--proc-root", root, "-tan"]));
        assert_eq!(plain.knobs, NetKnobs::default());
        assert!(f.services.is_none() && f.users.is_none() && f.interfaces.is_none());
        assert_eq!(f.euid, rustix::process::geteuid().as_raw());
        let f = Facts::read(&cli(&["-r"]));
        assert!(f.services.is_some() && f.users.is_some() && f.interfaces.is_none());
        let f = Facts::read(&cli(&["-t", "dev", "=", "lo"]));
        assert!(f.services.is_some() && f.users.is_none());
        assert_eq!(f.ifindex("lo"), Ok(1));
        assert_eq!(f.ifindex("no-such-if0"), Err(Errno::ENODEV));
        assert!(Facts::read(&cli(&["who", "8080"])).services.is_none());
        assert!(Facts::read(&cli(&["who", "ssh"])).services.is_some());
        let f = Facts::read(&cli(&["why-bind", "[fe80::1%lo]:80"]));
        assert!(f.services.is_none() && f.interfaces.is_some());
    }

    #[test]
    fn only_words_name_services() {
        for (t, named) in [
            ("8080", false),
            (":8080", false),
            ("[::1]:80", false),
            ("127.0.0.1:80", false),
            ("", false),
            (":", false),
            ("ssh", true),
            ("*:ssh", true),
            ("[fe80::1%eth0]:http", true),
            ("[fe80::1%eth0]:80", false),
        ] {
            assert_eq!(names_service(t), named, "{t:?}");
        }
    }
}
