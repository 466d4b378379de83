//! Command-line definition. Everything the user can type is declared here,
//! with its help text; [`crate::config::Config::from_cli`] turns it into the
//! plain configuration the rest of the program sees.

use std::io::Write as _;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub const EXAMPLES: &str = "\
Examples:
  sockscope -tan                 every TCP socket, numeric
  sockscope -tln                 listening TCP sockets
  sockscope -tuan                TCP and UDP sockets in every state
  sockscope -uan                 UDP sockets, bound and connected
  sockscope -tan --json          the same rows as one JSON array
  sockscope -tan --jsonl | jq .  one JSON object per line, streamed
  sockscope -tln -e              with uid, inode and socket cookie
  sockscope -tan --source proc   read /proc/net/tcp* instead of netlink
  sockscope -tlnp                listening TCP sockets and their processes
  sockscope -tnp --comm nginx    nginx's connections, and those waiting in
                                 its listeners' accept queues
  sockscope who 8080             which processes hold port 8080, and how
  sockscope -tn state established '( dport = :https or sport = :https )'
  sockscope -tan state time-wait dst 10.0.0.0/8
  sockscope -tan 'sport >= :1024 and not dst 127.0.0.1'

  sockscope listeners            accept queues: how full, half-open, unaccepted
  sockscope why-bind 8080 --try  why bind() to :8080 fails now
  sockscope ports                ephemeral ports used per destination";

/// `-h`: the examples and the exit statuses in a few words (`--help` and
/// the man page give [`EXIT_STATUS`] and [`ESCAPING`] in full).
const SHORT_AFTER_HELP: &str = "\
Exit status: 0 ok; 1 the answer is no (who: nothing holds the port;
why-bind: busy; listeners: a queue is full; ports: critical); 2 usage or
input error; 3 kernel, permission or I/O failure; 130 interrupted: killed by
SIGINT (shells report 130).";

/// Exit statuses and what each means, for `--help` and the man page's
/// EXIT STATUS section (README, "Exit status", says the same).
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (
        0,
        "Success. Also when stdout is closed early (sockscope -tan | head -1): \
         no message then.",
    ),
    (
        1,
        "The answer is no: who when nothing holds the port, why-bind when \
         bind() would fail, listeners when an accept queue is full, ports when \
         a destination has used 90 % of the ephemeral ports, -K when the \
         kernel refused to kill a socket. Also -Z/-z \
         where SELinux is off (\"SELinux is not enabled.\", as ss).",
    ),
    (
        2,
        "Usage or input error, with a message naming the problem: an unknown \
         option or subcommand, a missing or bad value (--pid, --source), a bad \
         filter (the filter is repeated with carets under the offending \
         token), a bad --process regex, a bad who or why-bind port or \
         address, an unknown option (named, with the nearest sockscope way \
         for netstat and lsof habits such as -W or -g), a first word close to \
         a subcommand's name (\"did you mean\"), lsof's -i :PORT (answered \
         with the sockscope way), a -F file that \
         cannot be read, a filter expression with packet or netlink \
         sockets, an unknown -A or -f word, a flag the subcommand cannot use \
         (listeners -u), -K without a selection.",
    ),
    (
        3,
        "Kernel, permission or I/O failure: /proc/net unreadable or malformed \
         (the message names the file and line), a malformed netlink reply, a \
         refused netlink dump whose /proc table cannot be read either, a \
         --replay file missing or without the dump asked for (a recorded dump \
         must cover the states, -i/-m attributes and kernel filter asked for \
         now), a --record file \
         that cannot be written, already exists (without --record-overwrite) \
         or is a symbolic link (a -D file too), /etc/services or /etc/passwd \
         unreadable with -r, -E where the kernel refuses the subscription, an ss option whose data \
         sockscope does not read (--bpf-maps, --bpf-map-id; -Z/-z where SELinux \
         is on).",
    ),
    (
        130,
        "Interrupted: killed by SIGINT (Ctrl-C); shells report 130 (128 + 2).",
    ),
];

/// What errors look like, for `--help` and the man page.
pub const MESSAGES: &str = "\
Errors are written to stderr as one line, \"sockscope: \" and what failed \
and why (a bad filter adds two lines: the filter and carets under the \
offending token); usage errors found by the argument parser start with \
\"error: \" and end with a usage line. Warnings (a fallback to /proc, owners \
that could not be seen) are \"sockscope: \" lines that leave the exit \
status alone. Input repeated in a message is escaped as in tables.";

/// The escaping rule of tables, for `--help` and the man page's ESCAPING
/// section (README, "Escaping", says the same).
pub const ESCAPING: &str = "\
Tables escape every name that comes from outside sockscope (process names \
and command lines, UNIX socket names, interface, service and user names), \
so that no output can move the cursor, change the terminal, split a row \
over lines or reorder the rest of a line: a backslash becomes \\\\; the C0 \
controls (TAB, CR and LF among them) and DEL become \\xNN, and so does every \
byte that is not UTF-8; the C1 controls (U+0080 to U+009F), the Unicode \
format characters (bidi overrides, embeddings and isolates such as U+202E, \
zero-width characters, the BOM, tags) and the line and paragraph \
separators (U+2028, U+2029) become \\u{NNNN}. \\xNN is always one byte and \
\\u{...} one character, so the original bytes can be read back. JSON \
carries the exact text, JSON-escaped (U+2028, U+2029 and U+0085 always as \
\\u2028, \\u2029, \\u0085); bytes that are not UTF-8 become \
U+FFFD there, and the object then also carries every byte in hex \
(\"comm_hex\", \"cmdline_hex\", \"path_hex\").";

