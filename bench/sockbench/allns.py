"""The all-namespaces case (group `allns`, issue 14): many named network
namespaces (`ip netns add sockbench-<pid>-<n>`) with a small population
each and one big one, held by forked workers that entered them (setns);
times the loop users run today (`ip netns exec NS ss -tan` for each
namespace, in one `sh -c`) against `sockscope -tan --all-netns`, with and
without `-p`; checks that sockscope's rows per namespace equal the loop's
and that `-tanp --all-netns` walks /proc once; tears everything down (the
workers by pid, then `ip netns del` of each namespace it made), also on
error, SIGTERM or Ctrl-C.

Runs in the orchestrator, which stays in its own namespace and makes no
socket: every socket is made by a worker after its setns and the check in
netns.enter_named_netns."""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time

from .base import log, netns_ino
from .measure import cpu_outside, cpu_snapshot, loadavg, measure_group
from .netns import (NETNS_DIR, NETNS_PREFIX, enter_named_netns,
                    host_netns_inos, setup_named_netns)
from .population import Population, plan_population, worker_plan
from .runner import Runner, kill_current_child

GROUP = "allns"
BARE_ALL = "bare dump, every bench namespace"
TW_RECHECK_S = 40  # TIME_WAIT lives 60 s: re-count when the last is older


def loop_script(tools, prefix, flags):
    """The loop users run today, restricted to this run's namespaces
    (`ip netns list` prints "NAME" or "NAME (id: N)")."""
    return ("for ns in $(%s netns list | cut -d' ' -f1 | grep '^%s'); do "
            "%s netns exec \"$ns\" %s %s; done" % (
                tools["ip"], prefix, tools["ip"], tools["ss"], flags))


class Namespaces:
    """The named namespaces this run made: created, set up, deleted."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.names = []   # made by us, in order
        self.inos = {}    # name -> namespace inode (stat of the bind mount)

    def add(self, name):
        if not name.startswith(self.prefix):
            raise ValueError("not one of ours: %r" % name)
        self.names.append(name)  # before: an interrupted add is deleted too
        subprocess.run(["ip", "netns", "add", name], check=True, timeout=30,
                       capture_output=True)
        self.inos[name] = os.stat(os.path.join(NETNS_DIR, name)).st_ino
        setup_named_netns(name)

    def delete_all(self):
        """`ip netns del` every namespace made, and any other left under
        this run's prefix (its pid is in it, so they are ours)."""
        failed = []
        names = list(reversed(self.names))
        if os.path.isdir(NETNS_DIR):
            names += [n for n in os.listdir(NETNS_DIR)
                      if n.startswith(self.prefix) and n not in names]
        for name in names:
            if not os.path.exists(os.path.join(NETNS_DIR, name)):
                continue  # its add was interrupted before it made it
            p = subprocess.run(["ip", "netns", "del", name], timeout=60,
                               capture_output=True, text=True)
            if p.returncode != 0:
                failed.append("%s: %s" % (name, p.stderr.strip()))
        self.names = []
        return failed


def reap_stale():
    """Delete `sockbench-<pid>-*` namespaces left by a bench run that was
    killed (SIGKILL): only those whose orchestrator pid no longer exists."""
    gone = []
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return gone
    for name in names:
        m = re.match(r"^%s(\d+)-" % re.escape(NETNS_PREFIX), name)
        if m and int(m.group(1)) != os.getpid() and \
                not os.path.exists("/proc/%s" % m.group(1)):
            p = subprocess.run(["ip", "netns", "del", name], timeout=60,
                               capture_output=True)
            if p.returncode == 0:
                gone.append(name)
    if gone:
        log("allns: deleted %d namespaces left by a killed run (%s...)" % (
            len(gone), gone[0]))
    return gone


