//! The TOML manifest (docs/contract.md §3): `[campaign]`, `[output]` and `[[sinks]]`.
//!
//! Loading checks everything it can without running: structure, common keys, each plugin's
//! own config (through the plugin's constructor), validators, paths. Every problem is
//! collected with its file, line, column, sink and key, and reported in one go.

// Errors here are built once per bad manifest, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

mod diagnostic;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use diagnostic::Source;
pub use diagnostic::{ManifestError, ManifestErrors, SinkRef};

use exporter_core::{BuildError, SinkPlugin, SourcePlugin, closest};
use exporter_core::{Campaign, Timestamp};
use exporter_core::{Fsync, check_inside};
use exporter_core::{Sink, SinkContext};
use exporter_core::{Source as EventSource, SourceContext};

/// Keys of a `[[sinks]]` table that the framework owns; every other key is the plugin's.
pub const COMMON_KEYS: [&str; 6] = ["type", "name", "path", "validate", "allow_outside", "fsync"];

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
    own: toml::Value,
}

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
    own: toml::Value,
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

/// A checked manifest.
///
/// ```
/// # use exporter_runtime::Manifest;
/// let m = Manifest::parse("[campaign]\nid = \"acme\"\n[output]\ndir = \"out/{campaign_id}\"\n",
///                         "m.toml", "/srv".as_ref());
/// // no sinks: an error, with its place
/// assert!(m.unwrap_err().to_string().contains("m.toml:1:1"));
/// ```
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The manifest's name (its path as given).
    pub name: String,
    text: String,
    /// The folder relative paths in the manifest resolve against.
    pub base_dir: PathBuf,
    /// `[campaign]` defaults.
    pub campaign: Campaign,
    /// `[output].dir` as written, placeholders unexpanded.
    pub output_dir: String,
    output_dir_span: Option<Range<usize>>,
    /// The sinks, in manifest order.
    pub sinks: Vec<SinkSpec>,
    /// The source (`[[sources]]`), when the manifest names one; runs read NDJSON files or
    /// standard input otherwise.
    pub source: Option<SourceSpec>,
    /// When a followed stream (`run --follow`) commits (`[commit]`).
    pub commit: crate::follow::CommitEvery,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitTable {
    every: Option<String>,
    every_events: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputTable {
    dir: Option<String>,
}

const DEFAULT_OUTPUT_DIR: &str = "out";

impl Manifest {
    /// Reads and checks the manifest at `path`; relative paths in it resolve against its folder.
    pub fn load(path: &Path) -> Result<Manifest, ManifestErrors> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ManifestErrors(vec![ManifestError {
                file: name.clone(),
                line: 1,
                column: 1,
                sink: None,
                key: None,
                message: format!("cannot read the manifest: {e}"),
                snippet: None,
            }])
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Manifest::parse(&text, &name, &base)
    }

    /// Checks manifest text. `name` appears in errors; `base_dir` is where relative paths
    /// resolve.
    pub fn parse(text: &str, name: &str, base_dir: &Path) -> Result<Manifest, ManifestErrors> {
        let src = Source { name, text };
        let (doc, syntax) = DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            return Err(ManifestErrors(
                syntax
                    .iter()
                    .map(|e| src.error(e.span(), None, None, e.message().trim().to_string()))
                    .collect(),
            ));
        }
        let mut errors = Vec::new();
        let mut manifest = Manifest {
            name: name.to_string(),
            text: text.to_string(),
            base_dir: base_dir.to_path_buf(),
            campaign: Campaign::default(),
            output_dir: DEFAULT_OUTPUT_DIR.to_string(),
            output_dir_span: None,
            sinks: Vec::new(),
            source: None,
            commit: crate::follow::CommitEvery::default(),
        };
        let root = doc.get_ref();
        for (key, value) in root.iter() {
            match key.get_ref().as_ref() {
                "campaign" => {
                    match deserialize_located::<Campaign>(&src, value, None, "campaign") {
                        Ok(c) => manifest.campaign = c,
                        Err(e) => errors.push(e),
                    }
                }
                "output" => match deserialize_located::<OutputTable>(&src, value, None, "output") {
                    Ok(o) => {
                        if let Some(dir) = o.dir {
                            manifest.output_dir_span = value
                                .get_ref()
                                .as_table()
                                .and_then(|t| t.get("dir"))
                                .map(Spanned::span);
                            if let Err(msg) = check_placeholders(&dir) {
                                errors.push(src.error(
                                    manifest.output_dir_span.clone(),
                                    None,
                                    Some("output.dir"),
                                    msg,
                                ));
                            }
                            manifest.output_dir = dir;
                        }
                    }
                    Err(e) => errors.push(e),
                },
                "sinks" => {}
                "commit" => match deserialize_located::<CommitTable>(&src, value, None, "commit") {
                    Ok(c) => {
                        let span = |key: &str| {
                            value
                                .get_ref()
                                .as_table()
                                .and_then(|t| t.get(key))
                                .map(Spanned::span)
                        };
                        let every = match &c.every {
                            None => None,
                            Some(text) => match crate::follow::parse_duration(text) {
                                Ok(d) if !d.is_zero() => Some(d),
                                Ok(_) => {
                                    errors.push(src.error(span("every"), None, Some("commit.every"), "`every` must be longer than 0"));
                                    None
                                }
                                Err(e) => {
                                    errors.push(src.error(span("every"), None, Some("commit.every"), e));
                                    None
                                }
                            },
                        };
                        if c.every_events == Some(0) {
                            errors.push(src.error(span("every_events"), None, Some("commit.every_events"), "`every_events` must be at least 1"));
                        }
                        manifest.commit = crate::follow::CommitEvery {
                            // a tail of fewer than `every_events` still commits, within `every`
                            every: every.or(crate::follow::CommitEvery::default().every),
                            events: c.every_events,
                        };
                    }
                    Err(e) => errors.push(e),
                },
                "sources" => match value.get_ref() {
                    DeValue::Array(items) => {
                        for (index, item) in items.iter().enumerate() {
                            if index > 0 {
                                errors.push(src.error(
                                    Some(header_span(&src, item)),
                                    None,
                                    Some("sources"),
                                    "a run reads one source; remove this [[sources]] table (run the exporter once per source, into separate output directories)",
                                ));
                                continue;
                            }
                            match check_source(&src, index, item, base_dir) {
                                Ok(spec) => manifest.source = Some(spec),
                                Err(mut e) => errors.append(&mut e),
                            }
                        }
                    }
                    _ => errors.push(src.error(
                        Some(value.span()),
                        None,
                        Some("sources"),
                        "`sources` must be an array of tables: write the source as a [[sources]] table",
                    )),
                },
                other => {
                    let hint = hint(closest(other, ["campaign", "output", "sinks", "sources", "commit"]));
                    errors.push(src.error(
                        Some(key.span()),
                        None,
                        Some(other),
                        format!("unknown top-level key `{other}`; expected `campaign`, `output`, `sinks`, `sources` or `commit`{hint}"),
                    ));
                }
            }
        }
        match root.get("sinks") {
            None => errors.push(src.error(
                Some(0..0),
                None,
                None,
                "the manifest declares no sinks; add at least one [[sinks]] table (see `exporter init`)",
            )),
            Some(sinks) => match sinks.get_ref() {
                DeValue::Array(items) if !items.is_empty() => {
                    for (index, item) in items.iter().enumerate() {
                        match check_sink(&src, index, item, base_dir) {
                            Ok(spec) => manifest.sinks.push(spec),
                            Err(mut e) => errors.append(&mut e),
                        }
                    }
                }
                _ => errors.push(src.error(
                    Some(sinks.span()),
                    None,
                    Some("sinks"),
                    "`sinks` must be an array of tables: write each sink as a [[sinks]] table",
                )),
            },
        }
        check_unique(&src, root, &mut errors);
        if errors.is_empty() {
            Ok(manifest)
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(ManifestErrors(errors))
        }
    }

    /// Builds the sink of `spec` (a fresh instance each call), from its table as parsed when
    /// the manifest was loaded (which also checked that it builds).
    pub fn build_sink(&self, spec: &SinkSpec) -> Result<Box<dyn Sink>, ManifestErrors> {
        let cx = SinkContext::new(
            spec.name.clone(),
            spec.plugin.name,
            &self.base_dir,
            spec.path.clone(),
        )
        .with_manifest_sinks(self.sinks.iter().map(|s| s.plugin.name));
        let mut erased = <dyn erased_serde::Deserializer>::erase(spec.own.clone());
        (spec.plugin.build)(&mut erased, &cx).map_err(|e| {
            let src = Source {
                name: &self.name,
                text: &self.text,
            };
            let sink = SinkRef {
                table: "sinks",
                index: spec.index,
                name: spec.name.clone(),
            };
            ManifestErrors(vec![src.error(
                None,
                Some(&sink),
                e.key.as_deref(),
                e.message,
            )])
        })
    }

    /// Builds the run's source: the manifest's `[[sources]]` entry, or the default `ndjson`
    /// source. `inputs` are the inputs named on the command line.
    pub fn build_source(&self, inputs: &[PathBuf]) -> Result<Box<dyn EventSource>, ManifestErrors> {
        let (name, plugin, own) = match &self.source {
            Some(spec) => (spec.name.clone(), spec.plugin, spec.own.clone()),
            None => {
                let plugin = exporter_core::source_plugin(DEFAULT_SOURCE)
                    .expect("exporter-runtime registers the ndjson source");
                let own = toml::Value::Table(toml::Table::new());
                (DEFAULT_SOURCE.to_string(), plugin, own)
            }
        };
        let cx = SourceContext::new(name.clone(), &self.base_dir).with_inputs(inputs.to_vec());
        let mut erased = <dyn erased_serde::Deserializer>::erase(own);
        (plugin.build)(&mut erased, &cx).map_err(|e| {
            let src = Source {
                name: &self.name,
                text: &self.text,
            };
            let entry = SinkRef {
                table: "sources",
                index: 0,
                name,
            };
            ManifestErrors(vec![src.error(
                None,
                Some(&entry),
                e.key.as_deref(),
                e.message,
            )])
        })
    }

    /// The output directory: `[output].dir` with `{campaign_id}` and `{date}` expanded,
    /// resolved against the manifest's folder. `campaign_id` overrides `[campaign].id`.
    ///
    /// ```
    /// use exporter_runtime::Manifest;
    /// let text = "[campaign]\nid = \"acme\"\n[output]\ndir = \"out/{campaign_id}/{date}\"\n\
    ///             [[sinks]]\ntype = \"x\"\n";
    /// # // a sink type must exist: use the error only to show expansion is separate
    /// let m = Manifest::parse(text, "m.toml", "/srv".as_ref());
    /// assert!(m.is_err()); // "x" is not a registered sink type in this doc test
    /// ```
    pub fn output_dir(
        &self,
        campaign_id: Option<&str>,
        now: Timestamp,
    ) -> Result<PathBuf, ManifestErrors> {
        let src = Source {
            name: &self.name,
            text: &self.text,
        };
        let id = campaign_id.or(self.campaign.id.as_deref());
        let mut dir = self.output_dir.clone();
        if dir.contains("{campaign_id}") {
            let Some(id) = id else {
                return Err(ManifestErrors(vec![src.error(
                    self.output_dir_span.clone(),
                    None,
                    Some("output.dir"),
                    "`{campaign_id}` in the output directory needs a campaign id: set [campaign].id or pass --campaign-id",
                )]));
            };
            dir = dir.replace("{campaign_id}", &path_safe(id));
        }
        if dir.contains("{date}") {
            let d = now.as_offset_datetime().date();
            dir = dir.replace(
                "{date}",
                &format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            );
        }
        // a file system refuses longer names, but only once a run is under way
        if let Some(long) = Path::new(&dir)
            .components()
            .find(|c| c.as_os_str().len() > 255)
        {
            let len = long.as_os_str().len();
            return Err(ManifestErrors(vec![src.error(
                self.output_dir_span.clone(),
                None,
                Some("output.dir"),
                format!(
                    "the output directory has a name of {len} bytes once expanded (file systems allow 255); use a shorter --campaign-id or [campaign].id"
                ),
            )]));
        }
        Ok(self.base_dir.join(dir))
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

/// Makes a campaign id safe as one path component: characters other than letters, digits,
/// `.`, `_` and `-` become `_`, and a leading `.` is escaped so `..` cannot climb.
fn path_safe(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

fn check_placeholders(dir: &str) -> Result<(), String> {
    let mut rest = dir;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or("unclosed `{` in the output directory")?;
        let name = &rest[open + 1..close];
        if name != "campaign_id" && name != "date" {
            return Err(format!(
                "unknown placeholder `{{{name}}}` in the output directory; available: {{campaign_id}}, {{date}}"
            ));
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Converts a TOML value to JSON (datetimes as their text), for validators.
fn to_json(v: &DeValue<'_>) -> Json {
    match v {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(
            i.as_str()
                .replace('_', "")
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b"),
            i.radix(),
        )
        .map(Json::from)
        .unwrap_or_else(|_| Json::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(|x| serde_json::Number::from_f64(x).map(Json::Number))
            .unwrap_or_else(|| Json::String(f.as_str().to_string())),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Datetime(d) => Json::String(d.to_string()),
        DeValue::Array(a) => Json::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

fn check_sink(
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
    let str_key = |key: &str,
                   errors: &mut Vec<ManifestError>,
                   sink: &SinkRef|
     -> Option<(String, Range<usize>)> {
        let v = table.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                errors.push(src.error(
                    Some(v.span()),
                    Some(sink),
                    Some(key),
                    format!("`{key}` must be a string, found {}", type_name(other)),
                ));
                None
            }
        }
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
    let plugin = match &ty {
        None if table.get("type").is_none() => {
            errors.push(src.error(
                Some(header_span(src, item)),
                Some(&sink),
                Some("type"),
                format!("missing key `type`; known types: {}", known_types()),
            ));
            None
        }
        None => None,
        Some((t, span)) => match exporter_core::sink_plugin(t) {
            Some(p) => Some(p),
            None => {
                let names: Vec<&str> = exporter_core::sink_plugins()
                    .iter()
                    .map(|p| p.name)
                    .collect();
                let suggestion = closest(t, names.iter().copied())
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                errors.push(src.error(
                    Some(span.clone()),
                    Some(&sink),
                    Some("type"),
                    format!(
                        "unknown sink type {t:?}; known types: {}{suggestion}",
                        known_types()
                    ),
                ));
                None
            }
        },
    };
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

fn check_source(
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
    let text = |key: &str| -> Result<Option<(String, Range<usize>)>, ManifestError> {
        match table.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some((s.to_string(), v.span()))),
                other => Err(src.error(
                    Some(v.span()),
                    None,
                    Some(key),
                    format!("`{key}` must be a string, found {}", type_name(other)),
                )),
            },
        }
    };
    let mut errors = Vec::new();
    let ty = text("type").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let name = text("name").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    entry.name = name
        .as_ref()
        .or(ty.as_ref())
        .map(|n| n.0.clone())
        .unwrap_or_default();
    let known = || {
        exporter_core::source_plugins()
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
    };
    let plugin = match &ty {
        None if table.get("type").is_none() => {
            errors.push(src.error(
                Some(header_span(src, item)),
                Some(&entry),
                Some("type"),
                format!(
                    "missing key `type`; known source types: {}",
                    known().join(", ")
                ),
            ));
            None
        }
        None => None,
        Some((t, span)) => match exporter_core::source_plugin(t) {
            Some(p) => Some(p),
            None => {
                let names = known();
                let suggestion = closest(t, names.iter().copied())
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                errors.push(src.error(
                    Some(span.clone()),
                    Some(&entry),
                    Some("type"),
                    format!(
                        "unknown source type {t:?}; known source types: {}{suggestion}",
                        names.join(", ")
                    ),
                ));
                None
            }
        },
    };
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

fn known_types() -> String {
    let names: Vec<&str> = exporter_core::sink_plugins()
        .iter()
        .map(|p| p.name)
        .collect();
    if names.is_empty() {
        "(none registered)".to_string()
    } else {
        names.join(", ")
    }
}

/// The `[[sinks]]` header line of an entry, found by scanning back from its first key.
fn header_span(src: &Source<'_>, item: &Spanned<DeValue<'_>>) -> Range<usize> {
    let start = item.span().start.min(src.text.len());
    if src.text[start..].starts_with("[[") {
        return item.span(); // an array-of-tables entry is spanned by its header
    }
    match src.text[..start].rfind("[[") {
        Some(h) => {
            let end = src.text[h..].find('\n').map_or(src.text.len(), |e| h + e);
            h..end
        }
        None => item.span(),
    }
}

/// Deserializes `value` into `T`, reporting the exact place of a failure.
fn deserialize_located<T: DeserializeOwned>(
    src: &Source<'_>,
    value: &Spanned<DeValue<'_>>,
    sink: Option<&SinkRef>,
    prefix: &str,
) -> Result<T, ManifestError> {
    let mut track = serde_path_to_error::Track::new();
    let result = T::deserialize(serde_path_to_error::Deserializer::new(
        ValueDeserializer::from(value.clone()),
        &mut track,
    ));
    result.map_err(|e| locate(src, value, sink, prefix, &track.path(), None, e.message()))
}

/// Runs the plugin's constructor on its own keys, through an erased deserializer that tracks
/// the path of any error; gives back the keys as parsed, for the runs to build from.
///
/// serde stops at a config's first error, so every error is found by building again without
/// the key at fault, until the config builds or an error names no key of the table (a
/// missing key is reported only when the user left it out, not when it was taken away here).
fn build_plugin(
    src: &Source<'_>,
    entry: &SinkRef,
    item: &Spanned<DeValue<'_>>,
    common_keys: &[&str],
    build: &dyn Fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<(), BuildError>,
) -> Result<toml::Value, Vec<ManifestError>> {
    const MAX_ERRORS: usize = 32;
    let sink = entry;
    let table = item.get_ref().as_table().expect("checked");
    let mut own = DeTable::new();
    for (k, v) in table.iter() {
        if !common_keys.contains(&k.get_ref().as_ref()) {
            own.insert(k.clone(), v.clone());
        }
    }
    let mut errors = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    loop {
        let spanned = Spanned::new(item.span(), DeValue::Table(own.clone()));
        let mut track = serde_path_to_error::Track::new();
        let result = {
            let tracked = serde_path_to_error::Deserializer::new(
                ValueDeserializer::from(spanned.clone()),
                &mut track,
            );
            let mut erased = <dyn erased_serde::Deserializer>::erase(tracked);
            build(&mut erased)
        };
        let BuildError { key, message } = match result {
            Ok(_) if errors.is_empty() => {
                return toml::Value::deserialize(ValueDeserializer::from(spanned)).map_err(|e| {
                    vec![src.error(Some(item.span()), Some(sink), None, e.message().to_string())]
                });
            }
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next());
        if missing.is_some_and(|m| removed.iter().any(|r| r == m)) {
            return Err(errors); // it was taken away here, after its own error
        }
        let error = locate(
            src,
            &spanned,
            Some(sink),
            "",
            &track.path(),
            key.as_deref(),
            &message,
        );
        let at_fault = error
            .key
            .as_deref()
            .map(|k| k.split(['.', '[']).next().unwrap_or(k).to_string())
            .filter(|k| own.contains_key(k.as_str()));
        errors.push(error);
        match at_fault {
            Some(k) if errors.len() < MAX_ERRORS => {
                own.remove(k.as_str());
                removed.push(k);
            }
            _ => return Err(errors),
        }
    }
}

/// Finds the span for an error at `path` (or at the plugin-given `key`) inside `root`.
fn locate(
    src: &Source<'_>,
    root: &Spanned<DeValue<'_>>,
    sink: Option<&SinkRef>,
    prefix: &str,
    path: &serde_path_to_error::Path,
    key: Option<&str>,
    message: &str,
) -> ManifestError {
    let mut segments: Vec<Cow<'_, str>> = Vec::new();
    match key {
        Some(k) => segments.extend(split_key(k).into_iter().map(Cow::Owned)),
        None => {
            for seg in path.iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => {
                        segments.push(Cow::Owned(key.clone()))
                    }
                    serde_path_to_error::Segment::Seq { index } => {
                        segments.push(Cow::Owned(format!("[{index}]")))
                    }
                    _ => {}
                }
            }
        }
    }
    // serde names an unknown field only in its message
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
        .map(str::to_string);
    let mut span = if sink.is_some() {
        None
    } else {
        Some(root.span())
    };
    let mut at = root;
    let mut walked = Vec::new();
    let mut key_span = None;
    for seg in &segments {
        let next = if let Some(i) = seg
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse::<usize>().ok())
        {
            at.get_ref()
                .as_array()
                .and_then(|a| a.get(i))
                .map(|v| (None, v))
        } else {
            at.get_ref()
                .as_table()
                .and_then(|t| t.get_key_value(seg.as_ref()))
                .map(|(k, v)| (Some(k.span()), v))
        };
        let Some((k, v)) = next else { break };
        walked.push(seg.to_string());
        at = v;
        key_span = k;
        span = Some(v.span());
    }
    if let Some(name) = &unknown {
        if walked.last().map(String::as_str) != Some(name.as_str())
            && let Some((k, _)) = at
                .get_ref()
                .as_table()
                .and_then(|t| t.get_key_value(name.as_str()))
        {
            walked.push(name.clone());
            key_span = Some(k.span());
        }
        span = key_span.clone().or(span);
    }
    let span = span.unwrap_or_else(|| header_span(src, root));
    let mut key_path = String::from(prefix);
    for seg in &walked {
        if !seg.starts_with('[') && !key_path.is_empty() {
            key_path.push('.');
        }
        key_path.push_str(seg);
    }
    // toml appends its own location lines ("in `key`"); the first line is the message
    let message = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(message);
    let mut message = humanize(message);
    if let Some(name) = &unknown {
        // serde lists the expected fields; point at the closest one
        let expected: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
        if let Some(best) = closest(name, expected.iter().copied()) {
            message = format!("{message}; did you mean `{best}`?");
        }
    }
    src.error(
        Some(span),
        sink,
        (!key_path.is_empty()).then_some(key_path.as_str()),
        message.to_string(),
    )
}

/// Rewrites serde's Rust type names in messages into the TOML words users know.
fn humanize(message: &str) -> String {
    let mut m = message.to_string();
    for (rust, toml) in [
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u16", "expected a non-negative integer"),
        ("expected u8", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("a sequence", "an array"),
        ("a map", "a table"),
        ("expected struct", "expected a table for"),
    ] {
        m = m.replace(rust, toml);
    }
    m
}

/// `a.b[2].c` into `a`, `b`, `[2]`, `c`.
fn split_key(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(rest[..open].to_string());
            }
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                out.push(rest[..=close].to_string());
                rest = &rest[close + 1..];
            }
        } else {
            out.push(rest.to_string());
        }
    }
    out
}

