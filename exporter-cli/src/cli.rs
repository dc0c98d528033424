//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turns a campaign's event stream into its deliverables: results table, campaign summary,
/// proxy performance report and error log.
#[derive(Debug, Parser)]
#[command(name = "exporter", version, max_term_width = 100)]
pub struct Cli {
    /// More log output on standard error (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Output format of `plugins` and `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// The manifest, and what may override it.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The manifest.
    #[arg(short, long, value_name = "FILE", default_value = "exporter.toml")]
    pub manifest: PathBuf,
    /// Campaign id (overrides [campaign].id, also in {campaign_id} of the output directory).
    #[arg(long, value_name = "ID")]
    pub campaign_id: Option<String>,
    /// Output directory (overrides [output].dir).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the export: read events, write and commit every output.
    Run {
        #[command(flatten)]
        manifest: ManifestArgs,
        /// Fail (exit 3) on the first bad input line instead of logging it.
        #[arg(long)]
        strict: bool,
        /// No progress bar even on a terminal.
        #[arg(long)]
        no_progress: bool,
        /// Fail at once (exit 1) when another run holds the output directory, instead of
        /// waiting for it.
        #[arg(long)]
        no_wait: bool,
        /// For a message stream source (`nats`): read until no message arrived for this long
        /// (`500ms`, `5s`, `2m`), then commit and acknowledge.
        #[arg(long, value_name = "DURATION", value_parser = exporter_runtime::parse_duration)]
        until_idle: Option<std::time::Duration>,
        /// Keep reading and commit a new generation of the deliverables as `[commit]` says
        /// (`every`, `every_events`), and at SIGTERM/SIGINT: results in numbered parts, the
        /// reports rewritten from every event so far, the error log appended. A restart
        /// continues from the last commit.
        #[arg(long, conflicts_with = "until_idle")]
        follow: bool,
        /// NDJSON event files; `-` (or none) reads standard input. They replace the `paths`
        /// of an `ndjson` source.
        #[arg(value_name = "INPUT")]
        inputs: Vec<PathBuf>,
    },
    /// Publish NDJSON lines to a NATS JetStream subject, each acknowledged by the server,
    /// for an exporter on another host to read (README: "Running a campaign on many hosts").
    Publish {
        /// The server: `nats://[user:password@]host:port`.
        #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
        url: String,
        /// The subject each line is published to.
        #[arg(long, value_name = "SUBJECT")]
        subject: String,
        /// Create this stream for the subject when none captures it yet.
        #[arg(long, value_name = "NAME")]
        create_stream: Option<String>,
        /// What message ids start with (`ID:LINE`); default: this host's name and the
        /// input's path. Ids let the server store a line published twice only once.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// A `.creds` file (JWT and nkey seed).
        #[arg(long, value_name = "FILE")]
        creds: Option<PathBuf>,
        /// A file holding a token.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// A file holding an nkey seed.
        #[arg(long, value_name = "FILE")]
        nkey_file: Option<PathBuf>,
        /// NDJSON files; `-` (or none) reads standard input (e.g. `tail -F events.ndjson |`).
        #[arg(value_name = "INPUT")]
        inputs: Vec<PathBuf>,
    },
    /// Check a manifest without running it.
    Validate {
        #[command(flatten)]
        manifest: ManifestArgs,
    },
    /// Re-validate the outputs of the last run.
    Check {
        #[command(flatten)]
        manifest: ManifestArgs,
        /// Findings format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List every registered sink and validator with its options and an example table.
    Plugins {
        /// Listing format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a sink plugin's output JSON Schema.
    Schema {
        /// The sink type.
        #[arg(value_name = "TYPE")]
        sink_type: String,
    },
    /// Write a starter manifest.
    Init {
        /// Where to write it.
        #[arg(short, long, value_name = "FILE", default_value = "exporter.toml")]
        output: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}
