"""The metrics group (issue 17): the cost of a scrape.  Its commands in the
round-robin (`sockscope metrics` beside `sockscope -tanp`), the untimed run
that measures the exposition (bytes, series), the HTTP servers scraped in
the population's namespace (`sockscope serve --min-interval 0` and
node_exporter's tcpstat collector): their start, readiness, scrapes (wall
per scrape, the server's CPU per scrape from /proc/PID/stat, its RSS) and
stop by pid; and the parsing of an exposition."""

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

from .base import log, set_pdeathsig
from .netns import assert_netns

METRICS = "metrics"
SERVE = "sockscope serve"
NODE = "node_exporter tcpstat"
NODE_EXPORTER = "prometheus-node-exporter"  # Debian's name for it
# the families that count sockets by state: their sum is the sockets a
# server saw (sockscope's include UDP; node_exporter's tcpstat is TCP only)
COUNTING = (b"sockscope_sockets", b"node_tcp_connection_states")


def metrics_entries(S, extra=()):
    """The round-robin entries of the group (label, argv); `extra`:
    `--metrics-args`, given to `metrics` and `serve` (e.g. --tcp-info)."""
    label = " ".join(["sockscope metrics"] + list(extra))
    return [(label, [S, "metrics"] + list(extra)),
            ("sockscope -tanp", [S, "-tanp"])]


def server_argvs(tools, port_serve, port_node):
    """label -> argv of each HTTP server (node_exporter only if installed)."""
    out = {SERVE: [tools["sockscope"], "serve", "--listen",
                   "127.0.0.1:%d" % port_serve, "--min-interval", "0s"] +
           list(tools.get("metrics_args") or [])}
    if tools.get("node_exporter"):
        out[NODE] = [tools["node_exporter"], "--collector.disable-defaults",
                     "--collector.tcpstat",
                     "--web.listen-address=127.0.0.1:%d" % port_node]
    return out


def exposition_stats(data):
    """What one exposition holds: bytes, sample lines (series), families
    (`# TYPE` lines), sockscope_* samples by name, whether it ends with
    `# EOF` (OpenMetrics), the value of a few of sockscope's own samples,
    and the sum of each COUNTING family (the sockets it counted)."""
    series = families = ours = 0
    values = {}
    names = {}
    counted = {}  # sockets counted by state: ours and node_exporter's
    for raw in data.split(b"\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(b"#"):
            if line.startswith(b"# TYPE "):
                families += 1
            continue
        series += 1
        for fam in COUNTING:
            # node_exporter's tcpstat puts its queue sums in the same
            # family: state="rx_queued_bytes" / "tx_queued_bytes"
            if line.startswith(fam + b"{") and b'_queued_bytes"' not in line:
                try:
                    counted[fam.decode()] = counted.get(fam.decode(), 0) + \
                        float(line.rsplit(b" ", 1)[1])
                except (IndexError, ValueError):
                    pass
        if line.startswith(b"sockscope_"):
            ours += 1
            name = line.split(b"{", 1)[0].split(b" ", 1)[0].decode(
                "ascii", "replace")
            names[name] = names.get(name, 0) + 1
            if name in ("sockscope_kernel_reads_total",
                        "sockscope_scrape_sockets_read"):
                try:
                    values[name] = float(line.rsplit(b" ", 1)[1])
                except (IndexError, ValueError):
                    pass
    return {"bytes": len(data), "series": series, "families": families,
            "sockscope_series": ours,
            "eof": data.rstrip(b"\n").endswith(b"# EOF"), "values": values,
            "sockscope_names": names, "counted": counted}


def proc_cpu(pid):
    """utime + stime of a process (every thread), in seconds, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def proc_mem(pid):
    """{"rss_kib": VmRSS, "hwm_kib": VmHWM} of a live process."""
    out = {"rss_kib": None, "hwm_kib": None}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss_kib"] = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    out["hwm_kib"] = int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return out


def free_port():
    """A port nobody listens on in this (private) namespace: bind :0."""
    assert_netns()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# What Prometheus 2.42 asks for when it scrapes (OpenMetrics first); the
# body is asked uncompressed, so its size is the exposition's and neither
# server spends CPU on gzip (Prometheus itself asks for gzip).
SCRAPE_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                 "application/openmetrics-text;version=0.0.1;q=0.75,"
                 "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def http_get(port, timeout, path="/metrics"):
    """GET over loopback as Prometheus would (its Accept header, no gzip):
    (status, body bytes, content type)."""
    assert_netns()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": SCRAPE_ACCEPT,
                                           "Accept-Encoding": "identity"})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, resp.getheader("Content-Type")
    finally:
        conn.close()


class Server:
    """One HTTP server started for the group, stopped by its pid."""

    def __init__(self, label, argv, port, env):
        self.label, self.argv, self.port, self.env = label, argv, port, env
        self.proc = None
        self.errf = tempfile.TemporaryFile()
        self.failure = None

    def start(self, ready_timeout=15.0):
        """Start it and wait until its port accepts (bounded); on failure
        `failure` says why and False is returned."""
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self.errf, env=self.env,
                preexec_fn=set_pdeathsig)
        except OSError as e:
            self.failure = "could not start: %s" % e
            return False
        end = time.monotonic() + ready_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.failure = "exited before listening (exit %s)%s" % (
                    self.proc.returncode, self._stderr_note())
                return False
            assert_netns()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(1.0)
            try:
                s.connect(("127.0.0.1", self.port))
                return True
            except OSError:
                time.sleep(0.05)
            finally:
                s.close()
        self.failure = "not listening on 127.0.0.1:%d after %g s%s" % (
            self.port, ready_timeout, self._stderr_note())
        self.stop()
        return False

    def _stderr_note(self):
        self.errf.seek(0)
        text = self.errf.read(2000).decode("utf-8", "replace").strip()
        return (": " + text.splitlines()[-1][:200]) if text else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def scrape(self, timeout):
        """One timed scrape: wall, the server's CPU (its /proc/PID/stat
        before and after), status, exposition stats."""
        pid = self.proc.pid
        c0 = proc_cpu(pid)
        t0 = time.perf_counter()
        try:
            status, body, ctype = http_get(self.port, timeout)
            err = None
        except (OSError, http.client.HTTPException) as e:
            status, body, ctype, err = None, b"", None, "%s: %s" % (
                type(e).__name__, e)
        wall = time.perf_counter() - t0
        c1 = proc_cpu(pid)
        rec = {"wall": wall, "status": status, "content_type": ctype,
               "cpu": (c1 - c0) if c0 is not None and c1 is not None
               else None}
        rec.update(exposition_stats(body))
        if err:
            rec["error"] = err
        return rec

    def stop(self, grace=5.0):
        """SIGTERM by pid, then SIGKILL after `grace` s; always reaped."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        return self.proc.returncode