/// `--help`: the examples, the exit statuses, messages and escaping.
fn long_after_help() -> String {
    let mut text = format!("{EXAMPLES}\n\nExit status:\n");
    for (code, meaning) in EXIT_STATUS {
        text.push_str(&format!("  {code}\n      {meaning}\n"));
    }
    text.push_str(&format!("\nMessages: {MESSAGES}\n\nEscaping: {ESCAPING}"));
    text
}

/// Connection-state inspector: the sockets `ss` shows, from the kernel's
/// sock_diag interface or /proc/net.
#[derive(Debug, Parser)]
#[command(
    name = "sockscope",
    // issue 18, install: the version and the commit (build.rs).
    version = env!("SOCKSCOPE_VERSION"),
    about,
    after_help = format!("{EXAMPLES}\n\n{SHORT_AFTER_HELP}"),
    after_long_help = long_after_help()
)]
pub struct Cli {
    /// Show TCP sockets.
    #[arg(short = 't', long = "tcp", global = true)]
    pub tcp: bool,

    /// Show UDP sockets.
    #[arg(short = 'u', long = "udp", global = true)]
    pub udp: bool,

    /// Summary: ss -s's totals (from /proc/net/sockstat and snmp), then the
    /// number of sockets in each state, counted from the kernel dump.
    #[arg(short = 's', long = "summary")]
    pub summary: bool,

    /// Show UNIX domain sockets (stream, datagram, seqpacket).
    #[arg(short = 'x', long = "unix", global = true)]
    pub unix: bool,

    /// Show only listening sockets (TCP LISTEN, unconnected UDP).
    #[arg(short = 'l', long = "listening", global = true)]
    pub listening: bool,

    /// Show sockets in every state; without -a or -l, listening sockets,
    /// TIME_WAIT and SYN_RECV are left out, as in ss.
    #[arg(short = 'a', long = "all", global = true)]
    pub all: bool,

    /// Numeric addresses and ports (the default; accepted for ss habits).
    #[arg(short = 'n', long = "numeric", global = true)]
    pub numeric: bool,

    /// Show host names (from /etc/hosts and the system resolver, each
    /// looked up once, at most 1.5 s), service names from /etc/services
    /// instead of port numbers, and user names from /etc/passwd with -e.
    #[arg(short = 'r', long = "resolve", global = true)]
    pub resolve: bool,

    /// Show only IPv4 sockets.
    #[arg(short = '4', long = "ipv4", global = true)]
    pub ipv4: bool,

    /// Show only IPv6 sockets.
    #[arg(short = '6', long = "ipv6", global = true)]
    pub ipv6: bool,

    /// Do not print the header line (of the socket table; for listeners and
    /// ports, of their table).
    #[arg(short = 'H', long = "no-header", global = true)]
    pub no_header: bool,

    /// Extended columns: uid (user name with -r), inode, socket cookie and
    /// IPV6_V6ONLY.
    #[arg(short = 'e', long = "extended", global = true)]
    pub extended: bool,

    /// TCP internals (tcp_info and the congestion algorithm) on a second
    /// line per socket, as ss -i (netlink only).
    #[arg(short = 'i', long = "info", global = true)]
    pub info: bool,

    /// Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line
    /// per socket, as ss -m (netlink only).
    #[arg(short = 'm', long = "memory", global = true)]
    pub memory: bool,

    /// Show timers: retransmit (on), keepalive, timewait, persist, with the
    /// time left and the retransmit or probe count, as ss -o.
    #[arg(short = 'o', long = "options", global = true)]
    pub options: bool,

    /// Print JSON (schema in README): for a listing, one array of socket
    /// objects; who, listeners, why-bind, ports and -s print one object.
    #[arg(long, conflicts_with = "jsonl", global = true)]
    pub json: bool,

    /// Print one JSON object per socket and line, streamed (who,
    /// listeners, why-bind, ports and -s: their one object, on one line).
    #[arg(long, global = true)]
    pub jsonl: bool,

    /// Show the processes that own each socket (name/pid fd=N), and for a
    /// connection not yet accept()ed, the owners of the listener whose queue
    /// it waits in. A name that is empty or holds a space, a comma, a
    /// slash, a parenthesis, a double quote or a backslash is shown in
    /// double quotes, a quote inside as \" (a command line, in its
    /// brackets, when it holds ], " or \).
    #[arg(short = 'p', long = "processes", global = true)]
    pub processes: bool,

    /// With owners, also show each process's full command line.
    #[arg(long, global = true)]
    pub cmdline: bool,

    /// Only sockets of these processes (comma-separated pids), including
    /// connections waiting in their listeners' queues. Implies -p.
    #[arg(long, value_delimiter = ',', value_name = "PID", global = true)]
    pub pid: Vec<u32>,

    /// Only sockets of processes with exactly this name (/proc/PID/comm).
    /// Implies -p.
    #[arg(long, value_name = "NAME", global = true)]
    pub comm: Option<String>,

    /// Only sockets of processes whose name or command line matches REGEX.
    /// Implies -p.
    #[arg(long, value_name = "REGEX", global = true)]
    pub process: Option<String>,

    /// Read the sockets of this network namespace instead of sockscope's
    /// own: a name under /run/netns (as `ip netns` and ss -N), a path to a
    /// namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID.
    /// May be given more than once.
    #[arg(short = 'N', long = "net", value_name = "NETNS", global = true)]
    pub net: Vec<String>,

