"""The command line and the orchestrator: parses the options, checks the
tools, records the machine and host sysctls, runs one measurer per size
(`unshare -n -- python3 bench.py --_child CFG`, from the caller's namespace,
which gets no socket) and the all-namespaces case (allns.py, group
`allns`), then writes the raw JSON, the report and the plot.  A run of
`--groups allns` alone rewrites only the all-namespaces section of the
report and its own raw JSON; so do `trace`, and `metrics` and `owners`
when they are the only size groups."""

import argparse
import datetime
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .allns import GROUP as ALLNS, run_allns
from .base import (ENTRY, HERE, HOST_SYSCTLS, MARKER, REPO, log, netns_ino,
                   set_pdeathsig)
from .live import (TRACE, VARIANTS, build_churn, mount_tracefs,
                   tracefs_ready, umount_tracefs)
from .measure import child_main, command_groups
from .metricscase import METRICS, NODE_EXPORTER
from .netns import refuse
from .ownerscase import OWNERS
from .plot import render_svg
from .report import (render_allns, render_markdown, render_metrics,
                     render_owners, render_trace, splice_allns,
                     splice_metrics, splice_owners, splice_trace)
from .tracecase import trace_child_main


def first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        out = (p.stdout or p.stderr).strip().splitlines()
        return out[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError) as e:
        return "unavailable (%s)" % e


def machine_info(tools):
    info = {"kernel": os.uname().release, "nproc": os.cpu_count()}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_kib"] = int(line.split()[1])
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)
    v = {"sockscope": first_line([tools["sockscope"], "-V"]),
         "ss": first_line([tools["ss"], "-V"]),
         "netstat": first_line([tools["netstat"], "--version"])
         if tools["netstat"] else "not installed",
         "cat": first_line([tools["cat"], "--version"]),
         "rustc": first_line(["rustc", "--version"]),
         "python": sys.version.split()[0]}
    st = os.stat(tools["sockscope"])
    v["sockscope_mtime"] = datetime.datetime.fromtimestamp(
        st.st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                "--", "src", "Cargo.toml", "Cargo.lock"],
                               capture_output=True, text=True,
                               timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    v["git"] = head + (" (src/ has uncommitted changes)" if dirty else "")
    info["versions"] = v
    return info


def read_host_sysctls():
    out = {}
    for k in HOST_SYSCTLS:
        try:
            with open("/proc/sys/" + k) as f:
                out[k] = " ".join(f.read().split())
        except OSError:
            out[k] = None
    return out


_CHILD = []


def run_size_child(size, args, tools, seconds, tmpdir):
    cfg = {"size": size, "procs": args.procs, "runs": args.runs,
           "batch": args.batch, "run_timeout": args.run_timeout,
           "watch_runs": args.watch_runs,
           "metrics_runs": args.metrics_runs,
           "metrics_scrapes": args.metrics_scrapes,
           "owners_runs": args.owners_runs,
           "seconds": seconds, "tools": tools,
           "result": os.path.join(tmpdir, "result-%d.json" % size)}
    cfg_path = os.path.join(tmpdir, "cfg-%d.json" % size)
    res = run_netns_child(cfg, cfg_path, seconds, "size %d" % size)
    if res is None:
        return {"size": size, "error": "no result (exit %s)" % _LAST_EXIT[0],
                "groups": {}, "complete": False, "notes": []}
    return res


_LAST_EXIT = [None]


