"""The measurer: runs inside the private namespace for one size.  The
command groups and their reference commands, the round-robin timing of one
group, the CPU other processes used meanwhile, and child_main, which builds
the population, measures every group, tears down and writes its JSON."""

import json
import os
import resource
import shutil
import signal
import statistics
import sys
import time

from .base import FILTER_PORT, PORT_RANGE, log
from .live import WATCH, watch_argv, watch_label
from .metricscase import METRICS, measure_extra, metrics_entries
from .netlink import census
from .netns import NETNS_CHECK, refuse, setup_namespace, verify_private_netns
from .ownerscase import OWNERS, TAN, owners_entries
from .ownerscase import measure_extra as owners_extra
from .population import Population, plan_population
from .runner import Runner, count_lines, kill_current_child, ss_state_counts


def command_groups(tools):
    S, ss, ns, cat = (tools["sockscope"], tools["ss"], tools["netstat"],
                      tools["cat"])
    filt = ["state", "established", "sport", "=", ":%d" % FILTER_PORT]
    groups = [
        # the floor runs inside the -tan rounds, so its ratio to sockscope
        # -tan compares runs made side by side
        ("-tan", "ss -tan", [
            ("sockscope -tan", [S, "-tan"]),
            ("ss -tan", [ss, "-tan"]),
            ("netstat -tan", [ns, "-tan"] if ns else None),
            ("cat /proc/net/tcp{,6}", [cat, "/proc/net/tcp",
                                       "/proc/net/tcp6"]),
            ("bare dump", None),
        ]),
        ("filtered", "ss filtered", [
            ("sockscope filtered", [S, "-tan"] + filt),
            ("ss filtered", [ss, "-tan"] + filt),
        ]),
        ("json", "ss -tan", [
            ("sockscope -tan --json", [S, "-tan", "--json"]),
            ("ss -tan", [ss, "-tan"]),
        ]),
        ("summary", "ss -s", [
            ("sockscope -s", [S, "-s"]),
            ("ss -s", [ss, "-s"]),
        ]),
        ("listeners", "ss -tln", [
            ("sockscope listeners", [S, "listeners"]),
            ("ss -tln", [ss, "-tln"]),
            # listeners shows owners: ss -tlnp is the like-for-like run
            ("ss -tlnp", [ss, "-tlnp"]),
        ]),
        # ss's own text (issue 15): the drop-in must cost what the table
        # costs.
        ("ss-format", "ss -tan", [
            ("sockscope --ss-format -tan", [S, "--ss-format", "-tan"]),
            ("ss -tan", [ss, "-tan"]),
            ("sockscope --ss-format -tanp", [S, "--ss-format", "-tanp"]),
            ("ss -tanp", [ss, "-tanp"]),
        ]),
        ("-tanp", "ss -tanp", [
            ("sockscope -tanp", [S, "-tanp"]),
            ("ss -tanp", [ss, "-tanp"]),
            ("netstat -tanp", [ns, "-tanp"] if ns else None),
        ]),
        # The views that ask the kernel for one port or the ephemeral range:
        # beside ss asking for the same sockets (who and why-bind show
        # owners, so ss with -p), and the full `ss -tan` for ports.
        ("who", "ss -tuanp sport = :%d" % FILTER_PORT, [
            ("sockscope who %d" % FILTER_PORT, [S, "who", str(FILTER_PORT)]),
            ("ss -tuanp sport = :%d" % FILTER_PORT,
             [ss, "-tuanp", "sport", "=", ":%d" % FILTER_PORT]),
        ]),
        ("why-bind", "ss -tanp sport = :%d" % FILTER_PORT, [
            ("sockscope why-bind %d" % FILTER_PORT,
             [S, "why-bind", str(FILTER_PORT)]),
            ("ss -tanp sport = :%d" % FILTER_PORT,
             [ss, "-tanp", "sport", "=", ":%d" % FILTER_PORT]),
        ]),
        ("ports", "ss -tan", [
            ("sockscope ports", [S, "ports"]),
            ("ss -tan", [ss, "-tan"]),
            ("ss -tan sport in range", [
                ss, "-tan", "sport", ">=", ":%d" % PORT_RANGE[0], "and",
                "sport", "<=", ":%d" % PORT_RANGE[1]]),
        ]),
        # issue 16: `watch` at 1 s, N ticks after its baseline snapshot,
        # beside one `-tan` run; its ref names no command (a watch run's
        # wall is mostly its interval): the watch section of the report
        # compares CPU per tick and peak RSS instead.
        (WATCH, "(CPU per tick)", [
            (watch_label(tools.get("watch_count", 10),
                         tools.get("watch_interval", 1.0)),
             watch_argv(S, tools.get("watch_count", 10),
                        tools.get("watch_interval", 1.0))),
            ("sockscope -tan", [S, "-tan"]),
        ]),
        # issue 17: one scrape, owners included, beside the `-tanp` run it
        # must stay within 1.5x of; the HTTP servers (serve, node_exporter)
        # are scraped after the round-robin (metricscase.py).
        (METRICS, "sockscope -tanp",
         metrics_entries(S, tools.get("metrics_args") or [])),
        # issue 19: `-tanp` with each owner source beside `-tan` (the 1.5x
        # target) in the same rounds; the -v runs (the lookup's own wall,
        # CPU, BPF setup) and the owners' comparison after the round-robin
        # (ownerscase.py).
        (OWNERS, TAN, owners_entries(S, ss)),
    ]
    base = tools.get("baseline")
    only = tools.get("groups")
    out = []
    for name, ref, entries in groups:
        if only and name not in only:
            continue
        ents = []
        for label, argv in entries:
            if argv is None and label != "bare dump":
                continue
            ents.append((label, argv))
            # --baseline: the same sockscope command from another binary,
            # right after it in each round
            if base and argv is not None and argv[0] == S:
                ents.append(("baseline " + label, [base] + argv[1:]))
        out.append((name, ref, ents))
    return out


