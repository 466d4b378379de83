//! The plain configuration built from the command line and the system
//! facts read once in [`facts`]. Nothing after this module sees clap, and
//! nothing here but [`facts`] touches the system.

pub mod cli;
pub mod counters;
pub mod facts;
pub mod habits;
pub mod hints;
pub mod kill;
pub mod kinds;
pub mod live;
pub mod metrics;
pub mod netns;
pub mod trace;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

pub use facts::{Facts, Names, SERVICES_PATH, USERS_PATH};

use regex::Regex;

use crate::config::cli::{Cli, Command, SourceArg};
use crate::filter::expr::{Expr, HostCond, Side};
use crate::filter::{LocalPort, ProcessFilter, Selection, bytecode, expr};
use crate::model::{Family, NetKnobs, Protocol, StateSet, TcpState};
pub use crate::output::{OutputFormat, TableOptions};
pub use crate::pipeline::OwnerOptions;
use crate::source::services::{Services, ServicesError};
use crate::source::{Query, SourceKind, SourceOptions};

/// What the run answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// List sockets, like ss.
    List,
    /// `who [ADDR]:PORT`: what holds a local port, and what of this host
    /// is connected to it.
    Who {
        target: LocalPort,
        /// `--pids`: only the owners' pids, one per line.
        pids: bool,
    },
    /// `-s`: totals and per-state counts.
    Summary,
    /// `listeners`: queue health.
    Listeners,
    /// `why-bind`: would bind() fail.
    WhyBind {
        target: LocalPort,
        /// The IPv6 scope (`[fe80::1%eth0]:80`), 0 for none.
        scope: u32,
        try_bind: bool,
    },
    /// `ports`: ephemeral port pressure.
    Ports,
    /// `-K`: destroy the sockets selected (`--dry-run`: only list them).
    Kill { dry_run: bool },
    /// `-E`: print sockets as the kernel destroys them.
    Events,
    /// `-D FILE`: write the raw replies of the TCP dump.
    Diag { path: kill::DiagTarget },
    /// `watch`, `-c`: the listing again every interval, and what changed.
    Watch,
    /// `trace`: every TCP state change from the kernel's tracepoints.
    Trace,
    /// `metrics`: one Prometheus exposition (issue 17).
    Metrics(metrics::MetricsOptions),
    /// `serve`: the exposition over HTTP (issue 17).
    Serve(metrics::ServeOptions),
    /// `counters`: the protocol counters (issue 18, counters).
    Counters(counters::CountersOptions),
    /// `completions SHELL`: the shell's completion script (issue 18,
    /// install).
    Completions(clap_complete::Shell),
}

/// The command line asked for something impossible.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `reason` is the regex crate's message, escaped line by line (it
    /// repeats the pattern, which may hold control characters).
    #[error("invalid --process regex {regex:?}: {reason}")]
    Regex { regex: String, reason: String },
    #[error("invalid port {text:?}: {reason}")]
    Target { text: String, reason: String },
    #[error(transparent)]
    Filter(#[from] crate::filter::FilterError),
    /// `-F FILE` could not be read.
    #[error(transparent)]
    FilterFile(#[from] crate::source::filter_file::FilterFileError),
    /// `-N`, `--container`: a namespace that cannot be read.
    #[error(transparent)]
    Netns(#[from] netns::NetnsArgError),
    #[error(
        "filter expressions apply to TCP and UDP sockets; list packet and netlink sockets \
         (-0, -A packet, -f netlink) without one, or with state words only"
    )]
    LinkLayerFilter,
    /// -A or -f named something ss does not know.
    #[error(transparent)]
    Kinds(#[from] kinds::KindsError),
    /// The kind flags leave nothing to list (ss: "no socket tables to show
    /// with such filter", exit 0): said on stderr, exit 0.
    #[error("no socket tables to show with such filter")]
    NoKinds,
    /// `-f help`: the families (said on stderr, exit 0).
    #[error("FAMILY := {{inet|inet6|link|unix|netlink|vsock|tipc|xdp|help}}")]
    FamilyHelp,
    /// -Z/-z where SELinux is off: ss's answer, exit 1.
    #[error("SELinux is not enabled.")]
    SelinuxOff,
    /// -Z/-z where SELinux is on: sockscope does not read the contexts.
    #[error(
        "SELinux is enabled, but sockscope does not read security contexts (-Z, -z) yet: \
         use ss -Z"
    )]
    SelinuxContexts,
    /// An ss option whose data sockscope does not read (exit 3).
    #[error("{flag}: {why}")]
    NotRead {
        flag: &'static str,
        why: &'static str,
    },
    /// `-K` with nothing that narrows what it kills.
    #[error(
        "-K destroys every socket it selects, and nothing narrows the selection: \
         give a state word (state established), a filter expression (dport = :8080) \
         or --pid/--comm/--process; -t, -u, -4, -6, -a, -l and -N alone are not \
         enough (`state all` selects every socket on purpose)"
    )]
    KillWithoutSelection,
    /// `serve --listen`.
    #[error("invalid --listen {text:?}: {reason}")]
    Listen { text: String, reason: String },
    /// A first word that is no filter word but close to a subcommand's
    /// name (issue 18, who).
    #[error("unknown command '{word}': did you mean '{command}'?", word = crate::text::escape(word))]
    UnknownCommand { word: String, command: String },
    /// lsof's `-i SPEC` where -i is ss's tcp_info (issue 18, who): the
    /// message of [`habits::LsofInet::message`].
    #[error("{0}")]
    LsofHabit(String),
    /// `who 53/udp -t`: the target's protocol is not among those asked.
    #[error(
        "{target:?} names {asked}, but -t/-u leave {asked} out: drop the flag or the /{asked}",
        target = crate::text::escape(target)
    )]
    ProtocolConflict { target: String, asked: Protocol },
    /// `completions` with a listing flag or filter (issue 18, install).
    #[error(
        "{flag} cannot be used with completions: the script is the same whatever the listing \
         flags; it reads no sockets"
    )]
    CompletionsAlone { flag: String },
    /// A flag the subcommand would otherwise ignore.
    #[error("{flag} cannot be used with {view}: {why}")]
    NotForView {
        flag: &'static str,
        view: &'static str,
        why: &'static str,
    },
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// What the source reads (it may hold more than is shown: LISTEN sockets
    /// are read for queue attribution).
    pub query: Query,
    /// What is shown.
    pub select: Selection,
    /// Set when owners must be looked up (output or a filter needs them).
    pub owners: Option<OwnerOptions>,
    pub source: SourceOptions,
    pub format: OutputFormat,
    pub table: TableOptions,
    /// -r: port numbers are shown as service names, and uids as user
    /// names, from these databases (or the run fails on the one that could
    /// not be read).
    pub names: Option<Names>,
    /// The effective uid (why-bind).
    pub euid: u32,
    /// Report counts and timings on stderr.
    pub verbose: bool,
    /// The /proc tree (sysctls under sys/, processes).
    pub proc_root: PathBuf,
    /// Environment variables that changed where data comes from or goes,
    /// each said on stderr when the run starts.
    pub from_env: Vec<EnvSource>,
    /// The network sysctls under `proc_root`, read once: `autobound`, the
    /// `ports` request and the explain views all use these values.
    pub knobs: NetKnobs,
    /// The network namespaces read, in order (sockscope's own alone unless
    /// -N, --all-netns, --container, --pid or --comm ask for more).
    pub namespaces: crate::pipeline::netns::Namespaces,
    /// The live views' interval and bounds (`watch`, `-c`, `events`, `-E`,
    /// `trace`); the defaults elsewhere.
    pub live: live::Live,
    /// `trace`'s ring size and tracefs (issue 16, trace).
    pub trace: trace::TraceOptions,
}

