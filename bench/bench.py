#!/usr/bin/env python3
"""Benchmark sockscope against ss, netstat and the raw kernel dump.

Run as root from the repository root (see bench/README.md):

    sudo python3 bench/bench.py [--sizes 10000,100000,1000000] [--runs 5]
        [--procs 50] [--out BENCHMARKS.md] [--plot bench/plot.svg]
        [--max-seconds 1500] [--sockscope target/release/sockscope]

How it is put together:

* The top-level process (the "orchestrator") stays in the caller's network
  namespace and creates no socket at all.  For each size it starts
  `unshare -n -- python3 bench.py --_child CFG` with an environment marker;
  that child (the "measurer") refuses to do anything unless it really is in a
  private network namespace (its /proc/self/ns/net differs from PID 1's and
  from the orchestrator's), brings `lo` up, raises a few per-namespace
  sysctls, forks the socket-holding workers, measures, tears the workers
  down and writes its results as JSON.  The namespace dies with it, so no
  TIME_WAIT of one size leaks into the next one.
* Every loop is bounded: a global deadline (--max-seconds), a build timeout,
  a per-run budget (--run-timeout, default 60 s) after which the measured
  child is killed by its pid, and workers that kill themselves (alarm and
  PR_SET_PDEATHSIG) if the measurer goes away.  Only processes this script
  started are ever signalled, always by pid.
* Only the Python standard library is used.  The plot is written by hand.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MARKER = "SOCKSCOPE_BENCH_NETNS"  # value: the orchestrator's netns inode

# --- kernel constants -------------------------------------------------------
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST_DUMP = 0x301  # NLM_F_REQUEST | NLM_F_ROOT | NLM_F_MATCH
IP_BIND_ADDRESS_NO_PORT = 24
TCP_DEFER_ACCEPT = 9
TCP_INFO = 11
PR_SET_PDEATHSIG = 1
PTRACE_CONT = 7
PTRACE_SEIZE = 0x4206
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXIT = 6
TCP_CLOSE_WAIT = 8
# TCP states 1..12 (ESTABLISHED .. NEW_SYN_RECV): what `ss -tan` and
# `sockscope -tan` ask for.  Bit 13 (TCP_BOUND_INACTIVE, Linux 6.5+) is left
# out of the timed dump: it makes the kernel also walk the bind table for
# bound-but-unconnected sockets, ~30% more kernel time here at 100k.
ALL_TCP_STATES = 0x1FFE

STATE_NAMES = {
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
    5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT",
    9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "SYN_RECV",
    13: "BOUND_INACTIVE",
}
SS_STATE_NAMES = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
    "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2",
    "TIME-WAIT": "TIME_WAIT", "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT",
    "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING",
}
STATE_ORDER = ["ESTABLISHED", "SYN_RECV", "FIN_WAIT2", "CLOSE_WAIT",
               "TIME_WAIT", "LISTEN"]

# Population shares (of all sockets, TCP + UDP).  ESTABLISHED gets the rest
# (~87%: both ends of the plain pairs plus the client end of each SYN_RECV).
SHARE_TW = 0.06
SHARE_SYN = 0.01      # request sockets (their clients add as many ESTABLISHED)
SHARE_HALF = 0.02     # half-closed pairs: one FIN_WAIT2 + one CLOSE_WAIT each
SHARE_UDP = 0.01
LISTEN_PER_WORKER = 2  # the plain listener and the TCP_DEFER_ACCEPT one
FILTER_PORT = 8000    # worker 0's listening port
PORT_RANGE = (10000, 65000)  # ip_local_port_range in the namespace
MAX_WORKERS = 240     # 127.1.k.* address plan
CLIENT_ADDRS = 248 * 250  # per worker: 127.2-249.k.1-250
FD_RESERVE = 64

_T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[bench %7.1fs] %s\n" % (time.monotonic() - _T0, msg))
    sys.stderr.flush()


# --- libc helpers -----------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong, ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                         ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


def set_pdeathsig(sig=signal.SIGKILL):
    _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def ptrace(req, pid, addr=0, data=0):
    r = _libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def netns_ino(pid="self"):
    return os.stat("/proc/%s/ns/net" % pid).st_ino


# ============================================================================
# Safety: the private network namespace
# ============================================================================
_NETNS_OK = False
_HOST_NS = set()      # namespace inodes we must NOT be in
NETNS_CHECK = {}      # what the check compared, for the report


def refuse(msg):
    sys.stderr.write("bench.py: REFUSING: %s\n" % msg)
    sys.exit(2)


def verify_private_netns():
    """True only in the namespace the orchestrator made with unshare -n.

    The marker holds "PID:INODE" of the orchestrator (recorded before the
    re-exec).  Our namespace must differ from PID 1's (when /proc/1/ns/net
    can be read: some sandboxes deny it even to root) and from the
    orchestrator's, read both from the marker and live from /proc/PPID.
    """
    global _NETNS_OK
    marker = os.environ.get(MARKER, "")
    parts = marker.split(":")
    if len(parts) != 2 or not all(x.isdigit() for x in parts):
        refuse("not started through the orchestrator's `unshare -n` re-exec "
               "(missing or malformed %s marker)" % MARKER)
    opid, oino = int(parts[0]), int(parts[1])
    mine = netns_ino()
    if os.getppid() != opid:
        refuse("parent is not the orchestrator (pid %d)" % opid)
    try:
        live = netns_ino(opid)
    except OSError as e:
        refuse("cannot read the orchestrator's namespace: %s" % e)
    if live != oino:
        refuse("orchestrator namespace changed under us")
    refs = {"orchestrator": oino}
    try:
        refs["pid1"] = netns_ino(1)
    except PermissionError:
        refs["pid1"] = None  # denied here; the other two checks still hold
    except OSError as e:
        refuse("cannot read PID 1's network namespace: %s" % e)
    for name, ino in refs.items():
        if ino is not None and ino == mine:
            refuse("this process shares the %s's network namespace" % name)
    _HOST_NS.update(i for i in refs.values() if i is not None)
    NETNS_CHECK.update({"mine": mine, "orchestrator": oino,
                        "pid1": refs["pid1"]})
    _NETNS_OK = True
    return mine


def assert_netns():
    if not _NETNS_OK or not _HOST_NS or netns_ino() in _HOST_NS:
        refuse("socket creation attempted outside the private namespace")


def lo_addr(ip):
    if not ip.startswith("127."):
        raise ValueError("non-loopback address %r" % ip)
    return ip


def setup_namespace(tw_target):
    """Bring lo up, check nothing but loopback exists, raise netns sysctls."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    out = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True,
                         text=True, timeout=10, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[2] in ("inet", "inet6"):
            addr = f[3].split("/")[0]
            if not (addr.startswith("127.") or addr == "::1"):
                refuse("non-loopback address %s in the namespace" % addr)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                           text=True, timeout=10, check=True).stdout
    for line in links.splitlines():
        f = line.split()
        name = f[1].rstrip(":").split("@")[0] if len(f) > 1 else ""
        if name != "lo" and ",UP" in line.split(">")[0] + ",":
            refuse("interface %s is up in the namespace" % name)
    wanted = {
        "net/core/somaxconn": "65535",
        "net/ipv4/tcp_max_syn_backlog": "65535",
        "net/ipv4/tcp_max_tw_buckets": str(max(262144, 4 * tw_target)),
        # keeps the ephemeral range away from the 8000-9239 listener ports,
        # so `sport = :8000` matches only worker 0's accepted sockets
        "net/ipv4/ip_local_port_range": "%d %d" % PORT_RANGE,
    }
    done = {}
    for key, val in wanted.items():
        assert_netns()  # per-namespace sysctls, written only in our own netns
        path = "/proc/sys/" + key
        with open(path) as f:
            old = f.read().split()
        with open(path, "w") as f:
            f.write(val)
        with open(path) as f:
            new = f.read().split()
        done[key.replace("/", ".")] = {"old": " ".join(old),
                                       "new": " ".join(new)}
    return done


