//! `exporter check`: re-validates the outputs on disk with each sink's validators.

use exporter_core::registry;
use exporter_core::{FileUnderCheck, Finding, ValidatorContext};

use super::{load, report_error};
use crate::cli::{Format, ManifestArgs};
use crate::{EXIT_FAILED, EXIT_OK};

pub(crate) fn check(args: &ManifestArgs, format: Format) -> u8 {
    let manifest = match load(args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let dir = match &args.out_dir {
        Some(d) => d.clone(),
        None => match manifest.output_dir(
            args.campaign_id.as_deref(),
            exporter_core::clock::run_timestamp(),
        ) {
            Ok(d) => d,
            Err(e) => return report_error(&exporter_core::ExportError::Manifest(e)),
        },
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut checked = Vec::new();
    for spec in &manifest.sinks {
        if spec.path.as_os_str().is_empty() {
            continue;
        }
        let path = dir.join(&spec.path);
        let name = spec.path.to_string_lossy().into_owned();
        for vname in &spec.validate {
            let Some(plugin) = registry::validator_plugin(vname) else {
                continue;
            };
            let cx = ValidatorContext {
                sink_type: spec.plugin.name,
                sink_name: &spec.name,
                config: &spec.config,
                manifest_dir: &manifest.base_dir,
                output_schema: spec.plugin.output_schema,
            };
            match (plugin.build)(&cx) {
                Ok(v) => findings.extend(v.check(&FileUnderCheck {
                    path: &path,
                    name: &name,
                    rows: None,
                })),
                Err(m) => {
                    eprintln!("error: sink {:?}: validator {vname:?}: {m}", spec.name);
                    return EXIT_FAILED;
                }
            }
        }
        checked.push(name);
    }
    match format {
        Format::Json => {
            let out = serde_json::json!({"ok": findings.is_empty(), "files": checked, "findings": findings});
            println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
        }
        Format::Text => {
            for f in &findings {
                println!("{f}");
            }
            if findings.is_empty() {
                println!("ok: {} file(s) checked in {}", checked.len(), dir.display());
            }
        }
    }
    if findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
