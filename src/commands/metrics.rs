//! `metrics` (issue 17): one exposition of the socket families, on stdout
//! or written atomically to `--output FILE` (node_exporter's textfile
//! collector). [`scrape`] is the one read both `metrics` and `serve` make.
//!
//! Per namespace, as `ports` does: a cheap listeners-only run first (TCP
//! LISTEN sockets, no owners: the ports something listens on, which the
//! ephemeral-port count leaves out), then one streamed run of every state
//! into [`Tally`], which counts each record as it passes; then the
//! namespace's TcpExt counters, read inside it.

use std::io::Write;
use std::time::Instant;

use super::ports::Listening;
use super::{CommandError, Context, Outcome};
use crate::analysis::PortCounter;
use crate::analysis::metrics::{ExporterTotals, Scrape, Tally};
use crate::config::metrics::{ExportOptions, MetricsOptions};
use crate::model::{Protocol, TcpState};
use crate::output;
use crate::pipeline::{Keep, RunReport};
use crate::source::{sysctl, textfile};

/// One read of the kernel: every namespace of the run, every family
/// counted, cut to `--top` and `--max-series`. `totals` (the exporter's
/// own counters) are updated: a read, an error, what was dropped.
pub fn scrape(
    cx: &Context<'_>,
    export: &ExportOptions,
    totals: &mut ExporterTotals,
) -> Result<Scrape, CommandError> {
    totals.kernel_reads += 1;
    match read(cx, export) {
        Ok(mut scrape) => {
            scrape.limit(
                export.top,
                export.max_series,
                output::metrics::OWN_SERIES,
                &mut totals.dropped,
            );
            Ok(scrape)
        }
        Err(e) => {
            totals.errors += 1;
            Err(e)
        }
    }
}

/// Every namespace's records into one [`Tally`] (module doc).
fn read(cx: &Context<'_>, export: &ExportOptions) -> Result<Scrape, CommandError> {
    let start = Instant::now();
    let config = cx.config;
    let mut tally = Tally::new(config.namespaces.tagged, export.tcp_info);
    let mut report = RunReport::default();
    let mut sockets_read = 0;
    let across = cx.across(&cx.plan(Keep::Everything), |ns| {
        let knobs = ns.knobs().unwrap_or_else(|| config.knobs.clone());
        let mut listeners_only = ns.plan.clone();
        listeners_only.query.states = [TcpState::Listen].into_iter().collect();
        listeners_only.query.protocols = vec![Protocol::Tcp];
        listeners_only.query.unix = false;
        listeners_only.query.info = false;
        listeners_only.owners = None;
        listeners_only.source.record = None;
        let mut listening = Listening::default();
        let first = ns.run_plan(&listeners_only, &mut listening)?;
        tally.set_ports(PortCounter::new(knobs.port_range(), listening.0));
        let second = ns.run(&mut tally)?;
        sockets_read += second.stats.sockets_read as u64;
        tally.namespace_done(&sysctl::read_tcpext(ns.proc_net()));
        report = second.after(first).after(std::mem::take(&mut report));
        Ok(())
    })?;
    // serve reads again and again: its notes are said once.
    let report = cx.gathered_once(&across, report);
    cx.verbose(
        &report,
        output::console::Shown::After {
            rows: 0,
            took: std::time::Duration::ZERO,
        },
    );
    Ok(tally.finish(sockets_read, start.elapsed()))
}

pub fn run(cx: &Context<'_>, options: &MetricsOptions) -> Result<Outcome, CommandError> {
    let mut totals = ExporterTotals::default();
    let scrape = scrape(cx, &options.export, &mut totals)?;
    let bytes = output::metrics::encode(&scrape, &totals, options.format);
    match &options.output {
        Some(path) => textfile::write_atomically(path, &bytes)?,
        None => {
            let mut out = cx.out();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(Outcome::Shown)
}
