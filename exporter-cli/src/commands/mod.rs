//! One module per group of subcommands.

mod check;
mod plugins;
mod publish;
mod run;

use exporter_core::redact;
use exporter_runtime::ExportError;
use exporter_runtime::Manifest;

use crate::cli::{Command, ManifestArgs};
use crate::console::{self, say};
use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

pub(crate) fn dispatch(command: Command) -> u8 {
    match command {
        Command::Run {
            manifest,
            strict,
            no_progress,
            no_wait,
            until_idle,
            follow,
            inputs,
        } => run::run(
            &manifest,
            run::Flags {
                strict,
                no_progress,
                no_wait,
                until_idle,
                follow,
            },
            &inputs,
        ),
        Command::Publish {
            url,
            subject,
            create_stream,
            id,
            creds,
            token_file,
            nkey_file,
            inputs,
        } => publish::publish(
            exporter_nats::PublishOptions {
                connection: exporter_nats::Connection {
                    url,
                    creds,
                    token_file,
                    nkey_file,
                },
                subject,
                create_stream,
                id_prefix: id,
            },
            &inputs,
        ),
        Command::Validate { manifest } => validate(&manifest),
        Command::Check { manifest, format } => check::check(&manifest, format),
        Command::Plugins { format } => plugins::list(format),
        Command::Schema { sink_type } => plugins::schema(&sink_type),
        Command::Init { output, force } => plugins::init(&output, force),
    }
}

/// Prints an error (passwords masked, whatever its origin) and maps it to an exit code.
pub(crate) fn report_error(e: &ExportError) -> u8 {
    let text = e.to_string();
    console::error(&redact(&text));
    match e {
        ExportError::Manifest(_) => EXIT_USAGE,
        ExportError::BadInput { .. } => EXIT_BAD_INPUT,
        ExportError::Interrupted => crate::EXIT_INTERRUPTED,
        _ => EXIT_FAILED,
    }
}

pub(crate) fn load(args: &ManifestArgs) -> Result<Manifest, u8> {
    Manifest::load(&args.manifest).map_err(|e| report_error(&ExportError::Manifest(e)))
}

fn validate(args: &ManifestArgs) -> u8 {
    let manifest = match load(args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let now = exporter_core::run_timestamp();
    let dir = match &args.out_dir {
        Some(d) => d.clone(),
        None => match manifest.output_dir(args.campaign_id.as_deref(), now) {
            Ok(d) => d,
            Err(e) => return report_error(&ExportError::Manifest(e)),
        },
    };
    let mut out = String::new();
    say!(
        out,
        "{}: ok ({} sinks, output directory {})",
        manifest.name,
        manifest.sinks.len(),
        dir.display()
    );
    for s in &manifest.sinks {
        say!(
            out,
            "  {} ({}) -> {}  validate: [{}]",
            s.name,
            s.plugin.name,
            s.path.display(),
            s.validate.join(", ")
        );
    }
    console::print(&out, EXIT_OK)
}
