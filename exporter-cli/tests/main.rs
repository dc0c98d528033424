//! The `exporter` binary's end-to-end tests, one module per file, linked into one test binary
//! rather than fifteen that each link the whole exporter.
//! `cargo test -p exporter-cli --test end_to_end follow::` runs one file's tests.

mod support;

mod check;
mod cli;
mod commit;
mod error_log;
mod faults;
mod follow;
mod golden_csv;
mod hardening;
mod html_report;
mod nats_source;
mod options;
mod publish;
mod reports;
mod xlsx;
