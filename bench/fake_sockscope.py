#!/usr/bin/env python3
"""A stand-in for sockscope's live views, for testing the benchmark's
harness alone (bench/test_sockbench.py), never for numbers.

* `trace --jsonl --duration D`: polls `ss -tanH` every 20 ms for D seconds
  and, for each connection it has not seen before with an end on port 29170
  or 29171 (the churn's and the probes'; the churn's client end stays in
  TIME_WAIT for 60 s, so none is missed at the rates the tests use), prints
  the ten `state` lines of the contract one connection makes; at the end
  one `lost` line with count 0 for CPU 0.
* `watch ... --count N --interval I`: runs `ss -tan` N + 1 times, I apart.
* `metrics`: a small exposition in the contract's names, counting `ss
  -tanH`'s rows by state (`sockscope_sockets`), with the exporter's own
  families.
* `serve --listen ADDR:PORT ...`: that exposition over HTTP at /metrics,
  `sockscope_kernel_reads_total` one more at every scrape; it exits by
  itself after 300 s.
* `-V`: a version line.  Anything else: `ss` with the same arguments.
"""

import json
import os
import subprocess
import sys
import time


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03dZ" % (int(t * 1000) % 1000)


def line(old, new, local, remote):
    sock = {"proto": "tcp", "family": "inet", "state": new,
            "local": {"addr": local[0], "port": local[1]},
            "remote": {"addr": remote[0], "port": remote[1]}}
    return json.dumps({"event": "state", "time": now(), "socket": sock,
                       "previous": {"state": old}}, separators=(",", ":"))


def split(ep):
    addr, _, port = ep.rpartition(":")
    return addr.strip("[]"), int(port)


def connection_lines(client, server):
    c, s = client, server
    return [
        line("CLOSE", "SYN_SENT", (c[0], 0), s),
        line("LISTEN", "SYN_RECV", s, c),
        line("SYN_SENT", "ESTABLISHED", c, s),
        line("SYN_RECV", "ESTABLISHED", s, c),
        line("ESTABLISHED", "FIN_WAIT1", c, s),
        line("ESTABLISHED", "CLOSE_WAIT", s, c),
        line("FIN_WAIT1", "FIN_WAIT2", c, s),
        line("CLOSE_WAIT", "LAST_ACK", s, c),
        line("FIN_WAIT2", "CLOSE", c, s),
        line("LAST_ACK", "CLOSE", s, c),
    ]


def trace(args):
    d = args[args.index("--duration") + 1]
    seconds = float(d[:-1] if d.endswith("s") else d)
    end = time.monotonic() + seconds
    seen = set()
    out = sys.stdout
    first = True
    while time.monotonic() < end:
        p = subprocess.run(["ss", "-tanH"], capture_output=True, text=True)
        for row in p.stdout.splitlines():
            f = row.split()
            if len(f) < 5 or f[0] == "LISTEN":
                continue
            a, b = split(f[3]), split(f[4])
            if 29170 in (a[1], b[1]):
                server, client = (a, b) if a[1] == 29170 else (b, a)
            elif 29171 in (a[1], b[1]):
                server, client = (a, b) if a[1] == 29171 else (b, a)
            else:
                continue
            key = (client, server)
            if key in seen:
                continue
            seen.add(key)
            if first:  # there before the start: not traced
                continue
            out.write("\n".join(connection_lines(client, server)) + "\n")
        out.flush()
        first = False
        time.sleep(0.02)
    out.write(json.dumps({"event": "lost", "time": now(), "count": 0,
                          "cpu": 0}) + "\n")
    return 0


def watch(args):
    count = int(args[args.index("--count") + 1])
    interval = float(args[args.index("--interval") + 1])
    for i in range(count + 1):
        if i:
            time.sleep(interval)
        subprocess.run(["ss", "-tan"], stdout=subprocess.DEVNULL)
    return 0


def exposition(reads):
    counts = {}
    rows = subprocess.run(["ss", "-tanH"], capture_output=True,
                          text=True).stdout.splitlines()
    for row in rows:
        f = row.split()
        if f:
            st = f[0].lower().replace("-", "_")
            counts[st] = counts.get(st, 0) + 1
    out = ["# HELP sockscope_sockets Sockets by protocol, family, state.",
           "# TYPE sockscope_sockets gauge"]
    for st, n in sorted(counts.items()):
        out.append('sockscope_sockets{protocol="tcp",family="ipv4",'
                   'state="%s"} %d' % (st, n))
    out += ["# HELP sockscope_scrape_sockets_read Sockets read.",
            "# TYPE sockscope_scrape_sockets_read gauge",
            "sockscope_scrape_sockets_read %d" % len(rows),
            "# HELP sockscope_kernel_reads_total Reads of the kernel.",
            "# TYPE sockscope_kernel_reads_total counter",
            "sockscope_kernel_reads_total %d" % reads]
    return ("\n".join(out) + "\n").encode()


def serve(args):
    import http.server
    import threading
    host, _, port = args[args.index("--listen") + 1].rpartition(":")
    reads = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            reads[0] += 1
            body = exposition(reads[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer((host, int(port)), Handler)
    threading.Timer(300, srv.shutdown).start()
    srv.serve_forever()
    return 0


def main(args):
    if args[:1] == ["-V"]:
        print("sockscope 0.0.0-fake (bench/fake_sockscope.py)")
        return 0
    if args[:1] == ["trace"]:
        return trace(args)
    if args[:1] == ["watch"]:
        return watch(args)
    if args[:1] == ["metrics"]:
        sys.stdout.buffer.write(exposition(1))
        return 0
    if args[:1] == ["serve"]:
        return serve(args)
    os.execvp("ss", ["ss"] + args)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
