//! `[[sinks]]` tables: the keys the framework owns (`type`, `name`, `path`, `validate`,
//! `allow_outside`, `fsync`), the plugin's own keys checked by building it, and the names and
//! paths the sinks of one manifest must not share.

// Errors here are built once per bad manifest, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::Source;
use super::table::{
    PluginKind, build_plugin, header_span, plugin_of_type, string_key, to_json, type_name,
};
use super::{ManifestError, SinkRef};
use exporter_core::{Fsync, SinkContext, SinkPlugin, check_inside, closest};

/// Keys of a `[[sinks]]` table that the framework owns; every other key is the plugin's.
pub const COMMON_KEYS: [&str; 6] = ["type", "name", "path", "validate", "allow_outside", "fsync"];

/// One `[[sinks]]` entry, checked.
#[derive(Clone, Debug)]
pub struct SinkSpec {
    /// 0-based position in `[[sinks]]`.
    pub index: usize,
    /// Unique name (defaults to the type).
    pub name: String,
    /// The plugin.
    pub plugin: &'static SinkPlugin,
    /// Path relative to the output directory.
    pub path: PathBuf,
    /// Validators to run on its files.
    pub validate: Vec<String>,
    /// Whether the path may leave the output directory.
    pub allow_outside: bool,
    /// Durability setting.
    pub fsync: Fsync,
    /// The plugin's own keys, as JSON (for validators).
    pub config: Json,
    /// The plugin's own keys, as parsed: what its constructor deserializes at each run (the
    /// manifest text is parsed once).
    pub(super) own: toml::Value,
}

/// A `validate` entry split into the validator's name and its argument (`name:argument`).
///
/// ```
/// use exporter_runtime::validator_entry;
/// assert_eq!(validator_entry("json-schema:my.json"), ("json-schema", Some("my.json")));
/// assert_eq!(validator_entry("exists"), ("exists", None));
/// ```
pub fn validator_entry(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once(':') {
        Some((name, arg)) => (name, Some(arg)),
        None => (entry, None),
    }
}

impl SinkSpec {
    /// Builds this sink's validators, named as in `validate`. `manifest_dir` is where an
    /// argument naming a file resolves.
    pub fn validators(
        &self,
        manifest_dir: &Path,
    ) -> Result<Vec<exporter_core::NamedValidator>, String> {
        self.validate
            .iter()
            .map(|entry| {
                let (name, argument) = validator_entry(entry);
                let plugin = exporter_core::validator_plugin(name)
                    .ok_or_else(|| format!("validator {name:?} is not registered"))?;
                let cx = exporter_core::ValidatorContext {
                    sink_type: self.plugin.name,
                    sink_name: &self.name,
                    config: &self.config,
                    manifest_dir,
                    output_schema: self.plugin.output_schema,
                    argument,
                };
                (plugin.build)(&cx)
                    .map(|v| (entry.clone(), std::sync::Arc::from(v)))
                    .map_err(|m| format!("validator {entry:?}: {m}"))
            })
            .collect()
    }
}

/// Longest file name a sink path may end in: the file system's 255 bytes, less what the
/// staging name (`.NAME.PID-N.tmp`) and a kept rejected file (`NAME.rejected`) add.
pub const MAX_FILE_NAME: usize = 200;

/// Checks that a sink path names a file a file system can hold: no NUL byte, not a folder
/// (`sub/`), no name longer than [`MAX_FILE_NAME`] bytes.
///
/// ```
/// use exporter_runtime::check_file_name;
/// assert!(check_file_name("reports/a.json".as_ref()).is_ok());
/// assert!(check_file_name("sub/".as_ref()).is_err());
/// assert!(check_file_name("a\0b.csv".as_ref()).is_err());
/// assert!(check_file_name("x".repeat(201).as_ref()).is_err());
/// ```
pub fn check_file_name(path: &Path) -> Result<(), String> {
    let text = path.to_string_lossy();
    if text.contains('\0') {
        return Err(format!("path {text:?} holds a NUL byte"));
    }
    if text.ends_with('/') || text.ends_with("/.") || text.ends_with("/..") {
        return Err(format!(
            "path {text:?} names a folder; name the file (e.g. \"{}results.csv\")",
            text.trim_end_matches(['/', '.']).to_string() + "/"
        ));
    }
    for part in path.components() {
        let name = part.as_os_str().len();
        if name > MAX_FILE_NAME {
            return Err(format!(
                "a name in path {text:?} is {name} bytes long; names may have at most {MAX_FILE_NAME}"
            ));
        }
    }
    Ok(())
}

