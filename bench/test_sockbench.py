"""Tests of the benchmark's own pieces that can run alone (not run by CI:
the bench is not part of `cargo test`):

    python3 -m unittest discover -s bench -p 'test_*.py'

The parsing of the live views' JSON lines on lines written here to the
contract; the report's trace and watch sections on records made here; the
owners group's `-v` parsers, owner comparison and section; and,
as root with rustc, the churn generator (its exact counts, its bounds, its
refusals) in a private network namespace made with `unshare -n` for the
test and gone with it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sockbench import live, metricscase, ownerscase, report  # noqa: E402

NS = 4026532999


def state(old, new, local, remote, netns=NS, t="2026-11-29T20:06:28.123Z"):
    sock = {"proto": "tcp", "family": "inet", "state": new,
            "local": {"addr": local[0], "port": local[1]},
            "remote": {"addr": remote[0], "port": remote[1]}}
    obj = {"event": "state", "time": t, "socket": sock,
           "previous": {"state": old}}
    if netns is not None:
        obj["netns"] = {"inode": netns, "name": None}
    return json.dumps(obj).encode() + b"\n"


def connection(cport, server="127.200.0.1", t="2026-11-29T20:06:28.123Z"):
    """The 10 lines one churn connection makes (client closes first)."""
    c, s = ("127.0.0.1", cport), (server, live.SERVER_PORT)
    return [
        state("CLOSE", "SYN_SENT", ("127.0.0.1", 0), s, t=t),
        state("LISTEN", "SYN_RECV", s, c, t=t),
        state("SYN_SENT", "ESTABLISHED", c, s, t=t),
        state("SYN_RECV", "ESTABLISHED", s, c, t=t),
        state("ESTABLISHED", "FIN_WAIT1", c, s, t=t),
        state("ESTABLISHED", "CLOSE_WAIT", s, c, t=t),
        state("FIN_WAIT1", "FIN_WAIT2", c, s, t=t),
        state("CLOSE_WAIT", "LAST_ACK", s, c, t=t),
        state("FIN_WAIT2", "CLOSE", c, s, t=t),
        state("LAST_ACK", "CLOSE", s, c, t=t),
    ]


def lost(n, cpu):
    return json.dumps({"event": "lost", "time": "2026-11-29T20:06:29.000Z",
                       "count": n, "cpu": cpu}).encode() + b"\n"


class TraceCountTest(unittest.TestCase):
    def feed(self, lines, **kw):
        tc = live.TraceCount(my_netns=NS, **kw)
        for line in lines:
            tc.feed(line)
        return tc.result()

    def test_connections_are_counted_by_transition_and_tuple(self):
        lines = []
        for port in range(40000, 40050):
            lines += connection(port)
        r = self.feed(lines)
        self.assertEqual(r["received"], 500)
        self.assertEqual(r["lines"], 500)
        self.assertEqual(r["bad_lines"], 0)
        self.assertEqual(r["kinds"], {"state": 500})
        self.assertEqual(len(r["transitions"]), 10)
        self.assertTrue(all(n == 50 for n in r["transitions"].values()))
        # CLOSE -> SYN_SENT has no client port yet: not keyed
        self.assertEqual(r["unkeyed"], 50)
        self.assertEqual(r["connections_seen"], 50)
        self.assertEqual(r["lines_per_connection"], {"9": 50})
        cal = live.calibrate(r, 50)
        self.assertTrue(cal["constant"], cal)
        self.assertEqual(cal["per_connection"], 10)
        self.assertEqual(set(cal["sequence"].values()), {1})

    def test_same_client_port_to_two_servers_is_two_connections(self):
        r = self.feed(connection(40000, "127.200.0.1") +
                      connection(40000, "127.200.0.2"))
        self.assertEqual(r["connections_seen"], 2)
        self.assertEqual(r["lines_per_connection"], {"9": 2})

    def test_others_are_counted_apart(self):
        lines = connection(40000)
        # the listener itself, a probe, another port, another namespace
        lines.append(state("CLOSE", "LISTEN", ("0.0.0.0", live.SERVER_PORT),
                           ("0.0.0.0", 0)))
        lines.append(state("SYN_SENT", "ESTABLISHED", ("127.0.0.1", 5000),
                           ("127.0.0.1", live.PROBE_PORT)))
        lines.append(state("SYN_SENT", "ESTABLISHED", ("10.0.0.1", 5000),
                           ("10.0.0.2", 443)))
        lines.append(state("SYN_SENT", "ESTABLISHED", ("127.0.0.1", 5001),
                           ("127.200.0.1", live.SERVER_PORT), netns=NS + 1))
        # no netns field: classified by its ports
        lines.append(state("SYN_SENT", "ESTABLISHED", ("127.0.0.1", 5002),
                           ("127.200.0.1", live.SERVER_PORT), netns=None))
        # the churn's port at an address not the churn's (another test's)
        lines.append(state("SYN_SENT", "ESTABLISHED", ("127.0.0.1", 5003),
                           ("127.0.0.1", live.SERVER_PORT)))
        lines.append(state("SYN_RECV", "ESTABLISHED",
                           ("10.1.2.3", live.SERVER_PORT), ("10.1.2.4", 5)))
        r = self.feed(lines)
        self.assertEqual(r["state"], {"mine": 11, "probe": 1, "listener": 1,
                                      "foreign": 4})
        self.assertEqual(r["received"], 11)

    def test_lost_lines_add_up_by_cpu(self):
        r = self.feed([lost(7, 0), lost(5, 1), lost(3, 0)] + connection(1))
        self.assertEqual((r["lost"], r["lost_lines"]), (15, 3))
        self.assertEqual(r["lost_by_cpu"], {"0": 10, "1": 5})
        self.assertEqual(r["kinds"]["lost"], 3)

    def test_bad_lines_and_other_events(self):
        rt = json.dumps({"event": "retransmit", "time": "x", "socket": {
            "local": {"addr": "127.0.0.1", "port": 40000},
            "remote": {"addr": "127.200.0.1",
                       "port": live.SERVER_PORT}}}).encode()
        r = self.feed([b"not json\n", b"[1,2]\n", b"{\"time\":1}\n",
                       json.dumps({"event": "lost", "count": -1}).encode(),
                       rt, b"\n", b"   \n"])
        self.assertEqual(r["lines"], 5)
        self.assertEqual(r["bad_lines"], 4)
        self.assertEqual(r["bad_example"], "not json")
        self.assertEqual(r["other_mine"], {"retransmit": 1})
        self.assertEqual(r["received"], 0)

    def test_times(self):
        r = self.feed(connection(1, t="2026-11-29T20:06:28.500Z") +
                      connection(2, t="2026-11-29T20:06:27.900Z"))
        self.assertEqual(r["first"], "2026-11-29T20:06:27.900Z")
        self.assertEqual(r["last"], "2026-11-29T20:06:28.500Z")


class AccountingTest(unittest.TestCase):
    def res(self, transitions, lost=0):
        return {"received": sum(transitions.values()),
                "transitions": transitions, "lost": lost}

    def test_calibration_refuses_uneven_or_lossy_runs(self):
        cal = live.calibrate(self.res({"A>B": 50, "B>C": 49}), 50)
        self.assertFalse(cal["constant"])
        self.assertIn("B>C 49", cal["why"])
        cal = live.calibrate(self.res({"A>B": 50}, lost=1), 50)
        self.assertFalse(cal["constant"])
        self.assertIn("lost", cal["why"])
        cal = live.calibrate(self.res({}), 0)
        self.assertIsNone(cal["per_connection"])
        cal = live.calibrate(self.res({"A>B": 100, "B>C": 50}), 50)
        self.assertEqual(cal["per_connection"], 3)
        self.assertEqual(cal["sequence"], {"A>B": 2, "B>C": 1})

    def test_account(self):
        a = live.account({"received": 990, "lost": 10}, 100, 10)
        self.assertEqual((a["made"], a["gap"], a["exact"]), (1000, 0, True))
        self.assertAlmostEqual(a["share"], 0.99)
        a = live.account({"received": 990, "lost": 4}, 100, 10)
        self.assertEqual((a["gap"], a["exact"]), (-6, False))
        a = live.account({"received": 990, "lost": 4}, 100, None)
        self.assertIsNone(a["made"])
        self.assertIsNone(a["exact"])

    def test_watch_ticks(self):
        t = live.watch_ticks({"cpu": 2.2, "rss_kib": 30000},
                             {"cpu": 0.2, "rss_kib": 20000}, 10)
        self.assertEqual(t["snapshots"], 11)
        self.assertAlmostEqual(t["cpu_tick"], 0.2)
        self.assertAlmostEqual(t["cpu_ratio"], 1.0)
        self.assertAlmostEqual(t["rss_ratio"], 1.5)
        t = live.watch_ticks({"cpu": None, "rss_kib": None}, {"cpu": 0.2}, 10)
        self.assertIsNone(t["cpu_tick"])
        self.assertIsNone(t["rss_ratio"])


class FindProbeTest(unittest.TestCase):
    def test_probe_is_found_only_in_whole_lines(self):
        with tempfile.NamedTemporaryFile(delete=False) as f:
            path = f.name
            f.write(b"".join(connection(40000)))
            probe = state("SYN_SENT", "ESTABLISHED", ("127.0.0.1", 5000),
                          ("127.0.0.1", live.PROBE_PORT))
            f.write(probe[:-20])  # half a line: not yet
            f.flush()
            found, pos = live.find_probe(path, 0)
            self.assertFalse(found)
            f.write(probe[-20:])
            f.flush()
            found, pos2 = live.find_probe(path, pos)
            self.assertTrue(found)
            self.assertEqual(pos2, os.path.getsize(path))
            # a port number inside another field is no probe
            f.write(b'{"event":"state","skaddr":"0x%d0","socket":{"local":'
                    b'{"addr":"127.0.0.1","port":5},"remote":{"addr":'
                    b'"127.0.0.1","port":9}}}\n' % live.PROBE_PORT)
            f.flush()
            found, _ = live.find_probe(path, pos2)
            self.assertFalse(found)
        os.unlink(path)


class ReportTest(unittest.TestCase):
    meta = {"date": "2026-11-29 21:00 UTC", "seconds": 100, "argv": [],
            "interrupted": False, "tools": {"sockscope": "/x/sockscope"},
            "machine": {"kernel": "6.18", "cpu": "cpu", "nproc": 2,
                        "mem_kib": 1 << 20, "versions": {
                            "sockscope": "sockscope 0.1", "git": "abc",
                            "sockscope_mtime": "then"}}}

    def run_rec(self, rate, completed, received, lost, per=10,
                variant="all", foreign=3):
        cnt = {"received": received, "lost": lost, "lost_lines": 1 if lost
               else 0, "lost_by_cpu": {"0": lost} if lost else {},
               "state": {"mine": received, "probe": 4, "listener": 0,
                         "foreign": foreign}, "other_mine": {},
               "bad_lines": 0,
               "bad_example": None, "lines": received + 8}
        return {"rate_target": rate, "variant": variant,
                "argv": ["/x/sockscope", "trace",
                                              "--jsonl", "--duration", "28s"],
                "churn": {"rate": rate * 0.99, "completed": completed,
                          "failed": 0, "behind_max_ms": 3.0},
                "account": live.account(cnt, completed, per), "count": cnt,
                "tracer": {"cpu": 4.0, "wall": 28.0, "rss_kib": 10240,
                           "exit": 0}, "tracer_cpu_churn": 3.5,
                "churn_wall": 20.0, "churn_cpu": 9.0,
                "outside_cpu": {"other_share": 0.05}, "end_probe_seen": True,
                "output_bytes": 5e6}

    def test_trace_section(self):
        res = {"config": {"clients": 2, "servers": 2, "churn_seconds": 20,
                          "margin": 8, "calibrate": 50},
               "server_port": 29170, "probe_port": 29171, "seconds": 120,
               "calibration": {"constant": True, "completed": 50,
                               "received": 500, "lost": 0,
                               "per_connection": 10,
                               "sequence": {"CLOSE>SYN_SENT": 1}},
               "calibration_run": {"rate_target": 50},
               "runs": [self.run_rec(2000, 40000, 400000, 0),
                        self.run_rec(5000, 100000, 999990, 10),
                        self.run_rec(10000, 150000, 1400000, 99990),
                        self.run_rec(10000, 150000, 1400000, 120000),
                        self.run_rec(5000, 100000, 999990, 10, variant="ports",
                                     foreign=0),
                        self.run_rec(10000, 150000, 1400000, 99990,
                                     variant="ports", foreign=0)],
               "notes": []}
        text = report.render_trace(self.meta, res, None)
        self.assertIn("**10 transitions per connection**", text)
        self.assertIn("| 5000/s | all events | 4950/s | 100000 (0) | 1000000 "
                      "| 999990 | 99.9990% | 10 (1) | +0 | 3 |", text)
        self.assertIn("| 100% of the transitions received at 5000/s "
                      "(default buffers), port filter | 99.9990% (999990 of "
                      "1000000) | **no** |", text)
        self.assertIn("| lost counts exact at 5000/s, port filter: received "
                      "+ lost = made | 999990 + 10 vs 1000000 | yes |", text)
        self.assertIn("| lost counts exact at 10000/s, port filter: "
                      "received + lost = made | 1400000 + 99990 vs 1500000 "
                      "| **no** (-10) |", text)
        # every event: other namespaces' losses are in the count
        self.assertIn("| lost counts exact at 10000/s, all events: received "
                      "+ lost = made | 1400000 + 120000 vs 1500000 | not "
                      "exact: other namespaces' events share the lost "
                      "count; missing 100000 ≤ lost 120000 |", text)
        self.assertIn("100000 transitions missing, **not within** the 99990 "
                      "lost", text)
        spliced = report.splice_trace("# r\n\nold\n", text)
        again = report.splice_trace(spliced, "## trace\n\nnew\n")
        self.assertEqual(again.count(report.TRACE_BEGIN), 1)
        self.assertIn("new", again)
        self.assertNotIn("4950/s", again)
        self.assertTrue(again.startswith("# r\n\nold\n"))

    def test_trace_section_when_skipped(self):
        text = report.render_trace(self.meta, {"skipped": "global deadline"},
                                   None)
        self.assertIn("Not run: global deadline.", text)


EXPOSITION = b"""# HELP sockscope_sockets Sockets by protocol, family, state.
# TYPE sockscope_sockets gauge
sockscope_sockets{protocol="tcp",family="ipv4",state="established"} 89900
sockscope_sockets{protocol="unix",family="unix",state="listen"} 3
# TYPE sockscope_listener_accept_queue gauge
sockscope_listener_accept_queue{protocol="unix",address="/run/a b {x} 1",\
port="",process="sh",container=""} 0
# TYPE sockscope_kernel_reads_total counter
sockscope_kernel_reads_total 7
# TYPE sockscope_scrape_sockets_read gauge
sockscope_scrape_sockets_read 99000

