"""sockbench: the benchmark behind bench/bench.py (see bench/README.md).

Modules, from the bottom up:

* base: paths, the environment marker, kernel constants, population shares,
  log, libc helpers (prctl, ptrace);
* netns: the private-namespace check and setup (safety);
* netlink: the census and the bare dump (NETLINK_SOCK_DIAG);
* population: the plan and the forked workers that hold the sockets;
* runner: spawning and timing one measured command;
* measure: the measurer, one size inside its namespace (groups, rounds);
* allns: the all-namespaces case (named namespaces, setns'd workers, the
  `ip netns exec ss` loop against `sockscope --all-netns`);
* live: the live views (issue 16): the watch group's command and per-tick
  numbers; trace's JSON-line counter, calibration and accounting, the churn
  generator (bench/churn/churn.rs), probes, tracefs;
* tracecase: the trace case in its `unshare -n` child (one tracer run per
  rate and variant under the churn);
* report: BENCHMARKS.md; plot: the SVG;
* cli: the options and the orchestrator (one `unshare -n` child per size,
  one for the trace case).

Only the Python standard library is used.
"""
