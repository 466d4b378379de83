//! sockscope: a connection-state inspector.
//!
//! Data flows one way through the layers:
//! [`cli`] → [`config`] → [`source`] (netlink, proc) → [`model`] records →
//! [`render`]. Later layers never reach back, and nothing after [`config`]
//! sees clap.

pub mod cli;
pub mod config;
pub mod model;
pub mod render;
pub mod services;
pub mod source;
