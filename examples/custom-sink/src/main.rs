//! `exporter-jsonl`: the exporter with the built-in plugins plus `jsonl`.

use exporter_jsonl_sink as _; // named, so the linker keeps its registrations

fn main() -> std::process::ExitCode {
    exporter_cli::main()
}
