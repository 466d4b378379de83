//! The plain configuration built from the command line. Nothing after this
//! module sees clap.

use std::path::PathBuf;

use crate::cli::{Cli, SourceArg};
use crate::model::{Family, Protocol, StateSet};
use crate::source::{Query, SourceKind, SourceOptions};

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned table like ss.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    JsonLines,
}

/// Table options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    pub header: bool,
    /// Add the uid, inode and cookie columns.
    pub extended: bool,
    /// Show a Netid column (ss shows it when more than one protocol is
    /// selected).
    pub netid: bool,
}

/// Everything one run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub query: Query,
    pub source: SourceOptions,
    pub format: OutputFormat,
    pub table: TableOptions,
    /// Port numbers are shown as service names from this file.
    pub services: Option<PathBuf>,
}

/// Where the services database lives.
pub const SERVICES_PATH: &str = "/etc/services";

impl Config {
    pub fn from_cli(cli: Cli) -> Config {
        // Like ss: no protocol flag means every protocol sockscope reads.
        let protocols: Vec<Protocol> = match (cli.tcp, cli.udp) {
            (false, false) => Protocol::ALL.to_vec(),
            (t, u) => Protocol::ALL
                .into_iter()
                .filter(|p| match p {
                    Protocol::Tcp => t,
                    Protocol::Udp => u,
                })
                .collect(),
        };
        let families = match (cli.ipv4, cli.ipv6) {
            (true, false) => vec![Family::Inet],
            (false, true) => vec![Family::Inet6],
            _ => Family::ALL.to_vec(),
        };
        // ss: -a wins over -l; neither shows connected sockets only.
        let states = if cli.all {
            StateSet::all()
        } else if cli.listening {
            StateSet::listening()
        } else {
            StateSet::connected()
        };
        let format = if cli.json {
            OutputFormat::Json
        } else if cli.jsonl {
            OutputFormat::JsonLines
        } else {
            OutputFormat::Table
        };
        // /proc/net follows the thread-group leader's network namespace;
        // /proc/thread-self/net follows the calling thread, as netlink does.
        let proc_net = match cli.proc_root {
            Some(root) => root.join("net"),
            None => PathBuf::from("/proc/thread-self/net"),
        };
        let netid = protocols.len() > 1;
        Config {
            query: Query {
                protocols,
                families,
                states,
            },
            source: SourceOptions {
                kind: match cli.source {
                    SourceArg::Netlink => SourceKind::Netlink,
                    SourceArg::Proc => SourceKind::Proc,
                },
                proc_net,
                replay: cli.replay,
                record: cli.record,
            },
            format,
            table: TableOptions {
                header: !cli.no_header,
                extended: cli.extended,
                netid,
            },
            services: cli.resolve.then(|| PathBuf::from(SERVICES_PATH)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;
    use clap::Parser;

    fn config(args: &[&str]) -> Config {
        let mut argv = vec!["sockscope"];
        argv.extend_from_slice(args);
        Config::from_cli(Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn defaults_are_ss_defaults() {
        let c = config(&[]);
        assert_eq!(c.query.protocols, vec![Protocol::Tcp, Protocol::Udp]);
        assert_eq!(c.query.families, vec![Family::Inet, Family::Inet6]);
        assert_eq!(c.query.states, StateSet::connected());
        assert_eq!(c.format, OutputFormat::Table);
        assert!(c.table.netid && c.table.header);
        assert_eq!(c.source.kind, SourceKind::Netlink);
    }

    #[test]
    fn tln_is_tcp_listening_without_netid() {
        let c = config(&["-tln"]);
        assert_eq!(c.query.protocols, vec![Protocol::Tcp]);
        assert!(c.query.states.contains(TcpState::Listen));
        assert!(!c.query.states.contains(TcpState::Established));
        assert!(!c.table.netid);
    }

    #[test]
    fn all_wins_over_listening() {
        assert_eq!(config(&["-la"]).query.states, StateSet::all());
    }

    #[test]
    fn families_and_formats() {
        assert_eq!(config(&["-6"]).query.families, vec![Family::Inet6]);
        assert_eq!(config(&["-4", "-6"]).query.families.len(), 2);
        assert_eq!(config(&["--jsonl"]).format, OutputFormat::JsonLines);
        let c = config(&["--source", "proc", "--proc-root", "fixtures/x"]);
        assert_eq!(c.source.kind, SourceKind::Proc);
        assert_eq!(c.source.proc_net, PathBuf::from("fixtures/x/net"));
    }
}
