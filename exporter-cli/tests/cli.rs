//! The real `exporter` binary: registry contents, subcommands and exit codes.

use assert_cmd::Command;

fn exporter() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_exporter"));
    cmd.env_remove("RUST_LOG");
    cmd
}

#[test]
fn registry_lists_exactly_the_built_in_plugins() {
    let out = exporter()
        .args(["plugins", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sinks: Vec<&str> = v["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sinks, exporter_cli::BUILTIN_SINKS);
    let validators: Vec<&str> = v["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(validators, exporter_cli::BUILTIN_VALIDATORS);
    let sources: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sources, exporter_cli::BUILTIN_SOURCES);
}

#[test]
fn every_example_table_is_a_valid_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = exporter()
        .current_dir(dir.path())
        .args(["init"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = exporter()
        .current_dir(dir.path())
        .args(["init"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "refuses to overwrite");
    let text = std::fs::read_to_string(dir.path().join("exporter.toml")).unwrap();
    let validate = exporter()
        .current_dir(dir.path())
        .args(["validate", "-m", "exporter.toml"])
        .output()
        .unwrap();
    if exporter_cli::BUILTIN_SINKS.is_empty() {
        assert_eq!(validate.status.code(), Some(2), "no sinks to declare yet");
    } else {
        assert!(
            validate.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&validate.stderr)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(exporter().output().unwrap().status.code(), Some(2));
    assert_eq!(
        exporter()
            .args(["run", "--bogus"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let schema = exporter()
        .args(["schema", "no-such-type"])
        .output()
        .unwrap();
    assert_eq!(schema.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&schema.stderr).contains("unknown sink type \"no-such-type\""));
    assert!(
        exporter()
            .args(["--help"])
            .output()
            .unwrap()
            .status
            .success()
    );
}

#[test]
fn manifest_errors_of_the_real_binary() {
    let ws = exporter_tests::harness::Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write(
        "exporter.toml",
        "[campaign]\nid = \"acme\"\n\n[output]\ndir = \"out/{campaign_id}\"\n\n[[sinks]]\nname = \"results\"\ntype = \"cvs\"\n\n\
         [[sinks]]\ntype = \"csv\"\nname = \"table\"\nschema = \"missing.json\"\ndelimter = \";\"\n\n\
         [[sinks]]\ntype = \"proxy-performance\"\n[sinks.thresholds]\nhealthy_min_succes = 0.9\n",
    );
    let out = ws.run(&["validate", "-m", "exporter.toml"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(exporter_tests::harness::stderr(&out));
}