fn check_unique(src: &Source<'_>, root: &DeTable<'_>, errors: &mut Vec<ManifestError>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use exporter_core::{EventContext, Interests, OutputFiles, SinkOutput};

    /// A sink with one required key, registered for these tests only.
    struct Probe;

    impl Sink for Probe {
        fn interests(&self) -> Interests {
            Interests::NONE
        }
        fn open(&mut self, _: &OutputFiles) -> Result<(), exporter_core::SinkError> {
            Ok(())
        }
        fn event(
            &mut self,
            _: &exporter_core::Event<'_>,
            _: &mut EventContext<'_>,
        ) -> Result<(), exporter_core::SinkError> {
            Ok(())
        }
        fn finish(
            self: Box<Self>,
            _: &exporter_core::FinishContext<'_>,
        ) -> Result<SinkOutput, exporter_core::SinkError> {
            Ok(SinkOutput::default())
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ProbeConfig {
        #[allow(dead_code)]
        level: u8,
    }

    fn build_probe(
        d: &mut dyn erased_serde::Deserializer<'_>,
        _: &SinkContext,
    ) -> Result<Box<dyn Sink>, BuildError> {
        let _: ProbeConfig = exporter_core::config(d)?;
        Ok(Box::new(Probe))
    }

    inventory::submit! {
        SinkPlugin {
            name: "manifest-test-probe",
            description: "TEST ONLY",
            default_path: Some("probe.txt"),
            example: "level = 1\n",
            config_schema: exporter_core::no_options,
            default_validators: &[],
            numbered_parts: false,
            output_schema: None,
            build: build_probe,
        }
    }

    #[test]
    fn a_run_builds_its_sinks_from_the_tables_parsed_once() {
        let mut text = format!("# {}\n[output]\ndir = \"out\"\n", "x".repeat(100_000));
        for i in 0..50 {
            text.push_str(&format!(
                "[[sinks]]\ntype = \"manifest-test-probe\"\nname = \"p{i}\"\npath = \"p{i}.txt\"\nlevel = {i}\n"
            ));
        }
        let mut manifest = Manifest::parse(&text, "m.toml", Path::new(".")).unwrap();
        // what a run builds from is what was parsed: the text is not read again
        manifest.text = "[[[ no longer TOML".to_string();
        for spec in &manifest.sinks {
            assert!(manifest.build_sink(spec).is_ok(), "{}", spec.name);
        }
    }
}
