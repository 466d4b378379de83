//! The Prometheus exposition of `analysis::metrics`' answer (issue 17):
//! Prometheus text 0.0.4 or OpenMetrics 1.0, both written by
//! prometheus-client 0.26 (its `prometheus_text` and `text` encoders).
//!
//! Each exposition is a fresh `Registry` holding one [`Families`]
//! collector over the scrape: the series are already counted, ordered and
//! cut by `analysis::metrics`, so a collector writes them as they are, in
//! that order, with no atomics and no label-set hash maps (a
//! `Family<Labels, Gauge>` would re-hash every series and order them as
//! its HashMap does). The crate escapes label values (backslash, double
//! quote, newline) and HELP texts; the values were made safe for a
//! terminal before (`analysis::metrics::label`). Counters are registered
//! without their `_total`, which the encoders add to the sample names
//! (and, in 0.0.4, to the TYPE line, as 0.0.4 expects).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::analysis::metrics::{
    ExporterTotals, NsTag, RTT_BUCKETS, Scrape, TCPEXT, family, state_word,
};

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

/// The exporter's own series, never cut: duration, sockets read, errors,
/// kernel reads, build info, and one `series_dropped_total` per family
/// that can lose series.
pub const OWN_SERIES: usize = 5 + family::CUTTABLE.len();

/// The exposition of `scrape` and the exporter's own `totals`.
pub fn encode(scrape: &Scrape, totals: &ExporterTotals, format: Format) -> Vec<u8> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families {
        scrape: scrape.clone(),
        totals: totals.clone(),
    }));
    let mut text = String::with_capacity(4096);
    // Writing to a String fails only if a collector does, and ours never
    // returns an error of its own: an error leaves what was written.
    let _ = match format {
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        }
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
    };
    text.into_bytes()
}

/// One scrape's families, for the registry.
#[derive(Debug)]
struct Families {
    scrape: Scrape,
    totals: ExporterTotals,
}

/// A label set in the order written.
type Labels = Vec<(&'static str, String)>;

/// `netns` and `container` of a tagged namespace.
fn ns_labels(ns: &Option<NsTag>) -> Labels {
    match ns {
        Some(t) => vec![
            ("netns", t.netns.clone()),
            ("container", t.container.clone()),
        ],
        None => Vec::new(),
    }
}

/// `netns` alone, when tagged.
fn netns_label(netns: &Option<String>) -> Labels {
    netns.iter().map(|n| ("netns", n.clone())).collect()
}

/// A sample's value: the counts are whole numbers, ratios and seconds
/// are not.
#[derive(Debug, Clone, Copy)]
enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

/// One family's descriptor, then each series (a gauge or a counter).
fn family<V: Into<Value>>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric_type: MetricType,
    series: impl IntoIterator<Item = (Labels, V)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, metric_type)?;
    for (labels, value) in series {
        if labels.is_empty() {
            write_value(&mut metric, value.into(), metric_type)?;
        } else {
            write_value(
                &mut metric.encode_family(&labels)?,
                value.into(),
                metric_type,
            )?;
        }
    }
    Ok(())
}

/// One sample of a gauge or a counter.
fn write_value(m: &mut MetricEncoder, value: Value, metric_type: MetricType) -> fmt::Result {
    match (metric_type, value) {
        (MetricType::Counter, Value::Int(v)) => m.encode_counter::<NoLabelSet, _, u64>(&v, None),
        (MetricType::Counter, Value::Float(v)) => m.encode_counter::<NoLabelSet, _, f64>(&v, None),
        (_, Value::Int(v)) => m.encode_gauge(&v),
        (_, Value::Float(v)) => m.encode_gauge(&v),
    }
}

