"""The owners group (issue 19): the BPF task_file iterator against the /proc
walk.  Its round-robin entries (`sockscope -tanp` with each
`--owners-source`, beside `sockscope -tan` and `ss -tanp`), the untimed
`-v` runs whose stderr line gives the owner lookup's own wall, CPU, BPF
setup and read (`parse_verbose`), and the untimed `-tanp --json` run of
each source whose owners are compared row by row (`owner_digests`,
`compare_owners`)."""

import hashlib
import json
import re
import subprocess
import threading
import time

from .base import log

OWNERS = "owners"
SOURCES = ("bpf", "proc")
AUTO = "sockscope -tanp"   # the default source: auto
TAN = "sockscope -tan"     # the reference of the 1.5x target


def source_label(source):
    return "sockscope -tanp --owners-source %s" % source


def owners_entries(S, ss):
    """The round-robin entries of the group (label, argv): the default
    (auto), each source, the reference `-tan`, and `ss -tanp`."""
    return ([(AUTO, [S, "-tanp"])] +
            [(source_label(s), [S, "-tanp", "--owners-source", s])
             for s in SOURCES] +
            [(TAN, [S, "-tan"]), ("ss -tanp", [ss, "-tanp"])])


# The -v line's pieces (src/output/console.rs, walk_note and walk_counts):
#   read the owners of N sockets in P processes from the kernel's task_file
#     iterator in X ms, C ms CPU (BPF setup S ms, read R ms; V vanished)
#   walked P processes, F fds, N sockets in X ms, C ms CPU (U unreadable,
#     V vanished[, K failed])[ (owners from /proc, not the BPF iterator:
#     REASON)]
# each followed by ", then read ..." or "; attributed in ..." on the same
# line; `--owners-source bpf` where it cannot run exits 3 with
#   sockscope: the BPF iterator for owners cannot run here: REASON
_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_BPF = re.compile(
    r"read the owners of (\d+) sockets in (\d+) processes from the "
    r"kernel's task_file iterator in " + _NUM + r" ms, " + _NUM +
    r" ms CPU \(BPF setup " + _NUM + r" ms, read " + _NUM +
    r" ms; (\d+) vanished\)")
_PROC = re.compile(
    r"walked (\d+) processes, (\d+) fds, (\d+) sockets in " + _NUM +
    r" ms, " + _NUM + r" ms CPU \((\d+) unreadable, (\d+) vanished"
    r"(?:, (\d+) failed)?\)")
_FALLBACK = " (owners from /proc, not the BPF iterator: "
_REFUSED = "the BPF iterator for owners cannot run here: "
# what follows the walk's note on the line (console.rs, verbose_line)
_TAILS = ("), then read ", "); attributed in ")


def parse_verbose(text):
    """The owner lookup's numbers from sockscope's `-v` stderr, or None
    when no line has them.  Times in seconds.  Keys: via ("bpf" or
    "proc"), wall, cpu, sockets, processes, vanished; bpf: setup, read;
    proc: fds, unreadable, failed, and fallback (why the iterator was not
    used, or None); or, for a refused `--owners-source bpf`, only
    {"via": None, "refused": REASON}."""
    for line in (text or "").splitlines():
        m = _BPF.search(line)
        if m:
            return {"via": "bpf", "sockets": int(m.group(1)),
                    "processes": int(m.group(2)),
                    "wall": float(m.group(3)) / 1000,
                    "cpu": float(m.group(4)) / 1000,
                    "setup": float(m.group(5)) / 1000,
                    "read": float(m.group(6)) / 1000,
                    "vanished": int(m.group(7))}
        m = _PROC.search(line)
        if m:
            rest = line[m.end():]
            why = None
            if rest.startswith(_FALLBACK):
                why = rest[len(_FALLBACK):]
                cut = [why.rfind(t) for t in _TAILS if why.rfind(t) >= 0]
                if cut:
                    why = why[:max(cut)]
                elif why.endswith(")"):
                    why = why[:-1]
            return {"via": "proc", "processes": int(m.group(1)),
                    "fds": int(m.group(2)), "sockets": int(m.group(3)),
                    "wall": float(m.group(4)) / 1000,
                    "cpu": float(m.group(5)) / 1000,
                    "unreadable": int(m.group(6)),
                    "vanished": int(m.group(7)),
                    "failed": int(m.group(8) or 0), "fallback": why}
        i = line.find(_REFUSED)
        if i >= 0:
            return {"via": None, "refused": line[i + len(_REFUSED):].strip()}
    return None


