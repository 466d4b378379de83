//! `metrics` and `serve` (issue 17): what is exported and how, as plain
//! data. The families and their labels are README's "Metrics" section.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::cli::{Command, ExportArgs};

/// The default `--min-interval` of `serve`.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(5);

/// What one exposition holds, for both commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// `--top N`: the most series of a per-address or per-process family.
    pub top: usize,
    /// `--max-series N`: the most series of the whole exposition.
    pub max_series: usize,
    /// `--tcp-info`: rtt and retransmits per remote address.
    pub tcp_info: bool,
}

impl Default for ExportOptions {
    fn default() -> ExportOptions {
        ExportOptions {
            top: 20,
            max_series: 10_000,
            tcp_info: false,
        }
    }
}

impl From<&ExportArgs> for ExportOptions {
    fn from(a: &ExportArgs) -> ExportOptions {
        ExportOptions {
            top: a.top,
            max_series: a.max_series,
            tcp_info: a.tcp_info,
        }
    }
}

/// The text format of an exposition: Prometheus text 0.0.4 (what
/// node_exporter's textfile collector and `promtool check metrics` read)
/// or OpenMetrics 1.0.
pub use crate::output::metrics::Format as Exposition;

/// `metrics`: one exposition, to stdout or to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsOptions {
    pub export: ExportOptions,
    pub format: Exposition,
    /// `--output FILE`: written to a temporary file beside it, then renamed.
    pub output: Option<PathBuf>,
}

/// `serve`: the HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    pub export: ExportOptions,
    pub listen: SocketAddr,
    /// The least time between two reads of the kernel.
    pub min_interval: Duration,
    /// `--web.config.file`: TLS and basic authentication.
    pub web_config: Option<PathBuf>,
}

/// `--listen`'s ADDR:PORT; a bare `:PORT` means loopback (not every
/// address: listening beyond loopback must be asked for).
pub fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    let t = text.trim();
    let full = match t.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => t.to_owned(),
    };
    full.parse().map_err(|_| ConfigError::Listen {
        text: text.to_owned(),
        reason: "expected ADDR:PORT, such as 127.0.0.1:9877 or [::1]:9877".into(),
    })
}

/// The mode options of `metrics` or `serve`, `None` for other commands.
pub fn options(command: Option<&Command>) -> Result<Option<super::Mode>, ConfigError> {
    Ok(match command {
        Some(Command::Metrics(a)) => Some(super::Mode::Metrics(MetricsOptions {
            export: (&a.export).into(),
            format: if a.openmetrics {
                Exposition::OpenMetrics
            } else {
                Exposition::Prometheus
            },
            output: a.output.clone(),
        })),
        Some(Command::Serve(a)) => Some(super::Mode::Serve(ServeOptions {
            export: (&a.export).into(),
            listen: parse_listen(&a.listen)?,
            min_interval: a.min_interval,
            web_config: a.web_config_file.clone(),
        })),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen("127.0.0.1:9877").unwrap(),
            "127.0.0.1:9877".parse().unwrap()
        );
        assert_eq!(
            parse_listen(":80").unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        assert_eq!(parse_listen("[::1]:9").unwrap(), "[::1]:9".parse().unwrap());
        assert!(parse_listen("localhost").is_err());
        assert!(parse_listen("1.2.3.4:99999").is_err());
    }
}