/// The widest namespace and container names the table may show.
fn netns_widths(
    namespaces: &crate::pipeline::netns::Namespaces,
) -> crate::output::table::NetnsWidths {
    use unicode_width::UnicodeWidthStr;
    let width = |s: &str| crate::text::escape(s).width();
    let containers = namespaces
        .containers
        .values()
        .map(|c| width(&c.label()))
        .chain(
            namespaces
                .targets
                .iter()
                .filter_map(|t| t.netns.container.as_ref().map(|c| width(&c.label()))),
        );
    crate::output::table::NetnsWidths {
        netns: namespaces
            .targets
            .iter()
            .map(|t| width(&t.netns.label()))
            .max()
            .unwrap_or(0),
        container: containers.max().unwrap_or(0),
    }
}

/// An environment variable that replaced a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvVar {
    ProcRoot,
    NetlinkReplay,
    NetlinkRecord,
    Tracefs,
}

impl EnvVar {
    pub fn name(self) -> &'static str {
        match self {
            EnvVar::ProcRoot => "SOCKSCOPE_PROC_ROOT",
            EnvVar::NetlinkReplay => "SOCKSCOPE_NETLINK_REPLAY",
            EnvVar::NetlinkRecord => "SOCKSCOPE_NETLINK_RECORD",
            EnvVar::Tracefs => "SOCKSCOPE_TRACEFS",
        }
    }
}

/// One environment variable in effect, and the path it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSource {
    pub var: EnvVar,
    pub path: PathBuf,
}

impl std::fmt::Display for EnvSource {
    /// The stderr line: the variable, the escaped path, what it changes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = crate::text::escape_path(&self.path);
        let what = match self.var {
            EnvVar::ProcRoot => "reading /proc from there, not the live /proc",
            EnvVar::NetlinkReplay => "reading a netlink recording, not the kernel",
            EnvVar::NetlinkRecord => "recording the netlink requests and replies there",
            EnvVar::Tracefs => "reading tracefs from there, not the mounted one",
        };
        write!(f, "{}={path}: {what}", self.var.name())
    }
}

impl Config {
    /// Reads the system facts `cli` needs ([`Facts::read`]), then builds
    /// the configuration from both ([`Config::new`]).
    pub fn from_cli(mut cli: Cli) -> Result<Config, ConfigError> {
        cli.take_live_filter();
        let facts = Facts::read(&cli);
        Config::new(cli, facts)
    }

