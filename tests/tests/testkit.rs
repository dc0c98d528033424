//! The conformance kit catches a plugin that breaks each rule: small deliberately broken
//! plugins, each failing exactly the check for its rule, and a well-behaved one passing all.

use std::io::Write;

use exporter_core::{
    AppendFile, BuildError, Event, EventContext, FileUnderCheck, Finding, FindingCode,
    FinishContext, GrowingFile, Interests, OutputFiles, RecordTally, Sink, SinkContext, SinkError,
    SinkOutput, SinkPlugin, StagedFile, Validator, ValidatorContext, ValidatorPlugin, Written,
};
use exporter_testkit::Kit;
use exporter_tests as _; // the well-behaved `test-jsonl`

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    #[allow(dead_code)]
    color: Option<String>,
}

#[derive(serde::Deserialize)]
struct Lenient {}

#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    Unreported,
    Outside,
    Leak,
    FailsWhenEmpty,
    SilentWhenEmpty,
    RewritesAppended,
    WritesTemp,
    WritesCwd,
    InflatesRows,
    DropsRecords,
    Untallied,
}

struct Broken {
    flaw: Flaw,
    path: std::path::PathBuf,
    manifest_dir: std::path::PathBuf,
    file: Option<StagedFile>,
    appended: Option<(AppendFile, std::path::PathBuf)>,
    events: u64,
    tally: RecordTally,
}

impl Sink for Broken {
    fn interests(&self) -> Interests {
        match self.flaw {
            // a log of events, not of records
            Flaw::RewritesAppended => Interests {
                records: false,
                ..Interests::ALL
            },
            _ => Interests::ALL,
        }
    }
    fn open(&mut self, files: &OutputFiles) -> Result<(), SinkError> {
        match self.flaw {
            Flaw::Unreported => {
                std::fs::write(files.dir().join("direct.txt"), "written around the kit\n").unwrap()
            }
            Flaw::Outside => {
                std::fs::write(files.dir().join("../outside.txt"), "escaped\n").unwrap()
            }
            _ => {}
        }
        match self.flaw {
            Flaw::Unreported => {}
            Flaw::RewritesAppended => {
                let target = files.resolve(&self.path)?;
                self.appended = Some((files.append(&self.path)?, target));
            }
            _ => self.file = Some(files.stage(&self.path)?),
        }
        Ok(())
    }
    fn event(&mut self, event: &Event<'_>, _: &mut EventContext<'_>) -> Result<(), SinkError> {
        self.events += 1;
        if let Event::Record(_) = event {
            self.tally.received += 1;
            self.tally.written += 1;
            if self.flaw == Flaw::DropsRecords && self.tally.received.is_multiple_of(2) {
                self.tally.written -= 1; // dropped: neither written nor raised
                return Ok(());
            }
        }
        if let Some(f) = &mut self.file {
            f.write_all(b"event\n").unwrap();
            f.add_rows(if self.flaw == Flaw::InflatesRows {
                2
            } else {
                1
            });
        }
        Ok(())
    }
    fn finish(mut self: Box<Self>, _: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        match self.flaw {
            Flaw::FailsWhenEmpty if self.events == 0 => {
                return Err(SinkError::new("nothing to report"));
            }
            Flaw::SilentWhenEmpty if self.events == 0 => return Ok(SinkOutput::default()),
            Flaw::Leak => {
                // copies the raw input it finds next to the manifest: passwords and all
                let raw = std::fs::read(self.manifest_dir.join("events.ndjson")).unwrap();
                self.file.as_mut().unwrap().write_all(&raw).unwrap();
            }
            Flaw::WritesTemp => {
                std::fs::write(std::env::temp_dir().join("kit-scratch.txt"), "left over").unwrap()
            }
            Flaw::WritesCwd => std::fs::write("kit-scratch.txt", "left over").unwrap(),
            Flaw::RewritesAppended => {
                // writes the whole file anew, then passes it off as appended
                let (log, target) = self.appended.take().unwrap();
                std::fs::write(&target, "event\n".repeat(self.events as usize)).unwrap();
                let report = log.finish().unwrap();
                let out = SinkOutput {
                    files: vec![Written::Appended(report)],
                    ..Default::default()
                };
                return Ok(out);
            }
            _ => {}
        }
        let out = SinkOutput::staged(self.file.take().into_iter().collect());
        Ok(if self.flaw == Flaw::Untallied {
            out
        } else {
            out.with_records(self.tally)
        })
    }
}

