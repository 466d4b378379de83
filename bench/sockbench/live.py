"""The live views (issue 16).

* `watch`: the group's command (`sockscope watch -tan --jsonl --interval I
  --count N`, timed round-robin beside `sockscope -tan` in each size's
  namespace by measure.py) and its per-tick numbers: CPU / (N + 1)
  snapshots, against one `-tan` run's CPU and peak RSS.
* `trace`: the churn case, run in its own `unshare -n` child like a size:
  the churn generator (bench/churn/churn.rs, built here with `rustc -O`)
  makes R loopback connections/s for S seconds while `sockscope trace
  --jsonl --duration D` runs in the same namespace; its output (a file) is
  parsed afterwards: `"event":"state"` lines for the churn's connections
  (either end on SERVER_PORT) against the transitions made (connections
  completed x transitions per connection, measured once at a low rate from
  the same output), and the `lost` lines' counts.  Start and end are found
  with probe connections on PROBE_PORT: the churn starts once the tracer
  shows a probe, and the end probe showing up says the tracer got past the
  churn before it ended.

The JSON line contract parsed here (README, "Live views"): one object per
line, `{"event": "state"|"retransmit"|"send_reset"|"receive_reset"|"lost"|
..., "time": RFC 3339, "netns": {...} (when known), "socket": {the listing's
JSON object, or a subset: "state", "local": {"addr", "port"}, "remote":
{...}}, "previous": {"state": ...}}`; a lost line is `{"event": "lost",
"time": ..., "count": N, "cpu": C}`.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time

from .base import HERE, log, set_pdeathsig

WATCH = "watch"
TRACE = "trace"
# The churn's listener (0.0.0.0) and the probes' (127.0.0.1).  The
# tracepoints are machine-wide and their lines carry no namespace, so
# these are ports no other test here uses (an earlier run at 7000 counted
# another test's churn as its own) and below every namespace's default
# ephemeral range (32768-60999), where other clients' ports fall; the
# churn's server end must also be one of its 127.200.x.y destinations.
SERVER_PORT = 29170
PROBE_PORT = 29171
SERVER_NET = "127.200."
CHURN_SRC = os.path.join(HERE, "churn", "churn.rs")
TRACEFS = "/sys/kernel/tracing"
TRACEPOINT = "events/sock/inet_sock_set_state/format"
# The tracer's runs: every event of the machine (the tracepoints are
# machine-wide: other namespaces' traffic shares the rings), or only the
# churn's and the probes' ports, a filter sockscope pushes into the kernel
# (PERF_EVENT_IOC_SET_FILTER), so that the rings hold nothing else and
# received + lost can be checked against made exactly.
VARIANTS = {
    "all": [],
    "ports": ["sport", "=", ":%d" % SERVER_PORT, "or", "dport", "=",
              ":%d" % SERVER_PORT, "or", "sport", "=", ":%d" % PROBE_PORT,
              "or", "dport", "=", ":%d" % PROBE_PORT],
}
# One more run at the highest rate: the port filter and rings this small
# (--buffer-pages), so that samples are lost and the lost count can be
# checked against what is missing (received + lost = made).
SMALL = "small"
READY_TIMEOUT = 15.0  # the tracer must show the start probe within this
END_WAIT = 5.0        # and the end probe within this after the churn


# --- watch ------------------------------------------------------------------

def watch_label(count, interval):
    return "sockscope watch -tan --jsonl --interval %g --count %d" % (
        interval, count)


def watch_argv(sockscope, count, interval):
    return [sockscope, "watch", "-tan", "--jsonl", "--interval",
            "%g" % interval, "--count", str(count)]


def watch_ticks(watch, tan, count):
    """Per-tick numbers from the medians of a watch run and a -tan run
    (report.summarize dicts): a run of `--count N` takes N + 1 snapshots
    (the baseline, then N ticks compared with the one before)."""
    snaps = count + 1
    out = {"snapshots": snaps, "cpu_run": watch.get("cpu"),
           "cpu_tick": None, "cpu_ratio": None, "tan_cpu": tan.get("cpu"),
           "rss_kib": watch.get("rss_kib"), "tan_rss_kib": tan.get("rss_kib"),
           "rss_ratio": None}
    if watch.get("cpu") is not None:
        out["cpu_tick"] = watch["cpu"] / snaps
        if tan.get("cpu"):
            out["cpu_ratio"] = out["cpu_tick"] / tan["cpu"]
    if watch.get("rss_kib") and tan.get("rss_kib"):
        out["rss_ratio"] = watch["rss_kib"] / tan["rss_kib"]
    return out


# --- the JSON lines of trace ------------------------------------------------

def _port(ep):
    if isinstance(ep, dict):
        p = ep.get("port")
        if isinstance(p, int):
            return p
    return None


class TraceCount:
    """Counts one run's JSON lines (fed one at a time, as bytes).

    Each `state` line is the churn's ("mine": an end on SERVER_PORT at one
    of the churn's 127.200.x.y addresses, with a peer: not the listener
    itself), a probe's (PROBE_PORT), the churn listener's own (SERVER_PORT,
    remote port 0), or foreign (another namespace's: the tracepoints are
    machine-wide; also any line whose `netns` inode is not `my_netns`)."""

    def __init__(self, server_port=SERVER_PORT, probe_port=PROBE_PORT,
                 my_netns=None, per_connection=True, server_net=SERVER_NET):
        self.server_net = server_net
        self.server_port = server_port
        self.probe_port = probe_port
        self.my_netns = my_netns
        self.per_connection = per_connection
        self.lines = 0
        self.bad = 0
        self.bad_example = None
        self.kinds = {}          # event word -> lines
        self.state = {"mine": 0, "probe": 0, "listener": 0, "foreign": 0}
        self.other_mine = {}     # non-state events of the churn, by kind
        self.transitions = {}    # "OLD>NEW" -> count, the churn's
        self.conns = {}          # four-tuple key -> state lines
        self.unkeyed = 0         # the churn's lines with no client port yet
        self.lost = 0
        self.lost_lines = 0
        self.lost_cpu = {}       # cpu -> lost
        self.first = None
        self.last = None

    def feed(self, line):
        line = line.strip()
        if not line:
            return
        self.lines += 1
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("event"),
                                                       str):
            self.bad += 1
            if self.bad_example is None:
                self.bad_example = line[:200].decode("utf-8", "replace")
            return
        ev = obj["event"]
        self.kinds[ev] = self.kinds.get(ev, 0) + 1
        if ev == "lost":
            n = obj.get("count")
            if isinstance(n, int) and n >= 0:
                self.lost += n
                self.lost_lines += 1
                cpu = obj.get("cpu")
                key = str(cpu) if cpu is not None else "?"
                self.lost_cpu[key] = self.lost_cpu.get(key, 0) + n
            else:
                self.bad += 1
            return
        where = self.classify(obj)
        if ev != "state":
            if where == "mine":
                self.other_mine[ev] = self.other_mine.get(ev, 0) + 1
            return
        self.state[where] += 1
        if where != "mine":
            return
        t = obj.get("time")
        if isinstance(t, str):
            if self.first is None or t < self.first:
                self.first = t
            if self.last is None or t > self.last:
                self.last = t
        sock = obj.get("socket") or {}
        prev = (obj.get("previous") or {}).get("state")
        tr = "%s>%s" % (prev, sock.get("state"))
        self.transitions[tr] = self.transitions.get(tr, 0) + 1
        if self.per_connection:
            key = self.conn_key(sock)
            if key is None:
                self.unkeyed += 1
            else:
                self.conns[key] = self.conns.get(key, 0) + 1

    def classify(self, obj):
        ns = obj.get("netns")
        if self.my_netns is not None and isinstance(ns, dict) and \
                isinstance(ns.get("inode"), int) and \
                ns["inode"] != self.my_netns:
            return "foreign"
        sock = obj.get("socket") or {}
        lp, rp = _port(sock.get("local")), _port(sock.get("remote"))
        if self.probe_port in (lp, rp):
            return "probe"
        if lp == self.server_port and not rp:
            return "listener"
        if self.server_port in (lp, rp):
            server = sock.get("local") if lp == self.server_port else \
                sock.get("remote")
            addr = server.get("addr") if isinstance(server, dict) else None
            if isinstance(addr, str) and addr.startswith(self.server_net):
                return "mine"
        return "foreign"

    def conn_key(self, sock):
        """(client addr, client port, server addr): both ends of one
        connection map to it.  The client's CLOSE -> SYN_SENT comes before
        connect() picked its port (port 0): None."""
        loc, rem = sock.get("local") or {}, sock.get("remote") or {}
        if _port(loc) == self.server_port:
            client, server = rem, loc
        else:
            client, server = loc, rem
        if not _port(client):
            return None
        return (client.get("addr"), _port(client), server.get("addr"))

    def result(self):
        per = {}
        for n in self.conns.values():
            per[n] = per.get(n, 0) + 1
        return {"lines": self.lines, "bad_lines": self.bad,
                "bad_example": self.bad_example, "kinds": self.kinds,
                "state": dict(self.state), "other_mine": self.other_mine,
                # in the order first seen: the first connection's sequence
                "transitions": dict(self.transitions),
                "received": self.state["mine"],
                "connections_seen": len(self.conns),
                "lines_per_connection": {str(k): v for k, v in
                                         sorted(per.items())},
                "unkeyed": self.unkeyed, "lost": self.lost,
                "lost_lines": self.lost_lines, "lost_by_cpu": self.lost_cpu,
                "first": self.first, "last": self.last}


def count_file(path, **kw):
    tc = TraceCount(**kw)
    with open(path, "rb") as f:
        for line in f:
            tc.feed(line)
    return tc.result()


def calibrate(res, completed):
    """Transitions per connection from a run where nothing was lost: every
    transition must occur a whole number of times per connection (the same
    sequence for each), else the number is not a constant."""
    out = {"completed": completed, "received": res["received"],
           "lost": res["lost"], "per_connection": None, "constant": False,
           "why": None}
    if completed <= 0:
        out["why"] = "no connection completed"
        return out
    if res["lost"]:
        out["why"] = "%d events lost at the calibration rate" % res["lost"]
        return out
    uneven = {k: v for k, v in res["transitions"].items() if v % completed}
    if uneven:
        out["why"] = "transitions not a multiple of %d: %s" % (
            completed, ", ".join("%s %d" % kv for kv in uneven.items()))
        return out
    out["per_connection"] = res["received"] // completed
    out["sequence"] = {k: v // completed for k, v in
                       res["transitions"].items()}
    out["constant"] = out["per_connection"] > 0
    if not out["constant"]:
        out["why"] = "no state line for the churn's connections"
    return out


def account(res, completed, per_connection):
    """made, received, lost and whether they add up, for one rate: exact
    when received + lost == made; explained when what is missing is at most
    what was lost (the lost count also holds other namespaces' events when
    they share the rings)."""
    made = completed * per_connection if per_connection else None
    out = {"made": made, "received": res["received"], "lost": res["lost"],
           "share": None, "gap": None, "exact": None, "missing": None,
           "explained": None}
    if made:
        out["share"] = res["received"] / made
        out["gap"] = res["received"] + res["lost"] - made
        out["exact"] = out["gap"] == 0
        out["missing"] = made - res["received"]
        out["explained"] = 0 <= out["missing"] <= res["lost"]
    return out


# --- the churn generator ----------------------------------------------------

def build_churn(out_dir):
    """rustc -O bench/churn/churn.rs (standard library only); returns the
    binary's path or raises RuntimeError with rustc's message."""
    rustc = shutil.which("rustc")
    if rustc is None:
        raise RuntimeError("rustc not found (needed for the churn generator)")
    out = os.path.join(out_dir, "churn")
    t0 = time.monotonic()
    p = subprocess.run([rustc, "--edition", "2021", "-O", "-o", out,
                        CHURN_SRC], capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        raise RuntimeError("rustc churn.rs failed: %s" % p.stderr.strip()
                           [-500:])
    log("trace: churn generator built in %.1f s" % (time.monotonic() - t0))
    return out


def _readline(f, timeout):
    """One line from a pipe within timeout seconds, else None."""
    end = time.monotonic() + timeout
    buf = b""
    fd = f.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], min(0.5, end - time.monotonic()))
        if not r:
            continue
        ch = os.read(fd, 1)
        if not ch:
            return buf.decode("utf-8", "replace") if buf else None
        if ch == b"\n":
            return buf.decode("utf-8", "replace")
        buf += ch
    return None


class Churn:
    """One churn generator process: started, told `go`, read, ended."""

    def __init__(self, binary, rate, seconds, port, clients, servers, env,
                 errpath):
        self.argv = [binary, "--rate", str(rate), "--seconds",
                     "%g" % seconds, "--port", str(port), "--clients",
                     str(clients), "--servers", str(servers)]
        self.errf = open(errpath, "wb")
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.errf,
                                  env=env, preexec_fn=set_pdeathsig)
        self.rusage = None

    def ready(self, timeout=10):
        return _readline(self.p.stdout, timeout) == "ready"

    def say(self, word):
        try:
            self.p.stdin.write(word.encode() + b"\n")
            self.p.stdin.flush()
        except OSError:
            pass

    def summary(self, timeout):
        line = _readline(self.p.stdout, timeout)
        try:
            return json.loads(line) if line else None
        except ValueError:
            return None

    def end(self, timeout=15):
        """Close its stdin (it exits), reap it with its rusage; SIGKILL by
        pid after timeout."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        end = time.monotonic() + timeout
        while True:
            try:
                pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.p.returncode = (os.WEXITSTATUS(status)
                                     if os.WIFEXITED(status)
                                     else -os.WTERMSIG(status))
                self.rusage = ru.ru_utime + ru.ru_stime
                break
            if time.monotonic() > end:
                os.kill(self.p.pid, signal.SIGKILL)
                end = time.monotonic() + 30
            time.sleep(0.02)
        self.p.stdout.close()
        self.errf.close()
        return self.p.returncode


