//! The explain views' printers under their former paths, so the call sites
//! of `main.rs` keep working until `commands/` calls [`super::listeners`],
//! [`super::why_bind`] and [`super::ports`] directly; then this goes.

pub use super::listeners::{LISTEN_COUNTERS, listeners_json, listeners_text};
pub use super::ports::{ports_json, ports_text};
pub use super::why_bind::{why_bind_json, why_bind_text};
