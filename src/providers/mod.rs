//! Vendor clients: one module per vendor with the same inner shape, and the
//! shared HTTP plumbing. The only place that imports reqwest.

pub mod aruba;
pub mod http;

pub use http::ProviderError;
