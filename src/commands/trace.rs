//! `trace`: every TCP state change from the kernel's tracepoints.
//! (Skeleton: built by issue 16's trace part.)

use super::{CommandError, Context, Outcome};

pub fn run(_cx: &Context<'_>) -> Result<Outcome, CommandError> {
    Err(CommandError::Io(std::io::Error::other(
        "trace is not built yet",
    )))
}