def scrape_servers(tools, env, scrapes, timeout, deadline):
    """Start every server, scrape each once as a warm-up, then `scrapes`
    rounds round-robin (A B A B ...), read their memory, stop them.
    Returns label -> {"argv", "scrapes": [...], "warmup", "mem",
    "cpu_idle", "failure", "exit"}."""
    ports = (free_port(), free_port())
    while ports[1] == ports[0]:
        ports = (ports[0], free_port())
    argvs = server_argvs(tools, *ports)
    servers = [Server(label, argv, port, env) for (label, argv), port in
               zip(argvs.items(), ports)]
    out = {}
    live = []
    try:
        for s in servers:
            rec = {"argv": s.argv, "scrapes": [], "warmup": None,
                   "failure": None}
            out[s.label] = rec
            if not s.start():
                rec["failure"] = s.failure
                log("  %-24s %s" % (s.label, s.failure))
                continue
            rec["mem_start"] = proc_mem(s.proc.pid)
            live.append(s)
        # idle CPU: what a server uses with nobody scraping (1 s)
        c0 = {s.label: proc_cpu(s.proc.pid) for s in live}
        time.sleep(1.0)
        for s in live:
            c1 = proc_cpu(s.proc.pid)
            if c0[s.label] is not None and c1 is not None:
                out[s.label]["cpu_idle_1s"] = c1 - c0[s.label]
        for s in list(live):
            w = s.scrape(timeout)
            out[s.label]["warmup"] = w
            if w["status"] != 200:
                out[s.label]["failure"] = "warm-up scrape failed: %s" % (
                    w.get("error") or "HTTP %s" % w["status"])
                log("  %-24s %s" % (s.label, out[s.label]["failure"]))
                live.remove(s)
        for _ in range(scrapes):
            for s in list(live):
                need = (out[s.label]["warmup"]["wall"]) * 1.5 + 0.5
                if deadline - time.monotonic() < need or not s.alive():
                    out[s.label]["failure"] = ("deadline" if s.alive()
                                               else "exited during scrapes")
                    live.remove(s)
                    continue
                rec = s.scrape(timeout)
                out[s.label]["scrapes"].append(rec)
                if rec["status"] != 200:  # one failure ends its scrapes
                    out[s.label]["failure"] = "scrape failed: %s" % (
                        rec.get("error") or "HTTP %s" % rec["status"])
                    live.remove(s)
        for s in servers:
            if s.alive():
                out[s.label]["mem"] = proc_mem(s.proc.pid)
    finally:
        for s in servers:
            code = s.stop()
            if s.label in out:
                out[s.label]["exit"] = code
    for label, rec in out.items():
        ok = [x for x in rec["scrapes"] if x["status"] == 200]
        if ok:
            log("  %-24s %d scrapes, median %.1f ms" % (
                label, len(ok), sorted(x["wall"] for x in ok)[
                    len(ok) // 2] * 1000))
    return out


def exposition_of(argv, timeout, env):
    """One untimed run with stdout to a pipe: the exposition's stats and
    the exit status (killed after `timeout` s)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        data, err = p.communicate()
    finally:
        timer.cancel()
        timer.join()
    out = exposition_stats(data)
    out["exit"] = p.returncode
    if err:
        out["stderr"] = err.decode("utf-8", "replace").strip()[:300]
    return out


def measure_extra(tools, env, cfg, deadline):
    """After the group's round-robin: the exposition of one untimed
    `sockscope metrics` run (and of node_exporter's), then the servers."""
    res = {"output": exposition_of([tools["sockscope"], "metrics"] +
                                   list(tools.get("metrics_args") or []),
                                   cfg["run_timeout"], env)}
    res["servers"] = scrape_servers(tools, env, cfg.get("metrics_scrapes", 5),
                                    cfg["run_timeout"], deadline)
    return res
