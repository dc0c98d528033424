//! The `exporter` binary: the CLI library with the built-in plugins.

fn main() -> std::process::ExitCode {
    exporter_cli::main()
}