    /// The configuration of `cli`, given the system facts: no I/O.
    pub fn new(mut cli: Cli, mut facts: Facts) -> Result<Config, ConfigError> {
        cli.take_live_filter();
        check_view_flags(&cli)?;
        check_format_flags(&cli)?;
        if cli.bpf_maps || !cli.bpf_map_id.is_empty() {
            return Err(ConfigError::NotRead {
                flag: if cli.bpf_maps {
                    "--bpf-maps"
                } else {
                    "--bpf-map-id"
                },
                why: "sockscope does not read BPF socket-local storage \
                      (INET_DIAG_REQ_SK_BPF_STORAGES) yet; ss shows it only when built with \
                      libbpf (Debian's ss 6.1 is not)",
            });
        }
        match facts.selinux {
            Some(false) => return Err(ConfigError::SelinuxOff),
            Some(true) => return Err(ConfigError::SelinuxContexts),
            None => {}
        }
        // (Taken out of the facts; the placeholder left there reads nothing.)
        let mut namespaces = std::mem::replace(
            &mut facts.namespaces,
            Ok(crate::pipeline::netns::Namespaces::current(
                crate::model::Netns::unknown(),
            )),
        )?;
        // A recording or a recorded /proc tree is no live namespace: its
        // rows say none.
        if !namespaces.tagged && (cli.replay.is_some() || facts.proc_root != Path::new("/proc")) {
            namespaces =
                crate::pipeline::netns::Namespaces::current(crate::model::Netns::unknown());
        }
        if namespaces.targets.len() > 1 && (cli.replay.is_some() || cli.record.is_some()) {
            return Err(ConfigError::NotForView {
                flag: if cli.replay.is_some() {
                    "--replay"
                } else {
                    "--record"
                },
                view: "more than one network namespace",
                why: "a recording holds one namespace's dumps",
            });
        }
        // ss's rules for -t -u -w -M -x -4 -6 -A -f ... (config::kinds);
        // no kind flag: sockscope's internet tables.
        let mut selected = kinds::select(&kind_flags(&cli)?)?;
        if selected.kinds.is_empty() && cli.command.is_none() && !cli.summary {
            return Err(ConfigError::NoKinds);
        }
        let protocols = selected.protocols();
        let families = selected.inet_families();
        let (unix, mut unix_left_out) = selected.unix();
        let ipv6 = families.contains(&Family::Inet6);
        let format = if cli.json {
            OutputFormat::Json
        } else if cli.jsonl {
            OutputFormat::JsonLines
        } else {
            OutputFormat::Table
        };
        let from_env: Vec<EnvSource> = [
            (EnvVar::ProcRoot, cli.from_env.proc_root, &cli.proc_root),
            (EnvVar::NetlinkReplay, cli.from_env.replay, &cli.replay),
            (EnvVar::NetlinkRecord, cli.from_env.record, &cli.record),
            (EnvVar::Tracefs, cli.from_env.tracefs, &cli.tracefs),
        ]
        .into_iter()
        .filter_map(|(var, set, path)| {
            Some(EnvSource {
                var,
                path: path.as_ref().filter(|_| set)?.clone(),
            })
        })
        .collect();
        let proc_root = facts.proc_root.clone();
        // /proc/net follows the thread-group leader's network namespace;
        // /proc/thread-self/net follows the calling thread, as netlink does.
        let proc_net = if proc_root == Path::new("/proc") {
            PathBuf::from("/proc/thread-self/net")
        } else {
            proc_root.join("net")
        };
        let other_namespaces = namespaces
            .targets
            .iter()
            .any(|t| t.reach != crate::pipeline::netns::Reach::Current);
        let mut words = cli.filter.clone();
        if let Some(file) = facts.filter_file.take() {
            words.extend(file?);
        }
        // ss's preferred family for a HOST without a prefix: -4, -6, or
        // UNIX names when only UNIX sockets are listed.
        let default_family = match (cli.ipv4, cli.ipv6) {
            (true, false) => Some(expr::AddrFamily::Inet),
            (false, true) => Some(expr::AddrFamily::Inet6),
            _ if unix && protocols.is_empty() => Some(expr::AddrFamily::Unix),
            _ => None,
        };
        if let Some(message) = &cli.lsof_habit {
            return Err(ConfigError::LsofHabit(message.clone()));
        }
        let filter = parse_filter(&words, &facts, other_namespaces, default_family)
            .map_err(|e| unknown_command(e, &cli.filter))?;
        // ss: a FAMILY: prefix in the expression lists that family only.
        let (protocols, families, list_unix) = match filter.family {
            Some(expr::AddrFamily::Inet) => (protocols, vec![Family::Inet], false),
            Some(expr::AddrFamily::Inet6) => (protocols, vec![Family::Inet6], false),
            // -t/-u with a unix: HOST: no table holds both, nothing listed.
            Some(expr::AddrFamily::Unix) => {
                // A unix: prefix lists every UNIX type when none was chosen.
                if !unix {
                    unix_left_out.clear();
                }
                (Vec::new(), families, unix || !(cli.tcp || cli.udp))
            }
            _ => (protocols, families, unix),
        };
        let flagged = kill::mode(&cli);
        if let Some((flagged, _)) = &flagged {
            kill::check(&cli, flagged, &filter, namespaces.targets.len())?;
        }
        let (mode, states) = match &cli.command {
            Some(Command::Who(args)) => (
                Mode::Who {
                    target: parse_local_port(
                        strip_protocol(&args.target).0,
                        facts.services.as_ref(),
                    )?,
                    pids: args.pids,
                },
                // A bound-inactive socket holds its port too.
                StateSet::every(),
            ),
            // The accept queue's length is the listener's Recv-Q: only the
            // listeners and the half-open request sockets are dumped.
            Some(Command::Listeners) => (
                Mode::Listeners,
                [TcpState::Listen, TcpState::SynRecv].into_iter().collect(),
            ),
            Some(Command::WhyBind(args)) => (
                {
                    let (target, scope) = parse_bind_target(&args.target, &facts)?;
                    Mode::WhyBind {
                        target,
                        scope,
                        try_bind: args.try_bind,
                    }
                },
                // A bound-inactive socket makes bind() fail too.
                StateSet::every(),
            ),
            Some(Command::Ports) => (Mode::Ports, StateSet::all()),
            // issue 18, install: reads no sockets.
            Some(Command::Completions(args)) => (Mode::Completions(args.shell), StateSet::all()),
            // Every state is counted; the listeners are needed for their
            // queues and the ephemeral ports.
            Some(Command::Metrics(_) | Command::Serve(_)) => (
                metrics::options(cli.command.as_ref())?.ok_or(ConfigError::NoKinds)?,
                StateSet::every(),
            ),
            Some(Command::Counters(args)) => (
                Mode::Counters(counters::options(&cli, args, facts.euid)),
                StateSet::all(),
            ),
            // The live views list what the listing would.
            _ if cli.summary => (Mode::Summary, StateSet::all()),
            // ss: -a wins over -l; neither shows connected sockets only.
            _ if cli.all => (Mode::List, StateSet::all()),
            // ss -B: bound-inactive sockets only.
            _ if cli.bound_inactive => {
                (Mode::List, [TcpState::BoundInactive].into_iter().collect())
            }
            _ if cli.listening => (Mode::List, StateSet::listening()),
            // The kinds' and families' default states (ss: -w alone shows
            // ESTAB raw sockets, -0 UNCONN packet ones).
            _ => (
                Mode::List,
                selected.default_states.unwrap_or_else(StateSet::connected),
            ),
        };
        // -K, -E, -D (never with a subcommand: kill::check refused that).
        let (mode, states) = flagged.unwrap_or((mode, states));
        // watch and -c list what the listing would, again and again; trace
        // hears every state (`state` words narrow it).
        let (mode, states) = match &cli.command {
            _ if cli.continuous => (Mode::Watch, states),
            Some(Command::Watch(_)) => (Mode::Watch, states),
            Some(Command::Trace(_)) => (Mode::Trace, StateSet::all()),
            _ => (mode, states),
        };
        // ss: `state`/`exclude` words override -a and -l.
        let states = match (&mode, filter.states) {
            (
                Mode::List
                | Mode::Watch
                | Mode::Trace
                | Mode::Kill { .. }
                | Mode::Events
                | Mode::Diag { .. },
                Some(s),
            ) => s,
            _ => states,
        };
        // --container tags rows by their owners' containers.
        let needs_owners = (filter.expr.as_ref().is_some_and(|e| e.needs_owners())
            || !cli.container.is_empty())
            && !matches!(mode, Mode::Events | Mode::Diag { .. });
        let regex = match &cli.process {
            Some(r) => Some(Regex::new(r).map_err(|e| {
                ConfigError::Regex {
                    regex: r.clone(),
                    reason: e
                        .to_string()
                        .lines()
                        .map(|l| crate::text::escape(l).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n"),
                }
            })?),
            None => None,
        };
        let process =
            (!cli.pid.is_empty() || cli.comm.is_some() || regex.is_some()).then(|| ProcessFilter {
                pids: cli.pid.clone(),
                comm: cli.comm.clone(),
                regex,
            });
        let is_who = matches!(mode, Mode::Who { .. });
        // The explain views read TCP (why-bind: UDP with -u) and need owners.
        let explain = matches!(mode, Mode::Listeners | Mode::WhyBind { .. } | Mode::Ports);
        // The exports name each listener's and CLOSE_WAIT socket's process.
        let export = matches!(mode, Mode::Metrics(_) | Mode::Serve(_));
        // The exports count UNIX sockets (and their listeners) too, unless
        // -t or -u narrow them to inet; --tcp-info asks for tcp_info.
        let export_unix = export && !(cli.tcp || cli.udp);
        let export_info = cli
            .command
            .as_ref()
            .and_then(Command::export_args)
            .is_some_and(|a| a.tcp_info);
        let protocols = match &mode {
            Mode::Listeners | Mode::Ports => vec![Protocol::Tcp],
            Mode::WhyBind { .. } if cli.udp && !cli.tcp => vec![Protocol::Udp],
            Mode::WhyBind { .. } | Mode::Diag { .. } | Mode::Trace => vec![Protocol::Tcp],
            // A raw socket holds no port; -s counts TCP and UDP; -K and -E
            // act on TCP and UDP.
            // fuser's PORT/tcp narrows as -t would.
            Mode::Who { .. } => {
                let only = match &cli.command {
                    Some(Command::Who(args)) => strip_protocol(&args.target).1,
                    _ => None,
                };
                let inet: Vec<Protocol> = protocols
                    .into_iter()
                    .filter(|p| matches!(p, Protocol::Tcp | Protocol::Udp))
                    .collect();
                match only {
                    Some(p) if inet.contains(&p) => vec![p],
                    Some(p) => {
                        return Err(ConfigError::ProtocolConflict {
                            target: match &cli.command {
                                Some(Command::Who(args)) => args.target.clone(),
                                _ => String::new(),
                            },
                            asked: p,
                        });
                    }
                    None => inet,
                }
            }
            Mode::Summary
            | Mode::Kill { .. }
            | Mode::Events
            | Mode::Metrics(_)
            | Mode::Serve(_) => protocols
                .into_iter()
                .filter(|p| matches!(p, Protocol::Tcp | Protocol::Udp))
                .collect(),
            // issue 15, format: ss dumps raw, UDP, TCP, then MPTCP
            // (misc/ss.c, main).
            Mode::List if cli.ss_format || cli.invoked_as_ss => {
                let mut p = protocols;
                p.sort_by_key(|p| match p {
                    Protocol::Raw => 0,
                    Protocol::Udp => 1,
                    Protocol::Tcp => 2,
                    Protocol::Mptcp => 3,
                });
                p
            }
            _ => protocols,
        };
        // A destroyed socket (-E) has no owner left; -D prints no rows.
        let ownerless = matches!(mode, Mode::Events | Mode::Diag { .. });
        // -T lists the threads holding each socket: it implies -p.
        let processes = (cli.processes
            || cli.threads
            || process.is_some()
            || is_who
            || (explain && mode != Mode::Ports)
            || export)
            && !ownerless;
        let owners = (processes || needs_owners).then(|| OwnerOptions {
            proc_root: proc_root.clone(),
            // --process looks at command lines too.
            cmdline: cli.cmdline || cli.process.is_some(),
            threads: cli.threads,
            source: match cli.owners_source {
                cli::OwnersSourceArg::Auto => crate::source::owners::OwnersSource::Auto,
                cli::OwnersSourceArg::Bpf => crate::source::owners::OwnersSource::Bpf,
                cli::OwnersSourceArg::Proc => crate::source::owners::OwnersSource::Proc,
            },
            btf: cli.btf.clone(),
        });
        // Queued connections are tied to their listener, so the listeners
        // are read even when they are not shown.
        let query_states = if processes || needs_owners {
            states.with(TcpState::Listen)
        } else {
            states
        };
        // ss shows Netid when more than one kind is listed; -x alone lists
        // three (u_str, u_dgr, u_seq).
        // (A view's table, and -K/-E's rows, keep the rule of the
        // protocols they read; a FAMILY: prefix narrows the listing.)
        // Plain ss's every table (ss's format, no kind flag) with an
        // expression: packet and netlink rows have no addresses or ports it
        // could match, so they are not read (ss's rows are the same).
        if filter.expr.is_some() && !selected.linklayer().intersects(selected.named) {
            selected.kinds = selected
                .kinds
                .iter()
                .filter(|k| !selected.linklayer().contains(*k))
                .collect();
        }
        let netid = match mode {
            Mode::List | Mode::Watch if filter.family.is_none() => selected.kinds.len() > 1,
            _ => protocols.len() > 1 || list_unix,
        };
        if !selected.linklayer().is_empty() && filter.expr.is_some() {
            return Err(ConfigError::LinkLayerFilter);
        }
        let bytecode = request_filter(filter.expr.as_ref(), &mode, &facts.knobs)
            .filter(|_| !matches!(mode, Mode::Events | Mode::Diag { .. }))
            .as_ref()
            .and_then(bytecode::compile);
        let ss = ss_options(&cli, &states, netid);
        let ss_names = facts::ss_names(&cli);
        let trace = trace::TraceOptions::from_cli(&cli);
        Ok(Config {
            select: Selection {
                states,
                process,
                local: match &mode {
                    Mode::Who { target, .. } => Some(*target),
                    _ => None,
                },
                connected: is_who,
                expr: filter.expr.clone(),
            },
            mode,
            owners,
            query: Query {
                protocols,
                families,
                states: query_states,
                bytecode,
                unix: list_unix || export_unix,
                info: cli.info || export_info,
                memory: cli.memory,
                // ss's -e, --cgroup, --tos and -i fields (--ss-format only).
                attrs: ((cli.ss_format || cli.invoked_as_ss)
                    && (cli.extended || cli.cgroup || cli.inet_sockopt))
                    // a filter's fwmark and cgroup terms read them too
                    || filter.expr.as_ref().is_some_and(|e| e.reads_diag_attrs()),
                cc_info: (cli.ss_format || cli.invoked_as_ss) && cli.info,
                tos: (cli.ss_format || cli.invoked_as_ss) && cli.tos,
                kinds: crate::source::KindsQuery {
                    unix_left_out: if export_unix {
                        Vec::new()
                    } else {
                        unix_left_out
                    },
                    unread: selected.unread(),
                    linklayer: selected.linklayer(),
                    bpf: cli.bpf,
                    named: selected.named,
                },
            },
            source: SourceOptions {
                kind: match cli.source {
                    SourceArg::Netlink => SourceKind::Netlink,
                    SourceArg::Proc => SourceKind::Proc,
                },
                proc_net,
                replay: cli.replay,
                record: cli.record,
                record_overwrite: cli.record_overwrite,
            },
            format,
            table: TableOptions {
                header: !cli.no_header,
                extended: cli.extended,
                netid: netid || is_who,
                processes,
                cmdline: cli.cmdline,
                timers: cli.options || cli.bpf,
                info: cli.info,
                memory: cli.memory,
                ipv6,
                netns: namespaces.tagged.then(|| netns_widths(&namespaces)),
                queues: !cli.no_queues,
                oneline: cli.oneline,
                ss,
                // -W: whole lines on a terminal too.
                width: facts.width.filter(|_| !cli.wide),
            },
            // ss's format names services unless -n (numbers when
            // /etc/services cannot be read, as ss).
            names: Names::take(&mut facts).filter(|n| cli.resolve || (ss_names && n.get().is_ok())),
            euid: facts.euid,
            verbose: cli.verbose,
            proc_root,
            from_env,
            knobs: facts.knobs,
            namespaces,
            live: live::Live {
                interval: cli.interval.unwrap_or(live::Live::default().interval),
                count: cli.count,
                duration: cli.duration,
            },
            trace,
        })
    }
}

// issue 15, format
/// The ss format's options (`--ss-format`, or invoked as `ss`); `None` for
/// sockscope's own table. ss hides Netid when one socket table is listed
/// and State when one state is asked for (misc/ss.c, main).
fn ss_options(
    cli: &Cli,
    states: &StateSet,
    netid: bool,
) -> Option<crate::output::ss_format::SsOptions> {
    (cli.ss_format || cli.invoked_as_ss).then(|| crate::output::ss_format::SsOptions {
        netid,
        state: states.iter().nth(1).is_some(),
        // ss -e implies -o.
        timers: cli.options || cli.extended,
        tos: cli.tos,
        cgroup: cli.cgroup,
        inet_sockopt: cli.inet_sockopt,
        hosts: cli.resolve,
    })
}

/// Refuses the ss-format flags where they would be ignored: ss's format
/// (and --tos, --cgroup, which only it prints) is the socket listing's;
/// JSON keeps every field and has no lines to join or threads to name.
fn check_format_flags(cli: &Cli) -> Result<(), ConfigError> {
    let ss = cli.ss_format || cli.invoked_as_ss;
    let json = cli.json || cli.jsonl;
    let view = match &cli.command {
        Some(command) => command.name(),
        None if cli.summary => "-s",
        None if json => "JSON output",
        None => "sockscope's own table",
    };
    let listing = cli.command.is_none() && !cli.summary;
    let table = matches!(
        cli.command,
        None | Some(Command::Who(_)) | Some(Command::WhyBind(_))
    ) && !cli.summary;
    const ONLY_SS: &str = "only ss's format (--ss-format) prints it";
    let refused: [(bool, &'static str, &'static str); 8] = [
        (
            cli.ss_format && !listing && !cli.summary,
            "--ss-format",
            "ss's format is the socket listing's (and -s's)",
        ),
        (cli.tos && !(ss && listing), "--tos", ONLY_SS),
        (cli.cgroup && !(ss && listing), "--cgroup", ONLY_SS),
        (
            cli.inet_sockopt && !(ss && listing),
            "--inet-sockopt",
            ONLY_SS,
        ),
        (
            cli.oneline && (json || !table),
            "-O",
            "there are no detail lines to join",
        ),
        (
            cli.no_queues && (json || !table),
            "-Q",
            "there is no queue column",
        ),
        (
            cli.threads && json,
            "-T",
            "JSON owners have no thread field",
        ),
        (
            cli.threads && (cli.summary || matches!(cli.command, Some(Command::Ports))),
            "-T",
            "the view shows no owners",
        ),
    ];
    match refused.into_iter().find(|(given, _, _)| *given) {
        Some((_, flag, why)) => Err(ConfigError::NotForView { flag, view, why }),
        None => Ok(()),
    }
}
// end issue 15, format
/// The kind flags of `cli`, for [`kinds::select`]; `-f help` is
/// [`ConfigError::FamilyHelp`].
fn kind_flags(cli: &Cli) -> Result<kinds::KindFlags, ConfigError> {
    use crate::model::{AddrFamily, SocketKind as K};
    let given = [
        (cli.tcp, K::Tcp),
        (cli.udp, K::Udp),
        (cli.raw, K::Raw),
        (cli.mptcp, K::Mptcp),
        (cli.sctp, K::Sctp),
        (cli.dccp, K::Dccp),
    ];
    let mut flags = kinds::KindFlags {
        states_given: cli.all || cli.listening || cli.bound_inactive,
        queries: cli.query.clone(),
        // Subcommands keep their own tables; ss's format is the listing's.
        ss_default: (cli.ss_format || cli.invoked_as_ss) && cli.command.is_none() && !cli.summary,
        ..Default::default()
    };
    // Kinds named before the first -A are forgotten by it; after it, kept
    // (Cli::parse_args records which came after).
    let mut after = Vec::new();
    for (on, kind) in given {
        if !on {
            continue;
        }
        if cli.query.is_empty() {
            flags.kinds.push(kind);
        } else if cli.kinds_after_query.contains(&kind) {
            after.push(kind);
        }
    }
    for (on, family) in [
        (cli.unix, AddrFamily::Unix),
        (cli.ipv4, AddrFamily::Inet),
        (cli.ipv6, AddrFamily::Inet6),
        (cli.packet, AddrFamily::Packet),
        (cli.vsock, AddrFamily::Vsock),
        (cli.tipc, AddrFamily::Tipc),
        (cli.xdp, AddrFamily::Xdp),
    ] {
        if on {
            flags.families.push(family);
        }
    }
    for word in &cli.family {
        if word == "help" {
            return Err(ConfigError::FamilyHelp);
        }
        flags.families.push(kinds::family_word(word)?);
    }
    flags.after_query = after;
    Ok(flags)
}

/// `--interval` belongs to watch, `--count` and `--duration` to the live
/// views.
fn live_bounds(cli: &Cli) -> Result<(), ConfigError> {
    let watching = cli.continuous || matches!(cli.command, Some(Command::Watch(_)));
    // issue 18, counters: --interval is the time counted over.
    let counting = matches!(cli.command, Some(Command::Counters(_)));
    let tracing = matches!(cli.command, Some(Command::Trace(_)));
    const TCP_TRANSITIONS: &str = "trace shows TCP state changes only";
    let live = watching || cli.events || cli.command.as_ref().is_some_and(Command::is_live);
    let view = match &cli.command {
        Some(command) => command.name(),
        None if cli.summary => "-s",
        None if cli.kill => "-K",
        None if cli.diag.is_some() => "-D",
        None => "the socket listing",
    };
    let refused = [
        (
            cli.interval.is_some() && !(watching || counting),
            "--interval",
            "only watch (-c) repeats itself (and counters counts over it)",
        ),
        (
            cli.count.is_some() && !live,
            "--count",
            "only the live views (watch, -c, events, -E, trace) run on",
        ),
        (
            cli.continuous && cli.command.is_some(),
            "-c",
            "-c is the listing's watch: use `sockscope watch` or -c alone",
        ),
        (tracing && cli.udp, "-u", TCP_TRANSITIONS),
        (tracing && cli.unix, "-x", TCP_TRANSITIONS),
        (tracing && cli.raw, "-w", TCP_TRANSITIONS),
        (tracing && cli.packet, "-0", TCP_TRANSITIONS),
        (tracing && cli.mptcp, "-M", TCP_TRANSITIONS),
        (
            tracing && (!cli.net.is_empty() || cli.all_netns || !cli.container.is_empty()),
            if !cli.net.is_empty() {
                "-N"
            } else if cli.all_netns {
                "--all-netns"
            } else {
                "--container"
            },
            "the tracepoints do not say which network namespace a socket is in: \
             trace hears every namespace's; narrow it by address or port",
        ),
        (
            tracing && (!cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some()),
            "--pid, --comm or --process",
            "most transitions run in softirq, where no process is known",
        ),
        (
            cli.summary && cli.command.as_ref().is_some_and(Command::is_live),
            "-s",
            "-s is a view of its own",
        ),
        (
            cli.ss_format && watching,
            "--ss-format",
            "ss's format is the socket listing's (and -s's)",
        ),
        (
            cli.duration.is_some() && !live,
            "--duration",
            "only the live views (watch, -c, events, -E, trace) run on",
        ),
    ];
    match refused.into_iter().find(|(given, _, _)| *given) {
        Some((_, flag, why)) => Err(ConfigError::NotForView {
            flag,
            view: if cli.continuous { "-c" } else { view },
            why,
        }),
        None => Ok(()),
    }
}

/// Refuses the flags a subcommand would ignore (or answer wrongly with),
/// so nothing typed is dropped in silence. What each view accepts:
/// - every view: -t, -n, -H, -v, --json, --jsonl and the source options;
/// - who: also -u, -4, -6, -p, -e, -o, -i, -m, --cmdline, --pid, --comm,
///   --process (its table is the listing's);
/// - why-bind: also -u (UDP, not with -t), -p, -e, -o, -i, -m, --cmdline
///   (the holders' table); not -4/-6 or a process filter, which would hide
///   sockets that make bind() fail;
/// - listeners: also -4, -6, -p, --pid, --comm, --process;
/// - ports: also -4, -6.
fn check_view_flags(cli: &Cli) -> Result<(), ConfigError> {
    live_bounds(cli)?;
    trace::check(cli)?;
    // The live views take the listing's flags.
    let Some(command) = cli.command.as_ref().filter(|c| !c.is_live()) else {
        return Ok(());
    };
    if matches!(command, Command::Counters(_)) {
        return counters::check(cli);
    }
    let view = command.name();
    // issue 18, install: the script is the same whatever else is given.
    if matches!(command, Command::Completions(_))
        && let Some(flag) = cli.typed_with_completions.first()
    {
        return Err(ConfigError::CompletionsAlone { flag: flag.clone() });
    }
    let (who, why_bind, listeners) = (
        matches!(command, Command::Who(_)),
        matches!(command, Command::WhyBind(_)),
        matches!(command, Command::Listeners),
    );
    let export = command.export_args().is_some();
    const STATES: &str = "the view reads the states it needs";
    const TCP_ONLY: &str = "the view shows TCP sockets only";
    const NO_TABLE: &str = "the view has no socket table";
    let refused: [(bool, &'static str, &'static str); 17] = [
        (
            cli.unix,
            "-x",
            if export {
                "the exposition counts UNIX sockets unless -t or -u narrow it"
            } else {
                "the view does not read UNIX sockets"
            },
        ),
        (cli.udp && !(who || why_bind || export), "-u", TCP_ONLY),
        (
            cli.udp && cli.tcp && why_bind,
            "-t with -u",
            "the view checks one protocol (TCP, or UDP with -u)",
        ),
        (cli.listening, "-l", STATES),
        (cli.all, "-a", STATES),
        (cli.summary, "-s", "-s is a view of its own"),
        (cli.resolve, "-r", "the view prints numbers"),
        (
            (cli.ipv4 || cli.ipv6) && why_bind,
            if cli.ipv4 { "-4" } else { "-6" },
            "a socket of either family can make bind() fail",
        ),
        (
            cli.processes && view == "ports",
            "-p",
            "the view shows no owners",
        ),
        (
            cli.processes && export,
            "-p",
            "the exposition always names processes",
        ),
        (
            (cli.json || cli.jsonl) && export,
            if cli.json { "--json" } else { "--jsonl" },
            "the exposition is Prometheus text (metrics --openmetrics for OpenMetrics)",
        ),
        (cli.extended && !(who || why_bind), "-e", NO_TABLE),
        (cli.options && !(who || why_bind), "-o", NO_TABLE),
        (cli.info && !(who || why_bind), "-i", NO_TABLE),
        (cli.memory && !(who || why_bind), "-m", NO_TABLE),
        (cli.cmdline && !(who || why_bind), "--cmdline", NO_TABLE),
        (
            (!cli.pid.is_empty() || cli.comm.is_some() || cli.process.is_some())
                && !(who || listeners),
            if !cli.pid.is_empty() {
                "--pid"
            } else if cli.comm.is_some() {
                "--comm"
            } else {
                "--process"
            },
            if why_bind {
                "every socket on the port counts, whoever holds it"
            } else {
                "the view counts every outgoing connection"
            },
        ),
    ];
    if let Some((_, flag, why)) = refused.into_iter().find(|(given, _, _)| *given) {
        return Err(ConfigError::NotForView { flag, view, why });
    }
    // The socket kind flags choose what a listing shows; the views read
    // the protocols they explain.
    const KINDS: &str = "the view reads the socket kinds it explains";
    let kinds: [(bool, &'static str); 12] = [
        (cli.raw, "-w"),
        (cli.mptcp, "-M"),
        (cli.sctp, "-S"),
        (cli.dccp, "-d"),
        (cli.vsock, "--vsock"),
        (cli.tipc, "--tipc"),
        (cli.xdp, "--xdp"),
        (cli.packet, "-0"),
        (cli.bound_inactive, "-B"),
        (!cli.query.is_empty(), "-A"),
        (!cli.family.is_empty(), "-f"),
        (cli.bpf, "-b"),
    ];
    match kinds.into_iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(ConfigError::NotForView {
            flag,
            view,
            why: KINDS,
        }),
        None => Ok(()),
    }
}

/// What the kernel is asked to filter on: the user's expression, and what
/// the view reads (pushed into the request so the rest is never dumped).
/// `who` and `why-bind` need the sockets on their port only: the holders,
/// and the listeners a queued connection on that port belongs to (a
/// connection waits in the queue of a listener on its own local port);
/// `who` also the sockets connected to the port (`dport = PORT`), its
/// clients on this host.
/// `ports` counts sockets whose local port is in the ephemeral range, and
/// excludes the ports something listens on, which are in that range too.
/// User space still checks everything the view uses.
fn request_filter(user: Option<&Expr>, mode: &Mode, knobs: &NetKnobs) -> Option<Expr> {
    let view = match mode {
        Mode::Who { target, .. } => {
            let port = |side| {
                Expr::Host(
                    side,
                    HostCond {
                        prefix: None,
                        port: Some(target.port),
                    },
                )
            };
            Some(Expr::or(port(Side::Src), port(Side::Dst)))
        }
        Mode::WhyBind { target, .. } => Some(Expr::Host(
            Side::Src,
            HostCond {
                prefix: None,
                port: Some(target.port),
            },
        )),
        Mode::Ports => {
            let (lo, hi) = knobs.port_range();
            Some(Expr::and(
                Expr::PortGe(Side::Src, lo),
                Expr::PortLe(Side::Src, hi),
            ))
        }
        Mode::List
        | Mode::Watch
        | Mode::Trace
        | Mode::Summary
        | Mode::Listeners
        | Mode::Kill { .. }
        | Mode::Events
        | Mode::Diag { .. }
        | Mode::Metrics(_)
        | Mode::Serve(_)
        | Mode::Counters(_)
        | Mode::Completions(_) => None,
    };
    match (user.cloned(), view) {
        (Some(u), Some(v)) => Some(Expr::and(u, v)),
        (u, v) => u.or(v),
    }
}

/// A filter error on the command line's first word, when that word is a
/// typo of a subcommand's name (`sockscope listener`), becomes "did you
/// mean": the subcommands are clap's (those other parts add included).
fn unknown_command(err: ConfigError, words: &[String]) -> ConfigError {
    let ConfigError::Filter(filter) = &err else {
        return err;
    };
    let Some(first) = words.first().filter(|_| filter.at == 0) else {
        return err;
    };
    let cmd = <Cli as clap::CommandFactory>::command();
    let names: Vec<&str> = cmd
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|n| *n != "help")
        .collect();
    match habits::similar_command(first, &names) {
        Some(command) => ConfigError::UnknownCommand {
            word: first.clone(),
            command: command.to_owned(),
        },
        None => err,
    }
}

