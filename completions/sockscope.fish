# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sockscope_global_optspecs
    string join \n t/tcp u/udp s/summary x/unix l/listening a/all n/numeric r/resolve 4/ipv4 6/ipv6 H/no-header e/extended i/info m/memory o/options json jsonl p/processes cmdline pid= comm= process= N/net= all-netns container= host-root= v/verbose F/filter= w/raw M/mptcp S/sctp d/dccp vsock tipc xdp 0/packet B/bound-inactive A/query= f/family= b/bpf Z/context z/contexts inet-sockopt tipcinfo bpf-maps bpf-map-id= K/kill dry-run E/events D/diag= c/continuous interval= count= duration= buffer-pages= tracefs= reader= ss-format O/oneline Q/no-queues tos cgroup T/threads W/wide source= owners-source= btf= proc-root= replay= record= record-overwrite h/help V/version
end

function __fish_sockscope_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sockscope_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sockscope_using_subcommand
    set -l cmd (__fish_sockscope_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sockscope -n "__fish_sockscope_needs_command" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l bpf-map-id -d 'Show one BPF socket-local storage map\'s value (ss --bpf-map-id): not read by sockscope; says so' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -s D -l diag -d 'Write the raw netlink replies of the TCP dump to FILE (`-` for stdout) instead of printing rows, as ss -D: `TCPDIAG_FILE=FILE ss` reads them back. State words apply, a filter expression cannot. FILE is created with mode 0600 and must not exist (a symbolic link is never followed)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_needs_command" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_needs_command" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_needs_command" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s s -l summary -d 'Summary: ss -s\'s totals (from /proc/net/sockstat and snmp), then the number of sockets in each state, counted from the kernel dump'
complete -c sockscope -n "__fish_sockscope_needs_command" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_needs_command" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_needs_command" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_needs_command" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_needs_command" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_needs_command" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_needs_command" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s S -l sctp -d 'Show SCTP sockets: accepted as ss; sockscope lists none and says why (no sctp_diag in this kernel; with it: not read by sockscope yet)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s d -l dccp -d 'Show DCCP sockets: accepted as ss; none listed, and why'
complete -c sockscope -n "__fish_sockscope_needs_command" -l vsock -d 'Show vsock sockets: accepted as ss; none listed, and why'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tipc -d 'Show TIPC sockets: accepted as ss; none listed, and why'
complete -c sockscope -n "__fish_sockscope_needs_command" -l xdp -d 'Show XDP sockets: accepted as ss; none listed, and why'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_needs_command" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_needs_command" -s b -l bpf -d 'Show the classic BPF program attached to each packet socket, under its row, as ss -b (it implies -o, as in ss; root only)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s Z -l context -d 'Show the SELinux security context of each owning process (ss -Z). Where SELinux is off, says so and exits 1, as ss'
complete -c sockscope -n "__fish_sockscope_needs_command" -s z -l contexts -d 'Show the SELinux contexts of each owning process and socket (ss -z). Where SELinux is off, says so and exits 1, as ss'
complete -c sockscope -n "__fish_sockscope_needs_command" -l inet-sockopt -d 'In ss\'s format: each socket\'s inet options (INET_DIAG_SOCKOPT: recverr, is_icsk, freebind, mc_loop, ...) on its detail line, as ss --inet-sockopt'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tipcinfo -d 'TIPC sockets\' details on their rows (ss --tipcinfo). sockscope lists no TIPC sockets (see --tipc, which says why), so it adds nothing; accepted for ss\'s command lines'
complete -c sockscope -n "__fish_sockscope_needs_command" -l bpf-maps -d 'Show every BPF socket-local storage map\'s value (ss --bpf-maps, in builds of ss with libbpf): not read by sockscope; says so'
complete -c sockscope -n "__fish_sockscope_needs_command" -s K -l kill -d 'Destroy every socket the filter selects (SOCK_DESTROY, as ss -K; needs CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY): each socket killed is printed, then a count on stderr. Refused without a selection: a `state`/`exclude` word, a filter expression, or --pid/--comm/--process (-a, -l, -t, -u, -4, -6 and -N alone select too much). TCP and UDP only'
complete -c sockscope -n "__fish_sockscope_needs_command" -l dry-run -d 'With -K: print what would be killed, and kill nothing'
complete -c sockscope -n "__fish_sockscope_needs_command" -s E -l events -d 'Print each TCP/UDP socket the kernel destroys, as it happens (the sock_diag destroy multicast groups, as ss -E; any user may subscribe), filtered by the filter expression, until interrupted. -t/-u/-4/-6 choose the groups. --jsonl streams one object per event'
complete -c sockscope -n "__fish_sockscope_needs_command" -s c -l continuous -d 'Repeat the listing every --interval and show what changed since the snapshot before, as `sockscope watch` (netstat -c\'s habit)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_needs_command" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_needs_command" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_needs_command" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_needs_command" -s V -l version -d 'Print version'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "who" -d 'Which processes hold a local port, and which are connected to it'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "listeners" -d 'Queue health of every TCP listener'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "why-bind" -d 'Would bind() to this port fail right now, and why'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "watch" -d 'Repeat the listing and show what changed (netstat -c)'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "events" -d 'Every socket the kernel destroys, as it happens (as -E, ss -E)'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "trace" -d 'Every TCP state change as the kernel makes it'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "ports" -d 'Ephemeral port pressure per destination'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "metrics" -d 'Socket metrics for Prometheus, once (issue 17)'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "serve" -d 'Serve the metrics over HTTP for Prometheus to scrape (issue 17)'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "counters" -d 'The kernel\'s protocol counters (netstat -s, nstat)'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "completions" -d 'Print the shell completion script for SHELL'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l pids -d 'Print only the pids of the processes holding the port or connected to it, each once, one per line (`kill $(sockscope who 8080 --pids)`); exit 1 when there is none'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand who" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand listeners" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l try -d 'Confirm with real bind()s (plain, then with SO_REUSEADDR), closed at once and never listened on: to the address asked for, or for a bare port to 0.0.0.0 and to [::] dual-stack (what servers bind)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand why-bind" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand ports" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l top -d 'At most N series per per-address or per-process family (listeners, destinations, remotes, processes), the largest kept' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l max-series -d 'At most N series in all; what is left out is counted in sockscope_series_dropped_total' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l output -d 'Write the exposition to FILE (a temporary file beside it, then renamed): for node_exporter\'s textfile collector directory' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l tcp-info -d 'Also export round-trip times and retransmits per remote address, from each connection\'s tcp_info'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l openmetrics -d 'OpenMetrics 1.0 text instead of Prometheus text 0.0.4'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand metrics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l top -d 'At most N series per per-address or per-process family (listeners, destinations, remotes, processes), the largest kept' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l max-series -d 'At most N series in all; what is left out is counted in sockscope_series_dropped_total' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l listen -d 'ADDR:PORT to listen on ([::1]:PORT for IPv6)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l min-interval -d 'The least time between two reads of the kernel; a scrape in between is served the last result. Units ms, s, m (default s)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l web.config.file -l web-config-file -d 'The web configuration file that Prometheus exporters share (TLS, basic authentication): exporter-toolkit\'s format' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l tcp-info -d 'Also export round-trip times and retransmits per remote address, from each connection\'s tcp_info'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l runtime-dir -d 'The directory the --delta state is kept under (in sockscope/)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l delta -d 'The increase since the previous --delta run in this network namespace (the first run prints the values and says so on stderr); a counter that went down is shown as reset'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l zeros -d 'Show the counters that are 0 too (nstat -z); -a does the same'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand counters" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l pid -d 'Only sockets of these processes (comma-separated pids), including connections waiting in their listeners\' queues. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l comm -d 'Only sockets of processes with exactly this name (/proc/PID/comm). Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l process -d 'Only sockets of processes whose name or command line matches REGEX. Implies -p' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s N -l net -d 'Read the sockets of this network namespace instead of sockscope\'s own: a name under /run/netns (as `ip netns` and ss -N), a path to a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), or pid:PID. May be given more than once' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l container -d 'Only the namespaces and sockets of this container: its name, its id (or a prefix of at least 4 characters), or its Kubernetes pod name. May be given more than once. Implies --all-netns' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l host-root -d 'Look for container runtimes\' metadata (/var/lib/docker, /var/lib/containers, /var/log/pods) and namespace names (/run/netns, /run/docker/netns) under DIR instead of / (for fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s F -l filter -d 'Read the filter expression from FILE (`-` for standard input), as ss -F does: its words follow the command line\'s; `#` starts a comment line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s A -l query -l socket -d 'Socket tables to show, comma-separated, as ss -A: all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock, vsock_stream, vsock_dgram, tipc, xdp; !NAME leaves one out' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s f -l family -d 'Show sockets of this family, as ss -f: inet, inet6, link, unix, netlink, vsock, tipc, xdp (help lists them)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l interval -d 'watch/-c: the time between two snapshots (default 1s): seconds (`2`, `0.5`) or a number with ms, s, m or h (`500ms`, `1m`), from 10ms to 24h' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l count -d 'Live views: stop by itself after N ticks (watch, -c) or N events (events, -E, trace)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l duration -d 'Live views: stop by itself after this long (`20s`, `1m`)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l buffer-pages -d 'trace: the ring buffer of each CPU, in pages (a power of two; default 512, 2 MiB with 4 KiB pages)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l tracefs -d 'trace: read tracefs from DIR instead of where it is mounted (a recorded tree, for tests)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l reader -d 'trace: how the tracepoints are read: `ftrace` (default: a tracefs instance of its own, sockscope-PID, removed at exit) or `perf` (perf_event_open, which on some kernels misses events raised in a softirq on an idle CPU)' -r -f -a "ftrace\t'A tracefs instance of its own (the ftrace ring buffer)'
perf\t'perf_event_open, one ring per CPU'"
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l source -d 'Where to read sockets from: the kernel\'s sock_diag netlink interface, or the /proc/net tables. netlink falls back to /proc by itself, with a warning, when the kernel refuses it' -r -f -a "netlink\t'NETLINK_SOCK_DIAG dumps (fast, complete)'
proc\t'/proc/net/{tcp,tcp6,udp,udp6} (no LISTEN backlog, no cookie)'"
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l owners-source -d 'Where owners (-p) come from: `bpf` asks the kernel for every process\'s socket descriptors at once (a task_file BPF iterator, ~10x less kernel time than the /proc walk; needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and BTF), `proc` walks /proc/*/fd, `auto` tries bpf and falls back to the walk silently (-v says why). An explicit `bpf` that cannot run is an error' -r -f -a "auto\t'The BPF iterator when it can run, else the /proc walk'
bpf\t'The BPF iterator, or an error saying why it cannot run'
proc\t'The /proc/*/fd walk'"
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l btf -d 'The kernel\'s BTF, for the owners\' BPF iterator (the field offsets of task_struct, file and inode are read from it)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l proc-root -d 'Read /proc from DIR instead: the tables under DIR/net, the processes under DIR/PID (like ss\'s PROC_ROOT; for recorded fixtures)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l replay -d 'Replay recorded netlink replies from FILE instead of asking the kernel (like ss\'s TCPDIAG_FILE; for fixtures and bug reports)' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l record -d 'Record every netlink request and reply to FILE, for --replay. FILE is created with mode 0600 and must not exist yet (a symbolic link is never followed); --record-overwrite replaces an existing regular file' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s x -l unix -d 'Show UNIX domain sockets (stream, datagram, seqpacket)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s l -l listening -d 'Show only listening sockets (TCP LISTEN, unconnected UDP)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s a -l all -d 'Show sockets in every state; without -a or -l, listening sockets, TIME_WAIT and SYN_RECV are left out, as in ss'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s n -l numeric -d 'Numeric addresses and ports (the default; accepted for ss habits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s r -l resolve -d 'Show host names (from /etc/hosts and the system resolver, each looked up once, at most 1.5 s), service names from /etc/services instead of port numbers, and user names from /etc/passwd with -e'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s 4 -l ipv4 -d 'Show only IPv4 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s 6 -l ipv6 -d 'Show only IPv6 sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s H -l no-header -d 'Do not print the header line (of the socket table; for listeners and ports, of their table)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s e -l extended -d 'Extended columns: uid (user name with -r), inode, socket cookie and IPV6_V6ONLY'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s i -l info -d 'TCP internals (tcp_info and the congestion algorithm) on a second line per socket, as ss -i (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s m -l memory -d 'Socket memory (skmem: r, rb, t, tb, f, w, o, bl, d) on a second line per socket, as ss -m (netlink only)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s o -l options -d 'Show timers: retransmit (on), keepalive, timewait, persist, with the time left and the retransmit or probe count, as ss -o'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l json -d 'Print JSON (schema in README): for a listing, one array of socket objects; who, listeners, why-bind, ports and -s print one object'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l jsonl -d 'Print one JSON object per socket and line, streamed (who, listeners, why-bind, ports and -s: their one object, on one line)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s p -l processes -d 'Show the processes that own each socket (name/pid fd=N), and for a connection not yet accept()ed, the owners of the listener whose queue it waits in. A name that is empty or holds a space, a comma, a slash, a parenthesis, a double quote or a backslash is shown in double quotes, a quote inside as \\" (a command line, in its brackets, when it holds ], " or \\)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l cmdline -d 'With owners, also show each process\'s full command line'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l all-netns -d 'Read every network namespace of the machine: each process\'s (/proc/*/ns/net) and those kept by a bind mount (/run/netns, /run/docker/netns). Rows gain Netns and Container columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s v -l verbose -d 'Print what the run read and how long each step took to stderr (sockets dumped, interrupted dumps retried, processes walked)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s w -l raw -d 'Show raw sockets (netlink where the kernel has raw_diag, else /proc/net/raw and raw6; the port is the IP protocol)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s M -l mptcp -d 'Show MPTCP sockets (inet_diag with INET_DIAG_REQ_PROTOCOL)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s 0 -l packet -d 'Show packet sockets (packet_diag): p_raw, p_dgr, PROTO:IFACE'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s B -l bound-inactive -d 'Show TCP sockets bound to a port but neither listening nor connected (kernel state bound-inactive, Linux 6.8+), as ss -B'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l ss-format -d 'Print ss\'s text format, field for field (also when sockscope is invoked under the name `ss`): ss\'s state words, Netid and State rules, `users:((\\"name\\",pid=P,fd=F))`, `timer:(...)`, `ino:`, `sk:` and the -i/-m lines, without sockscope\'s extra columns'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s O -l oneline -d 'With -i, -m or -e: print each socket\'s details on its own line instead of on a second line (ss -O)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s Q -l no-queues -d 'Leave out the Recv-Q and Send-Q columns (ss -Q)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l tos -d 'Show each socket\'s IPv4 TOS, IPv6 traffic class and class id (tos:, tclass:, class_id:, as ss --tos; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l cgroup -d 'Show each socket\'s cgroup v2 path (cgroup:PATH, as ss --cgroup; in --ss-format)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s T -l threads -d 'Show the threads holding each socket: every thread\'s descriptors, `users:(("name",pid=P,tid=T,fd=F))` in --ss-format, `tid=T` in the table (ss -T). Implies -p'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s W -l wide -d 'On a terminal, print every line whole (netstat\'s -W): by default a table row too long for the terminal\'s width (COLUMNS, else the terminal\'s size) has its widest free-text column (Process, UNIX paths) shortened with `…`, and sentences are wrapped at word boundaries. A pipe or a file always gets whole lines'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -l record-overwrite -d 'With --record: replace FILE when it exists (still never through a symbolic link, and only a regular file)'
complete -c sockscope -n "__fish_sockscope_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "who" -d 'Which processes hold a local port, and which are connected to it'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "listeners" -d 'Queue health of every TCP listener'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "why-bind" -d 'Would bind() to this port fail right now, and why'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "watch" -d 'Repeat the listing and show what changed (netstat -c)'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "events" -d 'Every socket the kernel destroys, as it happens (as -E, ss -E)'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "trace" -d 'Every TCP state change as the kernel makes it'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "ports" -d 'Ephemeral port pressure per destination'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "metrics" -d 'Socket metrics for Prometheus, once (issue 17)'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "serve" -d 'Serve the metrics over HTTP for Prometheus to scrape (issue 17)'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "counters" -d 'The kernel\'s protocol counters (netstat -s, nstat)'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from who listeners why-bind watch events trace ports metrics serve counters completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# sockscope: state names after `state` and `exclude`; network namespace
# names after -N/--net (under /run/netns).
complete -c sockscope -f -n 'string match -q -r -- "^(state|exclude|excl)\$" (commandline -opc)[-1]' -a 'established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing bound-inactive all connected synchronized bucket big'
complete -c sockscope -s N -l net -r -a '(command ls -1 /run/netns 2>/dev/null)'
