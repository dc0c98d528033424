//! # exporter-testkit
//!
//! The plugin author's conformance kit: checks a plugin's own tests call to prove the plugin
//! keeps the sink contract. Every built-in plugin runs it.
//!
//! ```ignore
//! #[test]
//! fn keeps_the_contract() {
//!     exporter_testkit::Kit::new("markdown").unwrap().assert_all();
//! }
//! ```
//!
//! What it checks, each a method returning the problem it found:
//! - [`Kit::check_example`]: the plugin is registered and its example table builds;
//! - [`Kit::check_refuses_unknown_keys`]: a misspelt key is a manifest error naming it;
//! - [`Kit::check_reports_files`]: every file is reported with its true rows, bytes and hash;
//! - [`Kit::check_writes_only_reported_files`]: nothing is written outside the output
//!   directory, and nothing inside it goes unreported (files go through `OutputFiles`);
//! - [`Kit::check_no_side_effects`]: building the sink (what `exporter validate` does)
//!   writes nothing anywhere, and a run writes nothing in the working or temporary directory;
//! - [`Kit::check_appends_only_grow`]: a file reported as appended keeps the bytes of the
//!   run before and only grows (a file rewritten in place is not an append);
//! - [`Kit::check_record_accounting`]: every record given is accounted for, and the rows of
//!   the sink's staged files grow with the records it says it wrote;
//! - [`Kit::check_no_password_leak`]: no proxy password given in the input reaches any file;
//! - [`Kit::check_empty_stream`]: an empty input finishes cleanly and reports the same files
//!   as a run with events;
//! - [`Kit::check_validators_reject_damage`]: the plugin's validators reject damaged files;
//! - [`Kit::check_followers_agree`]: a validator that checks files while they are written
//!   finds what it finds in the finished file.

#![forbid(unsafe_code)]

/// The plugin author's guide (`docs/plugins.md`), whose examples run as this crate's doc
/// tests.
#[doc = include_str!("../../docs/plugins.md")]
pub mod guide {}

mod dirs;
mod followed;
mod samples;

pub use followed::followed_and_finished;
pub use samples::{SAMPLE_EVENTS, SECRETS, lead_records};

use std::path::{Path, PathBuf};

use dirs::{entries, files_under, first_change};
use samples::EXTRA_RECORDS;

use exporter_core::FileUnderCheck;
use exporter_core::{self, SinkPlugin};
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions, RunReport};

/// One named check of the kit.
type Check = fn(&Kit) -> Result<(), String>;

/// Conformance checks for one sink plugin.
pub struct Kit {
    plugin: &'static SinkPlugin,
    table: String,
}

/// One kit run: the folder it ran in and what the pipeline reported.
pub struct KitRun {
    /// The run's root (manifest and input here, outputs under `out/`).
    pub root: tempfile::TempDir,
    /// The report.
    pub report: RunReport,
}

impl KitRun {
    /// The output directory.
    pub fn out_dir(&self) -> PathBuf {
        self.root.path().join("out")
    }
}

impl Kit {
    /// The kit for the registered sink `name`, using its example table.
    pub fn new(name: &str) -> Result<Kit, String> {
        let plugin = exporter_core::sink_plugin(name).ok_or_else(|| {
            let known: Vec<&str> = exporter_core::sink_plugins()
                .iter()
                .map(|p| p.name)
                .collect();
            format!(
                "sink {name:?} is not registered (is its crate named in code?); registered: {}",
                known.join(", ")
            )
        })?;
        Ok(Kit {
            plugin,
            table: plugin.example.to_string(),
        })
    }

    /// Uses `table` (the body of a `[[sinks]]` table) instead of the example.
    pub fn with_table(mut self, table: &str) -> Kit {
        self.table = table.to_string();
        self
    }

    fn manifest_text(&self, extra: &str) -> String {
        let body = self.table.trim();
        let ty = if body.lines().any(|l| l.trim_start().starts_with("type")) {
            String::new()
        } else {
            format!("type = \"{}\"\n", self.plugin.name)
        };
        // extra keys go before any sub-table of the example
        let (head, tail) = match body.find("\n[") {
            Some(i) => (&body[..i], &body[i..]),
            None => (body, ""),
        };
        format!("[output]\ndir = \"out\"\n\n[[sinks]]\n{ty}{head}\n{extra}{tail}\n")
    }

