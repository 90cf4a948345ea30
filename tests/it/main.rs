//! The one integration-test binary: each module is one area.

mod config;
mod sim_aruba;
