//! The one integration-test binary: each module is one area.

mod aruba_client;
mod cli;
mod config;
mod e2e;
mod golden;
mod ruckus_client;
mod sim_aruba;
mod sim_ruckus;
mod support;