/// Parses the filter words with what they need from the system facts: the
/// services database, the ephemeral port range, interface names.
fn parse_filter(
    words: &[String],
    facts: &Facts,
    other_namespaces: bool,
    family: Option<expr::AddrFamily>,
) -> Result<expr::Filter, ConfigError> {
    // Facts::read reads the services for any filter word.
    let Some(services) = facts.services.as_ref().filter(|_| !words.is_empty()) else {
        return Ok(expr::Filter::default());
    };
    // Read only to name ports: unreadable, it is said where a name needs it.
    let ifindex = |name: &str| facts.ifindex(name).ok();
    let port_of = |name: &str| services.as_ref().ok()?.port(name);
    let ctx = expr::Context {
        services: match services {
            Ok(_) => Ok(&port_of),
            Err(e) => Err(e),
        },
        ephemeral: facts.knobs.port_range(),
        ifindex: &ifindex,
        other_namespaces,
        family,
        resolve: &|name| facts.resolve(name),
        cgroup: &|path| facts.cgroup_id(path),
    };
    Ok(expr::parse(words, &ctx)?)
}

/// fuser's `PORT/tcp`, `PORT/udp` (any target form before the slash): the
/// target without the suffix, and the protocol it names.
pub fn strip_protocol(text: &str) -> (&str, Option<Protocol>) {
    match text.rsplit_once('/') {
        Some((rest, proto)) if proto.eq_ignore_ascii_case("tcp") => (rest, Some(Protocol::Tcp)),
        Some((rest, proto)) if proto.eq_ignore_ascii_case("udp") => (rest, Some(Protocol::Udp)),
        _ => (text, None),
    }
}

