//! `serve` (issue 17): the exposition over HTTP, for Prometheus to scrape.
//!
//! The endpoint itself (listener, connections, TLS, basic authentication)
//! is [`crate::source::http`]; this module owns the reads of the kernel.
//! They happen on the command's thread only (the namespace loop changes
//! the calling thread's network namespace, and [`Context`] is not shared):
//! connection threads send each authenticated `/metrics` request over a
//! channel, and this thread answers it from the last read when that is
//! younger than `--min-interval`, else reads again ([`metrics::scrape`]).
//! One request at a time, so one read at a time by construction: a scrape
//! storm reads the kernel at most once per interval. A failed read is an
//! HTTP 500 with its message (and `sockscope_scrape_errors_total` grows);
//! it is kept for the interval too, so failures cannot hammer the host.
//!
//! SIGTERM and SIGINT are read from a signalfd that the accepting thread
//! polls beside its listener ([`crate::source::signals::Stops`]): it stops
//! accepting and closes the port, the connections in flight are answered,
//! then the run ends, with status 0 for SIGTERM; by SIGINT it dies as every
//! sockscope run does (the shell sees 130).

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{CommandError, Context, Outcome, metrics};
use crate::analysis::metrics::{ExporterTotals, Scrape};
use crate::config::metrics::ServeOptions;
use crate::output;
use crate::output::console;
use crate::output::metrics::Format;
use crate::source::http::{Answer, MetricsRequest, Security, Server, Wanted};
use crate::source::signals::Stops;

/// What the serving thread keeps between requests: the exporter's own
/// counters, the last read and its expositions, encoded when first asked.
struct Exporter {
    min_interval: Duration,
    totals: ExporterTotals,
    /// When the last read started, and the read or its error's message;
    /// `None` before the first.
    last: Option<(Instant, Result<Scrape, String>)>,
    /// The last read encoded: Prometheus text, OpenMetrics.
    bodies: [Option<Arc<[u8]>>; 2],
}

impl Exporter {
    fn new(min_interval: Duration) -> Exporter {
        Exporter {
            min_interval,
            totals: ExporterTotals::default(),
            last: None,
            bodies: [None, None],
        }
    }

    /// Answers one request, reading the kernel first (`read`) when the
    /// last read is older than `--min-interval`.
    fn answer(
        &mut self,
        request: MetricsRequest,
        read: impl FnOnce(&mut ExporterTotals) -> Result<Scrape, CommandError>,
    ) {
        let last = match self.last.take() {
            Some((at, last)) if at.elapsed() < self.min_interval => (at, last),
            _ => {
                let at = Instant::now();
                self.bodies = [None, None];
                let read = read(&mut self.totals).map_err(|e| {
                    self.totals.errors += 1;
                    e.message()
                });
                (at, read)
            }
        };
        let (_, last) = self.last.insert(last);
        let format = match request.wanted {
            Wanted::PrometheusText => Format::Prometheus,
            Wanted::OpenMetrics => Format::OpenMetrics,
        };
        let answer = match last {
            Err(text) => Answer::Failed(text.clone()),
            Ok(scrape) => {
                let slot = &mut self.bodies[usize::from(format == Format::OpenMetrics)];
                let totals = &self.totals;
                let body = slot
                    .get_or_insert_with(|| {
                        Arc::from(output::metrics::encode(scrape, totals, format))
                    })
                    .clone();
                Answer::Exposition {
                    content_type: format.content_type(),
                    body,
                }
            }
        };
        request.answer(answer);
    }
}

/// The warning for an endpoint reachable beyond loopback without TLS or
/// basic authentication (`None` on loopback or with both).
fn exposure(server: &Server, tls: bool, auth: bool) -> Option<String> {
    let addr = server.local_addr();
    if addr.ip().to_canonical().is_loopback() {
        return None;
    }
    let what = match (tls, auth) {
        (true, true) => return None,
        (false, false) => {
            "without TLS or basic authentication: whoever reaches it reads process names and \
             addresses"
        }
        (true, false) => {
            "without basic authentication: whoever reaches it reads process names and addresses"
        }
        (false, true) => "without TLS: passwords and metrics cross the network in clear",
    };
    Some(format!(
        "warning: serving on {addr}, beyond loopback, {what} (--web.config.file sets TLS and \
         basic_auth_users)"
    ))
}