/// Sink types, as the manifest's errors name them.
const SINKS: PluginKind<SinkPlugin> = PluginKind {
    kind: "sink",
    known: "known types",
    names: || {
        exporter_core::sink_plugins()
            .iter()
            .map(|p| p.name)
            .collect()
    },
    find: exporter_core::sink_plugin,
};

pub(super) fn check_sink(
    src: &Source<'_>,
    index: usize,
    item: &Spanned<DeValue<'_>>,
    base_dir: &Path,
) -> Result<SinkSpec, Vec<ManifestError>> {
    let Some(table) = item.get_ref().as_table() else {
        return Err(vec![src.error(
            Some(item.span()),
            None,
            Some("sinks"),
            "each entry of `sinks` must be a table",
        )]);
    };
    let mut errors = Vec::new();
    let str_key = |key: &str, errors: &mut Vec<ManifestError>, sink: &SinkRef| {
        string_key(src, table, key, Some(sink), errors)
    };
    let provisional = SinkRef {
        table: "sinks",
        index,
        name: String::new(),
    };
    let ty = str_key("type", &mut errors, &provisional);
    let name = str_key("name", &mut errors, &provisional);
    let sink = SinkRef {
        table: "sinks",
        index,
        name: name
            .as_ref()
            .map(|n| n.0.clone())
            .or_else(|| ty.as_ref().map(|t| t.0.clone()))
            .unwrap_or_default(),
    };
    for e in &mut errors {
        e.sink = Some(sink.clone());
    }
    let plugin = plugin_of_type(
        src,
        item,
        &sink,
        ty.as_ref(),
        table.contains_key("type"),
        &SINKS,
        &mut errors,
    );
    if let Some((n, span)) = &name
        && n.is_empty()
    {
        errors.push(src.error(
            Some(span.clone()),
            Some(&sink),
            Some("name"),
            "`name` must not be empty",
        ));
    }
    let path = str_key("path", &mut errors, &sink);
    let allow_outside = match table.get("allow_outside") {
        None => false,
        Some(v) => match v.get_ref() {
            DeValue::Boolean(b) => *b,
            other => {
                errors.push(src.error(
                    Some(v.span()),
                    Some(&sink),
                    Some("allow_outside"),
                    format!(
                        "`allow_outside` must be a boolean, found {}",
                        type_name(other)
                    ),
                ));
                false
            }
        },
    };
    let fsync = match str_key("fsync", &mut errors, &sink) {
        None => Fsync::default(),
        Some((s, span)) => match s.as_str() {
            "on_commit" => Fsync::OnCommit,
            "never" => Fsync::Never,
            _ => {
                errors.push(src.error(
                    Some(span),
                    Some(&sink),
                    Some("fsync"),
                    format!("unknown fsync setting {s:?}; expected \"on_commit\" or \"never\""),
                ));
                Fsync::default()
            }
        },
    };
    let mut validate = None;
    if let Some(v) = table.get("validate") {
        match v.get_ref() {
            DeValue::Array(items) => {
                let mut names = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::String(s)
                            if exporter_core::validator_plugin(validator_entry(s).0).is_some() =>
                        {
                            names.push(s.to_string())
                        }
                        DeValue::String(s) => {
                            let all: Vec<&str> = exporter_core::validator_plugins()
                                .iter()
                                .map(|p| p.name)
                                .collect();
                            let suggestion = closest(s, all.iter().copied())
                                .map(|s| format!("; did you mean \"{s}\"?"))
                                .unwrap_or_default();
                            errors.push(src.error(
                                Some(item.span()),
                                Some(&sink),
                                Some(&format!("validate[{i}]")),
                                format!(
                                    "unknown validator {s:?}; known validators: {}{suggestion}",
                                    all.join(", ")
                                ),
                            ));
                        }
                        other => errors.push(src.error(
                            Some(item.span()),
                            Some(&sink),
                            Some(&format!("validate[{i}]")),
                            format!("validator names are strings, found {}", type_name(other)),
                        )),
                    }
                }
                validate = Some(names);
            }
            other => errors.push(src.error(
                Some(v.span()),
                Some(&sink),
                Some("validate"),
                format!(
                    "`validate` must be an array of validator names, found {}",
                    type_name(other)
                ),
            )),
        }
    }
    let Some(plugin) = plugin else {
        return Err(errors);
    };
    let (path, path_span) = match path {
        Some((p, span)) => (PathBuf::from(p), Some(span)),
        None => (PathBuf::from(plugin.default_path.unwrap_or_default()), None),
    };
    if (plugin.default_path.is_some() || path_span.is_some())
        && !allow_outside
        && let Err(msg) = check_inside(&path)
    {
        errors.push(src.error(
            path_span.clone().or(Some(header_span(src, item))),
            Some(&sink),
            Some("path"),
            msg,
        ));
    }
    let validate = validate.unwrap_or_else(|| {
        plugin
            .default_validators
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    let config = Json::Object(
        table
            .iter()
            .filter(|(k, _)| !COMMON_KEYS.contains(&k.get_ref().as_ref()))
            .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
            .collect(),
    );
    if path_span.is_some()
        && let Err(msg) = check_file_name(&path)
    {
        errors.push(src.error(path_span.clone(), Some(&sink), Some("path"), msg));
    }
    let mut spec = SinkSpec {
        index,
        name: sink.name.clone(),
        plugin,
        path,
        validate,
        allow_outside,
        fsync,
        config,
        own: toml::Value::Table(toml::Table::new()),
    };
    let cx = SinkContext::new(
        spec.name.clone(),
        spec.plugin.name,
        base_dir,
        spec.path.clone(),
    );
    match build_plugin(src, &sink, item, &COMMON_KEYS, &|d| {
        (plugin.build)(d, &cx).map(drop)
    }) {
        Ok(own) => spec.own = own,
        Err(mut all) => errors.append(&mut all),
    }
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(errors)
    }
}