/// `PORT`, `:PORT`, `ADDR:PORT`, `[IPv6]:PORT`; the port may be a service
/// name from the services database (read by [`Facts::read`] for such a
/// target; `None`: not read).
pub fn parse_local_port(
    text: &str,
    services: Option<&Result<Services, ServicesError>>,
) -> Result<LocalPort, ConfigError> {
    let bad = |reason: &str| ConfigError::Target {
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(LocalPort {
            addr: Some(sa.ip()),
            port: nonzero(sa.port()).ok_or_else(|| bad("port 0 is never held"))?,
        });
    }
    let (addr, port) = match text.rsplit_once(':') {
        Some((a, p)) => (a, p),
        None => ("", text),
    };
    let addr = match addr {
        "" | "*" => None,
        a => Some(
            a.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|_| bad("expected an IPv4 address or [IPv6] before the port"))?,
        ),
    };
    let port = match port.parse::<u16>() {
        Ok(p) => nonzero(p).ok_or_else(|| bad("port 0 is never held"))?,
        Err(_) if port.is_empty() => return Err(bad("no port")),
        Err(_) if port.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(bad("a port is at most 65535"));
        }
        Err(_) => {
            let db = match services {
                Some(Ok(db)) => db,
                Some(Err(e)) => return Err(bad(&format!("not a number, and {e}: {}", e.source))),
                None => return Err(bad("not a number nor a service name in /etc/services")),
            };
            db.port(port)
                .ok_or_else(|| bad("not a number nor a service name in /etc/services"))?
        }
    };
    Ok(LocalPort { addr, port })
}

