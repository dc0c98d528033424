//! The one place that names every built-in plugin crate, so the linker keeps their
//! `inventory` registrations (a crate only listed in Cargo.toml is dropped).

use exporter_campaign_summary as _;
use exporter_csv as _;
use exporter_error_log as _;
use exporter_html_report as _;
use exporter_json_schema as _;
use exporter_nats as _;
use exporter_proxy_performance as _;
use exporter_xlsx as _;

/// Names of the built-in sink plugins, as `exporter plugins` lists them.
pub const BUILTIN_SINKS: &[&str] = &[
    "campaign-summary",
    "csv",
    "error-log",
    "html-report",
    "proxy-performance",
    "xlsx",
];

/// Names of the built-in source plugins.
pub const BUILTIN_SOURCES: &[&str] = &["nats", "ndjson"];

/// Names of the built-in validator plugins.
pub const BUILTIN_VALIDATORS: &[&str] = &[
    "csv-table-schema",
    "error-log",
    "exists",
    "html-report",
    "json-schema",
    "xlsx-table-schema",
];

/// Referenced from `main` so this module, and the crates it names, are linked.
pub(crate) fn link() {}