def measure_group(runner, name, entries, runs, budget, meas_deadline,
                  maintain=None):
    res = {}
    upkeep = []
    for label, argv in entries:
        res[label] = {"argv": argv, "warmup": None, "runs": [],
                      "status": "ok"}

    def one(label, argv, limit):
        if argv is None:
            return runner.run_bare_dump(limit)
        if isinstance(argv, dict):  # {"bare_dump_netns": [(path, inode)]}
            return runner.run_bare_dump(limit, argv["bare_dump_netns"])
        return runner.run(argv, limit)

    def limit_for():
        return min(budget, meas_deadline - time.monotonic())

    active = []
    for label, argv in entries:
        if maintain:
            upkeep.append(maintain())
        lim = limit_for()
        if lim < min(1.0, budget):
            res[label]["status"] = "deadline"
            continue
        rec = one(label, argv, lim)
        res[label]["warmup"] = rec
        if rec["timed_out"]:
            res[label]["status"] = ("over_budget" if lim >= budget - 1e-6
                                    else "deadline")
            log("  %-24s warm-up > %g s: %s" % (label, lim,
                                                   res[label]["status"]))
            continue
        active.append((label, argv))
    for r in range(runs):
        if maintain and active:
            upkeep.append(maintain())
        for label, argv in list(active):
            need = min(res[label]["warmup"]["wall"] * 1.5 + 0.5, budget)
            if meas_deadline - time.monotonic() < need:
                res[label]["status"] = "deadline"
                active.remove((label, argv))
                continue
            lim = limit_for()
            rec = one(label, argv, lim)
            res[label]["runs"].append(rec)
            if rec["timed_out"]:
                res[label]["status"] = ("over_budget" if lim >= budget - 1e-6
                                        else "deadline")
                active.remove((label, argv))
    for label, _ in entries:
        walls = [x["wall"] for x in res[label]["runs"] if not x["timed_out"]]
        if walls:
            log("  %-24s median %9.1f ms over %d runs" % (
                label, statistics.median(walls) * 1000, len(walls)))
    return res, upkeep


