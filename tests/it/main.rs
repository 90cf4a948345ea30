//! The one integration-test binary: each module is one area.

mod aruba_async;
mod aruba_client;
mod aruba_onboarding;
mod audiocodes_client;
mod availability;
mod cli;
mod config;
mod config_files;
mod config_rules;
mod contract;
mod e2e;
mod extreme_client;
mod extreme_wire;
mod golden;
mod hostile;
mod ruckus_client;
mod secrets;
mod sim_aruba;
mod sim_audiocodes;
mod sim_extreme;
mod sim_http;
mod sim_ruckus;
mod state_dir;
mod strict_bodies;
mod support;