/// A why-bind target: [`parse_local_port`]'s forms, and an IPv6 address
/// may carry a scope, `[fe80::1%eth0]:80` or `[fe80::1%2]:80` (an interface
/// of this network namespace); the scope is returned as an index, 0 for
/// none.
pub fn parse_bind_target(text: &str, facts: &Facts) -> Result<(LocalPort, u32), ConfigError> {
    let services = facts.services.as_ref();
    let bad = |reason: String| ConfigError::Target {
        text: text.to_owned(),
        reason,
    };
    let Some((head, rest)) = text.split_once('%') else {
        return Ok((parse_local_port(text, services)?, 0));
    };
    let Some((scope, tail)) = rest.split_once(']') else {
        return Err(bad(
            "a scope goes inside the brackets: [fe80::1%eth0]:80".to_owned()
        ));
    };
    let target = parse_local_port(&format!("{head}]{tail}"), services)?;
    if !target.addr.is_some_and(|a| a.is_ipv6()) {
        return Err(bad("a scope (%...) belongs to an IPv6 address".to_owned()));
    }
    let index = match scope.parse::<u32>() {
        Ok(n) if n > 0 => n,
        Ok(_) => return Err(bad("scope 0 names no interface".to_owned())),
        Err(_) if scope.is_empty() => return Err(bad("empty scope after %".to_owned())),
        Err(_) => facts.ifindex(scope).map_err(|e| {
            bad(format!(
                "no interface named {:?} in this network namespace ({e})",
                crate::text::escape(scope)
            ))
        })?,
    };
    Ok((target, index))
}