# ============================================================================
# Netlink: census and bare dump
# ============================================================================
_HDR = struct.Struct("=IH")


def _diag_request(family, proto, states, seq):
    body = struct.pack("=BBBBI", family, proto, 0, 0, states) + bytes(48)
    return struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY,
                       NLM_F_REQUEST_DUMP, seq, 0) + body


def census(states=0xFFFFFFFF, udp=True):
    """Socket counts by state straight from the kernel (not timed)."""
    assert_netns()
    counts = {}
    totals = {"tcp": 0, "udp": 0}
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    buf = bytearray(65536)
    seq = 1
    try:
        protos = [("tcp", socket.IPPROTO_TCP)]
        if udp:
            protos.append(("udp", socket.IPPROTO_UDP))
        for pname, proto in protos:
            for fam in (socket.AF_INET, socket.AF_INET6):
                s.send(_diag_request(fam, proto, states, seq))
                seq += 1
                done = False
                while not done:
                    n = s.recv_into(buf)
                    off = 0
                    while off < n:
                        ln, typ = _HDR.unpack_from(buf, off)
                        if typ == NLMSG_DONE:
                            done = True
                            break
                        if typ == NLMSG_ERROR:
                            raise OSError("netlink error in census")
                        if typ == SOCK_DIAG_BY_FAMILY:
                            totals[pname] += 1
                            if pname == "tcp":
                                st = STATE_NAMES.get(buf[off + 17], "?")
                                counts[st] = counts.get(st, 0) + 1
                        off += (ln + 3) & ~3
                        if ln < 16:
                            raise OSError("bad netlink message length")
    finally:
        s.close()
    return {"tcp_states": counts, "tcp_total": totals["tcp"],
            "udp_total": totals["udp"]}


def bare_dump_child(wfd):
    """Runs in a forked child: count SOCK_DIAG messages, nothing else.

    Messages are counted with bytes.count() on their 8-byte header tail
    (type SOCK_DIAG_BY_FAMILY, flags NLM_F_MULTI, our random sequence
    number), so Python adds next to nothing per socket; the census (which
    walks every header) gives the exact numbers to compare with.
    """
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    buf = bytearray(65536)
    total = 0
    for i, fam in enumerate((socket.AF_INET, socket.AF_INET6)):
        seq = 0x5A3CC3A5 + i
        msg = struct.pack("=HHI", SOCK_DIAG_BY_FAMILY, 2, seq)
        done = struct.pack("=HHI", NLMSG_DONE, 2, seq)
        s.send(_diag_request(fam, socket.IPPROTO_TCP, ALL_TCP_STATES, seq))
        while True:
            n = s.recv_into(buf)
            if n >= 16 and _HDR.unpack_from(buf, 0)[1] == NLMSG_ERROR:
                os._exit(3)
            total += buf.count(msg, 0, n)
            if buf.find(done, 0, n) >= 0:
                break
    os.write(wfd, ("%d %.9f" % (total, time.perf_counter() - t0)).encode())


# ============================================================================
# Workers: hold the sockets
# ============================================================================
def worker_plan(n, batch):
    udp = int(round(n * SHARE_UDP))
    tw = int(round(n * SHARE_TW))
    syn = int(round(n * SHARE_SYN))
    half = int(round(n * SHARE_HALF / 2))  # pairs
    rest = n - LISTEN_PER_WORKER - udp - tw - 2 * syn - 2 * half
    if rest < 0:
        tw, syn, half, udp = max(0, tw + rest), 0, 0, udp
        rest = n - LISTEN_PER_WORKER - udp - tw
        rest = max(rest, 0)
    est = rest // 2
    udp += rest - 2 * est  # keeps the total exact
    fds = LISTEN_PER_WORKER + udp + syn + 2 * half + 2 * est
    return {"sockets": n, "est_pairs": est, "half_pairs": half,
            "syn_recv": syn, "time_wait": tw, "udp": udp,
            "listen": LISTEN_PER_WORKER, "fds": fds,
            "peak_fds": fds + 2 * batch + FD_RESERVE,
            "clients": est + half + syn + tw}


