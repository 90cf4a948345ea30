//! mspform: desired-state management of MSP customer portfolios across vendor clouds.
//!
//! Layers (each module's header says what it owns):
//! `config` (TOML → [`model::Desired`]), `model`/`diff`/`plan` (pure),
//! `apply` (executor, journal), `providers` (vendor HTTP clients),
//! `state` (sled behind a trait), `sim` (the vendor simulator), `cli` (commands).

pub mod address;
pub mod atomic;
pub mod cli;
pub mod clock;
pub mod config;
pub mod diff;
pub mod engine;
pub mod events;
pub mod import;
pub mod model;
pub mod plan;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod vendor;
pub mod vendors;
