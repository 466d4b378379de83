#!/usr/bin/env python3
"""Builds the seed corpus of every fuzz target under fuzz/corpus/<target>/.

Seeds come from the project's fixtures and tests, plus the small committed
files of fuzz/seeds/:

* netlink_inet: fixtures/basic/netlink.bin whole (a --replay recording),
  each dump's replies, and each reply message alone;
* netlink_events: two destroy events (TCP over IPv4, UDP over IPv6) and a
  SOCK_DESTROY ack, built here;
* netlink_unix: one unix_diag reply built here (a listener on an abstract
  name, as in src/source/netlink/tests.rs) with NLMSG_DONE after it;
* proc_inet: the /proc/net/{tcp,tcp6,udp,udp6} tables of fixtures/;
* proc_unix, sockstat: fuzz/seeds/<target>/ (captures also used by the
  unit tests), and for sockstat the three files in one;
* tcpinfo: the struct tcp_info captures hex-encoded in
  src/source/tcpinfo.rs, and SK_MEMINFO arrays of 7 and 9 words;
* filter: the filter words of tests/filters.rs and fuzz/seeds/filter.txt,
  NUL between words as the target splits them;
* cgroup: every /proc/PID/cgroup of fixtures/containers/.
* tracefs: the format files of fixtures/tracefs/ (mode byte 0) and the
  recorded raw samples (mode byte 1).
* counters: the /proc/net/{snmp,netstat,snmp6} of fixtures/counters/.
* btf: fixtures/btf/'s vmlinux extract whole (mode byte 0), and short
  choice streams for its field mutations (1) and random records (2).

Seed files are named by their content's hash, so running this again adds
nothing twice; what libFuzzer added to the directories is kept.
"""

import hashlib
import re
import shlex
import struct
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent

# include/uapi/linux/netlink.h, sock_diag.h
NLMSG_DONE = 3
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2


def write_seed(target, data):
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    (out / name).write_bytes(data)
    return 1


def netlink_messages(data):
    """(offset, header fields, bytes) of each netlink message in data."""
    pos = 0
    while pos + 16 <= len(data):
        length, mtype, flags, _seq, _pid = struct.unpack_from("=IHHII", data, pos)
        if length < 16 or pos + length > len(data):
            return
        yield mtype, flags, data[pos : pos + length]
        pos += (length + 3) & ~3


def netlink_seeds():
    n = 0
    rec = (ROOT / "fixtures/basic/netlink.bin").read_bytes()
    n += write_seed("netlink_inet", rec)
    dumps = []
    for mtype, flags, msg in netlink_messages(rec):
        if flags & NLM_F_REQUEST:
            dumps.append(b"")
            continue
        if dumps:
            dumps[-1] += msg + b"\0" * (-len(msg) % 4)
        n += write_seed("netlink_inet", msg)
    for replies in dumps:
        n += write_seed("netlink_inet", replies)
    return n


def nlmsg(mtype, payload, seq=1):
    return struct.pack("=IHHII", 16 + len(payload), mtype, NLM_F_MULTI, seq, 12345) + payload


def nla(kind, value):
    data = struct.pack("=HH", 4 + len(value), kind) + value
    return data + b"\0" * (-len(data) % 4)


def unix_seeds():
    # struct unix_diag_msg: family AF_UNIX, SOCK_STREAM, TCP_LISTEN, pad,
    # inode, cookie[2]; then UNIX_DIAG_NAME (0), _PEER (2), _RQLEN (4),
    # _UID (7), as the kernel sends them.
    msg = struct.pack("=BBBBIII", 1, 1, 10, 0, 1234, 7, 0)
    msg += nla(0, b"\0ab\0c")
    msg += nla(2, struct.pack("=I", 0))
    msg += nla(4, struct.pack("=II", 2, 128))
    msg += nla(7, struct.pack("=I", 1000))
    # A connected datagram socket bound to a path, with a peer.
    msg2 = struct.pack("=BBBBIII", 1, 2, 1, 0, 4321, 9, 0)
    msg2 += nla(0, b"/run/x.sock\0")
    msg2 += nla(2, struct.pack("=I", 1234))
    done = nlmsg(NLMSG_DONE, struct.pack("=i", 0))
    return write_seed(
        "netlink_unix",
        nlmsg(SOCK_DIAG_BY_FAMILY, msg) + nlmsg(SOCK_DIAG_BY_FAMILY, msg2) + done,
    )


def linklayer_seeds():
    # A packet_diag reply (p_raw, ETH_P_ALL, PACKET_DIAG_UID, MEMINFO and a
    # one-instruction FILTER) and a netlink_diag one (NETLINK_ROUTE, the
    # kernel's socket, MEMINFO), each ended by NLMSG_DONE.
    pkt = struct.pack("=BBHIQ", 17, 3, 3, 4321, 7)
    pkt += nla(5, struct.pack("=I", 0))
    pkt += nla(6, struct.pack("=9I", *range(9)))
    pkt += nla(7, struct.pack("=HBBI", 6, 0, 0, 0xFFFFFFFF))
    nlk = struct.pack("=BBBBIIIIQ", 16, 3, 0, 0, 0, 0, 0, 99, 8)
    nlk += nla(0, struct.pack("=9I", *range(9)))
    done = nlmsg(NLMSG_DONE, struct.pack("=i", 0))
    return write_seed(
        "netlink_linklayer",
        nlmsg(SOCK_DIAG_BY_FAMILY, pkt) + done,
    ) + write_seed("netlink_linklayer", nlmsg(SOCK_DIAG_BY_FAMILY, nlk) + done)


