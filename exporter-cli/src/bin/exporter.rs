//! The `exporter` binary: the CLI library with the built-in plugins.

// Parsing allocates many small strings on one thread and frees them on another: mimalloc does
// that at about twice the speed of the system allocator (see bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    exporter_cli::main()
}