# --- probes -----------------------------------------------------------------

class Probe:
    """A listener on 127.0.0.1:PROBE_PORT; ping() makes one connection
    (connect, accept, close both)."""

    def __init__(self, port=PROBE_PORT):
        from .netns import assert_netns
        assert_netns()
        self.port = port
        self.l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.l.bind(("127.0.0.1", port))
        self.l.listen(16)
        self.pings = 0

    def ping(self):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s, _ = self.l.accept()
        c.close()
        s.close()
        self.pings += 1

    def close(self):
        self.l.close()


def find_probe(path, pos, port=PROBE_PORT):
    """Scan the tracer's output from byte pos for a line about port;
    returns (found, next pos).  Only whole lines are read; a partial first
    line (pos mid-line) simply fails to parse."""
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except OSError:
        return False, pos
    cut = data.rfind(b"\n")
    if cut < 0:
        return False, pos
    needle = b"%d" % port
    for line in data[:cut].split(b"\n"):
        if needle not in line:
            continue
        try:
            obj = json.loads(line)
            sock = obj.get("socket") or {}
        except (ValueError, AttributeError):
            continue
        if port in (_port(sock.get("local")), _port(sock.get("remote"))):
            return True, pos + cut + 1
    return False, pos + cut + 1


def proc_cpu(pid):
    """utime + stime of a live process (all its threads), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# --- tracefs (the orchestrator) ---------------------------------------------

def tracefs_ready():
    """Where the tracepoint's format file is, or None."""
    for root in (TRACEFS, "/sys/kernel/debug/tracing"):
        if os.path.exists(os.path.join(root, TRACEPOINT)):
            return root
    return None


def mount_tracefs():
    """Mount tracefs at /sys/kernel/tracing when nothing gives the
    tracepoint's format (the benchmark may, as a test may; sockscope never
    does).  Returns True when this call mounted it."""
    if tracefs_ready():
        return False
    p = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("mount -t tracefs nodev %s: %s" % (
            TRACEFS, p.stderr.strip()))
    log("trace: mounted tracefs at %s (unmounted at the end)" % TRACEFS)
    return True


def umount_tracefs():
    p = subprocess.run(["umount", TRACEFS], capture_output=True, text=True,
                       timeout=30)
    return p.returncode == 0 or p.stderr.strip()
