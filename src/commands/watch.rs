//! `watch` and `-c`: the listing again every interval, and what changed.
//! (Skeleton: built by issue 16's watch part.)

use super::{CommandError, Context, Outcome};

pub fn run(_cx: &Context<'_>) -> Result<Outcome, CommandError> {
    Err(CommandError::Io(std::io::Error::other(
        "watch is not built yet",
    )))
}
