//! The Prometheus exposition of `analysis::metrics`' answer (issue 17):
//! Prometheus text 0.0.4 or OpenMetrics 1.0, encoded by prometheus-client.
