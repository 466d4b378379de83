"""What every part of the benchmark shares: paths, the environment marker,
kernel constants and state names, the population's shares and address plan,
the log line, and the libc calls Python 3.11 lacks (prctl, ptrace,
setns)."""

import ctypes
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
REPO = os.path.dirname(HERE)
ENTRY = os.path.join(HERE, "bench.py")  # re-executed for each size
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
PTRACE_O_TRACEFORK = 0x2
PTRACE_O_TRACEVFORK = 0x4
PTRACE_O_TRACECLONE = 0x8
PTRACE_EVENT_STOP = 128  # a seized task's first stop, and group stops
WALL = 0x40000000        # __WALL: wait for tracees that are not our children
CLONE_NEWNET = 0x40000000
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

# Host sysctls read before and after the run (the report says whether they
# are unchanged).
HOST_SYSCTLS = ["net/core/somaxconn", "net/ipv4/tcp_max_syn_backlog",
                "net/ipv4/tcp_max_tw_buckets", "net/ipv4/ip_local_port_range",
                "fs/nr_open"]


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
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.setns.restype = ctypes.c_int


def set_pdeathsig(sig=signal.SIGKILL):
    _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def ptrace(req, pid, addr=0, data=0):
    r = _libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def setns_net(fd):
    """setns(fd, CLONE_NEWNET) for the calling thread (Python 3.11 has no
    os.setns); fd is an open /run/netns/NAME bind mount."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def netns_ino(pid="self"):
    return os.stat("/proc/%s/ns/net" % pid).st_ino
