//! The exporter's tests through its library and the `exporter-test` binary, one module per
//! file, linked into one test binary (`allocations` keeps its own: it counts every
//! allocation of its process).

mod accounting;
mod library;
mod manifest_errors;
mod pipeline;
mod testkit;