impl Collector for Families {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let s = &self.scrape;
        family(
            &mut e,
            "sockscope_sockets",
            "Sockets by protocol, address family and state (UDP: close is unconnected, \
             established connected).",
            MetricType::Gauge,
            s.sockets.iter().map(|c| {
                let mut l = ns_labels(&c.ns);
                l.push(("protocol", c.protocol.name().to_owned()));
                l.push(("family", c.family.name().to_owned()));
                l.push(("state", state_word(c.state).to_owned()));
                (l, c.count)
            }),
        )?;
        let listener = |l: &crate::analysis::metrics::ListenerSeries| {
            let k = &l.key;
            let mut labels = netns_label(&k.netns);
            labels.push(("protocol", k.protocol.name().to_owned()));
            labels.push(("address", k.address.clone()));
            labels.push(("port", k.port.clone()));
            labels.push(("process", k.process.clone()));
            labels.push(("container", k.container.clone()));
            labels
        };
        family(
            &mut e,
            family::LISTENER_ACCEPT_QUEUE,
            "Connections completed and waiting for accept() (Recv-Q of the listener).",
            MetricType::Gauge,
            s.listeners.iter().map(|l| (listener(l), l.accept_queue)),
        )?;
        family(
            &mut e,
            family::LISTENER_BACKLOG,
            "The listener's backlog: the accept queue's limit (Send-Q).",
            MetricType::Gauge,
            s.listeners
                .iter()
                .filter_map(|l| Some((listener(l), l.backlog?))),
        )?;
        family(
            &mut e,
            family::LISTENER_FULL,
            "1 when the accept queue is over the backlog: new handshakes are dropped.",
            MetricType::Gauge,
            s.listeners.iter().map(|l| (listener(l), u64::from(l.full))),
        )?;
        family(
            &mut e,
            family::LISTENER_HALF_OPEN,
            "Half-open connections (SYN_RECV request sockets) waiting for the listener.",
            MetricType::Gauge,
            s.listeners.iter().map(|l| (listener(l), l.half_open)),
        )?;
        family(
            &mut e,
            family::LISTENER_UNACCEPTED,
            "Established connections without a descriptor, waiting in the listener's accept queue.",
            MetricType::Gauge,
            s.listeners.iter().map(|l| (listener(l), l.unaccepted)),
        )?;
        for (i, (kernel, name)) in TCPEXT.iter().enumerate() {
            let help = format!("TcpExt {kernel} of the namespace (/proc/net/netstat).");
            family(
                &mut e,
                name,
                &help,
                MetricType::Counter,
                s.tcpext
                    .iter()
                    .filter_map(|c| Some((netns_label(&c.netns), c.values[i]?))),
            )?;
        }
        family(
            &mut e,
            "sockscope_ephemeral_port_range_size",
            "Ports in net.ipv4.ip_local_port_range.",
            MetricType::Gauge,
            s.port_ranges
                .iter()
                .map(|r| (netns_label(&r.netns), r.size)),
        )?;
        let destination = |d: &crate::analysis::metrics::EphemeralSeries| {
            let mut l = ns_labels(&d.ns);
            l.push(("local_address", d.local_address.clone()));
            l.push(("destination_address", d.destination_address.clone()));
            l.push(("destination_port", d.destination_port.to_string()));
            l
        };
        family(
            &mut e,
            family::EPHEMERAL_USED,
            "Ephemeral ports in use from a local address to a destination address and port.",
            MetricType::Gauge,
            s.ephemeral.iter().map(|d| (destination(d), d.used)),
        )?;
        family(
            &mut e,
            family::EPHEMERAL_RATIO,
            "Ephemeral ports in use to a destination over the range size (0 to 1).",
            MetricType::Gauge,
            s.ephemeral.iter().map(|d| (destination(d), d.ratio)),
        )?;
        let remote = |ns: &Option<NsTag>, a: &str| {
            let mut l = ns_labels(ns);
            l.push(("remote_address", a.to_owned()));
            l
        };
        family(
            &mut e,
            family::TIME_WAIT,
            "TIME_WAIT sockets per remote address.",
            MetricType::Gauge,
            s.time_wait
                .iter()
                .map(|r| (remote(&r.ns, &r.remote_address), r.count)),
        )?;
        family(
            &mut e,
            family::CLOSE_WAIT,
            "CLOSE_WAIT sockets per process: the peer closed, the application did not.",
            MetricType::Gauge,
            s.close_wait.iter().map(|c| {
                let mut l = netns_label(&c.netns);
                l.push(("process", c.process.clone()));
                l.push(("container", c.container.clone()));
                (l, c.count)
            }),
        )?;
        if !s.rtt.is_empty() || !s.retransmitted.is_empty() {
            let mut metric = e.encode_descriptor(
                family::RTT,
                "Smoothed round-trip time of the open connections to a remote address (tcp_info).",
                None,
                MetricType::Histogram,
            )?;
            for r in &s.rtt {
                let labels = remote(&r.ns, &r.remote_address);
                let buckets: Vec<(f64, u64)> = RTT_BUCKETS.into_iter().zip(r.buckets).collect();
                metric
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(r.sum_seconds, r.count, &buckets, None)?;
            }
            family(
                &mut e,
                family::RETRANSMITTED,
                "Segments retransmitted over the open connections to a remote address \
                 (sum of tcpi_total_retrans).",
                MetricType::Gauge,
                s.retransmitted
                    .iter()
                    .map(|r| (remote(&r.ns, &r.remote_address), r.count)),
            )?;
        }
        let t = &self.totals;
        family(
            &mut e,
            "sockscope_scrape_duration_seconds",
            "How long the last read of the kernel took.",
            MetricType::Gauge,
            [(Vec::new(), s.duration.as_secs_f64())],
        )?;
        family(
            &mut e,
            "sockscope_scrape_sockets_read",
            "Sockets read by the last read of the kernel.",
            MetricType::Gauge,
            [(Vec::new(), s.sockets_read)],
        )?;
        family(
            &mut e,
            "sockscope_scrape_errors",
            "Reads of the kernel that failed.",
            MetricType::Counter,
            [(Vec::new(), t.errors)],
        )?;
        family(
            &mut e,
            "sockscope_kernel_reads",
            "Reads of the kernel since the exporter started.",
            MetricType::Counter,
            [(Vec::new(), t.kernel_reads)],
        )?;
        family(
            &mut e,
            "sockscope_series_dropped",
            "Series left out by --top or --max-series, per family.",
            MetricType::Counter,
            family::CUTTABLE.iter().map(|f| {
                (
                    vec![("family", (*f).to_owned())],
                    t.dropped.get(f).copied().unwrap_or(0),
                )
            }),
        )?;
        family(
            &mut e,
            "sockscope_build_info",
            "The exporter's version, as a label; the value is 1.",
            MetricType::Gauge,
            [(
                vec![("version", env!("CARGO_PKG_VERSION").to_owned())],
                1u64,
            )],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::metrics::{
        ListenerKey, ListenerProtocol, ListenerSeries, NsCounters, ProcessCount, RttSeries, label,
    };

    fn text(scrape: &Scrape, totals: &ExporterTotals, format: Format) -> String {
        String::from_utf8(encode(scrape, totals, format)).unwrap()
    }

    fn hostile() -> Scrape {
        Scrape {
            listeners: vec![ListenerSeries {
                key: ListenerKey {
                    netns: None,
                    protocol: ListenerProtocol::Unix,
                    address: crate::analysis::metrics::label_bytes(
                        b"/run/a\"b\\\n\x1b\xe2\x80\xae\xff",
                    ),
                    port: String::new(),
                    process: label("x\"y\\z\n"),
                    container: String::new(),
                },
                accept_queue: 1,
                backlog: Some(2),
                full: false,
                half_open: 0,
                unaccepted: 1,
            }],
            ..Scrape::default()
        }
    }

    /// prometheus-client escapes backslash, double quote and newline in
    /// label values; sockscope's escapes (made before) leave it no newline
    /// and no control character to write raw.
    #[test]
    fn label_values_are_escaped_twice_over() {
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let t = text(&hostile(), &ExporterTotals::default(), format);
            assert!(
                t.contains(
                    r#"sockscope_listener_backlog{protocol="unix",address="/run/a\"b\\\\\\x0a\\x1b\\u{202e}\\xff",port="",process="x\"y\\\\z\\x0a",container=""} 2"#
                ),
                "{t}"
            );
            assert!(!t.contains('\u{1b}') && !t.contains('\u{202e}'));
            assert_eq!(t.lines().filter(|l| l.contains("/run/a")).count(), 5);
        }
    }

