//! sockscope: a connection-state inspector.
//!
//! Data flows one way through the layers:
//! [`cli`] → [`config`] → [`source`] (netlink, proc) → [`model`] records →
//! [`owners`] → [`filter`] → [`render`]; [`app`] runs them in that order.
//! Later layers never reach back, and nothing after [`config`] sees clap.

pub mod app;
pub mod cli;
pub mod config;
pub mod explain;
pub mod filter;
pub mod model;
pub mod owners;
pub mod render;
pub mod services;
pub mod source;
pub mod text;