pub(super) fn check_unique(src: &Source<'_>, root: &DeTable<'_>, errors: &mut Vec<ManifestError>) {
    let Some(items) = root.get("sinks").and_then(|s| s.get_ref().as_array()) else {
        return;
    };
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut paths: BTreeMap<PathBuf, (usize, bool)> = BTreeMap::new();
    let mut spans = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(table) = item.get_ref().as_table() else {
            continue;
        };
        let text = |key: &str| {
            table
                .get(key)
                .and_then(|v| v.get_ref().as_str().map(|s| (s.to_string(), v.span())))
        };
        let ty = text("type");
        let Some((name, name_span)) = text("name").or_else(|| ty.clone()) else {
            continue;
        };
        let me = SinkRef {
            table: "sinks",
            index,
            name: name.clone(),
        };
        if let Some(first) = names.get(&name) {
            errors.push(src.error(
                Some(name_span),
                Some(&me),
                Some("name"),
                format!("duplicate sink name {name:?} (also sinks[{first}]); give each sink a unique `name`"),
            ));
        } else {
            names.insert(name, index);
        }
        let plugin = ty.as_ref().and_then(|(t, _)| exporter_core::sink_plugin(t));
        let default = plugin.and_then(|p| p.default_path);
        let path = text("path").or_else(|| default.map(|d| (d.to_string(), item.span())));
        if let Some((path, span)) = path {
            // two spellings of one file are one file
            let path = exporter_core::normalize(Path::new(&path));
            if let Some((first, _)) = paths.get(&path) {
                errors.push(src.error(
                    Some(span),
                    Some(&me),
                    Some("path"),
                    format!(
                        "sinks[{first}] and sinks[{index}] both write {}; give each its own `path`",
                        path.display()
                    ),
                ));
            } else {
                let parts = plugin.is_some_and(|p| p.numbered_parts);
                paths.insert(path.clone(), (index, parts));
                spans.push((index, path, span, me));
            }
        }
    }
    // a file named like a numbered part of another sink's file is overwritten (or removed)
    // when that sink rolls over
    for (index, path, span, me) in &spans {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
            continue;
        };
        for (base, (owner, parts)) in &paths {
            if !parts || owner == index || base.parent() != path.parent() {
                continue;
            }
            if let Some(n) = exporter_core::part_number(base, &name) {
                errors.push(src.error(
                    Some(span.clone()),
                    Some(me),
                    Some("path"),
                    format!(
                        "{} is the name of part {n} of sinks[{owner}]'s {} (it continues in numbered parts); choose another `path`",
                        path.display(),
                        base.display()
                    ),
                ));
            }
        }
    }
}