    /// Runs the plugin alone on `events` in a fresh folder.
    pub fn run(&self, events: &str) -> Result<KitRun, String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        let report = self.run_in(root.path(), events)?;
        Ok(KitRun { root, report })
    }

    /// Runs the plugin alone on `events` in `root` (manifest and input written there, outputs
    /// under `out/`): twice in one root is a campaign's second run.
    pub fn run_in(&self, root: &Path, events: &str) -> Result<RunReport, String> {
        let text = self.manifest_text("");
        std::fs::write(root.join("exporter.toml"), &text).map_err(|e| e.to_string())?;
        std::fs::write(root.join("events.ndjson"), events).map_err(|e| e.to_string())?;
        let manifest = Manifest::parse(&text, "exporter.toml", root).map_err(|e| e.to_string())?;
        let mut pipeline =
            Pipeline::new(&manifest, RunOptions::default()).map_err(|e| e.to_string())?;
        pipeline
            .read(events.as_bytes(), "events.ndjson")
            .map_err(|e| e.to_string())?;
        pipeline.finish().map_err(|e| e.to_string())
    }

    /// The plugin is registered, its example table is a valid manifest table, and every key
    /// of the example is an option its config schema documents.
    pub fn check_example(&self) -> Result<(), String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        let manifest = Manifest::parse(&self.manifest_text(""), "example.toml", root.path())
            .map_err(|e| {
                format!(
                    "the example table of {:?} does not build:\n{e}",
                    self.plugin.name
                )
            })?;
        let documented: Vec<String> = self.plugin.options().into_iter().map(|o| o.key).collect();
        let used = manifest.sinks[0]
            .config
            .as_object()
            .cloned()
            .unwrap_or_default();
        match used.keys().find(|k| !documented.contains(k)) {
            Some(key) => Err(format!(
                "the example uses `{key}`, which the config schema does not document (derive the schema from the config type)"
            )),
            None => Ok(()),
        }
    }

    /// A misspelt key in the plugin's table is refused, naming the key.
    pub fn check_refuses_unknown_keys(&self) -> Result<(), String> {
        match Manifest::parse(
            &self.manifest_text("kit_misspelt_key = 1\n"),
            "kit.toml",
            tempfile::tempdir().map_err(|e| e.to_string())?.path(),
        ) {
            Ok(_) => Err(format!(
                "{:?} accepted an unknown key: use #[serde(deny_unknown_fields)]",
                self.plugin.name
            )),
            Err(e)
                if e.errors()
                    .iter()
                    .any(|x| x.key.as_deref() == Some("kit_misspelt_key")) =>
            {
                Ok(())
            }
            Err(e) => Err(format!(
                "the unknown key was refused, but the error does not name it:\n{e}"
            )),
        }
    }

    /// Every reported file exists with the reported bytes and SHA-256, at least one file is
    /// reported, and rows are counted when the sink wrote some.
    pub fn check_reports_files(&self) -> Result<(), String> {
        let run = self.run(SAMPLE_EVENTS)?;
        let files: Vec<_> = run.report.sinks.iter().flat_map(|s| &s.files).collect();
        if files.is_empty() {
            return Err(format!("{:?} reported no file", self.plugin.name));
        }
        for f in files {
            let path = run.out_dir().join(f.path());
            let (bytes, sha) = std::fs::File::open(&path)
                .and_then(exporter_core::digest)
                .map_err(|e| format!("reported file {} cannot be read: {e}", f.path()))?;
            if bytes != f.bytes() || sha != f.sha256() {
                return Err(format!(
                    "{}: reported {} bytes / {}, the file has {bytes} / {sha}",
                    f.path(),
                    f.bytes(),
                    f.sha256()
                ));
            }
            if bytes > 0 && f.rows() == 0 && f.write_ms() <= 0.0 {
                return Err(format!(
                    "{}: neither rows nor write time reported",
                    f.path()
                ));
            }
        }
        Ok(())
    }

    /// Nothing lands outside the output directory, and every file in it was reported.
    pub fn check_writes_only_reported_files(&self) -> Result<(), String> {
        let run = self.run(SAMPLE_EVENTS)?;
        let reported: Vec<PathBuf> = run
            .report
            .sinks
            .iter()
            .flat_map(|s| &s.files)
            .map(|f| PathBuf::from(&f.path()))
            .collect();
        for f in files_under(run.root.path()) {
            if f == Path::new("exporter.toml")
                || f == Path::new("events.ndjson")
                || f == Path::new("out").join(exporter_runtime::LOCK_FILE)
            {
                continue; // the kit's own, and the run's lock
            }
            let Ok(inside) = f.strip_prefix("out") else {
                return Err(format!(
                    "{} was written outside the output directory",
                    f.display()
                ));
            };
            if !reported.iter().any(|r| r == inside) {
                return Err(format!(
                    "{} was written but not reported (write through OutputFiles and hand it back)",
                    f.display()
                ));
            }
        }
        Ok(())
    }

    /// No password from the kit's stream reaches any file.
    pub fn check_no_password_leak(&self) -> Result<(), String> {
        let run = self.run(SAMPLE_EVENTS)?;
        for f in files_under(&run.out_dir()) {
            let bytes = std::fs::read(run.out_dir().join(&f)).map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&bytes);
            if let Some(secret) = SECRETS.iter().find(|s| text.contains(*s)) {
                return Err(format!("{} contains the password {secret:?}", f.display()));
            }
        }
        Ok(())
    }

    /// Building the sink writes nothing (in the manifest's folder, the working directory or
    /// the temporary directory), and a run writes nothing in the working or temporary
    /// directory: its files go through `OutputFiles`. Entries named `.tmp*` (scratch files
    /// of the `tempfile` crate, which other tests of the process create too) are not
    /// counted; a scratch file removed before the run ends leaves nothing to find. In the
    /// temporary directory, which other processes share, only new entries count.
    pub fn check_no_side_effects(&self) -> Result<(), String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        let places = |root: &Path| -> Vec<(&'static str, PathBuf)> {
            let mut places = vec![
                ("the manifest's folder", root.to_path_buf()),
                ("the temporary directory", std::env::temp_dir()),
            ];
            if let Ok(cwd) = std::env::current_dir() {
                places.push(("the working directory", cwd));
            }
            places
        };
        let text = self.manifest_text("");
        std::fs::write(root.path().join("exporter.toml"), &text).map_err(|e| e.to_string())?;
        let before: Vec<_> = places(root.path())
            .into_iter()
            .map(|(what, dir)| (what, entries(&dir), dir))
            .collect();
        Manifest::parse(&text, "exporter.toml", root.path()).map_err(|e| e.to_string())?;
        for (what, was, dir) in &before {
            if let Some(new) = first_change(was, &entries(dir), *dir == std::env::temp_dir()) {
                return Err(format!(
                    "building the sink wrote {new:?} in {what} ({}): build() must have no side effect (exporter validate runs it)",
                    dir.display()
                ));
            }
        }
        self.run_in(root.path(), SAMPLE_EVENTS)?;
        for (what, was, dir) in before.iter().skip(1) {
            if let Some(new) = first_change(was, &entries(dir), *dir == std::env::temp_dir()) {
                return Err(format!(
                    "the run wrote {new:?} in {what} ({}): write through OutputFiles only",
                    dir.display()
                ));
            }
        }
        Ok(())
    }

    /// A file reported as appended keeps, after a second run in the same folder, every byte
    /// the first run left, and reports the rows of its own run: a sink that rewrites a file
    /// in place and calls it appended skips staging and could lose it all in a crash.
    pub fn check_appends_only_grow(&self) -> Result<(), String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        let first = self.run_in(root.path(), SAMPLE_EVENTS)?;
        let appended: Vec<_> = first
            .sinks
            .iter()
            .flat_map(|s| &s.files)
            .filter(|f| f.appended())
            .map(|f| {
                let path = root.path().join("out").join(f.path());
                std::fs::read(&path)
                    .map(|bytes| (f.path().to_string(), path, bytes))
                    .map_err(|e| format!("{}: {e}", f.path()))
            })
            .collect::<Result<_, _>>()?;
        if appended.is_empty() {
            return Ok(());
        }
        // an empty run between two full ones: a file written anew each run comes out shorter
        let mut appended = appended;
        for events in ["", SAMPLE_EVENTS] {
            appended = self.second_append(root.path(), events, appended)?;
        }
        Ok(())
    }

    /// A run after one that left the `appended` files (name, path, bytes): what they are now.
    fn second_append(
        &self,
        root: &Path,
        events: &str,
        appended: Vec<(String, PathBuf, Vec<u8>)>,
    ) -> Result<Vec<(String, PathBuf, Vec<u8>)>, String> {
        let second = self.run_in(root, events)?;
        let mut now = Vec::new();
        for (name, path, before) in appended {
            let after = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
            if !after.starts_with(&before) {
                return Err(format!(
                    "{name} is reported as appended, but the second run changed the {} bytes the first left (only new bytes may be added at the end)",
                    before.len()
                ));
            }
            let reported = second
                .sinks
                .iter()
                .flat_map(|s| &s.files)
                .find(|f| f.path() == name);
            match reported {
                Some(f) if f.appended() && f.bytes() == after.len() as u64 => {}
                Some(f) => {
                    return Err(format!(
                        "{name}: the second run reported {} bytes (appended: {}), the file has {}",
                        f.bytes(),
                        f.appended(),
                        after.len()
                    ));
                }
                None => return Err(format!("{name}: the second run did not report it")),
            }
            now.push((name, path, after));
        }
        Ok(now)
    }

    /// Every record the sink is given is accounted for (the pipeline refuses a missing or
    /// unbalanced tally), and a run with more records to write reports that many more rows
    /// in its files: a sink does not report rows it did not write, nor drop records
    /// it counts as written.
    pub fn check_record_accounting(&self) -> Result<(), String> {
        let sample = self.run(SAMPLE_EVENTS)?;
        let mut more = SAMPLE_EVENTS.to_string();
        for i in 0..EXTRA_RECORDS {
            more.push_str(&format!(
                r#"{{"type":"record","data":{{"place_id":"kit-extra-{i}","name":"Extra {i}","rating":4}}}}"#
            ));
            more.push('\n');
        }
        let bigger = self.run(&more)?;
        let measure = |report: &RunReport| -> Option<(u64, u64)> {
            let sink = &report.sinks[0];
            let tally = sink.records.as_ref()?;
            let rows = sink.files.iter().map(|f| f.rows()).sum();
            Some((tally.written, rows))
        };
        let (Some((written0, rows0)), Some((written1, rows1))) =
            (measure(&sample.report), measure(&bigger.report))
        else {
            return Ok(()); // takes no records (a sink that does and hides it is refused)
        };
        if written1 - written0 != rows1 - rows0 {
            return Err(format!(
                "{EXTRA_RECORDS} more records: it reports {} more written and {} more rows in its files",
                written1 as i128 - written0 as i128,
                rows1 as i128 - rows0 as i128
            ));
        }
        Ok(())
    }

    /// An empty input finishes cleanly and reports the same files as a run with events: a
    /// campaign that collected nothing still gets its deliverables (a header-only table).
    pub fn check_empty_stream(&self) -> Result<(), String> {
        let empty = self
            .run("")
            .map_err(|e| format!("an empty stream failed: {e}"))?;
        let sample = self.run(SAMPLE_EVENTS)?;
        let names = |run: &KitRun| -> Vec<String> {
            let mut names: Vec<String> = run
                .report
                .sinks
                .iter()
                .flat_map(|s| &s.files)
                .map(|f| f.path().to_string())
                .collect();
            names.sort();
            names
        };
        let (empty, sample) = (names(&empty), names(&sample));
        if empty != sample {
            return Err(format!(
                "an empty stream reported {empty:?}, a stream with events {sample:?}"
            ));
        }
        Ok(())
    }

    /// The plugin's validators find problems in damaged copies of its files: an emptied file
    /// always; a file cut in half, garbage appended, when it has validators beyond `exists`.
    pub fn check_validators_reject_damage(&self) -> Result<(), String> {
        let run = self.run(SAMPLE_EVENTS)?;
        let text = self.manifest_text("");
        let manifest =
            Manifest::parse(&text, "exporter.toml", run.root.path()).map_err(|e| e.to_string())?;
        let spec = &manifest.sinks[0];
        if spec.validate.is_empty() {
            return Err(format!("{:?} has no validators", self.plugin.name));
        }
        let content_checks = spec.validate.iter().any(|v| v != "exists");
        let report = &run.report.sinks[0];
        for f in &report.files {
            let path = run.out_dir().join(f.path());
            let original = std::fs::read(&path).map_err(|e| e.to_string())?;
            let mut damages: Vec<(&str, Vec<u8>)> = vec![("emptied", Vec::new())];
            if content_checks {
                let mut cut = original[..original.len() / 2].to_vec();
                cut.extend_from_slice(b"\x01garbage,\"\n");
                damages.push(("cut in half", cut));
            }
            for (what, bytes) in damages {
                std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
                let mut findings = Vec::new();
                for (_, v) in spec.validators(&manifest.base_dir)? {
                    findings.extend(v.check(&FileUnderCheck {
                        path: &path,
                        name: f.path(),
                        rows: Some(f.rows().max(1)),
                    }));
                }
                if findings.is_empty() {
                    return Err(format!(
                        "{} {what}: the validators [{}] found nothing",
                        f.path(),
                        spec.validate.join(", ")
                    ));
                }
            }
            std::fs::write(&path, original).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Each validator that [follows writes](Validator::follows_writes) finds, in the
    /// plugin's files and their damaged copies written a piece at a time, exactly what its
    /// [`Validator::check`] finds in the finished files.
    pub fn check_followers_agree(&self) -> Result<(), String> {
        let run = self.run(SAMPLE_EVENTS)?;
        let text = self.manifest_text("");
        let manifest =
            Manifest::parse(&text, "exporter.toml", run.root.path()).map_err(|e| e.to_string())?;
        let spec = &manifest.sinks[0];
        for (name, v) in spec.validators(&manifest.base_dir)? {
            if !v.follows_writes() {
                continue;
            }
            for f in &run.report.sinks[0].files {
                let original =
                    std::fs::read(run.out_dir().join(f.path())).map_err(|e| e.to_string())?;
                let mut cut = original[..original.len() / 2].to_vec();
                cut.extend_from_slice(b"\x01garbage,\"\n");
                for (what, bytes) in [
                    ("as written", original),
                    ("cut in half", cut),
                    ("emptied", Vec::new()),
                ] {
                    let (followed, finished) =
                        followed_and_finished(&*v, &bytes, f.path(), f.rows().max(1))?;
                    if followed != finished {
                        return Err(format!(
                            "{} {what}: {name} found {} while it was written, {} in the finished file",
                            f.path(),
                            followed.len(),
                            finished.len()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs every check; the problems found, if any.
    pub fn check_all(&self) -> Result<(), Vec<String>> {
        let checks: [(&str, Check); 11] = [
            // first: a file another check's run left is then not there already
            ("no side effects", Kit::check_no_side_effects),
            ("example", Kit::check_example),
            ("unknown keys", Kit::check_refuses_unknown_keys),
            ("reports files", Kit::check_reports_files),
            (
                "writes only reported files",
                Kit::check_writes_only_reported_files,
            ),
            ("appends only grow", Kit::check_appends_only_grow),
            ("record accounting", Kit::check_record_accounting),
            ("no password leak", Kit::check_no_password_leak),
            ("empty stream", Kit::check_empty_stream),
            (
                "validators reject damage",
                Kit::check_validators_reject_damage,
            ),
            ("followers agree", Kit::check_followers_agree),
        ];
        let problems: Vec<String> = checks
            .iter()
            .filter_map(|(name, check)| check(self).err().map(|e| format!("{name}: {e}")))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// [`Kit::check_all`], panicking with every problem.
    pub fn assert_all(&self) {
        if let Err(problems) = self.check_all() {
            panic!(
                "sink {:?} breaks the contract:\n- {}",
                self.plugin.name,
                problems.join("\n- ")
            );
        }
    }
}
