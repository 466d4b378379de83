"""The trace case (group `trace`, issue 16's speed case for `sockscope
trace`), run in its own `unshare -n` child: the namespace check and setup,
then for the calibration rate and each churn rate one run of `sockscope
trace --jsonl --duration D` (timed by the Runner: wall, CPU, peak RSS; its
stdout to a file) while a driver thread starts the churn once the tracer
shows a probe, reads the generator's counts, and sends the end probe; then
the file is counted (live.TraceCount) and the numbers written as JSON."""

import json
import os
import re
import signal
import sys
import threading
import time

from .base import log
from .live import (PROBE_PORT, SERVER_PORT, SMALL, VARIANTS, Churn, Probe,
                   account, calibrate, count_file, find_probe, proc_cpu)
from .measure import cpu_outside, cpu_snapshot, loadavg
from .netns import NETNS_CHECK, refuse, setup_namespace, verify_private_netns
from .runner import _CURRENT_CHILD, Runner, kill_current_child

# The namespace's TIME_WAIT buckets: every churn connection leaves one for
# 60 s (10000/s x 20 s = 200k, plus the earlier rates').  setup_namespace
# sets tcp_max_tw_buckets to 4x this.
TW_EXPECTED = 250000


def drive(st, churn, probe, out_path, seconds, done):
    """The driver thread: wait for the tracer to show a start probe, `go`,
    the generator's counts, the end probe.  Records into st; never raises."""
    try:
        t_end = time.monotonic() + 10
        while not _CURRENT_CHILD and time.monotonic() < t_end and \
                not done.is_set():
            time.sleep(0.01)
        pid = _CURRENT_CHILD[0] if _CURRENT_CHILD else None
        st["tracer_pid"] = pid
        if not churn.ready():
            st["error"] = "the churn generator did not say ready"
            churn.say("exit")
            return
        t0 = time.monotonic()
        pos, seen = 0, False
        while time.monotonic() - t0 < 15 and not done.is_set():
            probe.ping()
            time.sleep(0.1)
            seen, pos = find_probe(out_path, pos)
            if seen:
                break
        st["ready_s"] = time.monotonic() - t0
        if not seen:
            st["error"] = ("the tracer %s within %.0f s: churn not started"
                           % ("ended" if done.is_set() else
                              "showed no probe connection",
                              st["ready_s"]))
            churn.say("exit")
            return
        cpu_a = proc_cpu(pid)
        st["go_at"] = time.monotonic()
        churn.say("go")
        st["churn"] = churn.summary(seconds + 40)
        st["churn_end_at"] = time.monotonic()
        cpu_b = proc_cpu(pid)
        if cpu_a is not None and cpu_b is not None:
            st["tracer_cpu_churn"] = cpu_b - cpu_a
            st["churn_wall"] = st["churn_end_at"] - st["go_at"]
        if st["churn"] is None:
            st["error"] = "no counts from the churn generator"
            return
        pos = os.path.getsize(out_path)
        t1 = time.monotonic()
        probe.ping()
        while time.monotonic() - t1 < 5 and not done.is_set():
            time.sleep(0.1)
            seen, pos = find_probe(out_path, pos)
            if seen:
                break
        st["end_probe_seen"] = seen
        st["end_probe_s"] = time.monotonic() - t1
    except Exception as e:  # recorded; the tracer ends by its --duration
        st["error"] = "driver: %s: %s" % (type(e).__name__, e)
    finally:
        st["churn_exit"] = churn.end()
        st["churn_cpu"] = churn.rusage


LOST_RE = re.compile(r"(\d+) events shown, (\d+) lost")