fn sink(flaw: Flaw, cx: &SinkContext) -> Box<dyn Sink> {
    Box::new(Broken {
        flaw,
        path: cx.path.clone(),
        manifest_dir: cx.manifest_dir.clone(),
        file: None,
        appended: None,
        events: 0,
        tally: RecordTally::default(),
    })
}

macro_rules! broken {
    ($name:literal, $example:literal, $validators:expr, $build:expr) => {
        exporter_core::inventory::submit! {
            SinkPlugin {
                name: $name,
                description: "TEST ONLY: breaks one rule of the sink contract.",
                default_path: Some("out.txt"),
                example: $example,
                config_schema: exporter_core::no_options,
                default_validators: $validators,
                numbered_parts: false,
                output_schema: None,
                build: $build,
            }
        }
    };
}

type De<'a, 'b> = &'a mut dyn exporter_core::erased_serde::Deserializer<'b>;

fn strict(d: De<'_, '_>, cx: &SinkContext, flaw: Flaw) -> Result<Box<dyn Sink>, BuildError> {
    let _: Strict = exporter_core::config(d)?;
    Ok(sink(flaw, cx))
}

broken!(
    "kit-bad-example",
    "colour = \"red\"\n",
    &["exists"],
    |d, cx| strict(d, cx, Flaw::None)
);
broken!("kit-lenient", "", &["exists"], |d, cx| {
    let _: Lenient = exporter_core::config(d)?;
    Ok(sink(Flaw::None, cx))
});
broken!("kit-unreported", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::Unreported
));
broken!("kit-outside", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::Outside
));
broken!("kit-leak", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::Leak
));
broken!("kit-fails-when-empty", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::FailsWhenEmpty
));
broken!("kit-silent-when-empty", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::SilentWhenEmpty
));
broken!("kit-rewrites-appended", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::RewritesAppended
));
broken!("kit-writes-temp", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::WritesTemp
));
broken!("kit-writes-cwd", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::WritesCwd
));
broken!("kit-build-effect", "", &["exists"], |d, cx| {
    // a cache beside the manifest, written while the config is only being checked
    std::fs::write(cx.manifest_dir.join("kit-cache.txt"), "built").unwrap();
    strict(d, cx, Flaw::None)
});
broken!("kit-inflates-rows", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::InflatesRows
));
broken!("kit-drops-records", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::DropsRecords
));
broken!("kit-untallied", "", &["exists"], |d, cx| strict(
    d,
    cx,
    Flaw::Untallied
));
broken!("kit-blind-validator", "", &["kit-always-ok"], |d, cx| {
    strict(d, cx, Flaw::None)
});

broken!("kit-lazy-follower", "", &["kit-lazy-follower"], |d, cx| {
    strict(d, cx, Flaw::None)
});

/// Refuses an empty file or a control byte in a finished file, but passes anything while it
/// is written.
struct LazyFollower;
impl Validator for LazyFollower {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let bytes = std::fs::read(file.path).unwrap_or_default();
        if bytes.is_empty() || bytes.contains(&1) {
            vec![Finding::new(
                FindingCode::TypeError,
                file.name,
                "empty, or a control byte",
            )]
        } else {
            Vec::new()
        }
    }
    fn follows_writes(&self) -> bool {
        true
    }
    fn check_while_written(&self, _: &mut GrowingFile) -> Vec<Finding> {
        Vec::new()
    }
}
exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "kit-lazy-follower",
        description: "TEST ONLY: finds nothing while a file is written.",
        build: |_: &ValidatorContext<'_>| Ok(Box::new(LazyFollower)),
    }
}

struct AlwaysOk;
impl Validator for AlwaysOk {
    fn check(&self, _: &FileUnderCheck<'_>) -> Vec<Finding> {
        Vec::new()
    }
}
exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "kit-always-ok",
        description: "TEST ONLY: finds nothing, ever.",
        build: |_: &ValidatorContext<'_>| Ok(Box::new(AlwaysOk)),
    }
}

fn kit(name: &str) -> Kit {
    Kit::new(name).unwrap()
}

/// The kit's problems with `name`, whole.
fn problems(name: &str) -> Vec<String> {
    kit(name).check_all().err().unwrap_or_default()
}

/// The names of the checks `name` fails.
fn failed_checks(name: &str) -> Vec<String> {
    problems(name)
        .iter()
        .map(|p| p.split(':').next().unwrap().to_string())
        .collect()
}

