//! `type = "extremecloud"`: ExtremeCloud provider settings and customer fields.

use crate::model::{CustomerSpec, ProviderKind};

use super::source::{Node, Sink, Table};

/// Provider keys besides `type`, `base_url` and `ownership`.
pub(super) const PROVIDER_KEYS: &[&str] = &[];

/// Customer keys besides `provider` and `name`.
pub(super) const CUSTOMER_KEYS: &[&str] = &[];

pub(super) fn settings(
    node: &Node<'_>,
    _table: &Table<'_>,
    sink: &mut Sink,
) -> Option<ProviderKind> {
    node.error_at_key(
        sink,
        "provider type `extremecloud` is not supported yet",
        None,
    );
    None
}

pub(super) fn customer(
    _table: &Table<'_>,
    name: &Node<'_>,
    sink: &mut Sink,
) -> Option<CustomerSpec> {
    name.error(
        sink,
        "customers of `extremecloud` providers are not supported yet",
        None,
    );
    None
}