node_tcp_connection_states{state="established"} 4
node_tcp_connection_states{state="tx_queued_bytes"} 4096
# EOF
"""


class MetricsParseTest(unittest.TestCase):
    def test_exposition_stats(self):
        st = metricscase.exposition_stats(EXPOSITION)
        self.assertEqual(st["bytes"], len(EXPOSITION))
        self.assertEqual(st["series"], 7)
        self.assertEqual(st["families"], 4)
        self.assertEqual(st["sockscope_series"], 5)
        self.assertTrue(st["eof"])
        self.assertEqual(st["values"], {"sockscope_kernel_reads_total": 7.0,
                                        "sockscope_scrape_sockets_read":
                                        99000.0})
        self.assertEqual(st["sockscope_names"]["sockscope_sockets"], 2)
        self.assertEqual(
            st["sockscope_names"]["sockscope_listener_accept_queue"], 1)
        self.assertEqual(st["counted"], {"sockscope_sockets": 89903.0,
                                         "node_tcp_connection_states": 4.0})

    def test_empty_and_text_format(self):
        st = metricscase.exposition_stats(b"")
        self.assertEqual((st["bytes"], st["series"], st["families"],
                          st["eof"]), (0, 0, 0, False))
        st = metricscase.exposition_stats(b"a 1\nb 2\n")
        self.assertEqual((st["series"], st["sockscope_series"]), (2, 0))

    def test_server_argvs(self):
        tools = {"sockscope": "/x/sockscope", "node_exporter": "/x/ne"}
        a = metricscase.server_argvs(tools, 1234, 5678)
        self.assertEqual(a[metricscase.SERVE], [
            "/x/sockscope", "serve", "--listen", "127.0.0.1:1234",
            "--min-interval", "0s"])
        self.assertEqual(a[metricscase.NODE], [
            "/x/ne", "--collector.disable-defaults", "--collector.tcpstat",
            "--web.listen-address=127.0.0.1:5678"])
        self.assertNotIn(metricscase.NODE, metricscase.server_argvs(
            {"sockscope": "/x/sockscope", "node_exporter": None}, 1, 2))
        tools["metrics_args"] = ["--tcp-info", "--top", "5"]
        self.assertEqual(metricscase.server_argvs(tools, 1, 2)[
            metricscase.SERVE][-3:], ["--tcp-info", "--top", "5"])
        self.assertEqual(metricscase.metrics_entries("/x/s", ["--tcp-info"]),
                         [("sockscope metrics --tcp-info",
                           ["/x/s", "metrics", "--tcp-info"]),
                          ("sockscope -tanp", ["/x/s", "-tanp"])])


def scrape_rec(wall, cpu, reads, nbytes=5000, series=60, status=200):
    return {"wall": wall, "cpu": cpu, "status": status, "bytes": nbytes,
            "series": series, "families": 20, "sockscope_series": series,
            "content_type": "text/plain", "sockscope_names": {
                "sockscope_sockets": 9}, "counted": {"sockscope_sockets":
                                                     100000.0},
            "values": {"sockscope_kernel_reads_total": reads}}


def one_shot(walls, cpus, rss=10240):
    return {"argv": ["/x"], "status": "ok", "warmup": {"wall": walls[0]},
            "runs": [{"wall": w, "cpu": c, "rss_kib": rss, "exit": 0,
                      "timed_out": False} for w, c in zip(walls, cpus)]}


def metrics_size(size, m_wall, t_wall, s_wall, n_wall, out_bytes):
    return {"size": size, "groups": {metricscase.METRICS: {
        "ref": "sockscope -tanp", "order": ["sockscope metrics",
                                            "sockscope -tanp"],
        "tools": {"sockscope metrics": one_shot([m_wall] * 3, [m_wall] * 3),
                  "sockscope -tanp": one_shot([t_wall] * 3, [t_wall] * 3)},
        "outside_cpu": {"other_share": 0.02},
        "census_start": {"tcp_total": 99000, "udp_total": 1000},
        "metrics": {
            "output": dict(metricscase.exposition_stats(EXPOSITION),
                           bytes=out_bytes, series=120, exit=0),
            "servers": {
                metricscase.SERVE: {
                    "argv": ["/x/sockscope", "serve"], "failure": None,
                    "scrapes": [scrape_rec(s_wall, 0.02, 2),
                                scrape_rec(s_wall * 2, 0.03, 3),
                                scrape_rec(s_wall, 0.01, 4),
                                scrape_rec(9.0, None, 4, status=None)],
                    "mem": {"rss_kib": 20480, "hwm_kib": 30720},
                    "cpu_idle_1s": 0.0, "exit": 0},
                metricscase.NODE: {
                    "argv": ["/x/ne"], "failure": None,
                    "scrapes": [scrape_rec(n_wall, 0.04, None, 7000, 54)],
                    "mem": {"rss_kib": 19000, "hwm_kib": 19000},
                    "cpu_idle_1s": 0.0, "exit": 0}}}}}}


class MetricsReportTest(unittest.TestCase):
    def test_server_summary(self):
        rec = metrics_size(100000, 0.3, 0.25, 0.2, 0.4, 9000)["groups"][
            metricscase.METRICS]["metrics"]["servers"][metricscase.SERVE]
        s = report.server_summary(rec)
        self.assertEqual((s["n"], s["n_bad"]), (3, 1))
        self.assertAlmostEqual(s["wall"], 0.2)
        self.assertAlmostEqual(s["cpu"], 0.02)
        self.assertEqual(s["reads_per_scrape"], 1.0)
        self.assertEqual((s["bytes"], s["series"]), (5000, 60))
        self.assertEqual(report.server_summary({"scrapes": [],
                                                "failure": "x"})["n"], 0)

    def test_section_and_targets(self):
        results = [metrics_size(10000, 0.03, 0.03, 0.02, 0.02, 8000),
                   metrics_size(100000, 0.3, 0.25, 0.4, 0.2, 9000),
                   metrics_size(1000000, 3.0, 2.5, 2.0, 2.0, 17000)]
        text = report.render_metrics(ReportTest.meta, results, Args())
        self.assertIn("| `sockscope metrics` wall ≤ 1.5x `sockscope -tanp` "
                      "| 100k | 1.20x (300.0 ms vs 250.0 ms) | yes |", text)
        self.assertIn("| a `sockscope serve` scrape wall ≤ 1.5x `sockscope "
                      "-tanp` | 100k | 1.60x (400.0 ms vs 250.0 ms) | **no** "
                      "|", text)
        self.assertIn("| 1M | `sockscope serve` | 3 (+1 failed) | 2.00 s |",
                      text)
        self.assertIn("| 100k | `sockscope serve` | 3 (+1 failed) | 400.0 ms "
                      "| 400.0 ms – 800.0 ms | 20.0 ms | 20.0 MiB (30.0 MiB) "
                      "| 5000 | 60 | 1.60x | 2.00x, 0.500x, 0.714x | 1 | 100000 (99000 + "
                      "1000) | 0.00 ms |",
                      text)
        self.assertIn("| series of `sockscope metrics` ≤ 10000", text)
        self.assertIn("| output bytes bounded: at 1M ≤ 2x at 10k | 10k → 1M "
                      "| 8000 → 17000 bytes (2.12x for 100x the sockets) | "
                      "**no** |", text)
        self.assertNotIn("does not read sockets yet", text)
        spliced = report.splice_metrics("# r\n\n" + report.TRACE_BEGIN +
                                        "\nT\n" + report.TRACE_END + "\n",
                                        text)
        again = report.splice_metrics(spliced, "## metrics\n\nnew\n")
        self.assertEqual(again.count(report.METRICS_BEGIN), 1)
        self.assertIn("\nT\n", again)
        self.assertNotIn("8000 → 17000", again)

    def test_placeholder_is_said(self):
        r = metrics_size(10000, 0.003, 0.03, 0.02, 0.02, 258)
        r["groups"][metricscase.METRICS]["metrics"]["output"][
            "sockscope_names"] = {"sockscope_scrape_sockets_read": 1}
        text = report.render_metrics(ReportTest.meta, [r], Args())
        self.assertIn("- Note: at 10k the exposition of `sockscope "
                      "metrics` has no `sockscope_sockets` series", text)


# sockscope's -v lines as src/output/console.rs writes them
BPF_LINE = ("sockscope: read the owners of 1000000 sockets in 53 processes "
            "from the kernel's task_file iterator in 331.2 ms, 318.0 ms CPU "
            "(BPF setup 5.1 ms, read 326.1 ms; 2 vanished), then read "
            "1000000 sockets and showed them as they came in 1101.0 ms (0 "
            "interrupted dumps retried); total 1432.2 ms")
PROC_LINE = ("sockscope: walked 78 processes, 1000412 fds, 1000000 sockets "
             "in 1902.5 ms, 3301.0 ms CPU (1 unreadable, 0 vanished), then "
             "read 1000000 sockets and showed them as they came in 1101.0 "
             "ms (0 interrupted dumps retried); total 3003.5 ms")
WHY = ("bpf(2) was refused (Operation not permitted (os error 1)): a "
       "seccomp filter is installed")
FALLBACK_LINE = ("sockscope: read 12 sockets in 0.4 ms (0 interrupted dumps "
                 "retried); walked 9 processes, 40 fds, 12 sockets in 1.2 "
                 "ms, 0.9 ms CPU (0 unreadable, 0 vanished, 3 failed) "
                 "(owners from /proc, not the BPF iterator: " + WHY +
                 "); attributed in 0.1 ms; showed 12 in 0.2 ms; total 2.0 "
                 "ms")


class OwnersParseTest(unittest.TestCase):
    def test_bpf_line(self):
        p = ownerscase.parse_verbose("sockscope: 1 socket with an inode "
                                     "had no visible owner\n" + BPF_LINE)
        self.assertEqual(p["via"], "bpf")
        self.assertEqual((p["sockets"], p["processes"], p["vanished"]),
                         (1000000, 53, 2))
        self.assertAlmostEqual(p["wall"], 0.3312)
        self.assertAlmostEqual(p["cpu"], 0.318)
        self.assertAlmostEqual(p["setup"], 0.0051)
        self.assertAlmostEqual(p["read"], 0.3261)

    def test_proc_line(self):
        p = ownerscase.parse_verbose(PROC_LINE)
        self.assertEqual(p["via"], "proc")
        self.assertEqual((p["processes"], p["fds"], p["sockets"],
                          p["unreadable"], p["vanished"], p["failed"]),
                         (78, 1000412, 1000000, 1, 0, 0))
        self.assertAlmostEqual(p["wall"], 1.9025)
        self.assertAlmostEqual(p["cpu"], 3.301)
        self.assertIsNone(p["fallback"])
        self.assertNotIn("setup", p)

    def test_fallback_suffix(self):
        p = ownerscase.parse_verbose(FALLBACK_LINE)
        self.assertEqual((p["via"], p["failed"]), ("proc", 3))
        self.assertEqual(p["fallback"], WHY)  # parentheses inside kept
        # the reason at the end of the line (no tail after it)
        p = ownerscase.parse_verbose(
            "walked 1 processes, 2 fds, 1 sockets in 0.1 ms, 0.1 ms CPU (0 "
            "unreadable, 0 vanished) (owners from /proc, not the BPF "
            "iterator: no BTF at /x (No such file or directory (os error "
            "2)))")
        self.assertEqual(p["fallback"], "no BTF at /x (No such file or "
                         "directory (os error 2))")

    def test_refused(self):
        p = ownerscase.parse_verbose(
            "sockscope: the BPF iterator for owners cannot run here: it "
            "needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (run as root)"
            "\n")
        self.assertEqual(p, {"via": None, "refused": "it needs CAP_BPF and "
                             "CAP_PERFMON, or CAP_SYS_ADMIN (run as root)"})

    def test_garbage(self):
        for text in ("", None, "sockscope: read 3 sockets in 0.1 ms",
                     "walked many processes, 2 fds, 1 sockets in 1 ms",
                     "read the owners of 4 sockets in 1 processes from the "
                     "kernel's task_file iterator in 7.6 ms (BPF setup 7.3 "
                     "ms, read 0.2 ms; 0 vanished)",  # no CPU: older -v
                     "\x00\xff garbage", "walked 1 processes, 2 fds, 1 "
                     "sockets in -1 ms, 1 ms CPU (0 unreadable, 0 vanished)"):
            self.assertIsNone(ownerscase.parse_verbose(text), text)


def json_row(port, inode, owners, state="ESTABLISHED", netns="pid 42"):
    return json.dumps({
        "proto": "tcp", "family": "inet", "state": state,
        "local": {"addr": "127.0.0.1", "port": port},
        "remote": {"addr": "127.0.0.2", "port": 9000}, "inode": inode,
        "owners": [{"pid": p, "comm": "w", "fd": fd} for p, fd in owners],
        "listener_owners": None, "listener_attribution": None,
        "netns": {"inode": 4026532999, "name": netns}})


def json_output(rows):
    """`sockscope --json` as it writes it: one row a line."""
    return ["[\n"] + [r + (",\n" if i + 1 < len(rows) else "\n")
                      for i, r in enumerate(rows)] + ["]\n"]


class OwnersCompareTest(unittest.TestCase):
    def test_same_owners_in_another_order_and_netns_name(self):
        a = ownerscase.owner_digests(json_output([
            json_row(1, 10, [(5, 3), (6, 3)]), json_row(2, 11, [(5, 4)]),
            json_row(3, 0, [], state="TIME_WAIT")]))
        b = ownerscase.owner_digests(json_output([
            json_row(2, 11, [(5, 4)], netns="pid 43"),
            json_row(1, 10, [(6, 3), (5, 3)], netns="pid 43")]))
        self.assertEqual((a["rows"], a["owned"], a["bad"]), (3, 2, 0))
        c = ownerscase.compare_owners(a, b)
        self.assertEqual((c["both"], c["differ"], c["only"]), (2, 0, (1, 0)))
        self.assertTrue(c["identical"])

    def test_a_different_owner_is_seen(self):
        a = ownerscase.owner_digests(json_output([json_row(1, 10, [(5, 3)]),
                                                  json_row(2, 11, [])]))
        b = ownerscase.owner_digests(json_output([json_row(1, 10, [(5, 4)]),
                                                  json_row(2, 11, [(7, 1)])]))
        c = ownerscase.compare_owners(a, b)
        self.assertEqual((c["both"], c["differ"]), (2, 2))
        self.assertFalse(c["identical"])

    def test_bad_lines_and_nothing_in_common(self):
        a = ownerscase.owner_digests(["[\n", "{not json\n", "3,\n", "]\n"])
        self.assertEqual((a["rows"], a["bad"]), (0, 2))
        c = ownerscase.compare_owners(a, a)
        self.assertFalse(c["identical"])  # no row, and bad lines
        e = ownerscase.owner_digests([])
        self.assertFalse(ownerscase.compare_owners(e, e)["identical"])

    def test_entries(self):
        self.assertEqual(ownerscase.owners_entries("/x/s", "/y/ss"), [
            ("sockscope -tanp", ["/x/s", "-tanp"]),
            ("sockscope -tanp --owners-source bpf",
             ["/x/s", "-tanp", "--owners-source", "bpf"]),
            ("sockscope -tanp --owners-source proc",
             ["/x/s", "-tanp", "--owners-source", "proc"]),
            ("sockscope -tan", ["/x/s", "-tan"]),
            ("ss -tanp", ["/y/ss", "-tanp"])])


def verbose_rec(line, code=0):
    return {"exit": code, "parsed": ownerscase.parse_verbose(line)}


def owners_size(size, walls, bpf_cpu, proc_cpu, setup, identical=True,
                ss_over=False):
    """A fake result of the owners group: `walls`: label -> wall of every
    run; the -v lines made from the CPU and setup given."""
    tools = {lab: one_shot([w] * 3, [w] * 3) for lab, w in walls.items()}
    order = [lab for lab, _ in ownerscase.owners_entries("s", "ss")]
    if ss_over:
        tools["ss -tanp"] = {"argv": ["ss"], "status": "over_budget",
                             "warmup": {"wall": 60.0, "timed_out": True},
                             "runs": []}
    bpf = ("read the owners of 90 sockets in 5 processes from the kernel's "
           "task_file iterator in %.1f ms, %.1f ms CPU (BPF setup %.1f ms, "
           "read 1.0 ms; 0 vanished)" % (setup * 1000 + 1, bpf_cpu * 1000,
                                         setup * 1000))
    proc = ("walked 9 processes, 99 fds, 90 sockets in 50.0 ms, %.1f ms CPU "
            "(0 unreadable, 0 vanished)" % (proc_cpu * 1000))
    return {"size": size, "groups": {ownerscase.OWNERS: {
        "ref": ownerscase.TAN, "order": order, "tools": tools,
        "outside_cpu": {"other_share": 0.02},
        ownerscase.OWNERS: {
            "verbose": {"bpf": [verbose_rec(bpf)] * 3,
                        "proc": [verbose_rec(proc)] * 3,
                        "auto": [verbose_rec(bpf)]},
            "identical": {"rows": (100, 100), "owned": (90, 90),
                          "both": 99, "differ": 0 if identical else 4,
                          "only": (1, 1), "bad": 0, "dups": 0,
                          "exits": [0, 0], "identical": identical}}}}}


class OwnersReportTest(unittest.TestCase):
    walls = {"sockscope -tanp": 1.4, "sockscope -tanp --owners-source bpf":
             1.35, "sockscope -tanp --owners-source proc": 3.0,
             "sockscope -tan": 1.0, "ss -tanp": 5.0}

    def test_section_and_targets(self):
        results = [owners_size(100000, {k: v / 10 for k, v in
                                        self.walls.items()},
                               0.02, 0.3, 0.006),
                   owners_size(1000000, self.walls, 0.5, 3.0, 0.025,
                               identical=False, ss_over=True)]
        text = report.render_owners(ReportTest.meta, results, OwnersArgs())
        self.assertTrue(text.startswith(
            "## owners: the BPF iterator and the /proc walk\n"))
        self.assertIn("| `sockscope -tanp` (auto) wall ≤ 1.5x `sockscope "
                      "-tan`, same rounds | 1M | 1.40x (1.40 s vs 1.00 s) "
                      "| yes |", text)
        self.assertIn("| 100k | 1.40x (140.0 ms vs 100.0 ms) | yes (info) |",
                      text)
        self.assertIn("| owner lookup CPU: iterator ≤ 0.15x the /proc walk "
                      "| 100k | 0.067x (20.0 ms vs 300.0 ms) | yes |", text)
        self.assertIn("| owner lookup CPU: iterator ≤ 0.15x the /proc walk "
                      "| 1M | 0.167x (500.0 ms vs 3.00 s) | **no** |", text)
        self.assertIn("| BPF setup < 20 ms | 100k | 6.00 ms (median of 3) "
                      "| yes |", text)
        self.assertIn("| BPF setup < 20 ms | 1M | 25.0 ms (median of 3) | "
                      "**no** |", text)
        self.assertIn("| owners identical, iterator and /proc walk | 100k | "
                      "99 rows in both, 0 differ | yes |", text)
        self.assertIn("| 1M | 99 rows in both, 4 differ | **no** |", text)
        self.assertIn("| 1M | `ss -tanp` | 0 | > 60 s |", text)
        self.assertIn("| 1M | `sockscope -tanp --owners-source proc` | 3 | "
                      "3.00 s | 3.00 s – 3.00 s | 3.00 s | 10.0 MiB | 3.00x "
                      "| 3.00x |", text)
        self.assertIn("| 1M | `bpf` | 3 of 3 | 26.0 ms | 500.0 ms | 25.0 "
                      "ms | 1.00 ms | 90 | 5 | 0.520x, 0.167x |", text)
        self.assertIn("| 100k | 100, 100 | 90, 90 | 99 | 0 | 1, 1 | yes |",
                      text)
        self.assertNotIn("- Note:", text)
        spliced = report.splice_owners("# r\n\n" + report.METRICS_BEGIN +
                                       "\nM\n" + report.METRICS_END + "\n",
                                       text)
        again = report.splice_owners(spliced, "## owners\n\nnew\n")
        self.assertEqual(again.count(report.OWNERS_BEGIN), 1)
        self.assertIn("\nM\n", again)
        self.assertNotIn("99 rows in both", again)

    def test_fallback_is_said(self):
        r = owners_size(10000, self.walls, 0.002, 0.03, 0.005)
        v = r["groups"][ownerscase.OWNERS][ownerscase.OWNERS]["verbose"]
        refused = ("sockscope: the BPF iterator for owners cannot run "
                   "here: " + WHY)
        v["bpf"] = [verbose_rec(refused, 3)] * 2
        v["auto"] = [verbose_rec(FALLBACK_LINE)]
        text = report.render_owners(ReportTest.meta, [r], OwnersArgs())
        self.assertIn("| 10k | `bpf` | 0 of 2 | — |", text)
        self.assertIn("- Note: at 10k `--owners-source bpf` refused: " + WHY,
                      text)
        self.assertIn("- Note: at 10k the default (`auto`) used proc: " + WHY,
                      text)
        self.assertIn("| BPF setup < 20 ms | 10k | — | n/a (not measured) |",
                      text)

    def test_verbose_summary(self):
        line = ("walked 9 processes, 99 fds, %d sockets in %.1f ms, 1.0 ms "
                "CPU (0 unreadable, 0 vanished)")
        recs = [verbose_rec(line % (n, ms)) for n, ms in
                ((90, 4.0), (91, 2.0), (92, 3.0), (93, 1.0))]
        recs.append(verbose_rec(BPF_LINE))  # another source: not counted
        recs.append({"exit": 1, "parsed": None, "stderr": "boom"})
        s = report.verbose_summary(recs, "proc")
        self.assertEqual((s["runs"], s["n"], s["sockets"]), (6, 4, 91))
        self.assertAlmostEqual(s["wall"], 0.0025)
        self.assertEqual((s["exits"], s["unparsed"]), ([0, 1], ["boom"]))

    def test_no_size(self):
        text = report.render_owners(ReportTest.meta, [{"size": 1000,
                                                       "groups": {}}],
                                    OwnersArgs())
        self.assertIn("No size ran the group.", text)


class OwnersArgs:
    runs = 3
    owners_runs = 3
    run_timeout = 60


class Args:
    metrics_runs = 3
    metrics_scrapes = 5
    run_timeout = 60


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("rustc") and
                     shutil.which("unshare"),
                     "needs root (unshare -n), rustc and unshare")
class ChurnTest(unittest.TestCase):
    """The generator in a namespace made for the test (gone with it)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sockbench-test-")
        cls.bin = live.build_churn(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def churn(self, args, stdin, timeout=60):
        script = ("ip link set lo up && sysctl -qw "
                  "net.ipv4.ip_local_port_range='10000 65000' && "
                  "exec \"$0\" \"$@\"")
        return subprocess.run(["unshare", "-n", "sh", "-c", script, self.bin]
                              + args, input=stdin, capture_output=True,
                              timeout=timeout)

    def test_exact_count_at_a_low_rate(self):
        p = self.churn(["--rate", "200", "--seconds", "1", "--port",
                        "29170"], b"go\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0], "ready")
        c = json.loads(lines[1])
        self.assertEqual(c["completed"], 200)
        self.assertEqual(c["failed"], 0)
        self.assertEqual(c["accepted"], 200)
        self.assertEqual(c["server_closed"], 200)
        # on its schedule: the last one is due at 0.995 s (a loaded
        # machine may run it a little late, never early)
        self.assertGreater(c["last_close_s"], 0.99)
        self.assertLess(c["last_close_s"], 2.0)

    def test_it_stops_at_its_time(self):
        # asked for more than it can make in 0.5 s: stops issuing at 0.5 s
        p = self.churn(["--rate", "100000", "--seconds", "0.5", "--port",
                        "29170"], b"go\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        c = json.loads(p.stdout.decode().splitlines()[1])
        self.assertLess(c["issue_s"], 1.0)
        self.assertEqual(c["completed"], c["server_closed"])
        self.assertLessEqual(c["completed"], 50000)
        self.assertGreater(c["completed"], 0)

    def test_nothing_without_go(self):
        p = self.churn(["--rate", "10", "--seconds", "1", "--port", "29170"],
                       b"")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout.decode().splitlines(), ["ready"])
        self.assertIn(b"expected 'go'", p.stderr)

    def test_bounds_are_refused(self):
        for args in (["--rate", "0", "--seconds", "1", "--port", "1"],
                     ["--rate", "100001", "--seconds", "1", "--port", "1"],
                     ["--rate", "10", "--seconds", "301", "--port", "1"],
                     ["--rate", "100000", "--seconds", "200", "--port", "1"],
                     ["--rate", "10", "--seconds", "1"],
                     ["--rate", "10", "--seconds", "1", "--port", "1",
                      "--bogus", "1"],
                     ["--rate"]):
            p = self.churn(args, b"go\n")
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(b"usage", p.stderr)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("rustc") and
                     shutil.which("unshare") and shutil.which("ss"),
                     "needs root (unshare -n), rustc, unshare and ss")
class DryRunTest(unittest.TestCase):
    """bench.py end to end with bench/fake_sockscope.py in place of
    sockscope: the orchestration (namespace child, probes, go, counts,
    report, raw JSON), not the numbers."""

    def bench(self, *args):
        tmp = tempfile.mkdtemp(prefix="sockbench-dry-")
        self.addCleanup(shutil.rmtree, tmp)
        out = os.path.join(tmp, "b.md")
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.run(
            [sys.executable, os.path.join(here, "bench.py"), "--sockscope",
             os.path.join(here, "fake_sockscope.py"), "--out", out,
             "--raw", os.path.join(tmp, "r.json"), "--raw-trace",
             os.path.join(tmp, "t.json"), "--plot",
             os.path.join(tmp, "p.svg")] + list(args),
            capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        with open(out) as f:
            return tmp, f.read()

    def test_trace_case(self):
        tmp, text = self.bench("--groups", "trace", "--trace-rates",
                               "100,200", "--trace-seconds", "2",
                               "--trace-margin", "4")
        with open(os.path.join(tmp, "t.json")) as f:
            res = json.load(f)["trace"]
        self.assertNotIn("error", res)
        self.assertEqual(res["calibration"]["per_connection"], 10)
        self.assertTrue(res["calibration"]["constant"])
        self.assertEqual([(r["rate_target"], r["variant"])
                          for r in res["runs"]],
                         [(100, "all"), (100, "ports"), (200, "all"),
                          (200, "ports"), (200, "small")])
        self.assertEqual(res["runs"][1]["argv"][-15:],
                         live.VARIANTS["ports"])
        self.assertEqual(res["runs"][4]["argv"][-17:],
                         ["--buffer-pages", "4"] + live.VARIANTS["ports"])
        for r, n in zip(res["runs"], (200, 200, 400, 400, 400)):
            self.assertEqual(r["churn"]["completed"], n)
            self.assertAlmostEqual(r["churn"]["rate"], n / 2, delta=1)
            self.assertEqual(r["account"]["made"], 10 * n)
            self.assertEqual(r["count"]["received"], 10 * n)
            self.assertTrue(r["account"]["exact"])
            self.assertTrue(r["end_probe_seen"])
            self.assertEqual(r["churn_exit"], 0)
            self.assertEqual(r["tracer"]["exit"], 0)
        self.assertIn("**10 transitions per connection**", text)
        self.assertIn("| lost counts exact at 200/s, port filter: received "
                      "+ lost = made | 4000 + 0 vs 4000 | yes |", text)

    def test_watch_group(self):
        tmp, text = self.bench("--groups", "watch", "--sizes", "1000",
                               "--watch-count", "2", "--watch-runs", "1",
                               "--runs", "1")
        with open(os.path.join(tmp, "r.json")) as f:
            res = json.load(f)["results"][0]
        g = res["groups"]["watch"]
        label = g["order"][0]
        self.assertEqual(g["tools"][label]["argv"][1:], [
            "watch", "-tan", "--jsonl", "--interval", "1", "--count", "2"])
        self.assertEqual(len(g["tools"][label]["runs"]), 1)
        self.assertEqual(g["tools"][label]["runs"][0]["exit"], 0)
        self.assertIn("## watch: CPU per tick and peak RSS", text)
        self.assertIn("`watch`: CPU per tick ≤ 1.2x", text)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and
                     shutil.which("ss"),
                     "needs root (unshare -n), unshare and ss")
class MetricsDryRunTest(unittest.TestCase):
    """The metrics group end to end with bench/fake_sockscope.py (its
    `metrics` and `serve`) and, when installed, the real node_exporter:
    servers started, scraped, stopped by pid; its own section only."""

    def test_metrics_group(self):
        tmp = tempfile.mkdtemp(prefix="sockbench-dry-")
        self.addCleanup(shutil.rmtree, tmp)
        out = os.path.join(tmp, "b.md")
        with open(out, "w") as f:
            f.write("# kept\n\nother sections\n")
        here = os.path.dirname(os.path.abspath(__file__))
        raw = os.path.join(tmp, "m.json")
        p = subprocess.run(
            [sys.executable, os.path.join(here, "bench.py"), "--sockscope",
             os.path.join(here, "fake_sockscope.py"), "--out", out,
             "--raw-metrics", raw, "--groups", "metrics", "--sizes", "1000",
             "--metrics-runs", "1", "--metrics-scrapes", "3"],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        with open(out) as f:
            text = f.read()
        self.assertTrue(text.startswith("# kept\n\nother sections\n"))
        self.assertIn(report.METRICS_BEGIN, text)
        with open(raw) as f:
            res = json.load(f)["results"][0]
        g = res["groups"][metricscase.METRICS]
        self.assertEqual(g["order"], ["sockscope metrics", "sockscope -tanp"])
        m = g["metrics"]
        self.assertGreater(m["output"]["sockscope_names"]["sockscope_sockets"],
                           0)
        serve = m["servers"][metricscase.SERVE]
        self.assertIsNone(serve["failure"])
        self.assertEqual([x["status"] for x in serve["scrapes"]], [200] * 3)
        # --min-interval 0: one kernel read a scrape (the warm-up was 1)
        self.assertEqual([x["values"]["sockscope_kernel_reads_total"]
                          for x in serve["scrapes"]], [2, 3, 4])
        self.assertEqual(serve["exit"], -15)  # stopped by SIGTERM
        node = m["servers"].get(metricscase.NODE)
        if shutil.which(metricscase.NODE_EXPORTER):
            self.assertEqual([x["status"] for x in node["scrapes"]],
                             [200] * 3)
            self.assertGreater(node["scrapes"][0]["series"], 0)
        else:
            sys.stderr.write("node_exporter not installed: its scrapes "
                             "were not checked\n")
            self.assertIsNone(node)


def release_sockscope():
    """The sockscope binary for the owners group's real run:
    $SOCKBENCH_SOCKSCOPE, else the repository's release build."""
    path = os.environ.get("SOCKBENCH_SOCKSCOPE") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "target", "release", "sockscope")
    return path if os.access(path, os.X_OK) else None


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and
                     shutil.which("ss") and release_sockscope(),
                     "needs root (unshare -n), unshare, ss and a sockscope "
                     "release binary ($SOCKBENCH_SOCKSCOPE or "
                     "target/release/sockscope)")
