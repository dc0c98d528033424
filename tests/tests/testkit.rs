//! The conformance kit catches a plugin that breaks each rule: small deliberately broken
//! plugins, each failing exactly the check for its rule, and a well-behaved one passing all.

use std::io::Write;

use exporter_core::{
    BuildError, Event, EventContext, FileUnderCheck, Finding, FindingCode, FinishContext,
    GrowingFile, Interests, OutputFiles, Sink, SinkContext, SinkError, SinkOutput, SinkPlugin,
    StagedFile, Validator, ValidatorContext, ValidatorPlugin,
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
}

struct Broken {
    flaw: Flaw,
    path: std::path::PathBuf,
    manifest_dir: std::path::PathBuf,
    file: Option<StagedFile>,
    events: u64,
}

impl Sink for Broken {
    fn interests(&self) -> Interests {
        Interests::ALL
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
        if self.flaw != Flaw::Unreported {
            self.file = Some(files.stage(&self.path)?);
        }
        Ok(())
    }
    fn event(&mut self, _: &Event<'_>, _: &mut EventContext<'_>) -> Result<(), SinkError> {
        self.events += 1;
        if let Some(f) = &mut self.file {
            f.write_all(b"event\n").unwrap();
            f.add_rows(1);
        }
        Ok(())
    }
    fn finish(mut self: Box<Self>, _: &FinishContext<'_>) -> Result<SinkOutput, SinkError> {
        if self.flaw == Flaw::FailsWhenEmpty && self.events == 0 {
            return Err(SinkError::new("nothing to report"));
        }
        if self.flaw == Flaw::Leak {
            // copies the raw input it finds next to the manifest: passwords and all
            let raw = std::fs::read(self.manifest_dir.join("events.ndjson")).unwrap();
            self.file.as_mut().unwrap().write_all(&raw).unwrap();
        }
        Ok(SinkOutput::staged(self.file.take().into_iter().collect()))
    }
}

fn sink(flaw: Flaw, cx: &SinkContext) -> Box<dyn Sink> {
    Box::new(Broken {
        flaw,
        path: cx.path.clone(),
        manifest_dir: cx.manifest_dir.clone(),
        file: None,
        events: 0,
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
                config_schema: exporter_core::registry::no_options,
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

fn failed_checks(name: &str) -> Vec<String> {
    match kit(name).check_all() {
        Ok(()) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|p| p.split(':').next().unwrap().to_string())
            .collect(),
    }
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
    assert_eq!(failed_checks("kit-bad-example")[0], "example");
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
