"""NETLINK_SOCK_DIAG by hand: the census (socket counts by state, not timed)
and the bare dump (the timed floor: a forked child that only counts
messages), in the child's namespace or in each of a list of named ones."""

import os
import socket
import struct
import time

from .base import (ALL_TCP_STATES, NETLINK_SOCK_DIAG, NLM_F_REQUEST_DUMP,
                   NLMSG_DONE, NLMSG_ERROR, SOCK_DIAG_BY_FAMILY, STATE_NAMES,
                   setns_net)
from .netns import assert_netns

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


def bare_dump_netns_child(wfd, netns):
    """Runs in a forked child: the bare dump in each of `netns` (pairs of
    a /run/netns path and the inode recorded when it was made), entered in
    turn with setns; writes the total and the time as bare_dump_child."""
    t0 = time.perf_counter()
    total = 0
    for path, ino in netns:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if os.fstat(fd).st_ino != ino:
                os._exit(4)  # not the namespace the run made
            setns_net(fd)
        finally:
            os.close(fd)
        total += _count_tcp()
    os.write(wfd, ("%d %.9f" % (total, time.perf_counter() - t0)).encode())


def bare_dump_child(wfd):
    """Runs in a forked child: count SOCK_DIAG messages, nothing else.

    Messages are counted with bytes.count() on their 8-byte header tail
    (type SOCK_DIAG_BY_FAMILY, flags NLM_F_MULTI, our random sequence
    number), so Python adds next to nothing per socket; the census (which
    walks every header) gives the exact numbers to compare with.
    """
    t0 = time.perf_counter()
    total = _count_tcp()
    os.write(wfd, ("%d %.9f" % (total, time.perf_counter() - t0)).encode())


def _count_tcp():
    """The bare dump itself, in the caller's namespace: TCP messages."""
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
    s.close()
    return total
