//! The Prometheus exposition of `analysis::metrics`' answer (issue 17):
//! Prometheus text 0.0.4 or OpenMetrics 1.0, encoded by prometheus-client.

use crate::analysis::metrics::{ExporterTotals, Scrape};

/// The text format of an exposition (config::metrics chooses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The Content-Type header of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The exposition of `scrape` and the exporter's own `totals` (skeleton:
/// the metrics part writes it with prometheus-client).
pub fn encode(scrape: &Scrape, totals: &ExporterTotals, format: Format) -> Vec<u8> {
    let mut text = String::from(
        "# HELP sockscope_kernel_reads_total Reads of the kernel.\n# TYPE sockscope_kernel_reads_total counter\n",
    );
    text.push_str(&format!(
        "sockscope_kernel_reads_total {}\n# HELP sockscope_scrape_sockets_read Sockets read.\n# TYPE sockscope_scrape_sockets_read gauge\nsockscope_scrape_sockets_read {}\n",
        totals.kernel_reads, scrape.sockets_read
    ));
    if format == Format::OpenMetrics {
        text.push_str("# EOF\n");
    }
    text.into_bytes()
}
