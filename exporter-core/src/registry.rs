//! The plugin registry: `'static` descriptors collected with `inventory`. Everything
//! user-facing about plugins (`exporter plugins`, example tables, manifest checks) is generated
//! from these lists, never maintained in a second place.
//!
//! A plugin crate registers itself with [`inventory::submit!`](crate::inventory::submit); the
//! crate must be *named* somewhere in the final binary's code (`use my_plugin as _;`), or the
//! linker drops it and its registration with it.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::sink::{Sink, SinkContext};
use crate::source::{Source, SourceContext};
use crate::validate::{Validator, ValidatorContext};

/// One option of a plugin's config, for `exporter plugins` and `exporter init`: read from
/// the JSON Schema of the plugin's typed config ([`SinkPlugin::config_schema`]), so the docs
/// are the config's own doc comments and can never drift from what it accepts.
///
/// ```
/// use exporter_core::OptionDoc;
/// let schema = serde_json::json!({
///     "type": "object",
///     "properties": {
///         "dialect": {"description": "CSV dialect.", "enum": ["excel", "unix"], "default": "excel"},
///         "schema": {"description": "Table Schema file."},
///         "max_rows": {"type": ["integer", "null"], "description": "Rows per file."}
///     },
///     "required": ["schema"]
/// });
/// let options = OptionDoc::from_schema(&schema);
/// assert_eq!(options[0].key, "dialect");
/// assert_eq!((options[0].ty.as_str(), options[0].default.as_str()), ("excel | unix", "\"excel\""));
/// assert_eq!((options[2].key.as_str(), options[2].default.as_str()), ("schema", "required"));
/// assert_eq!(options[1].ty, "integer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OptionDoc {
    /// The key in the sink's table.
    pub key: String,
    /// Its TOML type, e.g. `string`, `integer`, `array of strings`, or the values allowed.
    pub ty: String,
    /// The default as TOML text, `required`, or empty when it is optional without one.
    pub default: String,
    /// Its documentation (the config field's doc comment).
    pub doc: String,
}

impl OptionDoc {
    /// The options a config's JSON Schema describes, in key order.
    ///
    /// ```
    /// let schema = exporter_core::serde_json::json!({
    ///     "type": "object",
    ///     "properties": {"delimiter": {"type": "string", "default": ",", "description": "The field separator."}}
    /// });
    /// let options = exporter_core::OptionDoc::from_schema(&schema);
    /// assert_eq!((options[0].key.as_str(), options[0].ty.as_str()), ("delimiter", "string"));
    /// ```
    pub fn from_schema(schema: &serde_json::Value) -> Vec<OptionDoc> {
        use serde_json::Value;
        let defs = schema.get("$defs");
        let resolve = |v: &'_ Value| -> Value {
            // a `$ref` (an enum or a table of its own) is described where it points
            let target = v
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| defs?.get(name));
            match target {
                Some(t) => {
                    let mut merged = t.clone();
                    if let (Some(m), Some(own)) = (merged.as_object_mut(), v.as_object()) {
                        m.extend(
                            own.iter()
                                .filter(|(k, _)| *k != "$ref")
                                .map(|(k, v)| (k.clone(), v.clone())),
                        );
                    }
                    merged
                }
                None => v.clone(),
            }
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut options: Vec<OptionDoc> = properties
            .iter()
            .map(|(key, raw)| {
                let p = resolve(raw);
                OptionDoc {
                    key: key.clone(),
                    ty: type_text(&p, &resolve),
                    default: match p.get("default") {
                        _ if required.contains(&key.as_str()) => "required".into(),
                        Some(Value::Null) | None => String::new(),
                        Some(Value::String(s)) => format!("{s:?}"),
                        Some(other) => other.to_string(),
                    },
                    doc: p
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                }
            })
            .collect();
        options.sort_by(|a, b| a.key.cmp(&b.key));
        options
    }
}

