//! The `[[sources]]` table: where a run's events come from (one source per run; the
//! `ndjson` source when the manifest names none).

// Errors here are built once per bad manifest, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

use std::path::Path;

use toml::Spanned;
use toml::de::DeValue;

use super::diagnostic::Source;
use super::table::{PluginKind, build_plugin, plugin_of_type, string_key};
use super::{ManifestError, SinkRef};
use exporter_core::{SourceContext, SourcePlugin};

/// Keys of a `[[sources]]` table that the framework owns; every other key is the plugin's.
pub const SOURCE_COMMON_KEYS: [&str; 2] = ["type", "name"];

/// The source used when the manifest declares none: NDJSON files or standard input.
pub const DEFAULT_SOURCE: &str = "ndjson";

/// One `[[sources]]` entry, checked.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    /// 0-based position in `[[sources]]`.
    pub index: usize,
    /// Unique name (defaults to the type).
    pub name: String,
    /// The plugin.
    pub plugin: &'static SourcePlugin,
    /// The plugin's own keys, as parsed.
    pub(super) own: toml::Value,
}

/// Source types, as the manifest's errors name them.
const SOURCES: PluginKind<SourcePlugin> = PluginKind {
    kind: "source",
    known: "known source types",
    names: || {
        exporter_core::source_plugins()
            .iter()
            .map(|p| p.name)
            .collect()
    },
    find: exporter_core::source_plugin,
};

pub(super) fn check_source(
    src: &Source<'_>,
    index: usize,
    item: &Spanned<DeValue<'_>>,
    base_dir: &Path,
) -> Result<SourceSpec, Vec<ManifestError>> {
    let Some(table) = item.get_ref().as_table() else {
        return Err(vec![src.error(
            Some(item.span()),
            None,
            Some("sources"),
            "each entry of `sources` must be a table",
        )]);
    };
    let mut entry = SinkRef {
        table: "sources",
        index,
        name: String::new(),
    };
    let mut errors = Vec::new();
    // the entry is named once `type` and `name` are read; their errors get it below
    let ty = string_key(src, table, "type", None, &mut errors);
    let name = string_key(src, table, "name", None, &mut errors);
    entry.name = name
        .as_ref()
        .or(ty.as_ref())
        .map(|n| n.0.clone())
        .unwrap_or_default();
    let plugin = plugin_of_type(
        src,
        item,
        &entry,
        ty.as_ref(),
        table.contains_key("type"),
        &SOURCES,
        &mut errors,
    );
    for e in &mut errors {
        e.sink.get_or_insert_with(|| entry.clone());
    }
    let Some(plugin) = plugin else {
        return Err(errors);
    };
    let cx = SourceContext::new(entry.name.clone(), base_dir);
    match build_plugin(src, &entry, item, &SOURCE_COMMON_KEYS, &|d| {
        (plugin.build)(d, &cx).map(drop)
    }) {
        Ok(own) if errors.is_empty() => Ok(SourceSpec {
            index,
            name: entry.name,
            plugin,
            own,
        }),
        Ok(_) => Err(errors),
        Err(mut all) => {
            errors.append(&mut all);
            Err(errors)
        }
    }
}
