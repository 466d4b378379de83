//! `serve` (issue 17): the exposition over HTTP, for Prometheus to scrape.

use super::{CommandError, Context, Outcome};
use crate::config::metrics::ServeOptions;

pub fn run(_cx: &Context<'_>, _options: &ServeOptions) -> Result<Outcome, CommandError> {
    Ok(Outcome::Shown)
}
