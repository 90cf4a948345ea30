//! TOML → validated [`crate::model::Desired`]. The only module that knows TOML.