    /// Read every network namespace of the machine: each process's
    /// (/proc/*/ns/net) and those kept by a bind mount (/run/netns,
    /// /run/docker/netns). Rows gain Netns and Container columns.
    #[arg(long = "all-netns", global = true, conflicts_with = "net")]
    pub all_netns: bool,

    /// Only the namespaces and sockets of this container: its name, its id
    /// (or a prefix of at least 4 characters), or its Kubernetes pod name.
    /// May be given more than once. Implies --all-netns.
    #[arg(long, value_name = "NAME|ID", global = true)]
    pub container: Vec<String>,

    /// Look for container runtimes' metadata (/var/lib/docker,
    /// /var/lib/containers, /var/log/pods) and namespace names (/run/netns,
    /// /run/docker/netns) under DIR instead of / (for fixtures).
    #[arg(long, value_name = "DIR", global = true, hide = true)]
    pub host_root: Option<PathBuf>,

    /// Print what the run read and how long each step took to stderr
    /// (sockets dumped, interrupted dumps retried, processes walked).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,

    // issue 15, filters
    /// Read the filter expression from FILE (`-` for standard input), as
    /// ss -F does: its words follow the command line's; `#` starts a
    /// comment line.
    #[arg(short = 'F', long = "filter", value_name = "FILE", global = true)]
    pub filter_file: Option<PathBuf>,
    // issue 15, families: socket kinds and families as ss names them.
    /// Show raw sockets (netlink where the kernel has raw_diag, else
    /// /proc/net/raw and raw6; the port is the IP protocol).
    #[arg(short = 'w', long = "raw", global = true)]
    pub raw: bool,

    /// Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL).
    #[arg(short = 'M', long = "mptcp", global = true)]
    pub mptcp: bool,

    /// Show SCTP sockets: accepted as ss; sockscope lists none and says why
    /// (no sctp_diag in this kernel; with it: not read by sockscope yet).
    #[arg(short = 'S', long = "sctp")]
    pub sctp: bool,

    /// Show DCCP sockets: accepted as ss; none listed, and why.
    #[arg(short = 'd', long = "dccp")]
    pub dccp: bool,

    /// Show vsock sockets: accepted as ss; none listed, and why.
    #[arg(long = "vsock")]
    pub vsock: bool,

    /// Show TIPC sockets: accepted as ss; none listed, and why.
    #[arg(long = "tipc")]
    pub tipc: bool,

    /// Show XDP sockets: accepted as ss; none listed, and why.
    #[arg(long = "xdp")]
    pub xdp: bool,

    /// Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE.
    #[arg(short = '0', long = "packet", global = true)]
    pub packet: bool,

    /// Show TCP sockets bound to a port but neither listening nor
    /// connected (kernel state bound-inactive, Linux 6.8+), as ss -B.
    #[arg(short = 'B', long = "bound-inactive", global = true)]
    pub bound_inactive: bool,

