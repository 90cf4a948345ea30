//! TOML → validated [`crate::model::Desired`]. The only module that knows TOML.

mod country;
mod error;
mod source;
mod text;

pub use error::{ConfigError, ConfigErrors};