def run_verbose(argv, timeout, env):
    """One untimed run with `-v`, stdout to /dev/null: exit, parsed line,
    and stderr's start when nothing parsed."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        _, err = p.communicate()
    finally:
        timer.cancel()
        timer.join()
    text = err.decode("utf-8", "replace")
    rec = {"exit": p.returncode, "parsed": parse_verbose(text)}
    if rec["parsed"] is None or p.returncode != 0:
        rec["stderr"] = text.strip()[:300]
    return rec


def verbose_runs(S, k, timeout, env, deadline):
    """`sockscope -tanp -v --owners-source bpf` and `... proc`, `k` times
    each, interleaved (bpf proc bpf proc ...), then one run of the
    default (auto): source -> [record].  A round starts only if twice the
    longest run so far (plus 5 s) fits before `deadline`."""
    out = {s: [] for s in SOURCES}
    out["auto"] = []
    longest = 0.0
    for _ in range(k):
        if deadline - time.monotonic() < 2 * longest + 5:
            out["cut"] = "deadline"
            break
        for s in SOURCES:
            t0 = time.monotonic()
            out[s].append(run_verbose([S, "-tanp", "-v", "--owners-source",
                                       s], timeout, env))
            longest = max(longest, time.monotonic() - t0)
    out["auto"].append(run_verbose([S, "-tanp", "-v"], timeout, env))
    return out


def row_key(row):
    """A row's identity across two runs: protocol, family, both ends and
    the inode (0 for TIME_WAIT and SYN_RECV: their ends tell them
    apart)."""
    loc, rem = row.get("local") or {}, row.get("remote") or {}
    return "%s %s %s:%s %s:%s %s" % (
        row.get("proto"), row.get("family"), loc.get("addr"),
        loc.get("port"), rem.get("addr"), rem.get("port"), row.get("inode"))


def row_owners(row):
    """What a row says of its owners, canonical: its owners (sorted), the
    listener's owners and their attribution (for a queued connection).
    The `netns` field is left out: its name names a pid that differs run
    to run."""
    def norm(owners):
        if owners is None:
            return None
        return sorted((o.get("pid"), o.get("fd"), o.get("comm"))
                      for o in owners)
    return json.dumps([norm(row.get("owners")),
                       norm(row.get("listener_owners")),
                       row.get("listener_attribution")])


def _digest(text):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8)
                          .digest(), "little")


def owner_digests(lines):
    """Reads `sockscope --json` output (a JSON array, one row a line, as
    src/output/json.rs writes it) as it comes: {"rows", "owned" (rows
    with at least one owner), "bad" (lines that are no row), "map":
    row key digest -> owners digest, "dups": keys seen twice}.  Digests
    (8 bytes) keep 1M rows in ~100 MB."""
    out = {"rows": 0, "owned": 0, "bad": 0, "dups": 0, "map": {}}
    m = out["map"]
    for raw in lines:
        line = raw.strip()
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        if line in ("[", "]", ""):
            continue
        if line.endswith(","):
            line = line[:-1]
        try:
            row = json.loads(line)
        except ValueError:
            out["bad"] += 1
            continue
        if not isinstance(row, dict):
            out["bad"] += 1
            continue
        out["rows"] += 1
        if row.get("owners"):
            out["owned"] += 1
        k = _digest(row_key(row))
        if k in m:
            out["dups"] += 1
        m[k] = _digest(row_owners(row))
    return out


def compare_owners(a, b):
    """Two owner_digests results: rows in both, rows whose owners differ,
    rows in one only (TIME_WAIT expiring between the runs, say), and
    whether the owners are identical (no row in both differs, no
    duplicate key, no bad line)."""
    ma, mb = a["map"], b["map"]
    both = differ = 0
    for k, v in ma.items():
        w = mb.get(k)
        if w is None:
            continue
        both += 1
        if w != v:
            differ += 1
    return {"rows": (a["rows"], b["rows"]), "owned": (a["owned"],
                                                      b["owned"]),
            "both": both, "differ": differ,
            "only": (len(ma) - both, len(mb) - both),
            "bad": a["bad"] + b["bad"], "dups": a["dups"] + b["dups"],
            "identical": differ == 0 and both > 0 and
            a["bad"] + b["bad"] == 0 and a["dups"] + b["dups"] == 0}


def json_owners(argv, timeout, env):
    """One untimed `--json` run read as it comes (owner_digests), killed
    after `timeout` s."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t.start()
    try:
        res = owner_digests(p.stdout)
        p.stdout.close()
        p.wait()
    finally:
        timer.cancel()
        timer.join()
        t.join()
    res["exit"] = p.returncode
    text = (err[0] if err else b"").decode("utf-8", "replace").strip()
    if text:
        res["stderr"] = text[:300]
    return res


def measure_extra(tools, env, cfg, deadline):
    """After the group's round-robin: the `-v` runs of each source, then
    one `-tanp --json` run of each, their owners compared."""
    S = tools["sockscope"]
    k = cfg.get("owners_runs") or 5
    res = {"verbose": verbose_runs(S, k, cfg["run_timeout"], env, deadline)}
    if deadline - time.monotonic() < 4 * cfg["run_timeout"]:
        res["identical"] = None  # not run: the deadline
        return res
    runs = {}
    for s in SOURCES:
        runs[s] = json_owners([S, "-tanp", "--json", "--owners-source", s],
                              cfg["run_timeout"] * 2, env)
    cmp_ = compare_owners(runs["bpf"], runs["proc"])
    cmp_["exits"] = [runs[s]["exit"] for s in SOURCES]
    cmp_["identical"] = cmp_["identical"] and cmp_["exits"] == [0, 0]
    cmp_["stderr"] = {s: runs[s]["stderr"] for s in SOURCES
                      if runs[s].get("stderr")}
    res["identical"] = cmp_
    log("  owners: bpf and proc %s over %d rows in both (%d differ)" % (
        "identical" if cmp_["identical"] else "NOT identical",
        cmp_["both"], cmp_["differ"]))
    return res
