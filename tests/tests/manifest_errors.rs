//! Every kind of manifest error names file:line:column, the sink and the key (snapshots of
//! the exact messages users see), and all errors of a manifest come in one go.

use exporter_tests::harness::{Workspace, stderr};

fn workspace() -> Workspace {
    Workspace::new(env!("CARGO_BIN_EXE_exporter-test"))
}

const HEAD: &str = "[campaign]\nid = \"acme\"\n\n[output]\ndir = \"out/{campaign_id}\"\n\n";

fn validate(sinks: &str) -> (Option<i32>, String) {
    let ws = workspace();
    ws.write("exporter.toml", format!("{HEAD}{sinks}"));
    let out = ws.run(&["validate", "-m", "exporter.toml"]);
    (out.status.code(), stderr(&out))
}

fn error_of(sinks: &str) -> String {
    let (code, err) = validate(sinks);
    assert_eq!(code, Some(2), "{err}");
    err
}

#[test]
fn unknown_type_lists_known_types_and_suggests_the_closest() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsnol\"\nname = \"results\"\n"
    ));
}

#[test]
fn unknown_key_of_a_plugin() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nfail_aftr = 3\n"
    ));
}

#[test]
fn wrong_type_of_a_plugin_key() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nfail_after = \"three\"\n"
    ));
}

#[test]
fn wrong_type_of_a_common_key() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nallow_outside = \"yes\"\n"
    ));
}

#[test]
fn missing_type() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\nname = \"results\"\npath = \"r.jsonl\"\n"
    ));
}

#[test]
fn duplicate_sink_name() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nname = \"a\"\npath = \"a.jsonl\"\n\n[[sinks]]\ntype = \"test-jsonl\"\nname = \"a\"\npath = \"b.jsonl\"\n"
    ));
}

#[test]
fn path_outside_the_output_directory() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\npath = \"../escape.jsonl\"\n"
    ));
}

#[test]
fn absolute_path() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\npath = \"/tmp/escape.jsonl\"\n"
    ));
}

#[test]
fn allow_outside_permits_an_outside_path() {
    let (code, err) =
        validate("[[sinks]]\ntype = \"test-jsonl\"\npath = \"../x.jsonl\"\nallow_outside = true\n");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn unknown_validator_and_plugin_level_check() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nvalidate = [\"exist\"]\nevents = [\"record\", \"bogus\"]\n"
    ));
}

#[test]
fn toml_syntax_error() {
    insta::assert_snapshot!(error_of("[[sinks]]\ntype = \"test-jsonl\npath = 3\n"));
}

