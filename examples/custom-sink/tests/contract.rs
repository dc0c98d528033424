//! The plugin keeps the sink contract (the kit), and the binary ships it.

use exporter_jsonl_sink as _;

#[test]
fn keeps_the_sink_contract() {
    exporter_testkit::Kit::new("jsonl").unwrap().assert_all();
}

#[test]
fn the_binary_lists_it_with_the_built_ins_and_runs_it() {
    let bin = env!("CARGO_BIN_EXE_exporter-jsonl");
    let out = assert_cmd::Command::new(bin)
        .args(["plugins"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "jsonl - Every record",
        "csv - ",
        "campaign-summary - ",
        "jsonl-lines",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(
        text.contains("type = \"jsonl\"\n      path = \"records.jsonl\""),
        "example table shown:\n{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.toml"), "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"jsonl\"\n[[sinks]]\ntype = \"campaign-summary\"\n").unwrap();
    let out = assert_cmd::Command::new(bin)
        .current_dir(dir.path())
        .args(["run", "-m", "m.toml", "-"])
        .write_stdin("{\"type\":\"record\",\"data\":{\"a\":1,\"b\":[\"x\"]}}\n{\"type\":\"record\",\"data\":{\"a\":2}}\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/records.jsonl")).unwrap(),
        "{\"a\":1,\"b\":[\"x\"]}\n{\"a\":2}\n"
    );
    let summary = std::fs::read_to_string(dir.path().join("out/campaign_summary.json")).unwrap();
    assert!(summary.contains("\"path\": \"records.jsonl\""), "{summary}");
}
