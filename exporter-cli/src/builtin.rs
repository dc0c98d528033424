//! The one place that names every built-in plugin crate, so the linker keeps their
//! `inventory` registrations (a crate only listed in Cargo.toml is dropped).

use exporter_csv as _;
use exporter_error_log as _;

/// Names of the built-in sink plugins, as `exporter plugins` lists them.
pub const BUILTIN_SINKS: &[&str] = &["csv", "error-log"];

/// Names of the built-in validator plugins.
pub const BUILTIN_VALIDATORS: &[&str] = &["exists"];

/// Referenced from `main` so this module, and the crates it names, are linked.
pub(crate) fn link() {}