def events_seeds():
    # Destroy events as the kernel multicasts them: struct inet_diag_msg
    # (AF_INET, TCP_CLOSE; 127.0.0.1:5000 -> 127.0.0.1:40000) with
    # INET_DIAG_PROTOCOL (10) TCP, then a UDP one over IPv6; and the
    # NLMSG_ERROR ack of a SOCK_DESTROY (seq 1, error 0).
    def msg(family, proto, src, dst):
        body = struct.pack("=BBBB", family, 7, 0, 0)
        body += struct.pack(">HH", 5000, 40000) + src + dst
        body += struct.pack("=IIIIIIII", 0, 1, 0, 0, 0, 0, 0, 0)  # if, cookie, expires, queues, uid, inode
        return body + nla(10, bytes([proto]))
    v4 = (bytes([127, 0, 0, 1]) + b"\0" * 12, bytes([127, 0, 0, 1]) + b"\0" * 12)
    v6 = (b"\0" * 15 + b"\1", b"\0" * 15 + b"\1")
    events = nlmsg(SOCK_DIAG_BY_FAMILY, msg(2, 6, *v4), seq=0)
    events += nlmsg(SOCK_DIAG_BY_FAMILY, msg(10, 17, *v6), seq=0)
    ack = struct.pack("=IHHIIi", 36, 2, 0, 1, 0, 0) + struct.pack("=IHHII", 72, 21, 5, 1, 0)
    return write_seed("netlink_events", events) + write_seed("netlink_events", ack)


def proc_seeds():
    n = 0
    for d in ["fixtures/basic/net", "fixtures/owners/net"]:
        for name in ["tcp", "tcp6", "udp", "udp6"]:
            p = ROOT / d / name
            if p.exists():
                n += write_seed("proc_inet", p.read_bytes())
    return n


def committed_seeds(target):
    n = 0
    files = sorted(p for p in (FUZZ / "seeds" / target).glob("*") if p.is_file())
    for p in files:
        n += write_seed(target, p.read_bytes())
    if target == "sockstat" and files:
        n += write_seed(target, b"".join(p.read_bytes() for p in files))
    return n


def tcpinfo_seeds():
    n = 0
    src = (ROOT / "src/source/tcpinfo.rs").read_text()
    # const NAME: &str = concat!("hex", "hex", ...);
    for body in re.findall(r"concat!\(((?:\s*\"[0-9a-f]*\",?)+)\s*\)", src):
        blob = bytes.fromhex("".join(re.findall(r"\"([0-9a-f]*)\"", body)))
        n += write_seed("tcpinfo", blob)
    n += write_seed("tcpinfo", struct.pack("=7I", 0, 131072, 0, 2626560, 0, 0, 0))
    n += write_seed("tcpinfo", struct.pack("=9I", 5, 131072, 7, 2626560, 4096, 9, 320, 1, 2))
    return n


def filter_seeds():
    n = 0
    text = (ROOT / "tests/filters.rs").read_text()
    # String literals of the differential table that start with options
    # ("-tan state established", "-tan sport = :{}"), and the
    # one-argument expressions ("( dport = :{} or sport = :{} )").
    for lit in re.findall(r"\"((?:-[a-z0-9]+ )?[^\"\n]*)\"", text):
        words = lit.replace("{}", "5000").split(" ")
        if not words or not words[0].startswith("-"):
            if not lit.startswith("( "):
                continue
            words = [lit.replace("{}", "5000")]
        else:
            words = words[1:]
        if words and all(words):
            n += write_seed("filter", "\0".join(words).encode())
    for line in (FUZZ / "seeds/filter.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            n += write_seed("filter", "\0".join(shlex.split(line)).encode())
    return n


def cgroup_seeds():
    n = 0
    for p in sorted((ROOT / "fixtures/containers").glob("*/proc/*/cgroup")):
        n += write_seed("cgroup", p.read_bytes())
    return n


def tracefs_seeds():
    n = 0
    for p in sorted((ROOT / "fixtures/tracefs").glob("*/events/*/*/format")):
        n += write_seed("tracefs", b"\0" + p.read_bytes())
    for p in sorted((ROOT / "fixtures/tracefs").glob("*/samples/*.bin")):
        n += write_seed("tracefs", b"\1" + p.read_bytes())
    return n


def counters_seeds():
    n = 0
    for p in sorted((ROOT / "fixtures/counters").glob("*")):
        n += write_seed("counters", p.read_bytes())
    return n


def btf_seeds():
    n = 0
    for p in sorted((ROOT / "fixtures/btf").glob("*.btf")):
        n += write_seed("btf", b"\0" + p.read_bytes())
    for mode in (1, 2):
        for stream in (b"", bytes(range(64)), bytes(range(255, 127, -1))):
            n += write_seed("btf", bytes([mode]) + stream)
    return n


def main():
    counts = {
        "netlink_inet": netlink_seeds(),
        "netlink_unix": unix_seeds(),
        "netlink_linklayer": linklayer_seeds(),
        "netlink_events": events_seeds(),
        "proc_inet": proc_seeds(),
        "proc_unix": committed_seeds("proc_unix"),
        "sockstat": committed_seeds("sockstat"),
        "tcpinfo": tcpinfo_seeds(),
        "filter": filter_seeds(),
        "cgroup": cgroup_seeds(),
        "tracefs": tracefs_seeds(),
        "counters": counters_seeds(),
        "btf": btf_seeds(),
    }
    for target, n in counts.items():
        print(f"make_corpus: {target}: {n} seeds")
    if not all(counts.values()):
        sys.exit("make_corpus: a target got no seeds (fixtures moved?)")


if __name__ == "__main__":
    main()