    /// Socket tables to show, comma-separated, as ss -A: all, inet, tcp,
    /// mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket,
    /// packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock,
    /// vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out.
    #[arg(
        short = 'A',
        long = "query",
        visible_alias = "socket",
        value_name = "QUERY",
        allow_hyphen_values = false,
        global = true
    )]
    pub query: Vec<String>,

    /// Show sockets of this family, as ss -f: inet, inet6, link, unix,
    /// netlink, vsock, tipc, xdp (help lists them).
    #[arg(short = 'f', long = "family", value_name = "FAMILY", global = true)]
    pub family: Vec<String>,

    /// Show the classic BPF program attached to each packet socket, under
    /// its row, as ss -b (it implies -o, as in ss; root only).
    #[arg(short = 'b', long = "bpf")]
    pub bpf: bool,

    /// Kind flags given after the first -A (ss: -A forgets the tables named
    /// before it, not those after); filled by [`Cli::parse_args`].
    #[arg(skip)]
    pub kinds_after_query: Vec<crate::model::SocketKind>,

    // issue 15, lead: ss's flags that sockscope answers without rows of
    // its own.
    /// Show the SELinux security context of each owning process (ss -Z).
    /// Where SELinux is off, says so and exits 1, as ss.
    #[arg(short = 'Z', long = "context")]
    pub context: bool,

    /// Show the SELinux contexts of each owning process and socket (ss -z).
    /// Where SELinux is off, says so and exits 1, as ss.
    #[arg(short = 'z', long = "contexts")]
    pub contexts: bool,

    /// In ss's format: each socket's inet options (INET_DIAG_SOCKOPT:
    /// recverr, is_icsk, freebind, mc_loop, ...) on its detail line, as ss
    /// --inet-sockopt.
    #[arg(long = "inet-sockopt")]
    pub inet_sockopt: bool,

    /// TIPC sockets' details on their rows (ss --tipcinfo). sockscope lists
    /// no TIPC sockets (see --tipc, which says why), so it adds nothing;
    /// accepted for ss's command lines.
    #[arg(long = "tipcinfo")]
    pub tipcinfo: bool,

    /// Show every BPF socket-local storage map's value (ss --bpf-maps, in
    /// builds of ss with libbpf): not read by sockscope; says so.
    #[arg(long = "bpf-maps")]
    pub bpf_maps: bool,

    /// Show one BPF socket-local storage map's value (ss --bpf-map-id): not
    /// read by sockscope; says so.
    #[arg(long = "bpf-map-id", value_name = "MAP-ID")]
    pub bpf_map_id: Vec<u32>,

    // issue 15, kill: -K/--kill, --dry-run, -E/--events, -D/--diag.
    /// Destroy every socket the filter selects (SOCK_DESTROY, as ss -K;
    /// needs CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY):
    /// each socket killed is printed, then a count on stderr. Refused
    /// without a selection: a `state`/`exclude` word, a filter expression,
    /// or --pid/--comm/--process (-a, -l, -t, -u, -4, -6 and -N alone
    /// select too much). TCP and UDP only.
    #[arg(short = 'K', long = "kill", conflicts_with_all = ["events", "diag", "summary"])]
    pub kill: bool,

    /// With -K: print what would be killed, and kill nothing.
    #[arg(long = "dry-run", requires = "kill")]
    pub dry_run: bool,

    /// Print each TCP/UDP socket the kernel destroys, as it happens (the
    /// sock_diag destroy multicast groups, as ss -E; any user may subscribe),
    /// filtered by the filter expression, until interrupted. -t/-u/-4/-6
    /// choose the groups. --jsonl streams one object per event.
    #[arg(short = 'E', long = "events", conflicts_with_all = ["diag", "summary"])]
    pub events: bool,

    /// Write the raw netlink replies of the TCP dump to FILE (`-` for
    /// stdout) instead of printing rows, as ss -D: `TCPDIAG_FILE=FILE ss`
    /// reads them back. State words apply, a filter expression cannot.
    /// FILE is created with mode 0600 and must not exist (a symbolic link
    /// is never followed).
    #[arg(
        short = 'D',
        long = "diag",
        value_name = "FILE",
        conflicts_with = "summary"
    )]
    pub diag: Option<PathBuf>,

    // issue 16, live: watch/-c, events, trace and their bounds
    /// Repeat the listing every --interval and show what changed since the
    /// snapshot before, as `sockscope watch` (netstat -c's habit).
    #[arg(
        short = 'c',
        long = "continuous",
        conflicts_with_all = ["kill", "events", "diag", "summary"]
    )]
    pub continuous: bool,

    /// watch/-c: the time between two snapshots (default 1s): seconds
    /// (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from
    /// 10ms to 24h.
    #[arg(long, value_name = "DURATION", global = true, value_parser = super::live::parse_interval)]
    pub interval: Option<std::time::Duration>,

    /// Live views: stop by itself after N ticks (watch, -c) or N events
    /// (events, -E, trace).
    #[arg(long, value_name = "N", global = true, value_parser = super::live::parse_count)]
    pub count: Option<u64>,

    /// Live views: stop by itself after this long (`20s`, `1m`).
    #[arg(long, value_name = "DURATION", global = true, value_parser = super::live::parse_run_duration)]
    pub duration: Option<std::time::Duration>,
    // end issue 16, live

    // issue 16, trace
    /// trace: the ring buffer of each CPU, in pages (a power of two;
    /// default 512, 2 MiB with 4 KiB pages).
    #[arg(long, value_name = "PAGES", global = true, value_parser = super::trace::parse_buffer_pages)]
    pub buffer_pages: Option<usize>,

    /// trace: read tracefs from DIR instead of where it is mounted (a
    /// recorded tree, for tests).
    #[arg(
        long,
        value_name = "DIR",
        env = "SOCKSCOPE_TRACEFS",
        hide_env_values = true,
        hide = true,
        global = true
    )]
    pub tracefs: Option<PathBuf>,
    // end issue 16, trace

    // issue 16, ftrace
    /// trace: how the tracepoints are read: `ftrace` (default: a tracefs
    /// instance of its own, sockscope-PID, removed at exit) or `perf`
    /// (perf_event_open, which on some kernels misses events raised in a
    /// softirq on an idle CPU).
    #[arg(long, value_name = "READER", global = true, value_enum)]
    pub reader: Option<super::trace::Reader>,
    // end issue 16, ftrace

    // issue 15, format: ss's own output (src/output/ss_format.rs).
    /// Print ss's text format, field for field (also when sockscope is
    /// invoked under the name `ss`): ss's state words, Netid and State
    /// rules, `users:((\"name\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:`
    /// and the -i/-m lines, without sockscope's extra columns.
    #[arg(long = "ss-format", global = true)]
    pub ss_format: bool,

    /// With -i, -m or -e: print each socket's details on its own line
    /// instead of on a second line (ss -O).
    #[arg(short = 'O', long = "oneline", global = true)]
    pub oneline: bool,

    /// Leave out the Recv-Q and Send-Q columns (ss -Q).
    #[arg(short = 'Q', long = "no-queues", global = true)]
    pub no_queues: bool,

    /// Show each socket's IPv4 TOS, IPv6 traffic class and class id
    /// (tos:, tclass:, class_id:, as ss --tos; in --ss-format).
    #[arg(long = "tos", global = true)]
    pub tos: bool,

    /// Show each socket's cgroup v2 path (cgroup:PATH, as ss --cgroup; in
    /// --ss-format).
    #[arg(long = "cgroup", global = true)]
    pub cgroup: bool,

    /// Show the threads holding each socket: every thread's descriptors,
    /// `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the
    /// table (ss -T). Implies -p.
    #[arg(short = 'T', long = "threads", global = true)]
    pub threads: bool,

    // issue 18, width
    /// On a terminal, print every line whole (netstat's -W): by default a
    /// table row too long for the terminal's width (COLUMNS, else the
    /// terminal's size) has its widest free-text column (Process, UNIX
    /// paths) shortened with `…`, and sentences are wrapped at word
    /// boundaries. A pipe or a file always gets whole lines.
    #[arg(short = 'W', long = "wide", global = true)]
    pub wide: bool,
    // end issue 18, width
    /// Whether argv[0] was `ss` (filled by [`Cli::parse_args`]): then the
    /// output is ss's format.
    #[arg(skip)]
    pub invoked_as_ss: bool,

    /// `completions`: the top-level flags and words typed beside it, as
    /// spelled (set by [`Cli::parse_args_from`]; completions refuses them).
    #[arg(skip)]
    pub typed_with_completions: Vec<String>,

    // issue 18, who
    /// lsof's `-i :8080` typed where -i is ss's tcp_info: the answer
    /// (filled by [`Cli::parse_args`]; config refuses the run with it).
    #[arg(skip)]
    pub lsof_habit: Option<String>,
    // end issue 18, who
    // end issue 15, format
    #[command(subcommand)]
    pub command: Option<Command>,

    /// An ss filter: `state NAME`/`exclude NAME` words, then an expression
    /// over src, dst, sport, dport, dev, fwmark, cgroup, autobound (and
    /// sockscope's uid, pid, comm, netns, container) with and/or/not and
    /// parentheses, e.g. `state established '( dport = :https or sport =
    /// :https )'`, `dst 127/8`, `dst localhost`, `dst inet6:[::1]`, and
    /// with -x UNIX name globs: `-xa src '/run/*.sock'`.
    /// What the kernel can check is sent to it as bytecode.
    #[arg(value_name = "FILTER", value_parser = FilterWords, hide_possible_values = true)]
    pub filter: Vec<String>,

    /// Where to read sockets from: the kernel's sock_diag netlink interface,
    /// or the /proc/net tables. netlink falls back to /proc by itself, with a
    /// warning, when the kernel refuses it.
    #[arg(
        long,
        value_enum,
        default_value_t = SourceArg::Netlink,
        value_name = "SOURCE",
        global = true
    )]
    pub source: SourceArg,

    // issue 19
    /// Where owners (-p) come from: `bpf` asks the kernel for every
    /// process's socket descriptors at once (a task_file BPF iterator,
    /// ~10x less kernel time than the /proc walk; needs CAP_BPF and
    /// CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd,
    /// `auto` tries bpf and falls back to the walk silently (-v says why).
    /// An explicit `bpf` that cannot run is an error.
    #[arg(
        long = "owners-source",
        value_enum,
        default_value_t = OwnersSourceArg::Auto,
        value_name = "SOURCE",
        global = true
    )]
    pub owners_source: OwnersSourceArg,

    /// The kernel's BTF, for the owners' BPF iterator (the field offsets
    /// of task_struct, file and inode are read from it).
    #[arg(
        long = "btf",
        value_name = "PATH",
        default_value = "/sys/kernel/btf/vmlinux",
        global = true
    )]
    pub btf: PathBuf,
    // end issue 19
    /// Read /proc from DIR instead: the tables under DIR/net, the processes
    /// under DIR/PID (like ss's PROC_ROOT; for recorded fixtures).
    #[arg(
        long,
        value_name = "DIR",
        env = "SOCKSCOPE_PROC_ROOT",
        hide_env_values = true,
        global = true
    )]
    pub proc_root: Option<PathBuf>,

    /// Replay recorded netlink replies from FILE instead of asking the kernel
    /// (like ss's TCPDIAG_FILE; for fixtures and bug reports).
    #[arg(
        long,
        value_name = "FILE",
        env = "SOCKSCOPE_NETLINK_REPLAY",
        hide_env_values = true,
        global = true
    )]
    pub replay: Option<PathBuf>,

    /// Record every netlink request and reply to FILE, for --replay. FILE
    /// is created with mode 0600 and must not exist yet (a symbolic link is
    /// never followed); --record-overwrite replaces an existing regular file.
    #[arg(
        long,
        value_name = "FILE",
        env = "SOCKSCOPE_NETLINK_RECORD",
        hide_env_values = true,
        global = true
    )]
    pub record: Option<PathBuf>,

    /// Which data-source options came from their environment variable
    /// (filled by [`Cli::parse_args`]; clap merges the two otherwise).
    #[arg(skip)]
    pub from_env: FromEnv,

    /// With --record: replace FILE when it exists (still never through a
    /// symbolic link, and only a regular file).
    #[arg(long, requires = "record", global = true)]
    pub record_overwrite: bool,
}

