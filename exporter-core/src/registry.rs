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
use crate::validate::{Validator, ValidatorContext};

/// One option of a plugin's config, for `exporter plugins` and the docs.
///
/// ```
/// let o = exporter_core::OptionDoc { key: "dialect", ty: "string", default: "\"excel\"", doc: "CSV dialect" };
/// assert_eq!(o.key, "dialect");
/// ```
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct OptionDoc {
    /// The key in the sink's table.
    pub key: &'static str,
    /// Its TOML type, e.g. `string`, `integer`, `array of strings`.
    pub ty: &'static str,
    /// The default as TOML text, or `required`.
    pub default: &'static str,
    /// One line of documentation.
    pub doc: &'static str,
}

/// The constructor of a sink: it deserializes its own typed config (use [`config`]) and
/// returns the sink, without touching the file system's outputs.
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
///         options: &[],
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
    /// The plugin's own keys.
    pub options: &'static [OptionDoc],
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

impl std::fmt::Debug for SinkPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A validator plugin's descriptor.
pub struct ValidatorPlugin {
    /// The name used in `validate = [...]`.
    pub name: &'static str,
    /// One line for `exporter plugins`.
    pub description: &'static str,
    /// The constructor; an error message says why it cannot check this sink's files.
    pub build: fn(&ValidatorContext<'_>) -> Result<Box<dyn Validator>, String>,
}

inventory::collect!(SinkPlugin);
inventory::collect!(ValidatorPlugin);

/// Every registered sink plugin, sorted by name.
///
/// ```
/// // exporter-core registers no sink itself; binaries link plugin crates.
/// let names: Vec<_> = exporter_core::registry::sink_plugins().iter().map(|p| p.name).collect();
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
/// assert!(exporter_core::registry::validator_plugins().iter().any(|v| v.name == "exists"));
/// ```
pub fn validator_plugins() -> Vec<&'static ValidatorPlugin> {
    let mut v: Vec<_> = inventory::iter::<ValidatorPlugin>.into_iter().collect();
    v.sort_by_key(|p| p.name);
    v
}

/// The sink plugin named `name`.
pub fn sink_plugin(name: &str) -> Option<&'static SinkPlugin> {
    inventory::iter::<SinkPlugin>
        .into_iter()
        .find(|p| p.name == name)
}

/// The validator plugin named `name`.
///
/// ```
/// assert!(exporter_core::registry::validator_plugin("exists").is_some());
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
/// exporter_core::registry::check_unique_names().unwrap();
/// ```
pub fn check_unique_names() -> Result<(), String> {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in inventory::iter::<SinkPlugin> {
        *seen.entry(("sink", p.name)).or_default() += 1;
    }
    for p in inventory::iter::<ValidatorPlugin> {
        *seen.entry(("validator", p.name)).or_default() += 1;
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
/// use exporter_core::registry::closest;
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
    pub fn new(message: impl Into<String>) -> Self {
        BuildError {
            key: None,
            message: message.into(),
        }
    }

    /// An error about one key.
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
