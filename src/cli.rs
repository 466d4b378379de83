//! Command-line definition. Everything the user can type is declared here,
//! with its help text; [`crate::config::Config::from_cli`] turns it into the
//! plain configuration the rest of the program sees.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  sockscope -tan                 every TCP socket, numeric
  sockscope -tln                 listening TCP sockets
  sockscope -tuan                TCP and UDP sockets in every state
  sockscope -uan                 UDP sockets, bound and connected
  sockscope -tan --json          the same rows as one JSON array
  sockscope -tan --jsonl | jq .  one JSON object per line, streamed
  sockscope -tln -e              with uid, inode and socket cookie
  sockscope -tan --source proc   read /proc/net/tcp* instead of netlink

Exit status: 0 ok, 2 usage or input error, 3 kernel or permission failure.";

/// Connection-state inspector: the sockets `ss` shows, from the kernel's
/// sock_diag interface or /proc/net.
#[derive(Debug, Parser)]
#[command(
    name = "sockscope",
    version,
    about,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Show TCP sockets.
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,

    /// Show UDP sockets.
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,

    /// Show only listening sockets (TCP LISTEN, unconnected UDP).
    #[arg(short = 'l', long = "listening")]
    pub listening: bool,

    /// Show sockets in every state; without -a or -l, listening sockets,
    /// TIME_WAIT and SYN_RECV are left out, as in ss.
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Numeric addresses and ports (the default; accepted for ss habits).
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,

    /// Show service names from /etc/services instead of port numbers.
    #[arg(short = 'r', long = "resolve")]
    pub resolve: bool,

    /// Show only IPv4 sockets.
    #[arg(short = '4', long = "ipv4")]
    pub ipv4: bool,

    /// Show only IPv6 sockets.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,

    /// Do not print the header line.
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,

    /// Extended columns: uid, inode and socket cookie.
    #[arg(short = 'e', long = "extended")]
    pub extended: bool,

    /// Print one JSON array of socket objects (schema in README).
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,

    /// Print one JSON object per socket and line, streamed.
    #[arg(long)]
    pub jsonl: bool,

    /// Where to read sockets from: the kernel's sock_diag netlink interface,
    /// or the /proc/net tables. netlink falls back to /proc by itself, with a
    /// warning, when the kernel refuses it.
    #[arg(long, value_enum, default_value_t = SourceArg::Netlink, value_name = "SOURCE")]
    pub source: SourceArg,

    /// Read the /proc/net tables under DIR/net instead of the live ones
    /// (like ss's PROC_ROOT; for recorded fixtures).
    #[arg(
        long,
        value_name = "DIR",
        env = "SOCKSCOPE_PROC_ROOT",
        hide_env_values = true
    )]
    pub proc_root: Option<PathBuf>,

    /// Replay recorded netlink replies from FILE instead of asking the kernel
    /// (like ss's TCPDIAG_FILE; for fixtures and bug reports).
    #[arg(
        long,
        value_name = "FILE",
        env = "SOCKSCOPE_NETLINK_REPLAY",
        hide_env_values = true
    )]
    pub replay: Option<PathBuf>,

    /// Record every netlink request and reply to FILE, for --replay.
    #[arg(
        long,
        value_name = "FILE",
        env = "SOCKSCOPE_NETLINK_RECORD",
        hide_env_values = true
    )]
    pub record: Option<PathBuf>,
}

/// Values of `--source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// NETLINK_SOCK_DIAG dumps (fast, complete).
    Netlink,
    /// /proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie).
    Proc,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn letters_combine_like_ss() {
        let c = Cli::try_parse_from(["sockscope", "-tulnH"]).unwrap();
        assert!(c.tcp && c.udp && c.listening && c.numeric && c.no_header);
        let c = Cli::try_parse_from(["sockscope", "-tan4e"]).unwrap();
        assert!(c.tcp && c.all && c.ipv4 && c.extended && !c.udp);
    }

    #[test]
    fn unknown_flag_is_a_usage_error() {
        let e = Cli::try_parse_from(["sockscope", "-tanZ"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["sockscope", "--json", "--jsonl"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
