//! `metrics` and `serve` (issue 17): the exported families as a typed
//! answer. Counted as the records stream by (nothing but the listeners and
//! their queued connections is kept), then cut to `--top N` per family and
//! `--max-series` in all; `output::metrics` encodes the answer.

use std::collections::BTreeMap;

/// What a process that exports more than once (`serve`) keeps across
/// scrapes: its own counters. `metrics` starts from zero each run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExporterTotals {
    /// Reads of the kernel (scrapes that were not served from the last
    /// result).
    pub kernel_reads: u64,
    /// Reads that failed.
    pub errors: u64,
    /// Series left out by `--top` or `--max-series`, per family name.
    pub dropped: BTreeMap<&'static str, u64>,
}

/// One read of the kernel, every family counted (skeleton: the metrics
/// part fills it in).
#[derive(Debug, Default, Clone)]
pub struct Scrape {
    /// Inet records read, every namespace together.
    pub sockets_read: u64,
}
