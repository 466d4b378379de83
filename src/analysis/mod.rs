//! The explain views' answers, typed: who holds a port ([`who`]), the
//! listeners' queue health ([`listeners`]), why a bind() would fail
//! ([`why_bind`], with the real bind() of `--try`), and ephemeral port
//! pressure ([`ports`]). Pure computations over records and knobs (the
//! `--try` bind aside): no text, no output. `output` phrases the answers
//! in English; a metric or an event can reuse them as they are.
//!
//! `-s`'s per-state counts stay a pipeline result (`pipeline::Summary`):
//! they are the run's tally of the dump, with no judgement to type.

pub mod counters;
pub mod listeners;
pub mod metrics;
pub mod ports;
pub mod watch;
pub mod who;
pub mod why_bind;

pub use listeners::{ListenerHealth, listeners};
pub use ports::{Destination, PortCounter, PortPressure, ports};
pub use who::{
    Holders, HostAddrs, StateCount, WhoAnswer, owner_pids, sort_holders, split_clients, who,
};
pub use why_bind::{
    Attempt, BindFailed, BindFailure, BindVerdict, Note, Reason, TryError, TryResult, apply_try,
    bind_target, try_addresses, try_bind, why_bind,
};

/// How close to its limit a queue or a port range is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    /// At least 80 % (listeners) or 50 % (ports).
    Warn,
    /// Full (listeners), at least 90 % (ports).
    Critical,
}

impl Level {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Critical => "critical",
        }
    }
}