def sockscope_support(tools, env):
    """Does this sockscope binary know --all-netns?  (None or the reason.)"""
    p = subprocess.run([tools["sockscope"], "-tan", "--all-netns"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=env, timeout=120)
    if p.returncode == 0:
        return None
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    return "exit %d: %s" % (p.returncode, err[0] if err else "")


def loop_rows(tools, prefix, env, timeout):
    """Untimed: `ss -tanH` in each of our namespaces; rows per namespace."""
    script = ("for ns in $(%s netns list | cut -d' ' -f1 | grep '^%s'); do "
              "echo \"@@ $ns\"; %s netns exec \"$ns\" %s -tanH; done" % (
                  tools["ip"], prefix, tools["ip"], tools["ss"]))
    out = subprocess.run(["sh", "-c", script], capture_output=True, env=env,
                         timeout=timeout).stdout
    rows, cur = {}, None
    for line in out.split(b"\n"):
        if line.startswith(b"@@ "):
            cur = line[3:].decode()
            rows[cur] = 0
        elif line.strip() and cur is not None:
            rows[cur] += 1
    return rows


def sockscope_rows(tools, env, timeout):
    """Untimed: `sockscope -tan --all-netns --json`, one object per socket;
    rows per netns name (the JSON field `netns.name`), and every namespace
    inode it showed."""
    out = subprocess.run([tools["sockscope"], "-tan", "--all-netns",
                          "--json"], capture_output=True, env=env,
                         timeout=timeout).stdout
    rows, inos, missing = {}, set(), 0
    for line in out.split(b"\n"):
        # a JSON array, one object a line: "[", "{...},", ..., "]"
        line = line.strip().rstrip(b",")
        if line in (b"", b"[", b"]"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            missing += 1
            continue
        ns = obj.get("netns") if isinstance(obj, dict) else None
        if not isinstance(ns, dict):
            missing += 1
            continue
        name = ns.get("name") or "inode %s" % ns.get("inode")
        rows[name] = rows.get(name, 0) + 1
        inos.add(ns.get("inode"))
    return {"rows": rows, "netns_seen": len(inos), "no_netns": missing}


def walk_check(tools, env, timeout, tmpdir):
    """One untimed `sockscope -tanp --all-netns --owners-source proc` (the
    /proc walk: the BPF iterator, the default as root, walks nothing) under
    `strace -f -y -e trace=%file` (paths of directory fds from -y): how
    often it listed
    /proc, opened each /proc/PID/fd, read each descriptor's link and
    looked at each /proc/PID/ns/net, beside the number of processes and
    descriptors; and its own --verbose line."""
    res = {"processes": sum(1 for d in os.listdir("/proc") if d.isdigit())}
    strace = tools.get("strace")
    if strace:
        trace = os.path.join(tmpdir, "walk.strace")
        p = subprocess.run([strace, "-f", "-qq", "-y", "-e", "trace=%file",
                            "-o", trace, tools["sockscope"], "-tanp",
                            "--all-netns", "--owners-source", "proc"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=env, timeout=timeout)
        res["strace_exit"] = p.returncode
        # "PID call(DIRFD<path>, "path", ..." ; AT_FDCWD<cwd> for absolute
        pat = re.compile(r'^\d+ (\w+)\((?:(?:AT_FDCWD(?:<[^>]*>)?|'
                         r'\d+<([^>]*)>|\d+), )?"([^"]*)"')
        n = {"proc_dir_opens": 0, "fd_dir_opens": 0, "fd_links": 0,
             "ns_net": 0}
        fd_dirs, links, ns_net = {}, {}, {}
        with open(trace, errors="replace") as f:
            for line in f:
                m = pat.match(line)
                if not m:
                    continue
                call, base, path = m.groups()
                if not path.startswith("/") and base:
                    path = base.rstrip("/") + "/" + path
                path = path.rstrip("/")
                if call.startswith("open") and path == "/proc":
                    n["proc_dir_opens"] += 1
                elif call.startswith("open") and re.match(
                        r"^/proc/\d+/fd$", path):
                    n["fd_dir_opens"] += 1
                    fd_dirs[path] = fd_dirs.get(path, 0) + 1
                elif call.startswith("readlink") and re.match(
                        r"^/proc/\d+/fd/\d+$", path):
                    n["fd_links"] += 1
                    links[path] = links.get(path, 0) + 1
                elif re.match(r"^/proc/\d+/ns/net$", path):
                    n["ns_net"] += 1
                    ns_net[path] = ns_net.get(path, 0) + 1
        res.update(n)
        res.update({"fd_dir_pids": len(fd_dirs),
                    "max_opens_per_pid": max(fd_dirs.values(), default=0),
                    "fd_links_distinct": len(links),
                    "max_reads_per_link": max(links.values(), default=0),
                    "ns_net_pids": len(ns_net),
                    "max_ns_net_per_pid": max(ns_net.values(), default=0)})
    else:
        res["strace"] = "not installed"
    res["fds"] = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                res["fds"] += len(os.listdir("/proc/%s/fd" % d))
            except OSError:
                pass  # gone meanwhile
    p = subprocess.run([tools["sockscope"], "-tanp", "--all-netns",
                        "--owners-source", "proc", "--verbose"],
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, timeout=timeout)
    res["verbose"] = [ln for ln in p.stderr.decode("utf-8", "replace")
                      .splitlines() if "walked" in ln][:5]
    return res


def run_allns(args, tools, seconds):
    """The whole case; returns its result dict (never raises for a failure
    inside: it is recorded, and everything made is removed)."""
    t_start = time.monotonic()
    deadline = t_start + seconds
    prefix = "%s%d-" % (NETNS_PREFIX, os.getpid())
    cfg = {"count": args.netns_count, "per_ns": args.netns_sockets,
           "big": args.netns_big, "runs": args.netns_runs or args.runs,
           "run_timeout": args.netns_run_timeout, "prefix": prefix,
           "loop_runs": args.netns_loop_runs}
    result = {"config": cfg, "complete": False, "groups": {}, "notes": [],
              "host_netns": netns_ino()}
    reap_stale()
    nss = Namespaces(prefix)
    runner = Runner()
    env = runner.env
    pops = []
    host = host_netns_inos()

    def entering(names):
        def enter(k):
            name = names[k] if len(names) > 1 else names[0]
            enter_named_netns(name, nss.inos[name], host)
        return enter

    tmp = tempfile.mkdtemp(prefix="sockscope-bench-allns-")
    try:
        unsupported = sockscope_support(tools, env)
        result["sockscope_unsupported"] = unsupported
        if unsupported:
            log("allns: %s does not run --all-netns (%s): its rows are "
                "recorded as unsupported" % (tools["sockscope"], unsupported))
        t0 = time.monotonic()
        small = ["%s%d" % (prefix, n) for n in range(cfg["count"])]
        for name in small:
            nss.add(name)
        big = prefix + "big"
        if cfg["big"]:
            nss.add(big)
        result["netns_setup_s"] = time.monotonic() - t0
        result["other_named_netns"] = len([
            n for n in os.listdir(NETNS_DIR) if not n.startswith(prefix)])
        log("allns: %d namespaces made in %.1f s" % (
            len(nss.names), result["netns_setup_s"]))
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if small:
            plans = [worker_plan(cfg["per_ns"], args.batch)
                     for _ in small]
            pops.append(("small", Population(
                cfg["per_ns"] * len(small), plans, args.batch, deadline,
                entering(small))))
        if cfg["big"]:
            plans = plan_population(cfg["big"], args.procs, args.batch,
                                    fd_limit)
            pops.append(("big", Population(cfg["big"], plans, args.batch,
                                           deadline, entering([big]))))
        t0 = time.monotonic()
        for _, pop in pops:
            pop.start()
        for label, pop in pops:
            pop.wait_ready(min(deadline - time.monotonic(),
                               120 + pop.size * 0.0004))
        result["build_s"] = time.monotonic() - t0
        result["workers"] = {label: len(pop.workers) for label, pop in pops}
        plan_tw = {label: [p["time_wait"] for p in pop.plans]
                   for label, pop in pops}

        def census_all():
            """Kernel counts: per small namespace, and the big one."""
            out = {}
            for label, pop in pops:
                if label == "small":
                    for k, c in pop.census_each(60).items():
                        out[small[k]] = c
                else:
                    out[big] = pop.census_each(60, [0])[0]
            return out

        last = [time.monotonic()]

        def maintain(force=False):
            """Top TIME_WAIT up to each namespace's target (they expire
            60 s after they were made); counts only every TW_RECHECK_S."""
            now = time.monotonic()
            if not force and now - last[0] < TW_RECHECK_S:
                return {"before": None, "made": 0}
            last[0] = now
            cen = census_all()
            made, before = 0, 0
            for label, pop in pops:
                if label == "small":
                    wants = {}
                    for k, name in enumerate(small):
                        tw = cen[name]["tcp_states"].get("TIME_WAIT", 0)
                        before += tw
                        wants[k] = max(0, plan_tw["small"][k] - tw)
                    made += pop.top_up_each(wants, 120)
                else:
                    tw = cen[big]["tcp_states"].get("TIME_WAIT", 0)
                    before += tw
                    made += pop.top_up_tw(max(0, sum(plan_tw["big"]) - tw),
                                          120)
            return {"before": before, "made": made}

        cen = census_all()
        result["census_after_build"] = summarize_census(cen, small, big)
        log("allns: %d + %d workers built in %.1f s: %s" % (
            result["workers"].get("small", 0), result["workers"].get("big", 0),
            result["build_s"], result["census_after_build"]["line"]))

        # Row check first, while every TIME_WAIT is younger than 60 s.
        check_timeout = max(cfg["run_timeout"], 300)  # untimed checks
        ss_rows = loop_rows(tools, prefix, env, check_timeout)
        check = {"loop": ss_rows, "census": {
            n: c["tcp_total"] for n, c in cen.items()}}
        if not unsupported:
            sr = sockscope_rows(tools, env, check_timeout)
            check["sockscope"] = {n: c for n, c in sr["rows"].items()
                                  if n.startswith(prefix)}
            check["sockscope_other_rows"] = sum(
                c for n, c in sr["rows"].items() if not n.startswith(prefix))
            check["sockscope_netns_seen"] = sr["netns_seen"]
            check["sockscope_no_netns"] = sr["no_netns"]
        result["rows"] = check
        log("allns: rows in our namespaces: ss loop %d, sockscope %s, "
            "kernel %d" % (sum(ss_rows.values()),
                           sum(check["sockscope"].values())
                           if "sockscope" in check else "unsupported",
                           sum(check["census"].values())))
        if not unsupported:
            try:
                result["walk"] = walk_check(tools, env, check_timeout, tmp)
            except (OSError, subprocess.SubprocessError) as e:
                result["walk"] = {"error": "%s: %s" % (type(e).__name__, e)}
            log("allns: walk check %s" % result["walk"])

        S = tools["sockscope"]
        loop_tan = [tools["sh"], "-c", loop_script(tools, prefix, "-tan")]
        loop_tanp = [tools["sh"], "-c", loop_script(tools, prefix, "-tanp")]
        # (group, reference, entries timed round-robin after a warm-up,
        #  the loop run alone: `followed` runs with ptrace on its forks)
        groups = [
            ("-tan", "loop ss -tan", [
                ("loop ss -tan", loop_tan),
                ("sockscope -tan --all-netns", [S, "-tan", "--all-netns"]),
                # the floor: a forked child that enters each of this run's
                # namespaces in turn and only counts the TCP dump's messages
                (BARE_ALL, {"bare_dump_netns": [
                    (os.path.join(NETNS_DIR, n), nss.inos[n])
                    for n in nss.names]}),
            ], None),
            # each `ss -p` of the loop reads every process's descriptors:
            # minutes a run at 200 namespaces, so the loop gets no warm-up
            # and --netns-loop-runs followed runs (its peak RSS too)
            ("-tanp", "loop ss -tanp", [
                ("sockscope -tanp --all-netns", [S, "-tanp",
                                                 "--all-netns"]),
            ], ("loop ss -tanp", loop_tanp)),
        ]
        meas_deadline = deadline - 60
        workers = [w["pid"] for _, pop in pops for w in pop.workers]
        result["loop_rss"] = {}
        for name, ref, entries, followed in groups:
            if unsupported:
                entries = [e for e in entries
                           if not (isinstance(e[1], list) and e[1][0] == S)]
            if time.monotonic() > meas_deadline - 5:
                result["notes"].append("deadline reached before group %s"
                                       % name)
                break
            made = maintain(force=True)["made"]
            start = census_all()
            load0 = loadavg()
            cpu0 = cpu_snapshot(workers)
            log("allns: group %s (TIME_WAIT topped up by %d)" % (name, made))
            g, upkeep = measure_group(runner, name, entries, cfg["runs"],
                                      cfg["run_timeout"], meas_deadline,
                                      maintain)
            order = [e[0] for e in entries]
            if followed:
                label, argv = followed
                g[label] = follow_runs(runner, label, argv, cfg["loop_runs"],
                                       cfg["run_timeout"], meas_deadline,
                                       maintain, upkeep)
                order.insert(0, label)
                if g[label]["runs"]:
                    result["loop_rss"][label] = g[label]["runs"][0]
            cpu1 = cpu_snapshot(workers)
            end = census_all()
            result["groups"][name] = {
                "ref": ref, "tools": g, "order": order,
                "outside_cpu": cpu_outside(cpu0, cpu1), "loadavg_start": load0,
                "census_start": summarize_census(start, small, big),
                "census_end": summarize_census(end, small, big),
                "tw_topup": made, "tw_rounds": upkeep}
        # Peak RSS of the -tan loop: the largest process in it, from one
        # more (untimed) run that follows the script's forks; its wall
        # beside the timed median is what following costs.
        g = result["groups"].get("-tan")
        label = "loop ss -tan"
        if g and g["tools"][label]["runs"] and \
                time.monotonic() + 30 < meas_deadline:
            maintain()
            rec = runner.run_follow(loop_tan, cfg["run_timeout"])
            result["loop_rss"][label] = rec
            log("allns: %s followed: largest process %s %s, %.0f ms" % (
                label, rec.get("comm"), rec.get("rss_kib"),
                rec["wall"] * 1000))
        result["complete"] = True
    except (Exception, KeyboardInterrupt) as e:  # recorded, then torn down
        result["error"] = "%s: %s" % (type(e).__name__, e)
        log("allns: ERROR %s" % result["error"])
        if isinstance(e, KeyboardInterrupt):
            result["interrupted"] = True
    finally:
        # no second Ctrl-C / SIGTERM in the middle of the teardown
        old = signal.pthread_sigmask(signal.SIG_BLOCK,
                                     {signal.SIGINT, signal.SIGTERM})
        try:
            kill_current_child()
            t0 = time.monotonic()
            killed = 0
            for _, pop in pops:
                killed += pop.teardown()["killed"]
            failed = nss.delete_all()
            result["teardown_s"] = time.monotonic() - t0
            result["teardown_killed"] = killed
            if failed:
                result["notes"].append("ip netns del failed: %s" %
                                       "; ".join(failed[:3]))
            left = [n for n in os.listdir(NETNS_DIR) if n.startswith(prefix)] \
                if os.path.isdir(NETNS_DIR) else []
            result["left_behind"] = left
            log("allns: teardown %.1f s (workers SIGKILLed: %d, namespaces "
                "left: %d)" % (result["teardown_s"], killed, len(left)))
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    result["seconds"] = time.monotonic() - t_start
    return result


def follow_runs(runner, label, argv, runs, budget, meas_deadline, maintain,
                upkeep):
    """`runs` runs of argv with its forks followed (runner.run_follow),
    recorded as measure_group records one command."""
    res = {"argv": argv, "warmup": None, "runs": [], "status": "ok",
           "followed": True}
    for _ in range(runs):
        upkeep.append(maintain())
        lim = min(budget, meas_deadline - time.monotonic())
        if lim < min(5, budget):
            res["status"] = "deadline"
            break
        rec = runner.run_follow(argv, lim)
        res["runs"].append(rec)
        log("  %-24s %9.1f ms (followed: largest process %s %s KiB)" % (
            label, rec["wall"] * 1000, rec.get("comm"), rec.get("rss_kib")))
        if rec["timed_out"]:
            res["status"] = ("over_budget" if lim >= budget - 1e-6
                             else "deadline")
            break
    return res


def summarize_census(cen, small, big):
    """Totals of a census_all(): TCP by state and UDP, small and big."""
    def add(names):
        st, tcp, udp = {}, 0, 0
        for n in names:
            c = cen.get(n)
            if not c:
                continue
            tcp += c["tcp_total"]
            udp += c["udp_total"]
            for k, v in c["tcp_states"].items():
                st[k] = st.get(k, 0) + v
        return {"tcp_states": st, "tcp_total": tcp, "udp_total": udp}
    out = {"small": add(small), "big": add([big])}
    out["line"] = "; ".join(
        "%s: TCP %d (%s), UDP %d" % (k, v["tcp_total"], ", ".join(
            "%s %d" % kv for kv in sorted(v["tcp_states"].items())),
            v["udp_total"]) for k, v in out.items() if v["tcp_total"])
    return out
