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
  The trace case's churn generator (churn/churn.rs) is Rust's standard
  library only, built here with `rustc -O`.
* The code is the package `sockbench/` next to this file (its __init__ lists
  the modules); this file is only the entry point, for the orchestrator and
  for each size's re-executed child alike.
"""

import sys

from sockbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