pub fn run(cx: &Context<'_>, options: &ServeOptions) -> Result<Outcome, CommandError> {
    let security = Security::load(options.web_config.as_deref())?;
    let (tls, auth) = (security.tls(), security.authenticates());
    // Blocked before the server's threads start: they inherit the mask, so
    // a stop signal is read from the signalfd, never delivered to them.
    let stops = Stops::open()?;
    let server = Server::bind(options.listen, security)?;
    // The serving line last: whoever waits for it has every line before.
    let mut said: Vec<String> = exposure(&server, tls, auth).into_iter().collect();
    said.push(format!("serving {}", server.url()));
    console::notes(&said);
    let (requests, arrived) = mpsc::channel();
    let running = server.start(stops, requests)?;
    let mut exporter = Exporter::new(options.min_interval);
    // Until the accepting thread has stopped and every connection in
    // flight has been answered (each holds a sender).
    for request in arrived {
        exporter.answer(request, |totals| {
            metrics::scrape(cx, &options.export, totals)
        });
    }
    let (mut stops, ended) = running.finish();
    ended?;
    if stops.pending()? == Some(Signal::SIGINT) {
        stops.die_by(Signal::SIGINT);
    }
    Ok(Outcome::Shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn ask(exporter: &mut Exporter, wanted: Wanted, fail: bool, reads: &mut u32) -> Answer {
        let (request, answer) = MetricsRequest::new(wanted);
        exporter.answer(request, |totals| {
            *reads += 1;
            totals.kernel_reads += 1;
            if fail {
                Err(io::Error::other("netlink said no").into())
            } else {
                Ok(Scrape::default())
            }
        });
        answer.try_recv().expect("answered at once")
    }

    #[test]
    fn a_failed_read_is_a_500_counted_once_per_interval() {
        let mut reads = 0;
        let mut e = Exporter::new(Duration::from_secs(3600));
        for _ in 0..3 {
            match ask(&mut e, Wanted::PrometheusText, true, &mut reads) {
                Answer::Failed(text) => assert_eq!(text, "netlink said no"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((reads, e.totals.errors, e.totals.kernel_reads), (1, 1, 1));
    }

    #[test]
    fn reads_again_once_the_interval_has_passed_and_recovers() {
        let mut reads = 0;
        let mut e = Exporter::new(Duration::ZERO);
        assert!(matches!(
            ask(&mut e, Wanted::PrometheusText, true, &mut reads),
            Answer::Failed(_)
        ));
        let Answer::Exposition { content_type, body } =
            ask(&mut e, Wanted::OpenMetrics, false, &mut reads)
        else {
            panic!("no exposition")
        };
        assert_eq!(content_type, Format::OpenMetrics.content_type());
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("sockscope_kernel_reads_total 2"), "{text}");
        assert_eq!((reads, e.totals.errors), (2, 1));
    }

    #[test]
    fn one_read_serves_both_formats_within_the_interval() {
        let mut reads = 0;
        let mut e = Exporter::new(Duration::from_secs(3600));
        let a = ask(&mut e, Wanted::PrometheusText, false, &mut reads);
        let b = ask(&mut e, Wanted::OpenMetrics, false, &mut reads);
        let c = ask(&mut e, Wanted::PrometheusText, false, &mut reads);
        assert_eq!(reads, 1);
        let body = |a: &Answer| match a {
            Answer::Exposition { body, .. } => body.clone(),
            Answer::Failed(t) => panic!("{t}"),
        };
        assert_ne!(body(&a), body(&b));
        // The encoded answer is kept, not encoded again.
        assert!(Arc::ptr_eq(&body(&a), &body(&c)));
    }
}