#[test]
fn unknown_top_level_key_and_placeholder() {
    let ws = workspace();
    ws.write("exporter.toml", "[outptu]\ndir = \"x\"\n[output]\ndir = \"out/{campaign}\"\n[[sinks]]\ntype = \"test-jsonl\"\n");
    let out = ws.run(&["validate", "-m", "exporter.toml"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn all_errors_are_reported_in_one_go() {
    let err = error_of(concat!(
        "[[sinks]]\ntype = \"test-jsnol\"\n\n",
        "[[sinks]]\ntype = \"test-jsonl\"\nname = \"b\"\nfail_aftr = 1\n\n",
        "[[sinks]]\ntype = \"test-jsonl\"\nname = \"b\"\npath = \"../x\"\n",
    ));
    assert!(err.contains("exporter.toml:8:8:"), "{err}");
    assert!(err.contains("exporter.toml:13:1:"), "{err}");
    assert!(err.contains("exporter.toml:17:8:"), "{err}");
    assert!(err.contains("exporter.toml:18:8:"), "{err}");
    assert!(err.ends_with("4 errors in the manifest\n"), "{err}");
}

#[test]
fn campaign_id_placeholder_without_an_id() {
    let ws = workspace();
    ws.write(
        "exporter.toml",
        "[output]\ndir = \"out/{campaign_id}\"\n[[sinks]]\ntype = \"test-jsonl\"\n",
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
    let ok = ws.run(&[
        "run",
        "-m",
        "exporter.toml",
        "--campaign-id",
        "x/../y",
        "/dev/null",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(ws.exists("out/x_.._y/events.jsonl"), "{:?}", ws.files());
}

#[test]
fn a_missing_manifest_is_a_usage_error() {
    let ws = workspace();
    let out = ws.run(&["validate", "-m", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nope.toml:1:1: cannot read the manifest"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_error_of_one_sink_table_is_reported() {
    let err = error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\nfail_aftr = 1\nfail_after = \"three\"\nbogus = true\nevents = [\"nope\"]\n",
    );
    for at in [
        "exporter.toml:9:1:",
        "exporter.toml:10:14:",
        "exporter.toml:11:1:",
        "exporter.toml:12:",
    ] {
        assert!(err.contains(at), "{at} in {err}");
    }
    assert!(err.ends_with("4 errors in the manifest\n"), "{err}");
}

#[test]
fn paths_no_file_system_can_hold_are_refused() {
    for (path, says) in [
        ("a\\u0000b.jsonl", "NUL byte"),
        ("sub/", "names a folder"),
        (&format!("{}.jsonl", "x".repeat(250)), "at most 200"),
    ] {
        let err = error_of(&format!(
            "[[sinks]]\ntype = \"test-jsonl\"\npath = \"{path}\"\n"
        ));
        assert!(
            err.contains(says) && err.contains("key `path`"),
            "{path}: {err}"
        );
    }
    let ws = workspace();
    ws.write(
        "exporter.toml",
        format!("{HEAD}[[sinks]]\ntype = \"test-jsonl\"\n"),
    );
    let long = "c".repeat(300);
    for command in ["validate", "run"] {
        let out = ws.run(
            &[
                command,
                "-m",
                "exporter.toml",
                "--campaign-id",
                &long,
                "/dev/null",
            ][..if command == "run" { 6 } else { 5 }],
        );
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("255"), "{}", stderr(&out));
    }
}

#[test]
fn two_names_for_one_file_are_one_file() {
    for (a, b) in [
        ("same.jsonl", "./same.jsonl"),
        ("same.jsonl", "x/../same.jsonl"),
        ("d/same.jsonl", "d/./e/../same.jsonl"),
    ] {
        let err = error_of(&format!(
            "[[sinks]]\ntype = \"test-jsonl\"\nname = \"a\"\npath = \"{a}\"\n\n[[sinks]]\ntype = \"test-jsonl\"\nname = \"b\"\npath = \"{b}\"\n"
        ));
        assert!(err.contains("both write"), "{a} {b}: {err}");
    }
}

#[test]
fn a_path_named_like_a_numbered_part_of_a_table_is_refused() {
    let ws = workspace(); // its binary links the built-in plugins too
    ws.write("s.json", r#"{"fields": [{"name": "id"}]}"#);
    for log in [
        "results-0002.csv",
        "./results-0003.csv",
        "x/../results-12345.csv",
    ] {
        ws.write(
            "exporter.toml",
            format!("{HEAD}[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\nschema = \"s.json\"\n\n[[sinks]]\ntype = \"error-log\"\npath = \"{log}\"\n"),
        );
        let out = ws.run(&["validate", "-m", "exporter.toml"]);
        assert_eq!(out.status.code(), Some(2), "{log}");
        assert!(stderr(&out).contains("numbered parts"), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("in sinks[1] \"error-log\", key `path`"),
            "{}",
            stderr(&out)
        );
    }
    // a name that is no part of it is fine
    ws.write(
        "exporter.toml",
        format!("{HEAD}[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\nschema = \"s.json\"\n\n[[sinks]]\ntype = \"error-log\"\npath = \"results-log.csv\"\n"),
    );
    assert_eq!(
        ws.run(&["validate", "-m", "exporter.toml"]).status.code(),
        Some(0)
    );
}

#[test]
fn source_errors_name_the_source_and_the_key() {
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\n\n[[sources]]\ntype = \"nast\"\n\n[[sources]]\ntype = \"ndjson\"\n"
    ));
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\n\n[[sources]]\ntype = \"nats\"\nstream = \"EVENTS\"\nconsumr = \"x\"\nbatch = 0\n"
    )); // a source table without its type: the header is pointed at, the source types listed
    insta::assert_snapshot!(error_of(
        "[[sinks]]\ntype = \"test-jsonl\"\n\n[[sources]]\npaths = [\"a.ndjson\"]\n"
    ));
}

#[test]
fn commit_settings_are_checked() {
    insta::assert_snapshot!(error_of(
        "[commit]\nevery = \"5 minutes\"\nevery_events = 0\n\n[[sinks]]\ntype = \"test-jsonl\"\n"
    ));
}