def cpu_snapshot(worker_pids):
    """System CPU from /proc/stat and the CPU this benchmark used itself."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz  # user nice system irq sirq
    steal = (v[7] if len(v) > 7 else 0) / hz
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    for pid in worker_pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ours += (int(fields[11]) + int(fields[12])) / hz
        except (OSError, IndexError, ValueError):
            pass
    return {"t": time.monotonic(), "busy": busy, "steal": steal,
            "ours": ours}


def cpu_outside(a, b):
    """CPU-seconds used by everything else between two snapshots."""
    wall = b["t"] - a["t"]
    other = max(0.0, (b["busy"] - a["busy"]) - (b["ours"] - a["ours"]))
    return {"wall": wall, "other_cpu": other,
            "steal": b["steal"] - a["steal"],
            "other_share": other / (wall * (os.cpu_count() or 1))
            if wall > 0 else 0.0}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def child_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    if os.geteuid() != 0:
        refuse("must run as root")
    ino = verify_private_netns()
    size = cfg["size"]
    deadline = time.monotonic() + cfg["seconds"]
    teardown_reserve = 30 + size / 20000.0
    meas_deadline = deadline - teardown_reserve
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    plans = plan_population(size, cfg["procs"], cfg["batch"], fd_limit)
    tw_target = sum(p["time_wait"] for p in plans)
    result = {"size": size, "netns": dict(NETNS_CHECK), "workers": len(plans),
              "fd_limit": fd_limit, "plan_total": {
                  k: sum(p[k] for p in plans)
                  for k in ("est_pairs", "half_pairs", "syn_recv",
                            "time_wait", "udp", "listen", "sockets", "fds")},
              "max_worker_fds": max(p["fds"] for p in plans),
              "complete": False, "groups": {}, "notes": []}
    result["sysctls"] = setup_namespace(tw_target)
    runner = Runner()
    pop = Population(size, plans, cfg["batch"], deadline)
    try:
        log("size %d: %d workers build %d sockets (fd limit %d, max %d "
            "fds/worker)" % (size, len(plans), size, fd_limit,
                             result["max_worker_fds"]))
        pop.start()
        build_timeout = min(meas_deadline - time.monotonic(),
                            120 + size * 0.0004)
        ready = pop.wait_ready(build_timeout)
        result["build_s"] = pop.build_s
        result["worker_build_s_max"] = max(m["build_s"]
                                           for m in ready.values())
        result["worker_fds_max"] = max(m["fds"] for m in ready.values())
        log("size %d: built in %.1f s" % (size, pop.build_s))
        env = runner.env
        c = census()
        result["census_after_build"] = c
        result["ss_states"] = ss_state_counts(cfg["tools"]["ss"],
                                              cfg["run_timeout"], env)
        rows, header = count_lines([cfg["tools"]["sockscope"], "-tan"],
                                   cfg["run_timeout"], env)
        result["sockscope_tan_lines"] = rows
        result["sockscope_tan_rows"] = rows - (1 if header.startswith(
            "State") else 0)
        log("size %d: TCP %d (%s), UDP %d; sockscope -tan printed %d rows"
            % (size, c["tcp_total"], ", ".join(
                "%s %d" % kv for kv in sorted(c["tcp_states"].items())),
               c["udp_total"], result["sockscope_tan_rows"]))
        true_bin = shutil.which("true") or "/bin/true"
        ov = [runner.run([true_bin], 10) for _ in range(11)]
        result["spawn_overhead"] = {
            "wall": statistics.median(x["wall"] for x in ov[1:]),
            "fork_wall": statistics.median(runner.fork_overhead()
                                           for _ in range(11)),
            "ru_maxrss_kib": statistics.median(x.get("ru_maxrss_kib") or 0
                                               for x in ov[1:])}
        result["ptrace_rss"] = bool(runner.ptrace_ok)

        tw_batches = [(pop.t_start, tw_target)]  # (made at, count)

        def maintain(force=False):
            """Keep TIME_WAIT near its target: they expire after 60 s.

            The dump that counts them walks every socket (~1 s at 1M), so
            it is skipped while the batches made in the last 50 s still add
            up to 90% of the target.
            """
            now = time.monotonic()
            recent = sum(n for t, n in tw_batches if now - t < 50)
            if not force and recent >= 0.9 * tw_target:
                return {"before": None, "made": 0}
            tw_now = census(states=1 << 6, udp=False)["tcp_total"]
            made = 0
            if tw_now < (tw_target if force else 0.9 * tw_target):
                want = tw_target - tw_now
                t_made = time.monotonic()
                made = pop.top_up_tw(want, 60 + size * 0.0002)
                tw_batches.append((t_made, made))
                if made < want and "tw_exhausted" not in result:
                    result["tw_exhausted"] = True
                    result["notes"].append(
                        "client addresses for TIME_WAIT top-ups ran out; "
                        "TIME_WAIT decays from then on")
            return {"before": tw_now, "made": made}

        for name, ref, entries in command_groups(cfg["tools"]):
            t = cfg["tools"]
            if name == WATCH and size < t.get("watch_min_size", 0) and \
                    WATCH not in (t.get("groups") or []):
                continue  # watch's targets are at 100k and 1M
            if time.monotonic() > meas_deadline - 2:
                result["notes"].append("global deadline reached before "
                                       "group %s" % name)
                break
            made = maintain(force=True)["made"]
            start = census()
            load0 = loadavg()
            cpu0 = cpu_snapshot([w["pid"] for w in pop.workers])
            log("size %d: group %s (TIME_WAIT %d, topped up %d)" % (
                size, name, start["tcp_states"].get("TIME_WAIT", 0), made))
            runs, budget = cfg["runs"], cfg["run_timeout"]
            if name == WATCH:  # each run lasts --count intervals at least
                t = cfg["tools"]
                runs = cfg.get("watch_runs") or runs
                budget += t.get("watch_count", 10) * t.get(
                    "watch_interval", 1.0)
            if name == METRICS:
                runs = cfg.get("metrics_runs") or runs
            g, upkeep = measure_group(runner, name, entries, runs, budget,
                                      meas_deadline, maintain)
            extra = None
            if name == METRICS:
                # the servers' scrapes are compared with the kernel's
                # count: TIME_WAIT back to its target, counted just before
                upkeep.append(maintain(force=True))
                before = census()
                extra = measure_extra(cfg["tools"], runner.env, cfg,
                                      meas_deadline)
                extra["census"] = before
            if name == OWNERS:
                extra = owners_extra(cfg["tools"], runner.env, cfg,
                                     meas_deadline)
            cpu1 = cpu_snapshot([w["pid"] for w in pop.workers])
            end = census()
            outside = cpu_outside(cpu0, cpu1)
            if outside["other_share"] > 0.05 and outside["other_cpu"] > 0.3:
                log("  note: other processes used %.0f%% of the CPUs during "
                    "this group" % (100 * outside["other_share"]))
            result["groups"][name] = {"ref": ref, "tools": g,
                                      "outside_cpu": outside,
                                      "loadavg_start": load0,
                                      "order": [e[0] for e in entries],
                                      "census_start": start,
                                      "census_end": end, "tw_topup": made,
                                      "tw_rounds": upkeep}
            if extra is not None:
                result["groups"][name][name] = extra
        else:
            result["complete"] = True
    except Exception as e:  # recorded, then torn down
        result["error"] = "%s: %s" % (type(e).__name__, e)
        log("size %d: ERROR %s" % (size, result["error"]))
    finally:
        kill_current_child()
        td = pop.teardown()
        result["teardown_s"] = td["seconds"]
        result["teardown_killed"] = td["killed"]
        log("size %d: teardown %.1f s" % (size, td["seconds"]))
        with open(cfg["result"], "w") as f:
            json.dump(result, f)
    return 0