def run_netns_child(cfg, cfg_path, seconds, what):
    """`unshare -n -- python3 bench.py --_child CFG` with the marker; waits
    (SIGTERM, then SIGKILL by pid, past its time) and returns the JSON it
    wrote to cfg["result"], or None."""
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    env[MARKER] = "%d:%d" % (os.getpid(), netns_ino())
    argv = [shutil.which("unshare") or "unshare", "-n", "--", sys.executable,
            ENTRY, "--_child", cfg_path]
    p = subprocess.Popen(argv, env=env, preexec_fn=set_pdeathsig)
    _CHILD[:] = [p]
    try:
        p.wait(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        log("%s: over its time, SIGTERM to pid %d" % (what, p.pid))
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    finally:
        _CHILD[:] = []
    _LAST_EXIT[0] = p.returncode
    if p.returncode == 2:
        raise SystemExit("the namespace child refused to run (see above)")
    try:
        with open(cfg["result"]) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def trace_case(args, tools, seconds, tmpdir):
    """The trace case: the churn generator built here (rustc), tracefs
    mounted if nothing gives the tracepoint's format (and unmounted
    after), then one `unshare -n` child that runs every rate."""
    t0 = time.monotonic()
    res = {"runs": [], "notes": [], "complete": False}
    mounted = False
    try:
        churn = build_churn(tmpdir)
        mounted = mount_tracefs()
        res["tracefs"] = {"root": tracefs_ready(), "mounted_by_bench":
                          mounted}
        cfg = {"kind": TRACE, "sockscope": tools["sockscope"],
               "churn": churn, "rates": args.trace_rates,
               "churn_seconds": args.trace_seconds,
               "calibrate": args.trace_calibrate,
               "margin": args.trace_margin, "clients": args.trace_clients,
               "servers": args.trace_servers,
               "trace_args": shlex.split(args.trace_args or ""),
               "variants": args.trace_variants,
               "small_pages": args.trace_small_pages,
               "seconds": seconds,
               "result": os.path.join(tmpdir, "result-trace.json")}
        child = run_netns_child(cfg, os.path.join(tmpdir, "cfg-trace.json"),
                                seconds, "trace")
        if child is None:
            res["error"] = "no result (exit %s)" % _LAST_EXIT[0]
        else:
            res = dict(child, tracefs=res["tracefs"])
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        log("trace: ERROR %s" % res["error"])
    finally:
        if mounted:
            left = umount_tracefs()
            if left is not True:
                res.setdefault("notes", []).append(
                    "tracefs mounted by the bench could not be unmounted: %s"
                    % left)
    res["seconds"] = time.monotonic() - t0
    return res


def trace_seconds_needed(args):
    """A generous estimate of the trace case's time: calibration, each
    rate's run and counting its output, the build."""
    per = args.trace_seconds + args.trace_margin + 15
    return 60 + (args.trace_margin + 15) + per * (len(args.trace_rates) * len(
        args.trace_variants) + (1 if args.trace_small_pages else 0))


def resolve_tools(args):
    S = os.path.abspath(args.sockscope)
    if not (os.path.isfile(S) and os.access(S, os.X_OK)):
        raise SystemExit("sockscope binary not found: %s (cargo build "
                         "--release first)" % S)
    tools = {"sockscope": S}
    if args.baseline:
        B = os.path.abspath(args.baseline)
        if not (os.path.isfile(B) and os.access(B, os.X_OK)):
            raise SystemExit("baseline binary not found: %s" % B)
        tools["baseline"] = B
    for name in ("ss", "netstat", "cat", "ip", "sh", "strace"):
        path = shutil.which(name, path=os.environ.get("PATH", "") +
                            ":/usr/sbin:/sbin:/usr/bin:/bin")
        if path is None and name not in ("netstat", "strace"):
            raise SystemExit("%s not found" % name)
        tools[name] = path
    tools["node_exporter"] = shutil.which(
        NODE_EXPORTER, path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
    tools["metrics_args"] = shlex.split(args.metrics_args or "")
    tools["watch_count"] = args.watch_count
    tools["watch_min_size"] = args.watch_min_size
    tools["watch_interval"] = args.watch_interval
    if args.groups:
        known = {name for name, _, _ in command_groups(tools)} | {ALLNS,
                                                                  TRACE}
        tools["groups"] = [g for g in args.groups.split(",") if g]
        unknown = [g for g in tools["groups"] if g not in known]
        if unknown:
            raise SystemExit("unknown group(s) %s; known: %s" % (
                ", ".join(unknown), ", ".join(sorted(known))))
    return tools


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Benchmark sockscope against ss and netstat on loopback "
                    "sockets inside a private network namespace.")
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="socket counts, comma-separated (default: "
                         "%(default)s)")
    ap.add_argument("--runs", type=int, default=5,
                    help="measured runs per tool after one warm-up")
    ap.add_argument("--procs", type=int, default=50,
                    help="worker processes (raised if the 20k fd limit "
                         "needs more)")
    ap.add_argument("--out", default=os.path.join(REPO, "BENCHMARKS.md"))
    ap.add_argument("--plot", default=os.path.join(HERE, "plot.svg"))
    ap.add_argument("--raw", default=os.path.join(HERE, "results.json"),
                    help="raw per-run results as JSON ('' to skip)")
    ap.add_argument("--max-seconds", type=float, default=1500,
                    help="global deadline for the whole run")
    ap.add_argument("--run-timeout", type=float, default=60,
                    help="per-run budget in seconds; a tool whose warm-up "
                         "exceeds it is reported as '> budget'")
    ap.add_argument("--batch", type=int, default=500,
                    help="connections set up per accept batch")
    ap.add_argument("--sockscope",
                    default=os.path.join(REPO, "target/release/sockscope"))
    ap.add_argument("--baseline",
                    help="another sockscope binary (e.g. main's) whose "
                         "commands run right after each sockscope command, "
                         "labelled 'baseline ...'")
    ap.add_argument("--groups",
                    help="run only these command groups, comma-separated "
                         "(-tan, filtered, json, summary, listeners, "
                         "ss-format, -tanp, who, why-bind, ports, watch, "
                         "metrics, owners, trace, allns); default all")
    ap.add_argument("--watch-count", type=int, default=10,
                    help="watch: ticks after the baseline snapshot "
                         "(--count)")
    ap.add_argument("--watch-min-size", type=int, default=100000,
                    help="watch: the smallest size it runs at, unless "
                         "--groups names watch")
    ap.add_argument("--watch-interval", type=float, default=1.0,
                    help="watch: --interval in seconds")
    ap.add_argument("--watch-runs", type=int, default=3,
                    help="watch: measured runs (each lasts --watch-count "
                         "intervals), after one warm-up")
    ap.add_argument("--metrics-runs", type=int, default=3,
                    help="metrics: measured runs of `sockscope metrics` "
                         "and `sockscope -tanp`, after one warm-up")
    ap.add_argument("--metrics-scrapes", type=int, default=5,
                    help="metrics: measured HTTP scrapes of each server "
                         "(serve, node_exporter), after one warm-up")
    ap.add_argument("--metrics-args", default="",
                    help="metrics: more arguments for `sockscope metrics` "
                         "and `serve` (e.g. --tcp-info), split as a shell "
                         "would")
    ap.add_argument("--raw-metrics",
                    default=os.path.join(HERE, "results-metrics.json"),
                    help="metrics: raw results when metrics is the only "
                         "size group ('' to skip)")
    ap.add_argument("--owners-runs", type=int, default=5,
                    help="owners: untimed `sockscope -tanp -v` runs with "
                         "each --owners-source (bpf, proc) whose -v line "
                         "gives the lookup's own wall, CPU and BPF setup")
    ap.add_argument("--raw-owners",
                    default=os.path.join(HERE, "results-owners.json"),
                    help="owners: raw results when owners (with or without "
                         "metrics) is the only size group ('' to skip)")
    ap.add_argument("--trace-rates", default="2000,5000,10000",
                    help="trace: churn rates in connections/s")
    ap.add_argument("--trace-seconds", type=float, default=20,
                    help="trace: seconds of churn at each rate")
    ap.add_argument("--trace-calibrate", type=int, default=50,
                    help="trace: connections of the calibration run (at "
                         "50/s) that gives transitions per connection")
    ap.add_argument("--trace-margin", type=float, default=8,
                    help="trace: --duration is the churn's seconds plus "
                         "this (start and end probes)")
    ap.add_argument("--trace-variants", default="all,ports",
                    help="trace: the tracer's runs at each rate: `all` "
                         "(every event of the machine) and/or `ports` "
                         "(the churn's and probes' ports, a kernel filter)")
    ap.add_argument("--trace-small-pages", type=int, default=4,
                    help="trace: one more run at the highest rate with the "
                         "port filter and rings of this many pages "
                         "(--buffer-pages), to make it lose and check the "
                         "lost count; 0: none")
    ap.add_argument("--trace-clients", type=int, default=2,
                    help="trace: the generator's client threads")
    ap.add_argument("--trace-servers", type=int, default=2,
                    help="trace: the generator's server threads")
    ap.add_argument("--trace-args", default="",
                    help="trace: more arguments for `sockscope trace` "
                         "(e.g. filter words), split as a shell would")
    ap.add_argument("--raw-trace",
                    default=os.path.join(HERE, "results-trace.json"),
                    help="trace: raw results when no size runs ('' to "
                         "skip)")
    ap.add_argument("--netns-count", type=int, default=200,
                    help="allns: named namespaces with a small population")
    ap.add_argument("--netns-sockets", type=int, default=100,
                    help="allns: sockets in each small namespace")
    ap.add_argument("--netns-big", type=int, default=100000,
                    help="allns: sockets in the one big namespace (0: none)")
    ap.add_argument("--netns-runs", type=int,
                    help="allns: measured runs per command (default --runs)")
    ap.add_argument("--netns-loop-runs", type=int, default=1,
                    help="allns: runs of the `ss -tanp` loop (no warm-up: "
                         "each of its `ss -p` walks all of /proc)")
    ap.add_argument("--netns-run-timeout", type=float, default=900,
                    help="allns: per-run budget in seconds")
    ap.add_argument("--raw-allns",
                    default=os.path.join(HERE, "results-allns.json"),
                    help="allns: raw results when only allns runs "
                         "('' to skip)")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        with open(args._child) as f:
            kind = json.load(f).get("kind")
        if kind == TRACE:
            return trace_child_main(args._child)
        return child_main(args._child)

    if os.geteuid() != 0:
        raise SystemExit("run as root (sudo): private network namespaces "
                         "need CAP_SYS_ADMIN")
    if MARKER in os.environ:
        refuse("nested run: the marker is already set")
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    if not sizes or min(sizes) < 100 or args.runs < 1:
        raise SystemExit("need sizes >= 100 and --runs >= 1")
    if not (1 <= args.netns_count <= 240 and 10 <= args.netns_sockets <= 10000
            and 0 <= args.netns_big <= 1000000):
        raise SystemExit("need 1 <= --netns-count <= 240, 10 <= "
                         "--netns-sockets <= 10000, 0 <= --netns-big <= 1M")
    try:
        args.trace_rates = [int(x) for x in args.trace_rates.split(",")
                            if x.strip()]
    except ValueError:
        raise SystemExit("--trace-rates: comma-separated integers")
    args.trace_variants = [v for v in args.trace_variants.split(",") if v]
    if not args.trace_variants or any(v not in VARIANTS
                                      for v in args.trace_variants):
        raise SystemExit("--trace-variants: one or more of %s" %
                         ", ".join(VARIANTS))
    if not (all(1 <= r <= 100000 for r in args.trace_rates)
            and 1 <= args.trace_seconds <= 300
            and 1 <= args.trace_calibrate <= 1000
            and 3 <= args.trace_margin <= 120
            and 1 <= args.watch_count <= 1000 and args.watch_runs >= 1
            and 1 <= args.metrics_runs <= 100
            and 1 <= args.metrics_scrapes <= 100
            and 1 <= args.owners_runs <= 100
            and 0.01 <= args.watch_interval <= 60
            and args.trace_small_pages in (0, 1, 2, 4, 8, 16, 32, 64, 128,
                                           256)
            and 1 <= args.trace_clients <= 64
            and 1 <= args.trace_servers <= 64):
        raise SystemExit("need --trace-rates in 1..100000, 1 <= "
                         "--trace-seconds <= 300, 1 <= --trace-calibrate "
                         "<= 1000, 3 <= --trace-margin <= 120, 1 <= "
                         "--watch-count <= 1000, --watch-runs >= 1, "
                         "0.01 <= --watch-interval <= 60, 1 <= --metrics-runs, "
                         "--metrics-scrapes, --owners-runs <= 100, 1..64 "
                         "trace "
                         "clients and servers, --trace-small-pages 0 or a "
                         "power of two up to 256")
    tools = resolve_tools(args)
    want_allns = not tools.get("groups") or ALLNS in tools["groups"]
    want_trace = not tools.get("groups") or TRACE in tools["groups"]
    if not command_groups(tools):
        sizes = []  # only allns asked for
    # metrics and/or owners as the only size groups: their own sections
    # and raw JSON
    size_groups = [g for g, _, _ in command_groups(tools)]
    sections_only = bool(sizes) and bool(size_groups) and set(
        size_groups) <= {METRICS, OWNERS}
    metrics_only = sections_only and METRICS in size_groups
    owners_only = sections_only and OWNERS in size_groups
    start_wall = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    deadline = t_start + args.max_seconds
    info = machine_info(tools)
    host_before = read_host_sysctls()
    results = []

    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    interrupted = False
    allns = None
    trace = None
    with tempfile.TemporaryDirectory(prefix="sockscope-bench-") as tmp:
        try:
            for size in sizes:
                left = deadline - time.monotonic() - 15  # report writing
                if left < 30:
                    log("global deadline: skipping size %d" % size)
                    results.append({"size": size, "skipped": "global "
                                    "deadline", "groups": {}, "notes": []})
                    continue
                results.append(run_size_child(size, args, tools, left, tmp))
            left = deadline - time.monotonic() - 15
            if want_trace and left < min(trace_seconds_needed(args), 300):
                log("global deadline: skipping trace")
                trace = {"skipped": "global deadline", "runs": [],
                         "notes": []}
            elif want_trace:
                trace = trace_case(args, tools, left, tmp)
            left = deadline - time.monotonic() - 15
            if want_allns and left < 60:
                log("global deadline: skipping allns")
                allns = {"skipped": "global deadline", "groups": {},
                         "notes": [], "config": {}}
            elif want_allns:
                allns = run_allns(args, tools, left)
                interrupted = bool(allns.get("interrupted"))
        except KeyboardInterrupt:
            interrupted = True
            for p in _CHILD:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
    host_after = read_host_sysctls()
    meta = {"argv": sys.argv[1:], "args": {
        k: v for k, v in vars(args).items() if not k.startswith("_")},
        "date": start_wall.strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": time.monotonic() - t_start, "machine": info,
        "tools": tools, "host_sysctls_unchanged": host_before == host_after,
        "host_sysctls": host_after, "interrupted": interrupted}
    if not sizes or sections_only:
        # allns, trace, metrics and/or owners alone: their own raw JSON, and
        # only their sections of the report
        if args.raw_allns and allns is not None:
            with open(args.raw_allns, "w") as f:
                json.dump({"meta": meta, "allns": allns}, f, indent=1)
        if args.raw_trace and trace is not None:
            with open(args.raw_trace, "w") as f:
                json.dump({"meta": meta, "trace": trace}, f, indent=1)
        if args.raw_metrics and metrics_only:
            with open(args.raw_metrics, "w") as f:
                json.dump({"meta": meta, "results": results}, f, indent=1)
        if args.raw_owners and owners_only:
            with open(args.raw_owners, "w") as f:
                json.dump({"meta": meta, "results": results}, f, indent=1)
        try:
            with open(args.out) as f:
                text = f.read()
        except FileNotFoundError:
            text = "# sockscope benchmarks\n"
        if metrics_only:
            text = splice_metrics(text, render_metrics(meta, results, args))
        if owners_only:
            text = splice_owners(text, render_owners(meta, results, args))
        if trace is not None:
            text = splice_trace(text, render_trace(meta, trace, args))
        if allns is not None:
            text = splice_allns(text, render_allns(meta, allns, args))
        with open(args.out, "w") as f:
            f.write(text)
        log("wrote the %s section(s) of %s (%.0f s in all)" % (
            " and ".join(n for n, x in (("metrics", metrics_only or None),
                                        ("owners", owners_only or None),
                                        ("trace", trace), ("allns", allns))
                         if x is not None), args.out, meta["seconds"]))
        return 1 if interrupted else 0
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"meta": meta, "results": results, "allns": allns,
                       "trace": trace}, f, indent=1)
    text = render_markdown(meta, results, args)
    if any(METRICS in r.get("groups", {}) for r in results):
        text = splice_metrics(text, render_metrics(meta, results, args))
    if any(OWNERS in r.get("groups", {}) for r in results):
        text = splice_owners(text, render_owners(meta, results, args))
    if trace:
        text = splice_trace(text, render_trace(meta, trace, args))
    if allns:
        text = splice_allns(text, render_allns(meta, allns, args))
    with open(args.out, "w") as f:
        f.write(text)
    with open(args.plot, "w") as f:
        f.write(render_svg(results, args))
    log("wrote %s and %s (%.0f s in all)" % (args.out, args.plot,
                                              meta["seconds"]))
    return 1 if interrupted else 0
