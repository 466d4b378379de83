"""Population building: how many sockets of each state each worker holds,
the forked workers that build and hold them (and top TIME_WAIT up on
command), and the Population that starts, feeds and tears the workers down.
A Population may be told how each worker enters its namespace (`enter`,
run in the forked worker before any socket: the all-namespaces case)."""

import json
import os
import resource
import selectors
import signal
import socket
import struct
import time

from .base import (CLIENT_ADDRS, FD_RESERVE, FILTER_PORT,
                   IP_BIND_ADDRESS_NO_PORT, LISTEN_PER_WORKER, MAX_WORKERS,
                   SHARE_HALF, SHARE_SYN, SHARE_TW, SHARE_UDP, TCP_CLOSE_WAIT,
                   TCP_DEFER_ACCEPT, TCP_INFO, set_pdeathsig)
from .netlink import census
from .netns import assert_netns, lo_addr


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


def worker_main(k, plan, batch, cmd_r, st_w, deadline, ppid, enter=None):
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
        if enter is not None:
            enter(k)  # setns and its check, before any socket
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
                elif cmd[0] == "census":
                    # the kernel's count in this worker's namespace
                    send({"ok": True, "k": k, "census": census()})
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
    def __init__(self, size, plans, batch, deadline, enter=None):
        self.enter = enter  # enter(k) in worker k, before its first socket
        self.size = size
        self.plans = plans
        self.batch = batch
        self.deadline = deadline
        self.workers = []  # dicts: pid, cmd_w, st_r, buf
        self.build_s = None
        self.teardown_s = None

    def start(self):
        if self.enter is None:
            assert_netns()  # else each worker checks after its setns
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
                                self.deadline, me, self.enter)
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

    def census_each(self, timeout, ks=None):
        """{k: census of worker k's namespace}, asked of the workers in ks
        (default: all)."""
        want = [w for w in self.workers if ks is None or w["k"] in ks]
        for w in want:
            os.write(w["cmd_w"], b"census\n")
        return {k: m["census"] for k, m in
                self._collect(want, timeout, "census").items()}

    def top_up_each(self, wants, timeout):
        """wants: {k: TIME_WAIT to make in worker k}; returns how many were
        made in all."""
        want = []
        for w in self.workers:
            n = wants.get(w["k"], 0)
            if n > 0:
                os.write(w["cmd_w"], b"tw %d\n" % n)
                want.append(w)
        if not want:
            return 0
        return sum(m["tw"] for m in self._collect(want, timeout,
                                                  "tw").values())

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