/// The data-source options set by an environment variable rather than on
/// the command line (a flag given on the command line wins).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FromEnv {
    /// --proc-root from SOCKSCOPE_PROC_ROOT.
    pub proc_root: bool,
    /// --replay from SOCKSCOPE_NETLINK_REPLAY.
    pub replay: bool,
    /// --record from SOCKSCOPE_NETLINK_RECORD.
    pub record: bool,
    /// --tracefs from SOCKSCOPE_TRACEFS (issue 16, trace).
    pub tracefs: bool,
}

impl Cli {
    /// [`Parser::parse`], also telling which options their environment
    /// variable set ([`Cli::from_env`]). Exits on a usage error, as parse.
    pub fn parse_args() -> Cli {
        Cli::parse_args_from(std::env::args_os())
    }

    /// [`Cli::parse_args`] over the given arguments.
    pub fn parse_args_from<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let invoked_as_ss = args.first().is_some_and(|a| invoked_as_ss(a));
        let mut cmd = Cli::command();
        let typed: Vec<std::ffi::OsString> = args.iter().skip(1).cloned().collect();
        let matches = match cmd.try_get_matches_from_mut(args) {
            Ok(matches) => matches,
            // issue 18, who: lsof's -iTCP, -i:8080 (never sockscope's).
            Err(err) if lsof_attached(&err, &typed) => std::process::exit(2),
            Err(err) => match super::hints::unknown_option(&err) {
                Some(text) => {
                    // The usage of the (sub)command that met the option.
                    let usage = match err.get(clap::error::ContextKind::Usage) {
                        Some(clap::error::ContextValue::StyledStr(usage)) => usage.clone(),
                        _ => cmd.render_usage(),
                    };
                    clap::Error::raw(ErrorKind::UnknownArgument, format!("{text}\n\n{usage}\n"))
                        .exit()
                }
                None => err.exit(),
            },
        };
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.take_live_filter();
        cli.invoked_as_ss = invoked_as_ss;
        cli.lsof_habit = super::habits::lsof_after_info(&typed, &cli.filter, false)
            .map(|(word, spec)| super::habits::LsofInet::message(&word, &spec.sockscope_way()));
        let env = |id: &str| matches.value_source(id) == Some(ValueSource::EnvVariable);
        cli.from_env = FromEnv {
            proc_root: env("proc_root"),
            replay: env("replay"),
            record: env("record"),
            tracefs: env("tracefs"),
        };
        cli.kinds_after_query = kinds_after_query(&matches);
        // issue 18, install: every top-level flag typed (completions takes
        // none), from clap's own record, so a flag added later is covered.
        if matches!(cli.command, Some(Command::Completions(_))) {
            cli.typed_with_completions = cmd
                .get_arguments()
                .filter(|a| {
                    matches.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine)
                })
                .map(|a| match (a.get_short(), a.get_long()) {
                    (Some(short), _) => format!("-{short}"),
                    (None, Some(long)) => format!("--{long}"),
                    (None, None) => "a filter".to_owned(),
                })
                .collect();
        }
        cli
    }
}

