//! sockscope: a connection-state inspector.
//!
//! The import rule (enforced by `tests/architecture.rs`): every module
//! imports only modules of a lower layer,
//!
//! ```text
//! main → commands → config → pipeline | analysis | output → filter | source → model | text
//! ```
//!
//! - [`text`]: escaping and shared formatting; [`model`]: every record type.
//!   They import nothing of the crate but each other.
//! - [`source`]: the readers (netlink, /proc tables, the /proc fd walk,
//!   /etc files) parse into [`model`] records; [`filter`]: the ss filter
//!   language, its evaluation and its kernel bytecode. Siblings: neither
//!   imports the other.
//! - [`pipeline`]: the one run (read → owners → queue attribution → select
//!   → sink); [`analysis`]: typed answers of the explain views; [`output`]:
//!   the printers, the only code that writes to stdout. `output` may read
//!   `analysis`'s answers, and both may read `pipeline`'s results.
//! - [`config`]: the parsed command line (clap, in [`config::cli`]) turned
//!   into plain data; the system facts it needs are read once there.
//! - [`commands`]: one module per command: plan → pipeline → analysis →
//!   printer → outcome. `main.rs` parses, dispatches and maps the outcome
//!   to an exit status.

pub mod analysis;
pub mod commands;
pub mod config;
pub mod filter;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod source;
pub mod text;