fn nonzero(p: u16) -> Option<u16> {
    (p != 0).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;
    use clap::Parser;

    fn config(args: &[&str]) -> Config {
        let mut argv = vec!["sockscope"];
        argv.extend_from_slice(args);
        Config::from_cli(Cli::try_parse_from(argv).unwrap()).unwrap()
    }

    /// Issue 18: the terminal's width reaches the table options; -W (and
    /// every subcommand takes it) turns fitting off.
    #[test]
    fn the_terminal_width_is_a_fact_and_w_turns_it_off() {
        let cli = |args: &[&str]| {
            let mut argv = vec!["sockscope"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).unwrap()
        };
        let mut facts = Facts::none(PathBuf::from("/nonexistent"));
        facts.width = Some(80);
        for (args, width) in [
            (&["-tlnp"][..], Some(80)),
            (&["-tlnpW"], None),
            (&["--wide", "-tlnp"], None),
            (&["listeners"], Some(80)),
            (&["listeners", "-W"], None),
            (&["why-bind", "-W", "80"], None),
        ] {
            let c = Config::new(cli(args), facts.clone()).unwrap();
            assert_eq!(c.table.width, width, "{args:?}");
        }
        // A pipe: no width, whatever the flags.
        let c = Config::new(cli(&["-tlnp"]), Facts::none(PathBuf::from("/x"))).unwrap();
        assert_eq!(c.table.width, None);
    }

    /// Issue 16: the live views take the listing's flags and filter words
    /// (before or after the subcommand) and refuse what they cannot show.
    #[test]
    fn live_views_take_the_listing_flags_and_refuse_the_rest() {
        let c = config(&["watch", "-tanp", "state", "established", "--interval", "2"]);
        assert_eq!(c.mode, Mode::Watch);
        assert!(c.table.processes);
        assert_eq!(c.live.interval, std::time::Duration::from_secs(2));
        assert_eq!(
            c.select.states,
            [TcpState::Established].into_iter().collect::<StateSet>()
        );
        assert_eq!(config(&["-c", "-tan"]).mode, Mode::Watch);
        let t = config(&["trace", "dport", "=", ":80", "--count", "3"]);
        assert_eq!((t.mode, t.live.count), (Mode::Trace, Some(3)));
        assert!(t.select.expr.is_some());
        assert_eq!(config(&["events", "-t"]).mode, Mode::Events);
        let refused = |args: &[&str]| {
            let mut argv = vec!["sockscope"];
            argv.extend_from_slice(args);
            match Config::from_cli(Cli::try_parse_from(argv).unwrap()) {
                Err(ConfigError::NotForView { flag, .. }) => flag,
                other => panic!("{args:?}: {other:?}"),
            }
        };
        assert_eq!(refused(&["trace", "-u"]), "-u");
        assert_eq!(refused(&["trace", "-x"]), "-x");
        assert_eq!(refused(&["trace", "-N", "x"]), "-N");
        assert_eq!(refused(&["trace", "--all-netns"]), "--all-netns");
        assert_eq!(
            refused(&["trace", "--pid", "1"]),
            "--pid, --comm or --process"
        );
        assert_eq!(refused(&["-c", "trace"]), "-c");
        assert_eq!(refused(&["trace", "--interval", "1"]), "--interval");
        assert_eq!(refused(&["-tan", "--count", "1"]), "--count");
        assert_eq!(refused(&["who", "--duration", "1s", "80"]), "--duration");
        assert_eq!(refused(&["-s", "watch"]), "-s");
    }

    #[test]
    fn bind_targets_keep_their_scope() {
        let mut svc = Facts::none(PathBuf::from("/proc"));
        svc.interfaces = Some(crate::source::ifaces::Interfaces::read());
        let svc = &svc;
        let (t, scope) = parse_bind_target("[fe80::1%2]:80", svc).unwrap();
        assert_eq!(
            (t.addr, t.port, scope),
            (Some("fe80::1".parse().unwrap()), 80, 2)
        );
        // lo is index 1 in every network namespace.
        assert_eq!(parse_bind_target("[fe80::1%lo]:80", svc).unwrap().1, 1);
        let (t, scope) = parse_bind_target("[::]:9090", svc).unwrap();
        assert_eq!((t.addr, scope), (Some("::".parse().unwrap()), 0));
        for bad in [
            "1.2.3.4%2:80",
            "[1.2.3.4%2]:80",
            "[fe80::1%]:80",
            "[fe80::1%0]:80",
            "[fe80::1%no-such-if0]:80",
        ] {
            assert!(
                matches!(parse_bind_target(bad, svc), Err(ConfigError::Target { .. })),
                "{bad}"
            );
        }
    }

    /// Config::new reads nothing: the services, the port range and the
    /// euid are the facts given.
    #[test]
    fn config_is_built_from_the_facts_given() {
        let cli = |args: &[&str]| {
            let mut argv = vec!["sockscope"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).unwrap()
        };
        let mut facts = Facts::none(PathBuf::from("/nonexistent"));
        facts.services = Some(Ok(
            Services::from_reader("made-up 4242/tcp\n".as_bytes()).unwrap()
        ));
        facts.knobs.ip_local_port_range = Some((1000, 2000));
        facts.euid = 4321;
        let c = Config::new(cli(&["who", "made-up"]), facts.clone()).unwrap();
        assert_eq!(
            c.mode,
            Mode::Who {
                target: LocalPort {
                    addr: None,
                    port: 4242
                },
                pids: false
            }
        );
        assert_eq!((c.euid, c.knobs.port_range()), (4321, (1000, 2000)));
        assert!(c.names.is_none());
        let c = Config::new(cli(&["-t", "sport", "=", ":made-up"]), facts.clone()).unwrap();
        assert!(c.select.expr.is_some());
        // An unreadable services file: said by the target that needs it.
        facts.services = Some(Err(ServicesError {
            path: PathBuf::from(SERVICES_PATH),
            source: std::sync::Arc::new(std::io::ErrorKind::NotFound.into()),
        }));
        let err = Config::new(cli(&["who", "made-up"]), facts.clone()).unwrap_err();
        assert!(
            err.to_string().contains("cannot read /etc/services"),
            "{err}"
        );
        assert!(Config::new(cli(&["who", "80"]), facts).is_ok());
    }

    #[test]
    fn owners_imply_listeners_are_read() {
        let c = config(&["-tnp"]);
        assert!(c.owners.is_some() && c.table.processes);
        assert!(c.query.states.contains(TcpState::Listen));
        assert!(!c.select.states.contains(TcpState::Listen));
        let c = config(&["-tn", "--comm", "nginx"]);
        assert!(c.owners.is_some() && c.select.process.is_some());
        let c = config(&["-tn"]);
        assert!(c.owners.is_none());
        assert!(!c.query.states.contains(TcpState::Listen));
    }

    #[test]
    fn who_targets() {
        let p = |t| parse_local_port(t, None);
        assert_eq!(
            p("8080").unwrap(),
            LocalPort {
                addr: None,
                port: 8080
            }
        );
        assert_eq!(p(":8080").unwrap().port, 8080);
        assert_eq!(p("*:8080").unwrap().addr, None);
        assert_eq!(
            p("127.0.0.1:80").unwrap().addr,
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(p("[::1]:80").unwrap().addr, Some("::1".parse().unwrap()));
        for bad in ["0", "70000", "", ":", "host:80", "1.2.3:80", "[::1]:0", "x"] {
            assert!(p(bad).is_err(), "{bad:?} should be refused");
        }
        let c = config(&["who", "8080"]);
        assert_eq!(
            c.mode,
            Mode::Who {
                target: LocalPort {
                    addr: None,
                    port: 8080
                },
                pids: false
            }
        );
        assert_eq!(c.select.states, StateSet::every());
        assert!(c.owners.is_some());
        assert!(c.select.connected);
        assert_eq!(c.query.protocols, [Protocol::Tcp, Protocol::Udp]);
        // fuser's spelling narrows the protocol, as -t/-u would.
        let c = config(&["who", "8080/tcp", "--pids"]);
        assert_eq!(c.query.protocols, [Protocol::Tcp]);
        assert!(matches!(c.mode, Mode::Who { pids: true, target } if target.port == 8080));
        let c = config(&["who", "127.0.0.1:53/UDP"]);
        assert_eq!(c.query.protocols, [Protocol::Udp]);
        assert!(matches!(c.mode, Mode::Who { target, .. } if target.addr.is_some()));
        let c = config(&["who", "-u", "-t", "53/udp"]);
        assert_eq!(c.query.protocols, [Protocol::Udp]);
        assert!(matches!(
            Config::from_cli(Cli::try_parse_from(["sockscope", "who", "-t", "53/udp"]).unwrap()),
            Err(ConfigError::ProtocolConflict { .. })
        ));
        assert_eq!(strip_protocol("80/sctp"), ("80/sctp", None));
        // The kernel is asked for both sides of the port.
        let c = config(&["who", "8080"]);
        let both = request_filter(None, &c.mode, &c.knobs).unwrap();
        assert!(both.matches(&crate::model::Socket::test_tcp(
            TcpState::Established,
            "127.0.0.1:5000",
            "127.0.0.1:8080"
        )));
    }

    #[test]
    fn bad_regex_is_a_config_error() {
        let cli = Cli::try_parse_from(["sockscope", "--process", "ng(inx"]).unwrap();
        assert!(matches!(
            Config::from_cli(cli),
            Err(ConfigError::Regex { .. })
        ));
    }

    #[test]
    fn defaults_are_ss_defaults() {
        let c = config(&[]);
        // Every internet table sockscope reads (ss's default adds UNIX,
        // packet and netlink sockets).
        assert_eq!(c.query.protocols, Protocol::ALL.to_vec());
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

    /// Regression: why-bind's holders table keeps one protocol and no
    /// Netid column (the kinds' rule is the listing's); a listing of the
    /// default kinds has one, -t alone none, -x one.
    #[test]
    fn netid_column_follows_the_listing_or_the_view() {
        assert!(!config(&["why-bind", "80"]).table.netid);
        assert!(config(&["-a"]).table.netid);
        assert!(!config(&["-ta"]).table.netid);
        assert!(!config(&["-w"]).table.netid);
        assert!(config(&["-x"]).table.netid);
        assert!(!config(&["-A", "unix_stream"]).table.netid);
    }

    /// A subcommand refuses the kind flags (`-w who 80` would read raw
    /// sockets only and find no holder).
    #[test]
    fn views_refuse_kind_flags() {
        for args in [
            &["-w", "who", "80"][..],
            &["-A", "udp", "listeners"],
            &["-B", "ports"],
            &["-f", "inet", "why-bind", "80"],
        ] {
            let mut argv = vec!["sockscope"];
            argv.extend_from_slice(args);
            let err = Config::from_cli(Cli::try_parse_from(argv).unwrap()).unwrap_err();
            assert!(matches!(err, ConfigError::NotForView { .. }), "{args:?}");
        }
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

    // issue 15, format
    #[test]
    fn ss_format_options_follow_ss_rules() {
        let c = config(&["--ss-format", "-tan"]);
        let ss = c.table.ss.clone().unwrap();
        assert!(!ss.netid && ss.state && !ss.timers);
        let c = config(&["--ss-format", "-tn", "state", "established"]);
        assert!(!c.table.ss.unwrap().state, "one state: no State column");
        let c = config(&["--ss-format", "-xa"]);
        assert!(c.table.ss.unwrap().netid, "-x lists three socket tables");
        let c = config(&["--ss-format", "-tua"]);
        assert_eq!(c.query.protocols, [Protocol::Udp, Protocol::Tcp]);
        assert!(!c.query.attrs && !c.query.cc_info);
        let c = config(&["--ss-format", "-tie"]);
        assert!(c.query.attrs && c.query.cc_info);
        let c = config(&["--ss-format", "-te"]);
        assert!(c.table.ss.unwrap().timers, "ss -e implies -o");
        // sockscope's own table: no ss options, TCP first, no attributes.
        let c = config(&["-tua", "-Q", "-O"]);
        assert!(c.table.ss.is_none() && !c.query.attrs);
        assert!(!c.table.queues && c.table.oneline);
        assert_eq!(c.query.protocols, [Protocol::Tcp, Protocol::Udp]);
    }

    #[test]
    fn invoked_as_ss_prints_ss_format() {
        let as_ss = |argv0: &str| {
            let cli = Cli::parse_args_from([argv0, "-tln"]);
            Config::from_cli(cli).unwrap().table.ss.is_some()
        };
        assert!(as_ss("ss"));
        assert!(as_ss("/usr/local/bin/ss"));
        assert!(!as_ss("sockscope"));
        assert!(!as_ss("/usr/bin/ss.real"));
    }

    #[test]
    fn threads_imply_owners() {
        let c = config(&["-tanT"]);
        assert!(c.table.processes && c.owners.unwrap().threads);
        assert!(!config(&["-tanp"]).owners.unwrap().threads);
    }

    #[test]
    fn ss_format_flags_where_they_would_be_ignored() {
        let refused = |args: &[&str]| {
            let mut argv = vec!["sockscope"];
            argv.extend_from_slice(args);
            Config::from_cli(Cli::try_parse_from(argv).unwrap()).unwrap_err()
        };
        assert!(refused(&["-tan", "--tos"]).to_string().contains("--tos"));
        assert!(
            refused(&["-tan", "--cgroup"])
                .to_string()
                .contains("--ss-format")
        );
        assert!(refused(&["--json", "-T"]).to_string().contains("-T"));
        assert!(refused(&["--jsonl", "-O"]).to_string().contains("-O"));
        assert!(
            refused(&["--ss-format", "who", "22"])
                .to_string()
                .contains("who")
        );
        assert!(refused(&["-Q", "listeners"]).to_string().contains("-Q"));
        config(&["--ss-format", "-s"]);
        config(&["--ss-format", "-tan", "--tos", "--cgroup", "-T", "-O", "-Q"]);
    }
}