def plan_population(size, procs, batch, fd_limit):
    p = max(1, procs)
    while p <= MAX_WORKERS:
        per = [size // p + (1 if i < size % p else 0) for i in range(p)]
        plans = [worker_plan(n, batch) for n in per]
        if max(pl["peak_fds"] for pl in plans) <= fd_limit:
            break
        p += 1
    else:
        raise SystemExit("size %d needs %d workers (> %d)" % (size, p,
                                                              MAX_WORKERS))
    if max(pl["clients"] for pl in plans) * 2 > CLIENT_ADDRS:
        raise SystemExit("size %d: not enough client addresses per worker"
                         % size)
    return plans


class Worker:
    def __init__(self, k, plan, batch):
        self.k = k
        self.plan = plan
        self.batch = batch
        self.keep = []   # TCP sockets that get an RST at teardown
        self.udp = []
        self.j = 0       # next client address index (never reused)
        self.laddr = (lo_addr("127.1.%d.1" % k), FILTER_PORT + k)
        self.daddr = (lo_addr("127.1.%d.2" % k), 9000 + k)

    def client_ip(self):
        j = self.j
        if j >= CLIENT_ADDRS:
            raise RuntimeError("client addresses exhausted")
        self.j += 1
        return lo_addr("127.%d.%d.%d" % (2 + j // 250, self.k, 1 + j % 250))

    def client(self, dest):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        ip = self.client_ip()
        c.bind((ip, 0))
        c.connect(dest)
        return ip, c

    def pairs(self, n):
        out = []
        while n > 0:
            b = min(n, self.batch)
            clients = {}
            for _ in range(b):
                ip, c = self.client(self.laddr)
                clients[ip] = c
            for _ in range(b):
                s, peer = self.lsock.accept()
                out.append((clients.pop(peer[0]), s))
            n -= b
        return out

    def build(self):
        assert_netns()
        p = self.plan
        L = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        L.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        L.bind(self.laddr)
        L.listen(4096)
        self.lsock = L
        D = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        D.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        D.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, 3600)
        D.bind(self.daddr)
        D.listen(4096)
        self.keep += [L, D]
        for i in range(p["udp"]):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((lo_addr("127.250.%d.%d" % (self.k, 1 + i % 250)),
                    20000 + i // 250))
            self.udp.append(u)
        for c, s in self.pairs(p["est_pairs"]):
            self.keep += [c, s]
        for c, s in self.pairs(p["half_pairs"]):
            c.shutdown(socket.SHUT_WR)   # client FIN_WAIT2, server CLOSE_WAIT
            self.keep += [c, s]
        for _ in range(p["syn_recv"]):
            # the deferred listener ignores the bare ACK: SYN_RECV server side
            self.keep.append(self.client(self.daddr)[1])
        self.make_tw(p["time_wait"])

    def make_tw(self, n):
        """Client closes first, then the server: TIME_WAIT on the client."""
        made = 0
        while made < n:
            b = min(self.batch, n - made, CLIENT_ADDRS - self.j)
            if b <= 0:
                break  # client addresses used up: no more top-ups
            ps = self.pairs(b)
            for c, _ in ps:
                c.close()
            pending = [s for _, s in ps]
            for _ in range(3000):
                nxt = []
                for s in pending:
                    if s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 1)[0] == \
                            TCP_CLOSE_WAIT:
                        s.close()
                    else:
                        nxt.append(s)
                pending = nxt
                if not pending:
                    break
                time.sleep(0.001)
            for s in pending:
                s.close()
            made += b
        return made

    def teardown(self):
        lg = struct.pack("ii", 1, 0)  # SO_LINGER 0: RST, no TIME_WAIT left
        for s in self.keep:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, lg)
            except OSError:
                pass


def worker_main(k, plan, batch, cmd_r, st_w, deadline, ppid):
    def send(obj):
        os.write(st_w, (json.dumps(obj) + "\n").encode())
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        set_pdeathsig()
        if os.getppid() != ppid:
            os._exit(1)
        # a worker never outlives the run, even if nobody tells it to exit
        signal.alarm(max(5, int(deadline - time.monotonic()) + 120))
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        w = Worker(k, plan, batch)
        t = time.monotonic()
        w.build()
        send({"ready": True, "k": k, "build_s": time.monotonic() - t,
              "fds": len(os.listdir("/proc/self/fd")), "j": w.j})
        buf = b""
        while True:
            data = os.read(cmd_r, 4096)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = line.decode().split()
                if not cmd:
                    continue
                if cmd[0] == "tw":
                    made = w.make_tw(int(cmd[1]))
                    send({"ok": True, "k": k, "tw": made})
                elif cmd[0] == "exit":
                    w.teardown()
                    os._exit(0)
        w.teardown()
        os._exit(0)
    except BaseException as e:  # noqa: B902 - a worker must always exit
        try:
            send({"error": "%s: %s" % (type(e).__name__, e), "k": k})
        finally:
            os._exit(1)


class Population:
    def __init__(self, size, plans, batch, deadline):
        self.size = size
        self.plans = plans
        self.batch = batch
        self.deadline = deadline
        self.workers = []  # dicts: pid, cmd_w, st_r, buf
        self.build_s = None
        self.teardown_s = None

    def start(self):
        assert_netns()
        self.t_start = time.monotonic()
        me = os.getpid()
        for k, plan in enumerate(self.plans):
            cmd_r, cmd_w = os.pipe()
            st_r, st_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    for w in self.workers:
                        os.close(w["cmd_w"])
                        os.close(w["st_r"])
                    os.close(cmd_w)
                    os.close(st_r)
                finally:
                    worker_main(k, plan, self.batch, cmd_r, st_w,
                                self.deadline, me)
                os._exit(1)
            os.close(cmd_r)
            os.close(st_w)
            self.workers.append({"pid": pid, "cmd_w": cmd_w, "st_r": st_r,
                                 "buf": b"", "alive": True, "k": k})

    def _collect(self, want, timeout, kind):
        """Wait for one `kind` message from each worker in `want`."""
        sel = selectors.DefaultSelector()
        for w in want:
            sel.register(w["st_r"], selectors.EVENT_READ, w)
        got = {}
        end = time.monotonic() + timeout
        try:
            while len(got) < len(want):
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timeout waiting for %d workers (%s)"
                                       % (len(want) - len(got), kind))
                for key, _ in sel.select(min(left, 1.0)):
                    w = key.data
                    data = os.read(w["st_r"], 65536)
                    if not data:
                        raise RuntimeError("worker %d died" % w["k"])
                    w["buf"] += data
                    while b"\n" in w["buf"]:
                        line, w["buf"] = w["buf"].split(b"\n", 1)
                        msg = json.loads(line)
                        if "error" in msg:
                            raise RuntimeError("worker %d: %s"
                                               % (w["k"], msg["error"]))
                        got[w["k"]] = msg
        finally:
            sel.close()
        return got

    def wait_ready(self, timeout):
        msgs = self._collect(self.workers, timeout, "ready")
        self.build_s = time.monotonic() - self.t_start
        return msgs

    def top_up_tw(self, n, timeout):
        if n <= 0 or not self.workers:
            return 0
        per = [n // len(self.workers) + (1 if i < n % len(self.workers)
                                         else 0)
               for i in range(len(self.workers))]
        want = []
        for w, m in zip(self.workers, per):
            if m > 0:
                os.write(w["cmd_w"], b"tw %d\n" % m)
                want.append(w)
        msgs = self._collect(want, timeout, "tw")
        return sum(m["tw"] for m in msgs.values())

    def teardown(self, timeout=120.0):
        """Tell every worker to exit, then SIGKILL (by pid) the stragglers."""
        t0 = time.monotonic()
        for w in self.workers:
            try:
                os.write(w["cmd_w"], b"exit\n")
            except OSError:
                pass
        end = t0 + timeout
        pending = [w for w in self.workers if w["alive"]]
        while pending and time.monotonic() < end:
            nxt = []
            for w in pending:
                try:
                    pid, _ = os.waitpid(w["pid"], os.WNOHANG)
                except ChildProcessError:
                    pid = w["pid"]
                if pid == 0:
                    nxt.append(w)
                else:
                    w["alive"] = False
            pending = nxt
            if pending:
                time.sleep(0.02)
        for w in pending:
            try:
                os.kill(w["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        for w in pending:
            try:
                os.waitpid(w["pid"], 0)
            except ChildProcessError:
                pass
            w["alive"] = False
        for w in self.workers:
            for fd in (w["cmd_w"], w["st_r"]):
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.workers = []
        self.teardown_s = time.monotonic() - t0
        return {"seconds": self.teardown_s, "killed": len(pending)}


# ============================================================================
# Running one measured command
# ============================================================================
class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm()


_CURRENT_CHILD = []  # pid of the measured child, killed on abnormal exit


class Runner:
    def __init__(self):
        self.devnull = os.open("/dev/null", os.O_WRONLY)
        self.errf = tempfile.TemporaryFile()
        self.env = dict(os.environ, LC_ALL="C")
        self.env.pop(MARKER, None)
        self.ptrace_ok = None
        signal.signal(signal.SIGALRM, _on_alarm)

    def _read_hwm(self, pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def _wait(self, pid, timeout, traced):
        """Reap pid; returns (status, rusage, t_end, hwm_kib, timed_out)."""
        hwm = None
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
        try:
            while True:
                _, status, ru = os.wait4(pid, 0)
                if os.WIFSTOPPED(status):
                    event = status >> 16
                    if event == PTRACE_EVENT_EXIT:
                        hwm = self._read_hwm(pid)
                        ptrace(PTRACE_CONT, pid, 0, 0)
                    elif event or os.WSTOPSIG(status) == signal.SIGTRAP:
                        ptrace(PTRACE_CONT, pid, 0, 0)
                    else:  # signal-delivery-stop: pass the signal on
                        ptrace(PTRACE_CONT, pid, 0, os.WSTOPSIG(status))
                    continue
                t_end = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, 0)
                return status, ru, t_end, hwm, False
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            t_end = time.perf_counter()
            status, ru = self._kill_and_reap(pid)
            if isinstance(e, _Alarm):
                return status, ru, t_end, None, True
            raise

    def _kill_and_reap(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                wpid, status, ru = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                return None, None
            if wpid == 0:
                time.sleep(0.01)
                continue
            if os.WIFSTOPPED(status):
                try:
                    ptrace(PTRACE_CONT, pid, 0, 0)
                except OSError:
                    pass
                continue
            return status, ru
        return None, None

    def _stderr(self):
        self.errf.seek(0)
        data = self.errf.read(2000)
        return data.decode("utf-8", "replace").strip()

    def _seize(self, pid):
        """Attach after spawn; a tool that already exited cannot be seized."""
        if self.ptrace_ok is False:
            return False
        try:
            ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)
            self.ptrace_ok = True
            return True
        except OSError as e:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                state = "?"
            if state not in ("Z", "X", "?") and self.ptrace_ok is None:
                log("ptrace unavailable (%s): no peak RSS (ru_maxrss would "
                    "include the harness)" % e)
                self.ptrace_ok = False
            return False

    def run(self, argv, timeout):
        """Spawn argv with stdout to /dev/null; time, CPU, peak RSS.

        posix_spawn (vfork + exec) keeps the harness cost near 1 ms; the
        child is then seized with ptrace so its own VmHWM can be read at its
        exit stop (a tool that finishes before that gets no RSS sample).
        """
        errfd = self.errf.fileno()
        self.errf.seek(0)
        self.errf.truncate()
        fa = [(os.POSIX_SPAWN_DUP2, self.devnull, 1),
              (os.POSIX_SPAWN_DUP2, errfd, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=fa)
        _CURRENT_CHILD[:] = [pid]
        traced = self._seize(pid)
        status, ru, t_end, hwm, timed_out = self._wait(pid, timeout, traced)
        _CURRENT_CHILD[:] = []
        rec = {"wall": t_end - t0, "timed_out": timed_out, "rss_kib": hwm}
        if ru is not None:
            rec["cpu"] = ru.ru_utime + ru.ru_stime
            rec["ru_maxrss_kib"] = ru.ru_maxrss
        rec["exit"] = _exit_code(status)
        err = self._stderr()
        if err:
            rec["stderr"] = err[:500]
        return rec

    def run_bare_dump(self, timeout):
        r, w = os.pipe()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(r)
                set_pdeathsig()
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                bare_dump_child(w)
                code = 0
            finally:
                os._exit(code)
        _CURRENT_CHILD[:] = [pid]
        os.close(w)
        status, ru, t_end, _, timed_out = self._wait(pid, timeout, False)
        _CURRENT_CHILD[:] = []
        data = b""
        while True:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        rec = {"wall": t_end - t0, "timed_out": timed_out,
               "exit": _exit_code(status), "rss_kib": None}
        if ru is not None:
            rec["cpu"] = ru.ru_utime + ru.ru_stime
            rec["ru_maxrss_kib"] = ru.ru_maxrss
        f = data.split()
        if len(f) == 2 and f[0].isdigit():
            rec["count"] = int(f[0])
            rec["inner"] = float(f[1])
        return rec

    def fork_overhead(self):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return time.perf_counter() - t0


def _exit_code(status):
    if status is None:
        return None
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return None


def kill_current_child():
    for pid in _CURRENT_CHILD:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    _CURRENT_CHILD[:] = []


def count_lines(argv, timeout, env):
    """Run argv once with stdout to a pipe; count its lines (streaming)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    lines = 0
    first = b""
    try:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            if not first:
                first = chunk[:200]
            lines += chunk.count(b"\n")
    finally:
        timer.cancel()
        timer.join()
        p.stdout.close()
        p.wait()
    return lines, first.split(b"\n", 1)[0].decode("utf-8", "replace")


def ss_state_counts(ss, timeout, env):
    p = subprocess.Popen([ss, "-tanH"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    counts = {}
    try:
        for line in p.stdout:
            st = line.split(None, 1)[0].decode() if line.strip() else None
            if st:
                st = SS_STATE_NAMES.get(st, st)
                counts[st] = counts.get(st, 0) + 1
    finally:
        timer.cancel()
        timer.join()
        p.stdout.close()
        p.wait()
    return counts


# ============================================================================
# The measurer (runs inside the private namespace, one size)
# ============================================================================
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
            g, upkeep = measure_group(runner, name, entries, cfg["runs"],
                                      cfg["run_timeout"], meas_deadline,
                                      maintain)
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


# ============================================================================
# Orchestrator (caller's namespace: creates no socket)
# ============================================================================
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


HOST_SYSCTLS = ["net/core/somaxconn", "net/ipv4/tcp_max_syn_backlog",
                "net/ipv4/tcp_max_tw_buckets", "net/ipv4/ip_local_port_range",
                "fs/nr_open"]


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
           "seconds": seconds, "tools": tools,
           "result": os.path.join(tmpdir, "result-%d.json" % size)}
    cfg_path = os.path.join(tmpdir, "cfg-%d.json" % size)
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    env[MARKER] = "%d:%d" % (os.getpid(), netns_ino())
    argv = [shutil.which("unshare") or "unshare", "-n", "--", sys.executable,
            os.path.abspath(__file__), "--_child", cfg_path]
    p = subprocess.Popen(argv, env=env, preexec_fn=set_pdeathsig)
    _CHILD[:] = [p]
    try:
        p.wait(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        log("size %d: over its time, SIGTERM to pid %d" % (size, p.pid))
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    finally:
        _CHILD[:] = []
    if p.returncode == 2:
        raise SystemExit("the namespace child refused to run (see above)")
    try:
        with open(cfg["result"]) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"size": size, "error": "no result (exit %s)" % p.returncode,
                "groups": {}, "complete": False, "notes": []}


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
    for name in ("ss", "netstat", "cat"):
        path = shutil.which(name, path=os.environ.get("PATH", "") +
                            ":/usr/sbin:/sbin:/usr/bin:/bin")
        if path is None and name != "netstat":
            raise SystemExit("%s not found" % name)
        tools[name] = path
    if args.groups:
        known = {name for name, _, _ in command_groups(tools)}
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
                         "(-tan, filtered, json, summary, listeners, -tanp, "
                         "who, why-bind, ports); default all")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        return child_main(args._child)

    if os.geteuid() != 0:
        raise SystemExit("run as root (sudo): private network namespaces "
                         "need CAP_SYS_ADMIN")
    if MARKER in os.environ:
        refuse("nested run: the marker is already set")
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    if not sizes or min(sizes) < 100 or args.runs < 1:
        raise SystemExit("need sizes >= 100 and --runs >= 1")
    tools = resolve_tools(args)
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
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    with open(args.out, "w") as f:
        f.write(render_markdown(meta, results, args))
    with open(args.plot, "w") as f:
        f.write(render_svg(results, args))
    log("wrote %s and %s (%.0f s in all)" % (args.out, args.plot,
                                              meta["seconds"]))
    return 1 if interrupted else 0


# ============================================================================
# Report
# ============================================================================
def summarize(tool):
    runs = [r for r in tool["runs"] if not r["timed_out"]]
    out = {"n": len(runs), "status": tool["status"],
           "n_over": len(tool["runs"]) - len(runs)}
    if runs:
        walls = [r["wall"] for r in runs]
        out["wall"] = statistics.median(walls)
        out["wall_min"], out["wall_max"] = min(walls), max(walls)
        cpus = [r["cpu"] for r in runs if r.get("cpu") is not None]
        out["cpu"] = statistics.median(cpus) if cpus else None
        rss = [r["rss_kib"] for r in runs if r.get("rss_kib")]
        out["rss_kib"] = statistics.median(rss) if rss else None
        out["exits"] = sorted({r["exit"] for r in runs})
        counts = [r["count"] for r in runs if "count" in r]
        if counts:
            out["counts"] = (min(counts), max(counts))
        inner = [r["inner"] for r in runs if "inner" in r]
        if inner:
            out["inner"] = statistics.median(inner)
        out["rss_samples"] = len(rss)
    errs = [r.get("stderr") for r in tool["runs"] + [tool["warmup"] or {}]
            if r.get("stderr")]
    if errs:
        out["stderr"] = errs[0].splitlines()[0][:160]
    return out


def fmt_time(s):
    if s is None:
        return "—"
    if s < 0.01:
        return "%.2f ms" % (s * 1000)
    if s < 1:
        return "%.1f ms" % (s * 1000)
    if s < 10:
        return "%.2f s" % s
    return "%.1f s" % s


def fmt_size(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return "%d" % n


def fmt_rss(kib):
    if not kib:
        return "—"
    return "%.1f MiB" % (kib / 1024.0)


def group_stats(res, group):
    g = res.get("groups", {}).get(group)
    if not g:
        return None
    return {label: summarize(t) for label, t in g["tools"].items()}


def get_wall(res, group, label):
    if label is None:  # the floor, measured in the -tan rounds
        group, label = "-tan", "bare dump"
    st = group_stats(res, group)
    if not st or label not in st:
        return None, None
    s = st[label]
    return s.get("wall"), s["status"]


def ratio_text(val, ref, ref_status, budget):
    """val/ref as text; a ref that blew its budget gives an upper bound."""
    return ratio_info(val, ref, ref_status, budget)[0]


def ratio_info(val, ref, ref_status, budget):
    """(text, ratio, is_upper_bound)."""
    if val is None:
        return "—", None, False
    if ref is not None:
        r = val / ref
        return ("%.3fx" if r < 0.995 else "%.2fx") % r, r, False
    if ref_status == "over_budget":
        r = val / budget
        return "< %.3fx" % r, r, True
    return "—", None, False


def ss_agreement(ss_states, census_states):
    """Does `ss -tanH`, counted by state, match the kernel census?"""
    keys = set(ss_states) | set(census_states)
    diff = ["%s %+d" % (k, ss_states.get(k, 0) - census_states.get(k, 0))
            for k in sorted(keys)
            if ss_states.get(k, 0) != census_states.get(k, 0)]
    return "same by state" if not diff else "vs census: " + ", ".join(diff)


def render_markdown(meta, results, args):
    m = meta["machine"]
    v = m["versions"]
    budget = args.run_timeout
    L = []
    w = L.append
    w("# sockscope benchmarks\n")
    w("Generated by `bench/bench.py` (how it works: `bench/README.md`) on "
      "%s; the whole run took %.0f s.%s\n" % (
          meta["date"], meta["seconds"],
          " **The run was interrupted; numbers are partial.**"
          if meta["interrupted"] else ""))
    w("```\nsudo python3 bench/bench.py %s\n```\n" % " ".join(meta["argv"]))
    w("## Machine and versions\n")
    w("| | |\n|---|---|")
    w("| kernel | %s |" % m["kernel"])
    w("| CPU | %s, %s cores |" % (m.get("cpu", "?"), m["nproc"]))
    w("| memory | %.1f GiB |" % (m.get("mem_kib", 0) / 1048576.0))
    w("| open files per process | %d soft / %d hard |" % tuple(m["nofile"]))
    w("| sockscope | %s, `%s`, built %s, commit %s |" % (
        v["sockscope"], os.path.relpath(meta["tools"]["sockscope"], REPO),
        v["sockscope_mtime"], v["git"]))
    w("| ss | %s |" % v["ss"])
    w("| netstat | %s |" % v["netstat"])
    w("| cat | %s |" % v["cat"])
    w("| rustc | %s |" % v["rustc"])
    w("| Python | %s |" % v["python"])
    w("")
    w("## Method\n")
    w("- Each size runs in its own network namespace (`unshare -n`, checked "
      "against the orchestrator's and, where readable, PID 1's before any "
      "socket is made), on loopback only; the "
      "namespace and every socket in it go away before the next size.")
    w("- Population: worker processes (forked, at most %d fds each under the "
      "%d-fd limit) hold both ends of loopback connections between "
      "127.1.k.1:(8000+k) and one unique client address per connection "
      "(127.(2+j/250).k.(1+j%%250), port chosen by the kernel), so no "
      "four-tuple repeats. Shares of all sockets: ~87%% ESTABLISHED, 6%% "
      "TIME_WAIT (client closes first; topped up to the target before each "
      "group and round because they expire after 60 s), 1%% SYN_RECV (a "
      "TCP_DEFER_ACCEPT listener per worker), 2%% FIN_WAIT2 + 2%% CLOSE_WAIT "
      "(client `shutdown(SHUT_WR)`), 1%% bound UDP, 2 LISTEN per worker. "
      "Teardown closes with SO_LINGER 0 (RST), so it leaves no TIME_WAIT."
      % (max((r.get("max_worker_fds") or 0) for r in results)
         if results else 0, m["nofile"][1]))
    w("- Per group, each tool runs once as a warm-up, then %d measured runs "
      "interleaved round-robin (A B C A B C ...); stdout goes to /dev/null. "
      "Medians are reported." % args.runs)
    w("- Wall: `time.perf_counter()` from before `posix_spawn` (vfork + "
      "exec) to after `wait4` reaped the child; the harness alone costs %s "
      "(median wall of `true`). CPU: `ru_utime + ru_stime` from `wait4`. "
      "Peak RSS: the child's own `VmHWM`, read at its exit through a ptrace "
      "exit stop (it is seized right after the spawn), because `ru_maxrss` "
      "from `wait4` also counts the spawning Python process's memory "
      "(%s here). A tool that exits before it can be seized has no RSS "
      "sample for that run." % (
          ", ".join("%s at %s" % (fmt_time(r["spawn_overhead"]["wall"]),
                                  fmt_size(r["size"]))
                    for r in results if r.get("spawn_overhead")),
          ", ".join(sorted({fmt_rss(r["spawn_overhead"]["ru_maxrss_kib"])
                            for r in results if r.get("spawn_overhead")}))))
    w("- Per-run budget %g s: a tool whose warm-up exceeds it is shown as "
      "`> %g s` and not run again at that size. Global deadline %g s."
      % (budget, budget, args.max_seconds))
    w("- `bare dump` (run as a fifth member of the `-tan` rounds, so that "
      "`sockscope -tan` and the floor are timed side by side): "
      "NETLINK_SOCK_DIAG dumps (AF_INET and AF_INET6, TCP, "
      "states 1-12 as `ss -tan` and `sockscope -tan` ask for them; bit 13, "
      "TCP_BOUND_INACTIVE, would add a walk of the bind table; 64 KiB "
      "reads) from a forked Python child that only counts "
      "messages (`bytes.count` of the header signature, no parsing): the "
      "kernel's own cost plus a minimal reader, i.e. the floor for any tool. "
      "Its wall includes the `fork()` of the harness (%s) and is what the "
      "ratios use; the time of the dump alone, measured inside the child, is "
      "shown next to it. Its RSS is the forked interpreter's, so it is not "
      "shown." % ", ".join(
          "%s at %s" % (fmt_time(r["spawn_overhead"]["fork_wall"]),
                        fmt_size(r["size"]))
          for r in results if r.get("spawn_overhead")))
    w("- Namespace sysctls (private namespace only): %s. Host sysctls "
      "(%s) unchanged after the run: %s." % (
          ", ".join("`%s` %s → %s" % (k, s["old"], s["new"])
                    for k, s in (next((r["sysctls"] for r in results
                                       if r.get("sysctls")), {}) or
                                 {}).items()),
          ", ".join(x.replace("/", ".") for x in HOST_SYSCTLS),
          "yes" if meta["host_sysctls_unchanged"] else "**NO**"))
    w("")

    w("## Population\n")
    w("Counted from the kernel (NETLINK_SOCK_DIAG) right after the build; "
      "`ss -tan` rows and `sockscope -tan` rows are what each printed then.\n")
    hdr = ["sockets", "workers", "build", "teardown"] + STATE_ORDER + [
        "other TCP", "TCP total", "UDP", "`ss -tanH` rows (by state)",
        "`sockscope -tan` rows"]
    w("| " + " | ".join(hdr) + " |")
    w("|" + "---|" * len(hdr))
    for r in results:
        c = r.get("census_after_build")
        if not c:
            w("| %s | %s |" % (fmt_size(r["size"]), r.get("skipped") or
                                r.get("error", "?")) + " |" * (len(hdr) - 2))
            continue
        st = c["tcp_states"]
        other = sum(n for s, n in st.items() if s not in STATE_ORDER)
        row = [fmt_size(r["size"]), str(r["workers"]),
               "%.1f s" % r["build_s"], "%.1f s" % r["teardown_s"]]
        row += [str(st.get(s, 0)) for s in STATE_ORDER]
        row += [str(other), str(c["tcp_total"]), str(c["udp_total"]),
                "%d (%s)" % (sum(r.get("ss_states", {}).values()),
                             ss_agreement(r.get("ss_states", {}), st)),
                str(r.get("sockscope_tan_rows", "—"))]
        w("| " + " | ".join(row) + " |")
    w("")
    w("TIME_WAIT expires 60 s after it is made, so each group starts with a "
      "top-up to the target, and before every round the workers top it up "
      "again if it fell below 90% of the target. The counts at the start "
      "and end of each group, the lowest count seen before a round, and the "
      "CPU that other processes used during the group (all CPU time of "
      "the machine minus this benchmark's own: harness, tools, workers; "
      "high values mean the timings are disturbed) and the CPU time the "
      "hypervisor stole from this virtual machine (`steal` in /proc/stat) "
      "were (the lowest count is "
      "only taken when the TIME_WAIT made in the last 50 s could have "
      "fallen below 90%):\n")
    w("| sockets | group | TIME_WAIT at start → end | lowest before a round "
      "| TCP total at start → end | other processes' CPU | steal |")
    w("|---|---|---|---|---|---|---|")
    for r in results:
        for gname, g in r.get("groups", {}).items():
            a, b = g["census_start"], g["census_end"]
            lows = [u["before"] for u in g.get("tw_rounds", [])
                    if u["before"] is not None]
            oc = g.get("outside_cpu") or {}
            w("| %s | %s | %d → %d | %s | %d → %d | %s | %s |" % (
                fmt_size(r["size"]), gname,
                a["tcp_states"].get("TIME_WAIT", 0),
                b["tcp_states"].get("TIME_WAIT", 0),
                min(lows) if lows else "—",
                a["tcp_total"], b["tcp_total"],
                "%.0f%% of %d cores (%.1f CPU-s in %.1f s)" % (
                    100 * oc["other_share"], m["nproc"], oc["other_cpu"],
                    oc["wall"]) if oc else "?",
                "%.1f s (%.0f%%)" % (oc["steal"], 100 * oc["steal"] / (
                    oc["wall"] * m["nproc"])) if oc and oc["wall"] > 0
                else "?"))
    w("")

    for r in results:
        w("## %s sockets\n" % fmt_size(r["size"]))
        if r.get("skipped"):
            w("Skipped: %s.\n" % r["skipped"])
            continue
        if r.get("error"):
            w("**Error:** %s\n" % r["error"])
        for n in r.get("notes", []):
            w("Note: %s\n" % n)
        w("| group | command | runs | median wall | wall min–max | median "
          "CPU | peak RSS | vs ss |")
        w("|---|---|---|---|---|---|---|---|")
        for gname, g in r.get("groups", {}).items():
            stats = {lab: summarize(t) for lab, t in g["tools"].items()}
            ref = stats.get(g["ref"])
            for lab in g["order"]:
                s = stats[lab]
                if s["status"] == "over_budget" and not s["n"]:
                    wall = "> %g s" % budget
                elif s["status"] == "deadline" and not s["n"]:
                    wall = "not run (deadline)"
                else:
                    wall = fmt_time(s.get("wall"))
                if lab == g["ref"]:
                    vs = "1.00x" if s.get("wall") else "—"
                else:
                    vs = ratio_text(s.get("wall"), ref.get("wall") if ref
                                    else None, ref["status"] if ref else None,
                                    budget)
                extra = []
                if s.get("exits") and s["exits"] != [0]:
                    extra.append("exit %s" % ",".join(map(str, s["exits"])))
                if s["n_over"]:
                    extra.append("%d more run(s) killed at the %s budget"
                                 % (s["n_over"], fmt_time(budget)))
                if s.get("inner"):
                    extra.append("dump alone %s inside the child"
                                 % fmt_time(s["inner"]))
                if s.get("counts"):
                    extra.append("saw %d–%d TCP sockets" % s["counts"]
                                 if s["counts"][0] != s["counts"][1]
                                 else "saw %d TCP sockets" % s["counts"][0])
                if s.get("stderr") and lab != "bare dump":
                    extra.append("stderr: `%s`" % s["stderr"].replace(
                        "|", "\\|").replace("`", "'"))
                cmd = "`%s`" % lab if lab != "bare dump" else \
                    "bare netlink dump, the floor"
                if gname == "filtered":
                    cmd = "`%s -tan state established sport = :%d`" % (
                        lab.split()[0], FILTER_PORT)
                w("| %s | %s%s | %d | %s | %s | %s | %s | %s |" % (
                    gname, cmd, (" (" + "; ".join(extra) + ")")
                    if extra else "", s["n"], wall,
                    "%s – %s" % (fmt_time(s["wall_min"]),
                                 fmt_time(s["wall_max"]))
                    if s.get("wall") else "—",
                    fmt_time(s.get("cpu")), fmt_rss(s.get("rss_kib")), vs))
        tan, _ = get_wall(r, "-tan", "sockscope -tan")
        bare, _ = get_wall(r, "-tan", "bare dump")
        if tan and bare:
            w("\n`sockscope -tan` takes %.2fx the bare dump (%s vs %s)." % (
                tan / bare, fmt_time(tan), fmt_time(bare)))
        w("")

    w("## Targets\n")
    w("Targets apply at 100k and 1M sockets (the peak-RSS one at 1M, the "
      "`-tanp` one at 100k); other sizes are shown for information.\n")
    w("| target | sockets | measured | met |")
    w("|---|---|---|---|")
    for line in evaluate_targets(results, budget):
        w("| %s | %s | %s | %s |" % line)
    w("")
    w("## Limits met while running\n")
    w("- Open files: %d per process (hard limit, cannot be raised here; "
      "`fs.nr_open` untouched). Workers set soft = hard and held at most %s "
      "fds each; `--procs` is raised automatically when a size needs more "
      "workers (workers used: %s)." % (
          m["nofile"][1],
          max((r.get("worker_fds_max") or 0) for r in results)
          if results else "?",
          ", ".join("%d at %s" % (r["workers"], fmt_size(r["size"]))
                    for r in results if r.get("workers"))))
    tops = ", ".join("%d at %s" % (sum(g.get("tw_topup", 0) + sum(
        u["made"] for u in g.get("tw_rounds", []))
        for g in r["groups"].values()), fmt_size(r["size"]))
        for r in results if r.get("groups"))
    w("- TIME_WAIT lives 60 s, so it is topped up before each group and each "
      "round (TIME_WAIT sockets re-made: %s); within one long round "
      "(`-tanp` at 1M) it still decays, see the table above.%s" % (
          tops, " Client addresses for top-ups ran out at: %s." % ", ".join(
              fmt_size(r["size"]) for r in results if r.get("tw_exhausted"))
          if any(r.get("tw_exhausted") for r in results) else ""))
    w("- Ports: every connection has its own client address, so ephemeral "
      "ports are never exhausted and four-tuples never collide.")
    noisy = [(r["size"], gname, g["outside_cpu"])
             for r in results for gname, g in r.get("groups", {}).items()
             if g.get("outside_cpu") and g["outside_cpu"]["wall"] > 1 and (
                 g["outside_cpu"]["other_share"] > 0.1 or
                 g["outside_cpu"]["steal"] > 0.1 * g["outside_cpu"]["wall"] *
                 m["nproc"])]
    if noisy:
        w("- **Noise:** %s. Medians and the round-robin order keep the "
          "comparisons within a group fair, but absolute times can differ "
          "between runs of this script on a shared virtual machine; compare "
          "ratios rather than milliseconds." % "; ".join(
              "%s %s: other processes %.0f%%, steal %.0f%% of the CPUs" % (
                  fmt_size(size), gname, 100 * oc["other_share"],
                  100 * oc["steal"] / (oc["wall"] * m["nproc"]))
              for size, gname, oc in noisy))
    pid1 = [r for r in results if r.get("netns") and
            r["netns"].get("pid1") is None]
    if pid1:
        w("- `/proc/1/ns/net` could not be read here (permission denied even "
          "to root), so the private-namespace check compared against the "
          "orchestrator's namespace (recorded before `unshare -n` and read "
          "live from `/proc/PPID/ns/net`).")
    fast = sorted({lab for r in results for g in r.get("groups", {}).values()
                   for lab, t in g["tools"].items()
                   if lab != "bare dump" and summarize(t)["n"] and
                   summarize(t).get("rss_samples", 0) == 0})
    if fast:
        w("- No peak RSS for %s at some sizes: they exited before ptrace "
          "could seize them (a few ms)." % ", ".join("`%s`" % f
                                                      for f in fast))
    w("")
    return "\n".join(L)


def evaluate_targets(results, budget):
    by = {r["size"]: r for r in results if r.get("groups")}
    out = []

    def applies(size, sizes):
        return "" if size in sizes else " (info)"

    def verdict(r, bound, limit, info):
        if r is None:
            return "n/a (not measured)"
        if r <= limit:
            return "yes" + info
        if bound:
            return "undecided: the reference passed its budget" + info
        return "**no**" + info

    def ref_time(t, st):
        if t is not None:
            return fmt_time(t)
        return "> %g s" % budget if st == "over_budget" else "—"

    def pair(title, size, group, sl, rl, limit, sizes):
        r = by[size]
        a, _ = get_wall(r, group, sl)
        b, bst = get_wall(r, group, rl)
        txt, val, bound = ratio_info(a, b, bst, budget)
        out.append((title, fmt_size(size), "%s (%s vs %s)" % (
            txt, fmt_time(a), ref_time(b, bst)),
            verdict(val, bound, limit, applies(size, sizes))))

    for size in sorted(by):
        pair("`sockscope -tan` ≤ 0.7x `ss -tan`", size, "-tan",
             "sockscope -tan", "ss -tan", 0.7, (100000, 1000000))
    for size in sorted(by):
        pair("`sockscope -tanp` ≤ 0.1x `ss -tanp`", size, "-tanp",
             "sockscope -tanp", "ss -tanp", 0.1, (100000,))
    sizes = sorted(by)
    for lo, hi in zip(sizes, sizes[1:]):
        a, _ = get_wall(by[lo], "-tanp", "sockscope -tanp")
        b, _ = get_wall(by[hi], "-tanp", "sockscope -tanp")
        if a and b:
            growth = b / a
            allowed = 1.2 * hi / lo
            out.append(("`sockscope -tanp` grows about linearly (time ratio "
                        "≤ 1.2x the socket ratio)",
                        "%s → %s" % (fmt_size(lo), fmt_size(hi)),
                        "%.1fx time for %.0fx sockets (%s → %s)" % (
                            growth, hi / lo, fmt_time(a), fmt_time(b)),
                        verdict(growth, False, allowed,
                                "" if (lo, hi) == (100000, 1000000)
                                else " (info)")))
    for size in sorted(by):
        pair("filtered ≤ 1.0x `ss`", size, "filtered", "sockscope filtered",
             "ss filtered", 1.0, (100000, 1000000))
    for size in sorted(by):
        pair("`sockscope -tan --json` ≤ 1.0x `ss -tan`", size, "json",
             "sockscope -tan --json", "ss -tan", 1.0, (100000, 1000000))
    for size in sorted(by):
        st = group_stats(by[size], "-tan") or {}
        a = st.get("sockscope -tan", {}).get("rss_kib")
        b = st.get("ss -tan", {}).get("rss_kib")
        if a and b:
            out.append(("peak RSS of `sockscope -tan` ≤ 1.5x `ss -tan`'s",
                        fmt_size(size), "%.2fx (%s vs %s)" % (
                            a / b, fmt_rss(a), fmt_rss(b)),
                        verdict(a / b, False, 1.5,
                                applies(size, (1000000,)))))
    for size in sorted(by):
        pair("`sockscope -tan` ≤ 1.3x the bare dump", size, "-tan",
             "sockscope -tan", None, 1.3, (100000, 1000000))
    return out


# ============================================================================
# Plot (hand-written SVG)
# ============================================================================
PLOT_LINES = [
    # group, label, legend, colour, dash, marker
    ("-tan", "sockscope -tan", "sockscope -tan", "#d62728", "", "circle"),
    ("-tan", "ss -tan", "ss -tan", "#1f77b4", "", "circle"),
    ("-tan", "netstat -tan", "netstat -tan", "#2ca02c", "", "circle"),
    ("-tan", "cat /proc/net/tcp{,6}", "cat /proc/net/tcp{,6}", "#7f7f7f", "",
     "circle"),
    ("-tanp", "sockscope -tanp", "sockscope -tanp", "#d62728", "7,4",
     "square"),
    ("-tanp", "ss -tanp", "ss -tanp", "#1f77b4", "7,4", "square"),
    ("-tanp", "netstat -tanp", "netstat -tanp", "#2ca02c", "7,4", "square"),
    ("filtered", "sockscope filtered", "sockscope filtered", "#d62728",
     "2,3", "triangle"),
    ("filtered", "ss filtered", "ss filtered", "#1f77b4", "2,3",
     "triangle"),
    ("json", "sockscope -tan --json", "sockscope -tan --json", "#ff7f0e",
     "9,3,2,3", "diamond"),
    ("json", "ss -tan", "ss -tan (json group)", "#17becf", "9,3,2,3",
     "diamond"),
    ("-tan", "bare dump", "bare netlink dump (floor)", "#000000", "3,3",
     "cross"),
]


def _marker(kind, x, y, color, hollow=False):
    fill = "white" if hollow else color
    a = 'stroke="%s" stroke-width="1.5" fill="%s"' % (color, fill)
    if kind == "circle":
        return '<circle cx="%.1f" cy="%.1f" r="4" %s/>' % (x, y, a)
    if kind == "square":
        return '<rect x="%.1f" y="%.1f" width="7" height="7" %s/>' % (
            x - 3.5, y - 3.5, a)
    if kind == "triangle":
        return '<path d="M%.1f %.1f L%.1f %.1f L%.1f %.1f Z" %s/>' % (
            x, y - 5, x + 4.5, y + 3.5, x - 4.5, y + 3.5, a)
    if kind == "diamond":
        return '<path d="M%.1f %.1f L%.1f %.1f L%.1f %.1f L%.1f %.1f Z" %s/>' \
            % (x, y - 5, x + 5, y, x, y + 5, x - 5, y, a)
    return ('<path d="M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f" '
            'stroke="%s" stroke-width="2"/>' % (
                x - 4, y - 4, x + 4, y + 4, x - 4, y + 4, x + 4, y - 4,
                color))


def _ticks(lo, hi):
    """1-2-5 ticks between lo and hi (log scale), or decades if wide."""
    out = []
    steps = (1, 2, 5) if math.log10(hi / lo) <= 3.5 else (1,)
    for e in range(int(math.floor(math.log10(lo))) - 1,
                   int(math.ceil(math.log10(hi))) + 1):
        for s in steps:
            v = s * 10.0 ** e
            if lo * 0.999 <= v <= hi * 1.001:
                out.append(v)
    return out


def _fmt_count(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    return "%g" % v


def _fmt_ms(v):
    if v >= 1000:
        return "%g s" % (v / 1000)
    return "%g ms" % v


def render_svg(results, args):
    W, H = 800, 500
    left, right, top, bottom = 68, 548, 46, 440
    budget_ms = args.run_timeout * 1000
    series = []
    for group, label, legend, color, dash, marker in PLOT_LINES:
        pts = []
        for r in results:
            g = r.get("groups", {}).get(group)
            if not g or label not in g["tools"]:
                continue
            s = summarize(g["tools"][label])
            if s.get("wall"):
                pts.append((r["size"], s["wall"] * 1000, False))
            elif s["status"] == "over_budget":
                pts.append((r["size"], budget_ms, True))
        if pts:
            series.append((legend, color, dash, marker, pts))
    allx = [p[0] for s in series for p in s[4]] or [1000, 100000]
    ally = [p[1] for s in series for p in s[4]] or [1, 1000]
    xlo, xhi = min(allx) / 1.35, max(allx) * 1.35
    ylo = 10 ** math.floor(math.log10(min(ally) / 1.2))
    yhi = 10 ** math.ceil(math.log10(max(ally) * 1.2))

    def X(v):
        return left + (math.log10(v) - math.log10(xlo)) / (
            math.log10(xhi) - math.log10(xlo)) * (right - left)

    def Y(v):
        return bottom - (math.log10(v) - math.log10(ylo)) / (
            math.log10(yhi) - math.log10(ylo)) * (bottom - top)

    o = []
    a = o.append
    a('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
      'viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, '
      'sans-serif" font-size="12">' % (W, H, W, H))
    a('<rect width="%d" height="%d" fill="white"/>' % (W, H))
    a('<text x="%d" y="24" font-size="15" font-weight="bold">Wall time '
      '(median of %d runs) against socket count, log-log</text>'
      % (left, args.runs))
    for v in _ticks(ylo, yhi):
        y = Y(v)
        major = abs(math.log10(v) - round(math.log10(v))) < 1e-9
        a('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>' % (
            left, y, right, y, "#d0d0d0" if major else "#ececec"))
        a('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (
            left - 6, y + 4, _fmt_ms(v)))
    sizes = sorted({p[0] for s in series for p in s[4]})
    for v in _ticks(xlo, xhi):  # 1-2-5 grid
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ececec"/>' % (
            X(v), top, X(v), bottom))
    for v in sizes:  # the measured sizes, labelled
        x = X(v)
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c8c8c8"/>' % (
            x, top, x, bottom))
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>' % (
            x, bottom, x, bottom + 5))
        a('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
            x, bottom + 18, _fmt_count(v)))
    a('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
      'stroke="#333"/>' % (left, top, right - left, bottom - top))
    a('<text x="%d" y="%d" text-anchor="middle">sockets in the namespace '
      '(TCP + UDP)</text>' % ((left + right) // 2, bottom + 36))
    a('<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)"'
      '>wall time per run</text>' % ((top + bottom) // 2,
                                      (top + bottom) // 2))
    if any(p[2] for s in series for p in s[4]):
        a('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" '
          'stroke-dasharray="1,3"/>' % (left, Y(budget_ms), right,
                                        Y(budget_ms)))
        a('<text x="%d" y="%.1f" fill="#666" font-size="10">per-run budget'
          '</text>' % (left + 4, Y(budget_ms) - 4))
    over = {}  # size -> number of over-budget markers drawn there
    for legend, color, dash, marker, pts in series:
        real = [(X(x), Y(y)) for x, y, h in pts if not h]
        if len(real) > 1:
            a('<polyline points="%s" fill="none" stroke="%s" '
              'stroke-width="1.8"%s/>' % (
                  " ".join("%.1f,%.1f" % p for p in real), color,
                  ' stroke-dasharray="%s"' % dash if dash else ""))
        prev = None
        for x, y, hollow in pts:
            px = X(x)
            if hollow:  # side by side, linked to the last real point
                px += 9 * over.get(x, 0)
                over[x] = over.get(x, 0) + 1
                if prev is not None:
                    a('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                      'stroke="%s" stroke-width="1" stroke-dasharray="1,3"/>'
                      % (prev[0], prev[1], px, Y(y), color))
            else:
                prev = (px, Y(y))
            a(_marker(marker, px, Y(y), color, hollow))
    ly = top + 4
    lx = right + 18
    a('<text x="%d" y="%d" font-weight="bold">command</text>' % (lx, ly))
    ly += 8
    for legend, color, dash, marker, pts in series:
        ly += 19
        a('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
          'stroke-width="1.8"%s/>' % (lx, ly - 4, lx + 30, ly - 4, color,
                                      ' stroke-dasharray="%s"' % dash
                                      if dash else ""))
        a(_marker(marker, lx + 15, ly - 4, color))
        a('<text x="%d" y="%d">%s</text>' % (lx + 38, ly, _xml(legend)))
    ly += 26
    notes = ["filtered: -tan state established", "  sport = :%d" % FILTER_PORT]
    if any(p[2] for s in series for p in s[4]):
        notes += ["hollow marker: over the per-run",
                  "  budget (%g s), drawn at it" % args.run_timeout]
    for n in notes:
        a('<text x="%d" y="%d" font-size="10" fill="#555" '
          'xml:space="preserve">%s</text>' % (lx, ly, _xml(n)))
        ly += 13
    a("</svg>")
    return "\n".join(o) + "\n"


def _xml(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    sys.exit(main())