/// How an option's type reads in TOML terms.
fn type_text(
    p: &serde_json::Value,
    resolve: &dyn Fn(&serde_json::Value) -> serde_json::Value,
) -> String {
    use serde_json::Value;
    let values = |list: &Vec<Value>| {
        list.iter()
            .filter_map(|v| v.get("const").or(Some(v)).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    if let Some(list) = p.get("enum").and_then(Value::as_array) {
        return values(list);
    }
    if let Some(value) = p.get("const").and_then(Value::as_str) {
        return value.to_string();
    }
    if let Some(list) = p.get("oneOf").or(p.get("anyOf")).and_then(Value::as_array) {
        let kinds: Vec<String> = list
            .iter()
            .map(|v| type_text(&resolve(v), resolve))
            .filter(|t| t != "null" && !t.is_empty())
            .collect();
        let consts = list.iter().all(|v| v.get("const").is_some());
        return kinds.join(if consts { " | " } else { " or " });
    }
    let kind = match p.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    };
    match kind {
        "object" => "table".into(),
        "array" => match p.get("items").map(|i| type_text(&resolve(i), resolve)) {
            Some(item) if !item.is_empty() => format!("array of {item}s"),
            _ => "array".into(),
        },
        "number" => "number".into(),
        "" => "any".into(),
        other => other.into(),
    }
}

/// The constructor of a sink: it deserializes its own typed config (use [`config`]) and
/// returns the sink, without touching the file system's outputs.
///
/// ```
/// use exporter_core::{BuildError, BuildSink, Sink, SinkContext, erased_serde::Deserializer};
/// fn build(d: &mut dyn Deserializer<'_>, cx: &SinkContext) -> Result<Box<dyn Sink>, BuildError> {
///     # let _ = (d, cx);
///     # unimplemented!()
/// }
/// let constructor: BuildSink = build; // what `SinkPlugin::build` holds
/// ```
pub type BuildSink =
    fn(&mut dyn erased_serde::Deserializer<'_>, &SinkContext) -> Result<Box<dyn Sink>, BuildError>;

/// A sink plugin's descriptor.
///
/// ```no_run
/// use exporter_core::{SinkPlugin, SinkContext, BuildError, Sink};
/// fn build(d: &mut dyn erased_serde::Deserializer<'_>, cx: &SinkContext) -> Result<Box<dyn Sink>, BuildError> {
///     # unimplemented!()
/// }
/// exporter_core::inventory::submit! {
///     SinkPlugin {
///         name: "markdown",
///         description: "A Markdown table of the records.",
///         default_path: Some("results.md"),
///         example: "type = \"markdown\"\npath = \"results.md\"\n",
///         config_schema: exporter_core::no_options,
///         default_validators: &["exists"],
///         numbered_parts: false,
///         output_schema: None,
///         build,
///     }
/// }
/// ```
pub struct SinkPlugin {
    /// The `type` in the manifest; unique across the binary.
    pub name: &'static str,
    /// One line for `exporter plugins`.
    pub description: &'static str,
    /// `path` when the manifest gives none (`None`: the sink writes no file of its own).
    pub default_path: Option<&'static str>,
    /// A complete example `[[sinks]]` table body (TOML), printed by `exporter plugins` and
    /// `exporter init`, and checked by tests to parse.
    pub example: &'static str,
    /// The JSON Schema of the plugin's typed config (its own keys): what `exporter plugins`
    /// lists, with the config's doc comments as descriptions. Plugins generate it from the
    /// config type (`schemars::schema_for!(Config)`), so it cannot drift from what is accepted.
    pub config_schema: fn() -> serde_json::Value,
    /// Validators run when the manifest sets no `validate`.
    pub default_validators: &'static [&'static str],
    /// Whether it may continue its file in numbered parts (`NAME-0002.EXT`, ...; see
    /// [`crate::output::part_path`]): the manifest check then keeps other sinks off those
    /// names, and a run removes parts an earlier run left beyond its own.
    pub numbered_parts: bool,
    /// JSON Schema (draft 2020-12) of the file it writes, if it is JSON.
    pub output_schema: Option<&'static str>,
    /// The constructor.
    pub build: BuildSink,
}

impl SinkPlugin {
    /// The plugin's options, from its [config schema](SinkPlugin::config_schema).
    ///
    /// ```no_run
    /// // every registered sink's keys, as `exporter plugins` lists them
    /// for plugin in exporter_core::sink_plugins() {
    ///     for option in plugin.options() {
    ///         println!("{}.{}: {} ({})", plugin.name, option.key, option.ty, option.doc);
    ///     }
    /// }
    /// ```
    pub fn options(&self) -> Vec<OptionDoc> {
        OptionDoc::from_schema(&(self.config_schema)())
    }
}

/// The config schema of a plugin with no keys of its own.
///
/// ```
/// assert!(exporter_core::OptionDoc::from_schema(&exporter_core::no_options()).is_empty());
/// ```
pub fn no_options() -> serde_json::Value {
    serde_json::json!({"type": "object", "properties": {}, "additionalProperties": false})
}

impl std::fmt::Debug for SinkPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A validator plugin's descriptor.
///
/// ```
/// let exists = exporter_core::validator_plugin("exists").unwrap();
/// assert_eq!(exists.name, "exists");
/// assert!(!exists.description.is_empty());
/// ```
pub struct ValidatorPlugin {
    /// The name used in `validate = [...]`.
    pub name: &'static str,
    /// One line for `exporter plugins`.
    pub description: &'static str,
    /// The constructor; an error message says why it cannot check this sink's files.
    pub build: fn(&ValidatorContext<'_>) -> Result<Box<dyn Validator>, String>,
}

/// The constructor of a source: it deserializes its own typed config (use [`config`]) and
/// returns the source, without connecting or opening anything yet (the manifest check builds
/// it too).
///
/// ```
/// use exporter_core::{BuildError, BuildSource, Source, SourceContext, erased_serde::Deserializer};
/// fn build(d: &mut dyn Deserializer<'_>, cx: &SourceContext) -> Result<Box<dyn Source>, BuildError> {
///     # let _ = (d, cx);
///     # unimplemented!()
/// }
/// let constructor: BuildSource = build; // what `SourcePlugin::build` holds
/// ```
pub type BuildSource = fn(
    &mut dyn erased_serde::Deserializer<'_>,
    &SourceContext,
) -> Result<Box<dyn Source>, BuildError>;

/// A source plugin's descriptor, chosen by `type` in a `[[sources]]` table.
///
/// ```no_run
/// use exporter_core::{BuildError, Source, SourceContext, SourcePlugin};
/// fn build(d: &mut dyn erased_serde::Deserializer<'_>, cx: &SourceContext) -> Result<Box<dyn Source>, BuildError> {
///     # unimplemented!()
/// }
/// exporter_core::inventory::submit! {
///     SourcePlugin {
///         name: "kafka",
///         description: "Events from a Kafka topic.",
///         example: "type = \"kafka\"\ntopic = \"events\"\n",
///         config_schema: exporter_core::no_options,
///         build,
///     }
/// }
/// ```
pub struct SourcePlugin {
    /// The `type` in the manifest; unique across the binary.
    pub name: &'static str,
    /// One line for `exporter plugins`.
    pub description: &'static str,
    /// A complete example `[[sources]]` table body (TOML), checked by tests to parse.
    pub example: &'static str,
    /// The JSON Schema of the plugin's typed config, as for [`SinkPlugin::config_schema`].
    pub config_schema: fn() -> serde_json::Value,
    /// The constructor.
    pub build: BuildSource,
}

impl SourcePlugin {
    /// The plugin's options, from its [config schema](SourcePlugin::config_schema).
    ///
    /// ```
    /// let ndjson = exporter_core::source_plugins().into_iter().find(|p| p.name == "ndjson");
    /// // registered by exporter-runtime, linked by binaries; none in this doc test
    /// assert!(ndjson.is_none() || ndjson.unwrap().options().iter().any(|o| o.key == "paths"));
    /// ```
    pub fn options(&self) -> Vec<OptionDoc> {
        OptionDoc::from_schema(&(self.config_schema)())
    }
}

impl std::fmt::Debug for SourcePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourcePlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

inventory::collect!(SinkPlugin);
inventory::collect!(ValidatorPlugin);
inventory::collect!(SourcePlugin);

/// Every registered source plugin, sorted by name.
///
/// ```
/// let names: Vec<_> = exporter_core::source_plugins().iter().map(|p| p.name).collect();
/// assert!(names.windows(2).all(|w| w[0] <= w[1]));
/// ```
pub fn source_plugins() -> Vec<&'static SourcePlugin> {
    let mut v: Vec<_> = inventory::iter::<SourcePlugin>.into_iter().collect();
    v.sort_by_key(|p| p.name);
    v
}

/// The source plugin named `name`.
///
/// ```
/// assert!(exporter_core::source_plugin("no-such-source").is_none());
/// ```
pub fn source_plugin(name: &str) -> Option<&'static SourcePlugin> {
    inventory::iter::<SourcePlugin>
        .into_iter()
        .find(|p| p.name == name)
}