/// lsof's attached `-iTCP`, `-i:8080` behind clap's unknown argument:
/// says the sockscope way on stderr (issue 18, who).
fn lsof_attached(err: &clap::Error, typed: &[std::ffi::OsString]) -> bool {
    if err.kind() != ErrorKind::UnknownArgument {
        return false;
    }
    let Some((word, spec)) = super::habits::lsof_after_info(typed, &[], true) else {
        return false;
    };
    let text = super::habits::LsofInet::message(&word, &spec.sockscope_way());
    let _ = writeln!(std::io::stderr(), "sockscope: {text}");
    true
}

/// Whether `argv0`'s file name is `ss` (a link named ss to sockscope).
pub fn invoked_as_ss(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == "ss")
}

/// The kind flags given after the first -A/--query.
fn kinds_after_query(matches: &clap::ArgMatches) -> Vec<crate::model::SocketKind> {
    use crate::model::SocketKind as K;
    let Some(first) = matches.indices_of("query").and_then(|mut i| i.next()) else {
        return Vec::new();
    };
    [
        ("tcp", K::Tcp),
        ("udp", K::Udp),
        ("raw", K::Raw),
        ("mptcp", K::Mptcp),
        ("sctp", K::Sctp),
        ("dccp", K::Dccp),
    ]
    .into_iter()
    .filter(|(id, _)| {
        matches.value_source(id) == Some(ValueSource::CommandLine)
            && matches
                .indices_of(id)
                .is_some_and(|mut i| i.any(|n| n > first))
    })
    .map(|(_, k)| k)
    .collect()
}

