//! The CLI with the built-in plugins plus the test-only ones: what a third party's binary
//! looks like.

use exporter_tests as _; // named, so the linker keeps its plugin registrations

fn main() -> std::process::ExitCode {
    exporter_cli::main()
}
