//! # exporter-cli
//!
//! The `exporter` command line, as a library so that a third party can ship a binary with
//! extra plugins: name your plugin crate so the linker keeps it, then hand over to [`main`].
//!
//! ```no_run
//! // src/main.rs of your own binary crate
//! use my_markdown_sink as _; // linked, so its `inventory::submit!` registration is kept
//! fn main() -> std::process::ExitCode {
//!     exporter_cli::main()
//! }
//! # mod my_markdown_sink {}
//! ```
//!
//! Exit codes (docs/contract.md §6): 0 success, 1 run failed (validation, I/O), 2 usage or manifest
//! error, 3 bad input under `--strict`.

mod builtin;
mod cli;
mod commands;
mod console;
mod logging;

use std::process::ExitCode;

use clap::Parser;

pub use builtin::{BUILTIN_SINKS, BUILTIN_SOURCES, BUILTIN_VALIDATORS};
pub use cli::Cli;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run failed (validation, I/O, a sink).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: usage or manifest error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: bad input under `--strict`.
pub const EXIT_BAD_INPUT: u8 = 3;
/// Exit code: stopped by SIGINT or SIGTERM before the commit (nothing committed).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Parses the process's arguments and runs the command; returns the exit code.
pub fn main() -> ExitCode {
    builtin::link();
    ignore_file_size_signal();
    stop_on_interrupt();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` print to standard output, which may be closed
            let code = match (e.print(), e.use_stderr()) {
                (_, true) => EXIT_USAGE,
                (Ok(()), false) => EXIT_OK,
                (Err(_), false) => EXIT_FAILED,
            };
            return ExitCode::from(code);
        }
    };
    ExitCode::from(run(cli))
}

/// Past a file-size limit (`ulimit -f`) the kernel kills a writer with SIGXFSZ, silently.
/// Ignoring it turns the fault into an `EFBIG` write error, which the run reports with the
/// file's name, leaving every final file as it was.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: installing SIG_IGN for SIGXFSZ has no preconditions; it runs once at start-up.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// SIGINT and SIGTERM ask the run to stop: it ends at its next batch, commits nothing and
/// removes its staging files (exit 130), or, caught committing, finishes the commit first.
/// A second signal ends the process at once (its staging files are removed by the next run).
fn stop_on_interrupt() {
    #[cfg(unix)]
    {
        extern "C" fn on_signal(_: libc::c_int) {
            if exporter_runtime::stop_requested() {
                // SAFETY: `_exit` is async-signal-safe; nothing else runs after it.
                unsafe { libc::_exit(EXIT_INTERRUPTED.into()) };
            }
            exporter_runtime::request_stop(); // an atomic store: async-signal-safe
        }
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only stores to an atomic or calls `_exit`, both
            // async-signal-safe; it is installed once at start-up.
            unsafe {
                libc::signal(signal, on_signal as *const () as libc::sighandler_t);
            }
        }
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> u8 {
    logging::init(cli.verbose, cli.log_format);
    console::set_format(cli.log_format);
    if let Err(e) = exporter_core::check_unique_names() {
        console::error(&e);
        return EXIT_FAILED;
    }
    // reproducible-builds tools refuse a SOURCE_DATE_EPOCH they cannot read, and so do we:
    // a run that silently used the clock would not be the reproducible run asked for
    if let Err(e) = exporter_core::source_date_epoch() {
        console::error(&e);
        return EXIT_USAGE;
    }
    commands::dispatch(cli.command)
}