/// Every registered sink plugin, sorted by name.
///
/// ```
/// // exporter-core registers no sink itself; binaries link plugin crates.
/// let names: Vec<_> = exporter_core::sink_plugins().iter().map(|p| p.name).collect();
/// assert!(names.windows(2).all(|w| w[0] <= w[1]));
/// ```
pub fn sink_plugins() -> Vec<&'static SinkPlugin> {
    let mut v: Vec<_> = inventory::iter::<SinkPlugin>.into_iter().collect();
    v.sort_by_key(|p| p.name);
    v
}

/// Every registered validator plugin, sorted by name.
///
/// ```
/// assert!(exporter_core::validator_plugins().iter().any(|v| v.name == "exists"));
/// ```
pub fn validator_plugins() -> Vec<&'static ValidatorPlugin> {
    let mut v: Vec<_> = inventory::iter::<ValidatorPlugin>.into_iter().collect();
    v.sort_by_key(|p| p.name);
    v
}

/// The sink plugin named `name`.
///
/// ```
/// // this crate registers no sink; a binary linking the plugin crates finds them here
/// assert!(exporter_core::sink_plugin("no-such-sink").is_none());
/// ```
pub fn sink_plugin(name: &str) -> Option<&'static SinkPlugin> {
    inventory::iter::<SinkPlugin>
        .into_iter()
        .find(|p| p.name == name)
}