def run_rate(runner, cfg, tmp, label, rate, seconds, probe, variant):
    """One tracer run under one churn rate; returns its record."""
    out_path = os.path.join(tmp, "trace-%s.jsonl" % label)
    duration = seconds + cfg["margin"]
    words = VARIANTS["ports" if variant == SMALL else variant]
    pages = ["--buffer-pages", str(cfg["small_pages"])] \
        if variant == SMALL else []
    argv = [cfg["sockscope"], "trace", "-v", "--jsonl", "--duration",
            "%gs" % duration] + pages + cfg.get("trace_args", []) + words
    rec = {"label": label, "rate_target": rate, "seconds_target": seconds,
           "argv": argv, "duration": duration, "variant": variant}
    churn = Churn(cfg["churn"], rate, seconds, SERVER_PORT, cfg["clients"],
                  cfg["servers"], runner.env,
                  os.path.join(tmp, "churn-%s.err" % label))
    st = {}
    done = threading.Event()
    th = threading.Thread(target=drive, args=(st, churn, probe, out_path,
                                              seconds, done), daemon=True)
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    cpu0 = cpu_snapshot([churn.p.pid])
    load0 = loadavg()
    th.start()
    try:
        # -v's lines: the kernel filters taken, the closing count
        run = runner.run(argv, duration + 60, stdout=fd, stderr_chars=8000)
    finally:
        os.close(fd)
        done.set()
    th.join(timeout=seconds + 120)
    cpu1 = cpu_snapshot([])
    rec["outside_cpu"] = cpu_outside(cpu0, cpu1)
    rec["loadavg_start"] = load0
    rec["tracer"] = run
    err = run.get("stderr") or ""
    if words:  # -v names the filter the kernel took, or not
        rec["kernel_filter"] = "kernel filter on sock/inet_sock_set_state:" \
            in err and "refused" not in err.split(
                "kernel filter on sock/inet_sock_set_state", 1)[1] \
            .split("\n", 1)[0]
    m = LOST_RE.search(err)
    if m:  # the tracer's own -v summary, a cross-check of the lost lines
        rec["tracer_says"] = {"shown": int(m.group(1)),
                              "lost": int(m.group(2))}
    rec.update({k: v for k, v in st.items() if k not in ("go_at",
                                                          "churn_end_at")})
    rec["output_bytes"] = os.path.getsize(out_path)
    t0 = time.monotonic()
    rec["count"] = count_file(out_path, my_netns=NETNS_CHECK.get("mine"))
    rec["count_s"] = time.monotonic() - t0
    try:
        with open(os.path.join(tmp, "churn-%s.err" % label), "rb") as f:
            err = f.read(500).decode("utf-8", "replace").strip()
        if err:
            rec["churn_stderr"] = err
    except OSError:
        pass
    if not cfg.get("keep_output"):
        os.unlink(out_path)
    c = rec.get("churn") or {}
    log("trace %s: %s/s target, %.0f/s reached, %d connections; tracer "
        "exit %s, %.1f CPU-s; %d state lines for the churn, %d lost "
        "(%d lines, %.0f MB out, counted in %.1f s)%s" % (
            label, rate, c.get("rate", 0), c.get("completed", 0),
            run.get("exit"), run.get("cpu") or 0, rec["count"]["received"],
            rec["count"]["lost"], rec["count"]["lines"],
            rec["output_bytes"] / 1e6, rec["count_s"],
            "; " + rec["error"] if rec.get("error") else ""))
    return rec


def trace_child_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    if os.geteuid() != 0:
        refuse("must run as root")
    verify_private_netns()
    deadline = time.monotonic() + cfg["seconds"]
    result = {"netns": dict(NETNS_CHECK), "config": {
        k: cfg[k] for k in ("rates", "churn_seconds", "calibrate", "margin",
                            "clients", "servers", "trace_args",
                            "variants", "small_pages")},
        "runs": [], "notes": [], "complete": False,
        "server_port": SERVER_PORT, "probe_port": PROBE_PORT}
    probe = None
    try:
        # tcp_tw_reuse 0: connect() never reuses a TIME_WAIT four-tuple
        # (the default, 2, lets loopback reuse one after 1 s), so each
        # connection's lines can be told apart by four-tuple
        result["sysctls"] = setup_namespace(
            TW_EXPECTED, {"net/ipv4/tcp_tw_reuse": "0"})
        runner = Runner()
        probe = Probe()
        tmp = os.path.dirname(cfg["result"])
        # at most 50 connections/s, whole seconds: n connections exactly
        n = cfg["calibrate"]
        cal_s = -(-n // 50)
        cal_rate = n // cal_s if n % cal_s == 0 else None
        if cal_rate is None:  # n not a multiple of its seconds: 1/s steps
            cal_rate, cal_s = 1, n
        log("trace: calibration, %d connections at %d/s" % (n, cal_rate))
        # calibrated with the port filter when it is one of the variants:
        # other namespaces' events cannot make it lose anything then
        cal_variant = "ports" if "ports" in cfg["variants"] else \
            cfg["variants"][0]
        cal = run_rate(runner, cfg, tmp, "calibration", cal_rate, cal_s,
                       probe, cal_variant)
        result["calibration_run"] = cal
        result["calibration"] = calibrate(
            cal["count"], (cal.get("churn") or {}).get("completed", 0))
        per = result["calibration"]["per_connection"]
        if per is None:
            result["notes"].append("calibration failed (%s): transitions "
                                   "made cannot be computed" %
                                   result["calibration"]["why"])
        if cal.get("error") and not cal.get("churn"):
            result["notes"].append("the rates were not run: the "
                                   "calibration run failed (%s)" %
                                   cal["error"])
            cfg = dict(cfg, rates=[])
        plan = [(rate, v) for rate in cfg["rates"] for v in cfg["variants"]]
        if cfg.get("small_pages") and cfg["rates"]:
            plan.append((max(cfg["rates"]), SMALL))
        for rate, variant in plan:
            need = cfg["churn_seconds"] + cfg["margin"] + 30
            if time.monotonic() + need > deadline:
                result["notes"].append("deadline: rate %d/s (%s) not "
                                       "run" % (rate, variant))
                continue
            rec = run_rate(runner, cfg, tmp, "%d-%s" % (rate, variant),
                           rate, cfg["churn_seconds"], probe, variant)
            c = rec.get("churn") or {}
            rec["account"] = account(rec["count"],
                                     c.get("completed", 0), per)
            result["runs"].append(rec)
        result["complete"] = True
    except Exception as e:  # recorded, then cleaned up
        result["error"] = "%s: %s" % (type(e).__name__, e)
        log("trace: ERROR %s" % result["error"])
    finally:
        kill_current_child()
        if probe is not None:
            probe.close()
        with open(cfg["result"], "w") as f:
            json.dump(result, f)
    return 0
