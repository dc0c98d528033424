//! `exporter plugins`, `exporter schema` and `exporter init`: all generated from the registry.

use std::path::Path;

use exporter_core::{OptionDoc, sink_plugin, sink_plugins, source_plugins, validator_plugins};
use serde_json::json;

use crate::cli::Format;
use crate::console::{self, say};
use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

pub(crate) fn list(format: Format) -> u8 {
    let mut out = String::new();
    let sinks = sink_plugins();
    let validators = validator_plugins();
    let sources = source_plugins();
    match format {
        Format::Json => {
            let listing = json!({
                "sinks": sinks.iter().map(|p| json!({
                    "name": p.name,
                    "description": p.description,
                    "default_path": p.default_path,
                    "default_validators": p.default_validators,
                    "has_output_schema": p.output_schema.is_some(),
                    "options": p.options(),
                    "config_schema": (p.config_schema)(),
                    "example": example_table(p.name, p.example),
                })).collect::<Vec<_>>(),
                "validators": validators.iter().map(|v| json!({"name": v.name, "description": v.description})).collect::<Vec<_>>(),
                "sources": sources.iter().map(|p| json!({
                    "name": p.name,
                    "description": p.description,
                    "options": p.options(),
                    "config_schema": (p.config_schema)(),
                    "example": table("sources", p.name, p.example),
                })).collect::<Vec<_>>(),
            });
            say!(
                out,
                "{}",
                serde_json::to_string_pretty(&listing).expect("JSON")
            );
        }
        Format::Text => {
            say!(out, "Sinks ({}):", sinks.len());
            for p in &sinks {
                say!(out, "\n  {} - {}", p.name, p.description);
                if let Some(path) = p.default_path {
                    say!(out, "    default path: {path}");
                }
                say!(out, "    validators:   {}", p.default_validators.join(", "));
                describe(&mut out, p.options(), &example_table(p.name, p.example));
            }
            say!(
                out,
                "\nSources ({}; without a [[sources]] table, runs read NDJSON files or standard input):",
                sources.len()
            );
            for p in &sources {
                say!(out, "\n  {} - {}", p.name, p.description);
                describe(&mut out, p.options(), &table("sources", p.name, p.example));
            }
            say!(out, "\nValidators ({}):", validators.len());
            for v in &validators {
                say!(out, "  {:<18} {}", v.name, v.description);
            }
            say!(
                out,
                "\nCommon sink keys: type, name, path, validate, allow_outside, fsync (\"on_commit\" | \"never\")."
            );
        }
    }
    console::print(&out, EXIT_OK)
}

/// A plugin's options and example, as `exporter plugins` lists them.
fn describe(out: &mut String, options: Vec<OptionDoc>, example: &str) {
    if !options.is_empty() {
        say!(out, "    options:");
        for o in options {
            let default = match o.default.as_str() {
                "" => String::new(),
                "required" => " (required)".into(),
                d => format!(" (default {d})"),
            };
            say!(out, "      {}: {}{default}", o.key, o.ty);
            if !o.doc.is_empty() {
                say!(out, "          {}", o.doc);
            }
        }
    }
    say!(out, "    example:");
    for line in example.lines() {
        say!(out, "      {line}");
    }
}

/// The sink plugin's example as a complete `[[sinks]]` table.
fn example_table(name: &str, body: &str) -> String {
    table("sinks", name, body)
}

/// A plugin's example as a complete table of the array `array`.
fn table(array: &str, name: &str, body: &str) -> String {
    let body = body.trim();
    if body.contains("type =") {
        format!("[[{array}]]\n{body}\n")
    } else {
        format!("[[{array}]]\ntype = \"{name}\"\n{body}\n")
    }
}

pub(crate) fn schema(sink_type: &str) -> u8 {
    match sink_plugin(sink_type) {
        Some(p) => match p.output_schema {
            Some(s) => console::print(&format!("{}\n", s.trim_end()), EXIT_OK),
            None => {
                console::error(&format!(
                    "sink type {sink_type:?} writes no JSON and ships no output schema"
                ));
                EXIT_USAGE
            }
        },
        None => {
            let names: Vec<&str> = sink_plugins().iter().map(|p| p.name).collect();
            let hint = exporter_core::closest(sink_type, names.iter().copied())
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            console::error(&format!(
                "unknown sink type {sink_type:?}; known types: {}{hint}",
                names.join(", ")
            ));
            EXIT_USAGE
        }
    }
}

/// The starter manifest: every registered sink's example table.
pub(crate) fn starter_manifest() -> String {
    let mut s = String::from(
        "# Campaign exporter manifest. `exporter plugins` lists every option.\n\
         # Relative paths here resolve against this file's folder.\n\n\
         [campaign]                    # defaults; campaign events in the stream override them\n\
         id = \"my-campaign\"\n\
         name = \"My campaign\"\n\n\
         [output]\n\
         dir = \"out/{campaign_id}\"     # every sink path is relative to this\n",
    );
    for p in sink_plugins() {
        s.push_str(&format!(
            "\n# {}\n{}",
            p.description,
            example_table(p.name, p.example)
        ));
    }
    s.push_str(
        "\n# Events come from NDJSON files or standard input (`exporter run INPUT...`). To read\n\
         # them from elsewhere, uncomment one source (one per run):\n",
    );
    for p in source_plugins() {
        s.push_str(&format!("#\n# {}\n", p.description));
        for line in table("sources", p.name, p.example).lines() {
            s.push_str(&format!("# {line}\n"));
        }
    }
    s
}

pub(crate) fn init(output: &Path, force: bool) -> u8 {
    if output.exists() && !force {
        console::error(&format!(
            "{} exists; pass --force to overwrite it",
            output.display()
        ));
        return EXIT_USAGE;
    }
    match std::fs::write(output, starter_manifest()) {
        Ok(()) => console::print(
            &format!(
                "wrote {}; check it with: exporter validate -m {}\n",
                output.display(),
                output.display()
            ),
            EXIT_OK,
        ),
        Err(e) => {
            console::error(&format!("cannot write {}: {e}", output.display()));
            EXIT_FAILED
        }
    }
}