/// Subcommands: views that answer one question.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which processes hold a local port, and which are connected to it.
    ///
    /// Every socket on the port in any state: LISTEN owners first, then the
    /// rest with their states, and connections waiting in a listener's
    /// queue; then, as lsof -i :PORT, the sockets of this host connected to
    /// the port (remote port PORT on one of this host's addresses: the
    /// local clients). TCP and UDP, IPv4 and IPv6 unless -t, -u, -4, -6 or
    /// fuser's PORT/tcp, PORT/udp narrow it. Exit 1 when nothing holds the
    /// port and nothing is connected to it.
    Who(WhoArgs),

    /// Queue health of every TCP listener.
    ///
    /// One row per LISTEN socket: the accept queue now and the backlog, how
    /// full it is, the half-open (SYN_RECV) connections and the completed
    /// ones nobody accept()ed, the owners; then the kernel counters that
    /// tell of drops and the limits that apply. Exit 1 when an accept queue
    /// is full.
    Listeners,

    /// Would bind() to this port fail right now, and why.
    ///
    /// Names what holds the port (a listener and its owner, TIME_WAIT with
    /// the time left, connections waiting in an accept queue, other
    /// connections), wildcard/specific conflicts, and the port's standing
    /// (ephemeral range, reserved, privileged). TCP, or UDP with -u. With
    /// --try the real bind()'s errno is the verdict: busy (EADDRINUSE),
    /// address not available (EADDRNOTAVAIL), permission denied (EACCES),
    /// invalid address (EINVAL). Exit 0 when free, 1 when bind() would fail.
    WhyBind(WhyBindArgs),

    /// Repeat the listing and show what changed (netstat -c).
    ///
    /// Every --interval (1s) the listing's sockets are read again and
    /// compared with the snapshot before by identity (namespace and socket
    /// cookie; from /proc the four-tuple, state and inode): on a terminal a
    /// redrawn screen marks rows new (+), gone (-) and changed (~); in a
    /// pipe, or with --jsonl, one event per line (open, close, state,
    /// queue). Takes every listing flag and filter. --count N ticks or
    /// --duration D end it.
    Watch(LiveArgs),

    /// Every socket the kernel destroys, as it happens (as -E, ss -E).
    ///
    /// The sock_diag destroy multicast groups (TCP and UDP, IPv4 and IPv6;
    /// any user may subscribe): each closed socket with its final four-tuple,
    /// state and queues, and with -i its final tcp_info (bytes, retransmits,
    /// rtt: the connection's life). The filter applies.
    Events(LiveArgs),

    /// Every TCP state change as the kernel makes it.
    ///
    /// The tracepoints sock:inet_sock_set_state, tcp:tcp_retransmit_skb,
    /// tcp:tcp_send_reset and tcp:tcp_receive_reset read with
    /// perf_event_open (no BPF, no compiler, no kernel headers; field
    /// offsets from tracefs's format files). Needs root (or CAP_PERFMON)
    /// and tracefs mounted; `watch` is the unprivileged way.
    Trace(LiveArgs),

    /// Ephemeral port pressure per destination.
    ///
    /// Outgoing TCP connections grouped per (local address, destination
    /// address:port) against the size of ip_local_port_range, busiest
    /// first, with their TIME_WAIT share. Warns at 50 %, critical at 90 %.
    /// Exit 1 when a destination is critical.
    Ports,

    /// Socket metrics for Prometheus, once (issue 17).
    ///
    /// One exposition of the families README's "Metrics" lists: sockets by
    /// protocol, family and state; each listener's accept queue, backlog,
    /// fullness, half-open and unaccepted connections; the TcpExt listen
    /// counters; ephemeral port use per destination; TIME_WAIT per remote;
    /// CLOSE_WAIT per process. Prometheus text (0.0.4) on stdout, or with
    /// --output FILE written atomically for node_exporter's textfile
    /// collector.
    Metrics(MetricsArgs),

    /// Serve the metrics over HTTP for Prometheus to scrape (issue 17).
    ///
    /// /metrics (OpenMetrics or Prometheus text, by the Accept header) and
    /// /healthz, nothing else. Each scrape reads the kernel afresh, at most
    /// once per --min-interval and one read at a time. Listens on loopback
    /// unless --listen says otherwise; TLS and basic authentication come
    /// from --web.config.file (the exporters' web configuration).
    Serve(ServeArgs),

    // issue 18, counters
    /// The kernel's protocol counters (netstat -s, nstat).
    ///
    /// The network namespace's counters from /proc/net/snmp (Ip, Icmp,
    /// IcmpMsg, Tcp, Udp, UdpLite), /proc/net/netstat (TcpExt, IpExt,
    /// MPTcpExt) and /proc/net/snmp6, named as nstat names them
    /// (TcpExtListenOverflows); those that are 0 are left out unless
    /// --zeros (or -a). The counters that explain connection trouble get a
    /// sentence under them. --delta: the increase since the previous
    /// --delta run (kept per namespace in $XDG_RUNTIME_DIR/sockscope, or
    /// /tmp/sockscope-UID); --interval D: the increase over D.
    Counters(CountersArgs),

    // issue 18, install
    /// Print the shell completion script for SHELL.
    ///
    /// Subcommands, flags and the filter's keywords complete; bash, zsh and
    /// fish also complete the state names after `state` and `exclude`, and
    /// the names under /run/netns after -N.
    /// bash: `source <(sockscope completions bash)` (or save it as
    /// ~/.local/share/bash-completion/completions/sockscope); zsh: save it
    /// as _sockscope in a directory of $fpath; fish: save it as
    /// ~/.config/fish/completions/sockscope.fish. The Debian package
    /// installs bash's, zsh's and fish's.
    Completions(CompletionsArgs),
    // end issue 18, install
}

// issue 18, counters
/// Arguments of `counters`.
#[derive(Debug, Args)]
pub struct CountersArgs {
    /// Only the counters whose name matches one of these globs (as nstat's:
    /// case folded, `TcpExt*Listen*`, `Udp*`).
    #[arg(value_name = "PATTERN")]
    pub patterns: Vec<String>,

    /// The increase since the previous --delta run in this network
    /// namespace (the first run prints the values and says so on stderr);
    /// a counter that went down is shown as reset.
    #[arg(long)]
    pub delta: bool,

    /// Show the counters that are 0 too (nstat -z); -a does the same.
    #[arg(long)]
    pub zeros: bool,

    /// The directory the --delta state is kept under (in sockscope/).
    #[arg(
        long,
        value_name = "DIR",
        env = "XDG_RUNTIME_DIR",
        hide = true,
        hide_env_values = true
    )]
    pub runtime_dir: Option<PathBuf>,
}
// end issue 18, counters

// issue 18, install
/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell whose script to print.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// The filter's words: any word is taken (the filter's parser judges
/// them); the keywords are listed as possible values, hidden in help, for
/// shell completion to offer (the state names, which only follow `state`
/// and `exclude`, are added to the bash and fish scripts by
/// `commands::completions`).
#[derive(Debug, Clone, Copy)]
pub struct FilterWords;

