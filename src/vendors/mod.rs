//! The registry: the one file that lists the vendors. Each vendor is one
//! folder here that owns everything about it (configuration schema, model,
//! client, resolve, steps, run, import, the simulator credentials the demo
//! uses, capabilities and its docs page, `README.md`), behind
//! [`crate::vendor::Vendor`]. Adding a vendor is a folder and a line below;
//! see `docs/adding-a-vendor.md`.

pub mod aruba;
pub mod audiocodes;

use crate::vendor::config::{Schema, SchemaOf};

static ARUBA: SchemaOf<aruba::Aruba> = SchemaOf::new();
static AUDIOCODES: SchemaOf<audiocodes::Audiocodes> = SchemaOf::new();

static SCHEMAS: &[&(dyn Schema + 'static)] = &[&ARUBA, &AUDIOCODES];

/// Every vendor mspform supports, in the order docs and messages list them.
pub fn schemas() -> &'static [&'static dyn Schema] {
    SCHEMAS
}