/// The validator plugin named `name`.
///
/// ```
/// assert!(exporter_core::validator_plugin("exists").is_some());
/// ```
pub fn validator_plugin(name: &str) -> Option<&'static ValidatorPlugin> {
    inventory::iter::<ValidatorPlugin>
        .into_iter()
        .find(|p| p.name == name)
}

/// Fails when two linked plugins share a name: which one a manifest gets would be an accident
/// of link order. Binaries call it at start-up.
///
/// ```
/// exporter_core::check_unique_names().unwrap();
/// ```
pub fn check_unique_names() -> Result<(), String> {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in inventory::iter::<SinkPlugin> {
        *seen.entry(("sink", p.name)).or_default() += 1;
    }
    for p in inventory::iter::<ValidatorPlugin> {
        *seen.entry(("validator", p.name)).or_default() += 1;
    }
    for p in inventory::iter::<SourcePlugin> {
        *seen.entry(("source", p.name)).or_default() += 1;
    }
    let dups: Vec<String> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((kind, name), n)| format!("{kind} {name:?} is registered {n} times"))
        .collect();
    if dups.is_empty() {
        Ok(())
    } else {
        Err(format!("duplicate plugin names: {}", dups.join("; ")))
    }
}

/// The candidate closest to `word` (edit distance at most a third of its length, at least 2),
/// for "did you mean" hints.
///
/// ```
/// use exporter_core::closest;
/// assert_eq!(closest("cvs", ["csv", "error-log"]), Some("csv"));
/// assert_eq!(closest("zzzzzz", ["csv"]), None);
/// ```
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            // a transposition counts as one edit
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                cur[j + 1] = cur[j + 1].min(prev[j - 1] + 1);
            }
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Why a plugin could not be built from its table. `key` (a path such as `schema` or
/// `thresholds.failing`) lets the manifest error point at the right line.
///
/// ```
/// let e = exporter_core::BuildError::at_key("schema", "cannot read lead.json: not found");
/// assert_eq!(e.key.as_deref(), Some("schema"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BuildError {
    /// The key concerned, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl BuildError {
    /// An error about the sink table as a whole.
    ///
    /// ```
    /// let e = exporter_core::BuildError::new("give `schema` or `columns`");
    /// assert!(e.key.is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        BuildError {
            key: None,
            message: message.into(),
        }
    }

    /// An error about one key.
    ///
    /// ```
    /// let e = exporter_core::BuildError::at_key("delimiter", "one character");
    /// assert_eq!((e.key.as_deref(), e.to_string().as_str()), (Some("delimiter"), "one character"));
    /// ```
    pub fn at_key(key: impl Into<String>, message: impl Into<String>) -> Self {
        BuildError {
            key: Some(key.into()),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<erased_serde::Error> for BuildError {
    fn from(e: erased_serde::Error) -> Self {
        BuildError::new(e.to_string())
    }
}

/// Deserializes a plugin's typed config from the erased deserializer it was given. Use
/// `#[serde(deny_unknown_fields)]` on the config so typos are refused; the manifest loader
/// tracks the path of any error and reports its line and column.
///
/// ```
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Config { dialect: String }
/// let table = serde_json::json!({"dialect": "excel"}); // the manifest gives a TOML table
/// let mut d = <dyn erased_serde::Deserializer>::erase(table);
/// let c: Config = exporter_core::config(&mut d).unwrap();
/// assert_eq!(c.dialect, "excel");
/// ```
pub fn config<T: DeserializeOwned>(
    deserializer: &mut dyn erased_serde::Deserializer<'_>,
) -> Result<T, BuildError> {
    erased_serde::deserialize(deserializer).map_err(BuildError::from)
}
