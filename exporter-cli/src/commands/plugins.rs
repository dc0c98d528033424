//! `exporter plugins`, `exporter schema` and `exporter init`: all generated from the registry.

use std::path::Path;

use exporter_core::registry::{sink_plugin, sink_plugins, validator_plugins};
use serde_json::json;

use crate::cli::Format;
use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

pub(crate) fn list(format: Format) -> u8 {
    let sinks = sink_plugins();
    let validators = validator_plugins();
    match format {
        Format::Json => {
            let out = json!({
                "sinks": sinks.iter().map(|p| json!({
                    "name": p.name,
                    "description": p.description,
                    "default_path": p.default_path,
                    "default_validators": p.default_validators,
                    "has_output_schema": p.output_schema.is_some(),
                    "options": p.options,
                    "example": example_table(p.name, p.example),
                })).collect::<Vec<_>>(),
                "validators": validators.iter().map(|v| json!({"name": v.name, "description": v.description})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
        }
        Format::Text => {
            println!("Sinks ({}):", sinks.len());
            for p in &sinks {
                println!("\n  {} - {}", p.name, p.description);
                if let Some(path) = p.default_path {
                    println!("    default path: {path}");
                }
                println!("    validators:   {}", p.default_validators.join(", "));
                if !p.options.is_empty() {
                    println!("    options:");
                    for o in p.options {
                        println!(
                            "      {:<18} {:<18} default {:<12} {}",
                            o.key, o.ty, o.default, o.doc
                        );
                    }
                }
                println!("    example:");
                for line in example_table(p.name, p.example).lines() {
                    println!("      {line}");
                }
            }
            println!("\nValidators ({}):", validators.len());
            for v in &validators {
                println!("  {:<18} {}", v.name, v.description);
            }
            println!(
                "\nCommon sink keys: type, name, path, validate, allow_outside, fsync (\"on_commit\" | \"never\")."
            );
        }
    }
    EXIT_OK
}

/// The plugin's example as a complete `[[sinks]]` table.
fn example_table(name: &str, body: &str) -> String {
    let body = body.trim();
    if body.contains("type =") {
        format!("[[sinks]]\n{body}\n")
    } else {
        format!("[[sinks]]\ntype = \"{name}\"\n{body}\n")
    }
}

pub(crate) fn schema(sink_type: &str) -> u8 {
    match sink_plugin(sink_type) {
        Some(p) => match p.output_schema {
            Some(s) => {
                println!("{}", s.trim_end());
                EXIT_OK
            }
            None => {
                eprintln!(
                    "error: sink type {sink_type:?} writes no JSON and ships no output schema"
                );
                EXIT_USAGE
            }
        },
        None => {
            let names: Vec<&str> = sink_plugins().iter().map(|p| p.name).collect();
            let hint = exporter_core::registry::closest(sink_type, names.iter().copied())
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            eprintln!(
                "error: unknown sink type {sink_type:?}; known types: {}{hint}",
                names.join(", ")
            );
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
    s
}

pub(crate) fn init(output: &Path, force: bool) -> u8 {
    if output.exists() && !force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it",
            output.display()
        );
        return EXIT_USAGE;
    }
    match std::fs::write(output, starter_manifest()) {
        Ok(()) => {
            println!(
                "wrote {}; check it with: exporter validate -m {}",
                output.display(),
                output.display()
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", output.display());
            EXIT_FAILED
        }
    }
}