class OwnersRunTest(unittest.TestCase):
    """The owners group end to end with the real sockscope (the -v lines
    and --owner-source are its own) on 1000 sockets: its own section and
    raw JSON only, every -v line parsed, the owners of both sources
    identical."""

    def test_owners_group(self):
        tmp = tempfile.mkdtemp(prefix="sockbench-owners-")
        self.addCleanup(shutil.rmtree, tmp)
        out = os.path.join(tmp, "b.md")
        with open(out, "w") as f:
            f.write("# kept\n\nother sections\n")
        here = os.path.dirname(os.path.abspath(__file__))
        raw = os.path.join(tmp, "o.json")
        p = subprocess.run(
            [sys.executable, os.path.join(here, "bench.py"), "--sockscope",
             release_sockscope(), "--out", out, "--raw-owners", raw,
             "--raw", os.path.join(tmp, "r.json"), "--plot",
             os.path.join(tmp, "p.svg"), "--groups", "owners", "--sizes",
             "1000", "--runs", "1", "--owners-runs", "2"],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertFalse(os.path.exists(os.path.join(tmp, "r.json")))
        self.assertFalse(os.path.exists(os.path.join(tmp, "p.svg")))
        with open(out) as f:
            text = f.read()
        self.assertTrue(text.startswith("# kept\n\nother sections\n"))
        self.assertIn(report.OWNERS_BEGIN, text)
        self.assertIn("| owners identical, iterator and /proc walk | 1k | ",
                      text)
        with open(raw) as f:
            res = json.load(f)["results"][0]
        g = res["groups"][ownerscase.OWNERS]
        self.assertEqual(g["order"], [lab for lab, _ in
                                      ownerscase.owners_entries("s", "ss")])
        for lab in g["order"]:
            self.assertEqual([r["exit"] for r in g["tools"][lab]["runs"]],
                             [0], lab)
        v = g[ownerscase.OWNERS]["verbose"]
        self.assertEqual(len(v["bpf"]), 2)
        self.assertEqual(len(v["proc"]), 2)
        for rec in v["bpf"] + v["proc"] + v["auto"]:
            self.assertIsNotNone(rec["parsed"], rec)
        for rec in v["proc"]:
            self.assertEqual(rec["parsed"]["via"], "proc")
            self.assertIsNone(rec["parsed"]["fallback"])
        for rec in v["bpf"]:  # root, BTF here: the iterator runs
            self.assertEqual((rec["exit"], rec["parsed"]["via"]),
                             (0, "bpf"), rec)
            self.assertGreater(rec["parsed"]["sockets"], 900)
        c = g[ownerscase.OWNERS]["identical"]
        self.assertTrue(c["identical"], c)
        self.assertGreater(c["both"], 900)
        self.assertGreater(c["owned"][0], 800)


if __name__ == "__main__":
    unittest.main()
