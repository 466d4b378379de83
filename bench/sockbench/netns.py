"""Safety: the private network namespaces.  The measurer's check that it runs
in the namespace the orchestrator made (and nowhere else), the guard every
socket-making function calls, and the namespace's setup (lo up, nothing but
loopback, per-namespace sysctls).  For the all-namespaces case: the named
namespaces' prefix, their setup from outside (`ip -n NAME`), and the check a
forked holder makes after it entered one (setns) before any socket."""

import os
import subprocess
import sys

from .base import MARKER, PORT_RANGE, netns_ino, setns_net

NETNS_DIR = "/run/netns"       # where `ip netns add` bind-mounts a namespace
NETNS_PREFIX = "sockbench-"    # + "<orchestrator pid>-<n>" (all-netns case)

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


def host_netns_inos():
    """The namespaces no bench socket may be made in: the caller's (the
    orchestrator's) and PID 1's (when readable)."""
    inos = {netns_ino()}
    try:
        inos.add(netns_ino(1))
    except PermissionError:
        pass
    return inos


def enter_named_netns(name, expect_ino, host_inos):
    """In a forked holder, before any socket: enter NETNS_DIR/NAME, which
    this run made and whose inode it recorded, and check where we are."""
    global _NETNS_OK
    if not name.startswith(NETNS_PREFIX) or "/" in name:
        refuse("not a bench namespace name: %r" % name)
    path = os.path.join(NETNS_DIR, name)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_ino != expect_ino:
            refuse("%s is not the namespace this run made" % path)
        setns_net(fd)
    finally:
        os.close(fd)
    mine = netns_ino()
    if mine != expect_ino or mine in host_inos:
        refuse("after setns into %s this process is in namespace %d" % (
            path, mine))
    _HOST_NS.update(host_inos)
    NETNS_CHECK.update({"mine": mine, "host": sorted(host_inos)})
    _NETNS_OK = True
    return mine


def setup_named_netns(name):
    """From outside: bring lo up in NAME and check it holds only loopback."""
    _loopback_only(["ip", "-n", name])


def _loopback_only(ip):
    subprocess.run(ip + ["link", "set", "lo", "up"], check=True, timeout=10)
    out = subprocess.run(ip + ["-o", "addr", "show"], capture_output=True,
                         text=True, timeout=10, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[2] in ("inet", "inet6"):
            addr = f[3].split("/")[0]
            if not (addr.startswith("127.") or addr == "::1"):
                refuse("non-loopback address %s in the namespace" % addr)
    links = subprocess.run(ip + ["-o", "link", "show"], capture_output=True,
                           text=True, timeout=10, check=True).stdout
    for line in links.splitlines():
        f = line.split()
        name = f[1].rstrip(":").split("@")[0] if len(f) > 1 else ""
        if name != "lo" and ",UP" in line.split(">")[0] + ",":
            refuse("interface %s is up in the namespace" % name)


def setup_namespace(tw_target, extra=None):
    """Bring lo up, check nothing but loopback exists, raise netns sysctls
    (and set `extra`'s, {key: value}, also per namespace)."""
    _loopback_only(["ip"])
    wanted = dict(extra or {})
    wanted.update({
        "net/core/somaxconn": "65535",
        "net/ipv4/tcp_max_syn_backlog": "65535",
        "net/ipv4/tcp_max_tw_buckets": str(max(262144, 4 * tw_target)),
        # keeps the ephemeral range away from the 8000-9239 listener ports,
        # so `sport = :8000` matches only worker 0's accepted sockets
        "net/ipv4/ip_local_port_range": "%d %d" % PORT_RANGE,
    })
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