impl clap::builder::TypedValueParser for FilterWords {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let words = crate::filter::expr::KEYWORDS.iter();
        Some(Box::new(
            words.map(|w| clap::builder::PossibleValue::new(*w)),
        ))
    }
}
// end issue 18, install

/// What both `metrics` and `serve` export (issue 17).
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// At most N series per per-address or per-process family (listeners,
    /// destinations, remotes, processes), the largest kept.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// At most N series in all; what is left out is counted in
    /// sockscope_series_dropped_total.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_series: usize,

    /// Also export round-trip times and retransmits per remote address,
    /// from each connection's tcp_info.
    #[arg(long)]
    pub tcp_info: bool,
}

/// Arguments of `metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub export: ExportArgs,

    /// Write the exposition to FILE (a temporary file beside it, then
    /// renamed): for node_exporter's textfile collector directory.
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// OpenMetrics 1.0 text instead of Prometheus text 0.0.4.
    #[arg(long)]
    pub openmetrics: bool,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub export: ExportArgs,

    /// ADDR:PORT to listen on ([::1]:PORT for IPv6).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9877")]
    pub listen: String,

    /// The least time between two reads of the kernel; a scrape in between
    /// is served the last result. Units ms, s, m (default s).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = super::live::parse_duration)]
    pub min_interval: std::time::Duration,

    /// The web configuration file that Prometheus exporters share (TLS,
    /// basic authentication): exporter-toolkit's format.
    #[arg(
        long = "web.config.file",
        visible_alias = "web-config-file",
        value_name = "FILE"
    )]
    pub web_config_file: Option<std::path::PathBuf>,
}

impl Cli {
    /// Moves a live view's filter words (`watch state established`) to
    /// the listing's, where every reader of the filter looks.
    pub fn take_live_filter(&mut self) {
        if let Some(Command::Watch(a) | Command::Events(a) | Command::Trace(a)) = &mut self.command
        {
            self.filter.append(&mut a.filter);
        }
    }
}

impl Command {
    /// `watch`, `events`, `trace`: views that take the listing's flags.
    pub fn is_live(&self) -> bool {
        self.live_args().is_some()
    }

    /// `metrics`, `serve`: what they export.
    pub fn export_args(&self) -> Option<&ExportArgs> {
        match self {
            Command::Metrics(a) => Some(&a.export),
            Command::Serve(a) => Some(&a.export),
            _ => None,
        }
    }

    /// The filter words of a live view.
    pub fn live_args(&self) -> Option<&LiveArgs> {
        match self {
            Command::Watch(a) | Command::Events(a) | Command::Trace(a) => Some(a),
            _ => None,
        }
    }

    /// The subcommand as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Who(_) => "who",
            Command::Listeners => "listeners",
            Command::WhyBind(_) => "why-bind",
            Command::Ports => "ports",
            Command::Watch(_) => "watch",
            Command::Events(_) => "events",
            Command::Trace(_) => "trace",
            Command::Metrics(_) => "metrics",
            Command::Serve(_) => "serve",
            Command::Counters(_) => "counters",
            Command::Completions(_) => "completions",
        }
    }
}

/// Arguments of `why-bind`.
#[derive(Debug, Args)]
pub struct WhyBindArgs {
    /// PORT, :PORT, ADDR:PORT or [IPv6]:PORT (or a service name); a
    /// link-local IPv6 address takes its interface as a scope,
    /// [fe80::1%eth0]:PORT or [fe80::1%2]:PORT.
    #[arg(value_name = "[ADDR]:PORT")]
    pub target: String,

    /// Confirm with real bind()s (plain, then with SO_REUSEADDR), closed at
    /// once and never listened on: to the address asked for, or for a bare
    /// port to 0.0.0.0 and to [::] dual-stack (what servers bind).
    #[arg(long = "try")]
    pub try_bind: bool,
}

/// Arguments of `watch`, `events` and `trace`: the filter words (the
/// flags are the listing's, global).
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// The filter, as the listing's: `state` words, then an expression.
    #[arg(value_name = "FILTER", value_parser = FilterWords, hide_possible_values = true)]
    pub filter: Vec<String>,
}

/// Arguments of `who`.
#[derive(Debug, Args)]
pub struct WhoArgs {
    /// PORT, :PORT, ADDR:PORT or [IPv6]:PORT; a service name from
    /// /etc/services may stand for the port (`who :ssh`); fuser's /tcp or
    /// /udp after it narrows the protocol (`who 8080/tcp`, `who 53/udp`).
    #[arg(value_name = "[ADDR]:PORT[/PROTO]")]
    pub target: String,

    // issue 18, who
    /// Print only the pids of the processes holding the port or connected
    /// to it, each once, one per line (`kill $(sockscope who 8080
    /// --pids)`); exit 1 when there is none.
    #[arg(long)]
    pub pids: bool,
    // end issue 18, who
}

/// Values of `--owners-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OwnersSourceArg {
    /// The BPF iterator when it can run, else the /proc walk.
    Auto,
    /// The BPF iterator, or an error saying why it cannot run.
    Bpf,
    /// The /proc/*/fd walk.
    Proc,
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
pub mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The command line `sockscope ARGS...`, parsed (for the tests of
    /// `config`).
    pub fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["sockscope"];
        argv.extend_from_slice(args);
        let mut cli = Cli::try_parse_from(argv).unwrap();
        cli.take_live_filter();
        cli
    }

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
        let e = Cli::try_parse_from(["sockscope", "-tanP"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["sockscope", "--json", "--jsonl"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