    #[test]
    fn the_two_formats() {
        let mut totals = ExporterTotals {
            kernel_reads: 3,
            errors: 1,
            ..ExporterTotals::default()
        };
        totals.dropped.insert(family::TIME_WAIT, 4);
        let mut s = hostile();
        s.tcpext.push(NsCounters {
            netns: Some("web".into()),
            values: [Some(7), None, None, None, None, None, None],
        });
        s.close_wait.push(ProcessCount {
            netns: Some("web".into()),
            process: "java".into(),
            container: String::new(),
            count: 2,
        });
        let mut buckets = [0; RTT_BUCKETS.len()];
        buckets[0] = 1;
        buckets[3] = 2;
        s.rtt.push(RttSeries {
            ns: None,
            remote_address: "10.0.0.8".into(),
            buckets,
            sum_seconds: 0.0071,
            count: 4,
        });
        let p = text(&s, &totals, Format::Prometheus);
        for line in [
            "# TYPE sockscope_tcp_listen_overflows_total counter",
            "sockscope_tcp_listen_overflows_total{netns=\"web\"} 7",
            "# HELP sockscope_kernel_reads_total Reads of the kernel since the exporter started.",
            "sockscope_kernel_reads_total 3",
            "sockscope_scrape_errors_total 1",
            "sockscope_series_dropped_total{family=\"sockscope_time_wait_sockets\"} 4",
            "sockscope_series_dropped_total{family=\"sockscope_tcp_rtt_seconds\"} 0",
            "sockscope_close_wait_sockets{netns=\"web\",process=\"java\",container=\"\"} 2",
            "# TYPE sockscope_tcp_rtt_seconds histogram",
            "sockscope_tcp_rtt_seconds_bucket{remote_address=\"10.0.0.8\",le=\"0.0001\"} 1",
            "sockscope_tcp_rtt_seconds_bucket{remote_address=\"10.0.0.8\",le=\"0.001\"} 1",
            "sockscope_tcp_rtt_seconds_bucket{remote_address=\"10.0.0.8\",le=\"0.005\"} 3",
            "sockscope_tcp_rtt_seconds_bucket{remote_address=\"10.0.0.8\",le=\"5\"} 3",
            "sockscope_tcp_rtt_seconds_bucket{remote_address=\"10.0.0.8\",le=\"+Inf\"} 4",
            "sockscope_tcp_rtt_seconds_count{remote_address=\"10.0.0.8\"} 4",
            "sockscope_build_info{version=\"0.1.0\"} 1",
        ] {
            assert!(p.lines().any(|l| l == line), "{line:?} not in:\n{p}");
        }
        assert!(!p.contains("# EOF") && !p.contains("# UNIT"));
        let o = text(&s, &totals, Format::OpenMetrics);
        assert!(o.ends_with("# EOF\n"), "{o}");
        assert!(o.contains("# TYPE sockscope_kernel_reads counter\n"));
        assert!(o.contains("\nsockscope_kernel_reads_total 3\n"));
        // Every family has its HELP, in both.
        for t in [&p, &o] {
            let types = t.lines().filter(|l| l.starts_with("# TYPE ")).count();
            let helps = t.lines().filter(|l| l.starts_with("# HELP ")).count();
            assert_eq!(types, helps);
        }
    }
}