/// The checks `name` fails, run in a child process of this test binary whose working and
/// temporary directories are fresh ones of its own, so what the plugin leaves there is
/// neither seen by other tests running at the same time nor left behind; and what it left.
fn failed_checks_in_sandbox(name: &str) -> (Vec<String>, Vec<String>) {
    let sandbox = tempfile::tempdir().unwrap();
    let (cwd, tmp) = (sandbox.path().join("cwd"), sandbox.path().join("tmp"));
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    // the test's name within its binary: the module path without the crate
    let test = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::sandboxed_kit"),
        None => "sandboxed_kit".to_string(),
    };
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test, "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env("KIT_SANDBOXED_PLUGIN", name)
        .env("TMPDIR", &tmp)
        .current_dir(&cwd)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("KIT-FAILED:").map(|(_, checks)| checks))
        .unwrap_or_else(|| panic!("the sandboxed kit did not report: {stdout}"));
    let failed = line
        .split('|')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    let mut left: Vec<String> = [&cwd, &tmp]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    (failed, left)
}

#[test]
#[ignore = "run by the tests of side effects, in a sandbox of their own"]
fn sandboxed_kit() {
    let name = std::env::var("KIT_SANDBOXED_PLUGIN").unwrap();
    println!("KIT-FAILED:{}", failed_checks(&name).join("|"));
}

#[test]
fn a_well_behaved_plugin_passes_everything() {
    kit("test-jsonl").assert_all();
}

#[test]
fn an_unregistered_plugin_is_named() {
    let err = Kit::new("kit-never-linked").err().unwrap();
    assert!(err.contains("not registered"), "{err}");
}

#[test]
fn each_broken_plugin_fails_its_check() {
    let bad_example = failed_checks("kit-bad-example");
    assert!(
        bad_example.contains(&"example".to_string()),
        "{bad_example:?}"
    );
    assert_eq!(failed_checks("kit-lenient"), ["unknown keys"]);
    let unreported = failed_checks("kit-unreported");
    assert!(
        unreported.contains(&"reports files".to_string()),
        "{unreported:?}"
    );
    assert!(
        unreported.contains(&"writes only reported files".to_string()),
        "{unreported:?}"
    );
    assert_eq!(failed_checks("kit-outside"), ["writes only reported files"]);
    assert_eq!(failed_checks("kit-leak"), ["no password leak"]);
    assert_eq!(failed_checks("kit-fails-when-empty"), ["empty stream"]);
    assert_eq!(
        failed_checks("kit-blind-validator"),
        ["validators reject damage"]
    );
    assert_eq!(failed_checks("kit-lazy-follower"), ["followers agree"]);
}

#[test]
fn a_sink_that_writes_around_its_output_files_fails() {
    // sandboxed: the files these plugins leave would otherwise be seen by kits running in
    // other tests at the same time
    let (failed, left) = failed_checks_in_sandbox("kit-writes-temp");
    assert_eq!(failed, ["no side effects"]);
    assert_eq!(left, ["kit-scratch.txt"]);
    let (failed, left) = failed_checks_in_sandbox("kit-writes-cwd");
    assert_eq!(failed, ["no side effects"]);
    assert_eq!(left, ["kit-scratch.txt"]);
    // and the well-behaved plugin leaves the sandbox as it found it
    let (failed, left) = failed_checks_in_sandbox("test-jsonl");
    assert!(failed.is_empty(), "{failed:?}");
    assert!(left.iter().all(|n| n.starts_with(".tmp")), "{left:?}");
}

#[test]
fn a_sink_with_side_effects_at_build_fails() {
    let problem = problems("kit-build-effect")
        .into_iter()
        .find(|p| p.starts_with("no side effects"))
        .expect("the side effect is found");
    assert!(
        problem.contains("building the sink wrote \"kit-cache.txt\" in the manifest's folder"),
        "{problem}"
    );
}

#[test]
fn a_sink_that_rewrites_a_file_it_calls_appended_fails() {
    assert_eq!(
        failed_checks("kit-rewrites-appended"),
        ["appends only grow"]
    );
}

#[test]
fn a_sink_whose_rows_or_records_do_not_add_up_fails() {
    assert_eq!(failed_checks("kit-inflates-rows"), ["record accounting"]);
    // an unbalanced or missing tally fails the run itself: every check that runs one fails,
    // saying why
    for (name, why) in [
        ("kit-drops-records", "record accounting does not add up"),
        ("kit-untallied", "does not account for them"),
    ] {
        let problems = problems(name);
        let accounting = problems
            .iter()
            .find(|p| p.starts_with("record accounting:"))
            .unwrap_or_else(|| panic!("{name}: {problems:?}"));
        assert!(accounting.contains(why), "{accounting}");
    }
}

#[test]
fn a_sink_that_reports_nothing_on_an_empty_stream_fails() {
    assert_eq!(failed_checks("kit-silent-when-empty"), ["empty stream"]);
}
