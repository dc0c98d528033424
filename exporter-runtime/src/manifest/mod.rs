//! The TOML manifest (docs/contract.md §3): `[campaign]`, `[output]`, `[commit]`,
//! `[[sources]]` and `[[sinks]]`.
//!
//! Loading checks everything it can without running: structure, common keys, each plugin's
//! own config (through the plugin's constructor), validators, paths. Every problem is
//! collected with its file, line, column, sink and key, and reported in one go.

// Errors here are built once per bad manifest, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

mod diagnostic;
mod sinks;
mod sources;
mod table;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use diagnostic::Source;
pub use diagnostic::{ManifestError, ManifestErrors, SinkRef};
pub use sinks::{COMMON_KEYS, MAX_FILE_NAME, SinkSpec, check_file_name, validator_entry};
pub use sources::{DEFAULT_SOURCE, SOURCE_COMMON_KEYS, SourceSpec};

use sinks::{check_sink, check_unique};
use sources::check_source;
use table::{deserialize_located, header_span, hint};

use exporter_core::closest;
use exporter_core::{Campaign, Timestamp};
use exporter_core::{Sink, SinkContext};
use exporter_core::{Source as EventSource, SourceContext};

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

#[cfg(test)]
mod tests {
    use super::*;
    use exporter_core::{BuildError, SinkPlugin};
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
