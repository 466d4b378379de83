//! The escaping rule of tables (README, "Escaping"). The functions live in
//! [`crate::text`], below every layer, so that error messages built in
//! `source` and `services` can escape the paths they repeat; they are
//! re-exported here for the renderers.

pub use crate::text::{escape, escape_bytes, escape_path, needs_escape};
