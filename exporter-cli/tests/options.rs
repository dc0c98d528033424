//! One test per documented option, through the real binary: each sets the option, runs, and
//! reads the files back with an independent reader (the `csv` crate, `serde_json`), next to
//! the default it changes.

use std::path::Path;

use exporter_tests::harness::{SOURCE_DATE_EPOCH, Workspace, stderr, stdout};
use serde_json::{Value, json};

/// A workspace whose manifest has a csv sink named `results` (schema `schema.json`, the
/// extra keys `csv_keys`), an error log and a campaign summary.
fn workspace(schema: Value, csv_keys: &str) -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("schema.json", schema.to_string());
    ws.write(
        "exporter.toml",
        format!(
            "[campaign]\nid = \"opt\"\n[output]\ndir = \"out\"\n\n[[sinks]]\ntype = \"csv\"\nname = \"results\"\nschema = \"schema.json\"\n{csv_keys}\n\n[[sinks]]\ntype = \"error-log\"\n\n[[sinks]]\ntype = \"campaign-summary\"\n"
        ),
    );
    ws
}

/// Writes `records` as the input and runs; panics unless the run succeeds.
fn run(ws: &Workspace, records: &[Value]) {
    let out = try_run(ws, records);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn try_run(ws: &Workspace, records: &[Value]) -> std::process::Output {
    let mut input = String::new();
    for r in records {
        input.push_str(&json!({"type": "record", "data": r}).to_string());
        input.push('\n');
    }
    ws.write("in.ndjson", input);
    ws.run(&["run", "-m", "exporter.toml", "in.ndjson"])
}

/// The rows of a csv file (header included), read by the `csv` crate.
fn table(path: &Path, delimiter: u8) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn results(ws: &Workspace) -> Vec<Vec<String>> {
    table(&ws.path().join("out/results.csv"), b',')
}

/// The error log's rows as (kind, context).
fn log(ws: &Workspace) -> Vec<(String, Value)> {
    table(&ws.path().join("out/error_log.csv"), b',')
        .into_iter()
        .skip(1)
        .map(|r| (r[2].clone(), serde_json::from_str(&r[7]).unwrap()))
        .collect()
}

/// The rules of the `SchemaViolation` rows, in order.
fn rejections(ws: &Workspace) -> Vec<String> {
    log(ws)
        .into_iter()
        .filter(|(kind, _)| kind == "SchemaViolation")
        .map(|(_, c)| c["rule"].as_str().unwrap().to_string())
        .collect()
}

fn records(ws: &Workspace) -> Value {
    let summary: Value = serde_json::from_str(&ws.read("out/campaign_summary.json")).unwrap();
    summary["records"].clone()
}

fn check(ws: &Workspace) -> std::process::Output {
    ws.run(&["check", "-m", "exporter.toml"])
}

fn id_note() -> Value {
    json!({"fields": [{"name": "id", "constraints": {"required": true}}, {"name": "note"}]})
}

#[test]
fn on_overflow_truncates_by_default_and_rejects_when_asked() {
    // 40,000 two-byte characters: the excel limit counts UTF-16 units, not bytes
    let long = "é".repeat(40_000);
    let input = [
        json!({"id": "long", "note": long}),
        json!({"id": "short", "note": "ok"}),
    ];

    let ws = workspace(id_note(), "");
    run(&ws, &input);
    let rows = results(&ws);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1], "é".repeat(32_767));
    assert_eq!(records(&ws)["truncated_cells"], 1);
    assert!(rejections(&ws).is_empty());

    let ws = workspace(id_note(), "on_overflow = \"reject\"");
    run(&ws, &input);
    let rows = results(&ws);
    assert_eq!(rows, [vec!["id", "note"], vec!["short", "ok"]]);
    assert_eq!(rejections(&ws), ["cell_limit"]);
    let r = records(&ws);
    assert_eq!(
        (r["written"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["rejected_by_rule"], json!({"cell_limit": 1}));
}

#[test]
fn the_sheets_cell_limit_is_50000_utf16_units_and_never_splits_a_character() {
    // 49,999 units, then a character of two units that would end at 50,001
    let note = format!("{}😀{}", "x".repeat(49_999), "y".repeat(100));
    let ws = workspace(id_note(), "dialect = \"sheets\"");
    run(&ws, &[json!({"id": "a", "note": note})]);
    let cell = &results(&ws)[1][1];
    assert_eq!(cell.encode_utf16().count(), 49_999);
    assert!(cell.chars().all(|c| c == 'x'));
    assert_eq!(records(&ws)["truncated_cells"], 1);
    // and a cell of exactly 50,000 units is whole
    let ws = workspace(id_note(), "dialect = \"sheets\"");
    let exact = format!("{}😀", "x".repeat(49_998));
    run(&ws, &[json!({"id": "a", "note": exact})]);
    assert_eq!(results(&ws)[1][1], exact);
    assert_eq!(records(&ws)["truncated_cells"], 0);
}

#[test]
fn on_invalid_rejects_by_default_and_fails_the_run_when_asked() {
    let schema = json!({"fields": [{"name": "id", "constraints": {"required": true}}, {"name": "n", "type": "integer"}]});
    let input = [json!({"id": "a", "n": 1}), json!({"id": "b", "n": "two"})];

    let ws = workspace(schema.clone(), "");
    run(&ws, &input);
    assert_eq!(results(&ws).len(), 2);
    assert_eq!(rejections(&ws), ["type"]);

    let ws = workspace(schema, "on_invalid = \"fail\"");
    let out = try_run(&ws, &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("in.ndjson:2")
            && err.contains("field \"n\"")
            && err.contains("on_invalid = \"fail\""),
        "{err}"
    );
    assert!(!ws.exists("out/results.csv"), "nothing committed");
    assert!(!ws.exists("out/campaign_summary.json"), "nothing committed");
}

#[test]
fn extra_fields_are_ignored_by_default_and_rejected_when_asked() {
    let input = [
        json!({"id": "a", "note": "n", "surprise": 1}),
        json!({"id": "b"}),
    ];

    let ws = workspace(id_note(), "");
    run(&ws, &input);
    assert_eq!(
        results(&ws),
        [vec!["id", "note"], vec!["a", "n"], vec!["b", ""]]
    );
    assert_eq!(records(&ws)["extra_fields"], 1);

    let ws = workspace(id_note(), "extra_fields = \"reject\"");
    run(&ws, &input);
    assert_eq!(results(&ws), [vec!["id", "note"], vec!["b", ""]]);
    assert_eq!(rejections(&ws), ["extra_field"]);
    let (_, context) = &log(&ws)[0];
    assert_eq!(context["field"], "surprise");
}

#[test]
fn dedupe_follows_the_primary_key_unless_dedupe_on_says_otherwise() {
    let schema = json!({"fields": [{"name": "id"}, {"name": "city"}], "primaryKey": "id"});
    let input = [
        json!({"id": "a", "city": "Berlin"}),
        json!({"id": "a", "city": "Hamburg"}),
        json!({"id": "b", "city": "Berlin"}),
    ];
    let cities = |ws: &Workspace| -> Vec<String> {
        results(ws)
            .into_iter()
            .skip(1)
            .map(|r| r[1].clone())
            .collect()
    };

    let ws = workspace(schema.clone(), "");
    run(&ws, &input);
    assert_eq!(cities(&ws), ["Berlin", "Berlin"]);
    assert_eq!(records(&ws)["duplicates"], 1);

    let ws = workspace(schema.clone(), "dedupe_on = []");
    run(&ws, &input);
    assert_eq!(cities(&ws), ["Berlin", "Hamburg", "Berlin"]);
    assert_eq!(records(&ws)["duplicates"], 0);

    let ws = workspace(schema, "dedupe_on = [\"city\"]");
    run(&ws, &input);
    assert_eq!(cities(&ws), ["Berlin", "Hamburg"]);
    assert_eq!(records(&ws)["duplicates"], 1);
}

#[test]
fn a_unique_field_rejects_repeats_instead_of_skipping_them() {
    let schema =
        json!({"fields": [{"name": "id"}, {"name": "email", "constraints": {"unique": true}}]});
    let ws = workspace(schema, "");
    run(
        &ws,
        &[
            json!({"id": "1", "email": "a@x.org"}),
            json!({"id": "2", "email": "a@x.org"}),
            json!({"id": "3", "email": "b@x.org"}),
            json!({"id": "4"}), // a missing value repeats nothing
            json!({"id": "5"}),
        ],
    );
    let ids: Vec<String> = results(&ws)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, ["1", "3", "4", "5"]);
    assert_eq!(rejections(&ws), ["unique"]);
    assert_eq!(records(&ws)["duplicates"], 0);
    assert!(check(&ws).status.success(), "{}", stderr(&check(&ws)));
}

#[test]
fn missing_values_count_as_missing_and_are_written_empty() {
    let schema = json!({
        "fields": [
            {"name": "id", "constraints": {"required": true}},
            {"name": "phone"}
        ],
        "missingValues": ["", "n/a", "-"]
    });
    let ws = workspace(schema, "");
    run(
        &ws,
        &[
            json!({"id": "a", "phone": "n/a"}),
            json!({"id": "b", "phone": "-"}),
            json!({"id": "n/a", "phone": "1"}),
            json!({"id": "c", "phone": "N/A"}), // not one of them: case matters
        ],
    );
    assert_eq!(
        results(&ws),
        [
            vec!["id", "phone"],
            vec!["a", ""],
            vec!["b", ""],
            vec!["c", "N/A"]
        ]
    );
    assert_eq!(rejections(&ws), ["required"]);
    // by default only "" is missing
    let ws = workspace(id_note(), "");
    run(
        &ws,
        &[
            json!({"id": "a", "note": "n/a"}),
            json!({"id": "", "note": "x"}),
        ],
    );
    assert_eq!(results(&ws), [vec!["id", "note"], vec!["a", "n/a"]]);
    assert_eq!(rejections(&ws), ["required"]);
}

#[test]
fn a_custom_delimiter_is_written_quoted_where_needed_and_checked() {
    let ws = workspace(id_note(), "dialect = \"unix\"\ndelimiter = \";\"");
    run(&ws, &[json!({"id": "a;b", "note": "x,y"})]);
    let text = ws.read("out/results.csv");
    assert_eq!(text, "id;note\n\"a;b\";x,y\n");
    assert_eq!(
        table(&ws.path().join("out/results.csv"), b';'),
        [vec!["id", "note"], vec!["a;b", "x,y"]]
    );
    assert!(check(&ws).status.success(), "{}", stderr(&check(&ws)));
    // tab works too
    let ws = workspace(id_note(), "dialect = \"unix\"\ndelimiter = \"\\t\"");
    run(&ws, &[json!({"id": "a", "note": "b c"})]);
    assert_eq!(ws.read("out/results.csv"), "id\tnote\na\tb c\n");
}

#[test]
fn array_separator_joins_array_cells() {
    let schema = json!({"fields": [{"name": "id"}, {"name": "tags", "type": "array"}]});
    let input = [json!({"id": "a", "tags": ["x", "y", null, 3]})];

    let ws = workspace(schema.clone(), "");
    run(&ws, &input);
    assert_eq!(results(&ws)[1][1], "x; y; ; 3");

    let ws = workspace(schema.clone(), "array_separator = \" | \"");
    run(&ws, &input);
    assert_eq!(results(&ws)[1][1], "x | y |  | 3");
    assert!(check(&ws).status.success(), "{}", stderr(&check(&ws)));
}

#[test]
fn formula_guard_is_on_for_excel_and_can_be_turned_off() {
    let input = [
        json!({"id": "a", "note": "=HYPERLINK(\"x\")"}),
        json!({"id": "b", "note": "+49 30 1234"}),
    ];

    let ws = workspace(id_note(), "");
    run(&ws, &input);
    let rows = results(&ws);
    assert_eq!(rows[1][1], "'=HYPERLINK(\"x\")");
    assert_eq!(rows[2][1], "+49 30 1234", "a phone number stays as it is");
    assert_eq!(records(&ws)["guarded_cells"], 1);

    let ws = workspace(id_note(), "formula_guard = false");
    run(&ws, &input);
    let rows = results(&ws);
    assert_eq!(rows[1][1], "=HYPERLINK(\"x\")");
    assert_eq!(records(&ws)["guarded_cells"], 0);
    assert!(check(&ws).status.success(), "{}", stderr(&check(&ws)));
}

#[test]
fn uri_and_uuid_formats_are_checked() {
    let schema = json!({"fields": [
        {"name": "id", "format": "uuid"},
        {"name": "site", "format": "uri"}
    ]});
    let ws = workspace(schema, "");
    run(
        &ws,
        &[
            json!({"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "site": "https://example.com/a?b=c"}),
            json!({"id": "not-a-uuid", "site": "https://example.com/"}),
            json!({"id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "site": "example dot com"}),
            json!({"id": "6BA7B811-9DAD-11D1-80B4-00C04FD430C8", "site": "mailto:a@example.com"}),
        ],
    );
    let ids: Vec<String> = results(&ws)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        ids,
        [
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "6BA7B811-9DAD-11D1-80B4-00C04FD430C8"
        ]
    );
    assert_eq!(rejections(&ws), ["format", "format"]);
    let fields: Vec<Value> = log(&ws)
        .into_iter()
        .map(|(_, c)| c["field"].clone())
        .collect();
    assert_eq!(fields, ["id", "site"]);
}

#[test]
fn rollover_files_each_have_a_header_and_check_clean() {
    let ws = workspace(id_note(), "max_rows_per_file = 2");
    let input: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("r{i}"), "note": i}))
        .collect();
    let input: Vec<Value> = input
        .into_iter()
        .map(|mut v| {
            v["note"] = json!(v["note"].to_string());
            v
        })
        .collect();
    run(&ws, &input);
    let part = |name: &str| table(&ws.path().join("out").join(name), b',');
    assert_eq!(
        part("results.csv"),
        [vec!["id", "note"], vec!["r0", "0"], vec!["r1", "1"]]
    );
    assert_eq!(
        part("results-0002.csv"),
        [vec!["id", "note"], vec!["r2", "2"], vec!["r3", "3"]]
    );
    assert_eq!(
        part("results-0003.csv"),
        [vec!["id", "note"], vec!["r4", "4"]]
    );
    let out = check(&ws);
    assert!(out.status.success(), "{}", stderr(&out));
    // a row lost from the middle part is found, in that part
    let p2 = ws.path().join("out/results-0002.csv");
    let text = std::fs::read_to_string(&p2).unwrap();
    std::fs::write(&p2, text.replacen("r3,3\r\n", "", 1)).unwrap();
    let out = check(&ws);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("results-0002.csv"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn validate_reports_two_sinks_on_one_file_and_every_bad_schema_at_once() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write(
        "broken.json",
        "{\"fields\": [{\"name\": \"id\", \"type\": \"integr\"}]}",
    );
    ws.write(
        "exporter.toml",
        "[output]\ndir = \"out\"\n\n[[sinks]]\ntype = \"csv\"\nname = \"a\"\npath = \"same.csv\"\nschema = \"missing.json\"\n\n[[sinks]]\ntype = \"csv\"\nname = \"b\"\npath = \"./same.csv\"\nschema = \"broken.json\"\n",
    );
    let out = ws.run(&["validate", "-m", "exporter.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("missing.json"), "{err}");
    assert!(
        err.contains("broken.json") && err.contains("integr"),
        "{err}"
    );
    assert!(
        err.contains("same.csv") && err.contains("sinks[0] \"a\""),
        "{err}"
    );
    assert!(err.ends_with("3 errors in the manifest\n"), "{err}");
}

#[test]
fn paths_resolve_against_the_manifest_wherever_the_run_starts() {
    let ws = workspace(id_note(), "");
    // the manifest and its schema in a folder of their own; the run starts two levels up
    let sub = ws.path().join("campaigns/acme");
    std::fs::create_dir_all(&sub).unwrap();
    for name in ["exporter.toml", "schema.json"] {
        std::fs::rename(ws.path().join(name), sub.join(name)).unwrap();
    }
    ws.write(
        "in.ndjson",
        "{\"type\":\"record\",\"data\":{\"id\":\"a\"}}\n",
    );
    let out = ws.run(&["run", "-m", "campaigns/acme/exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sub.join("out/results.csv").exists());
    assert!(!ws.exists("out"));
    let out = ws.run(&["check", "-m", "campaigns/acme/exporter.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // --out-dir is relative to where the run starts
    let out = ws.run(&[
        "run",
        "-m",
        "campaigns/acme/exporter.toml",
        "--out-dir",
        "elsewhere",
        "in.ndjson",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        table(&ws.path().join("elsewhere/results.csv"), b',').len(),
        2
    );
    let out = ws.run(&[
        "check",
        "-m",
        "campaigns/acme/exporter.toml",
        "--out-dir",
        "elsewhere",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn date_and_campaign_id_expand_in_the_output_directory() {
    let ws = workspace(id_note(), "");
    let text = ws
        .read("exporter.toml")
        .replace("dir = \"out\"", "dir = \"out/{campaign_id}/{date}\"");
    ws.write("exporter.toml", text);
    ws.write(
        "in.ndjson",
        "{\"type\":\"record\",\"data\":{\"id\":\"a\"}}\n",
    );
    // the harness sets SOURCE_DATE_EPOCH
    assert_eq!(SOURCE_DATE_EPOCH, "1764144000");
    let out = ws.run(&["run", "-m", "exporter.toml", "in.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        ws.exists("out/opt/2025-11-26/results.csv"),
        "{:?}",
        ws.files()
    );
    let out = ws.run(&[
        "run",
        "-m",
        "exporter.toml",
        "--campaign-id",
        "other/id",
        "in.ndjson",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        ws.exists("out/other_id/2025-11-26/results.csv"),
        "{:?}",
        ws.files()
    );
    // without SOURCE_DATE_EPOCH, today's UTC date
    let out = ws
        .command()
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["run", "-m", "exporter.toml", "in.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let today = time::OffsetDateTime::now_utc().date();
    let dir = format!(
        "out/opt/{:04}-{:02}-{:02}/results.csv",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    assert!(ws.exists(&dir), "{dir}: {:?}", ws.files());
}

#[test]
fn init_writes_where_told_and_overwrites_only_with_force() {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let out = ws.run(&["init", "-o", "starter.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("wrote starter.toml"),
        "{}",
        stdout(&out)
    );
    assert!(!ws.exists("exporter.toml"));
    let starter = ws.read("starter.toml");

    ws.write("starter.toml", "# mine\n");
    let out = ws.run(&["init", "-o", "starter.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pass --force"), "{}", stderr(&out));
    assert_eq!(ws.read("starter.toml"), "# mine\n", "left as it was");

    let out = ws.run(&["init", "-o", "starter.toml", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ws.read("starter.toml"), starter);

    let out = ws.run(&["init", "--output", "no/such/folder/x.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no/such/folder/x.toml"),
        "{}",
        stderr(&out)
    );
}

/// The paths a run synced, from its debug log (each sync is logged as `synced`).
fn synced_paths(ws: &Workspace) -> Vec<String> {
    let out = ws
        .command()
        .env("RUST_LOG", "exporter_core=debug,exporter_runtime=debug")
        .args(["run", "-m", "exporter.toml", "in.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
        .lines()
        .filter(|l| l.contains(" synced "))
        .map(|l| {
            let path = l.split("path=").nth(1).expect("the path is logged");
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            // staging and journal names carry the process id: keep what names the file
            name.split('.')
                .find(|part| !part.is_empty())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn fsync_on_commit_syncs_each_file_and_the_directory_and_never_syncs_nothing() {
    let ws = workspace(id_note(), "");
    ws.write("in.ndjson", "{\"type\":\"record\",\"data\":{\"id\":\"a\"}}\n{\"type\":\"error\",\"kind\":\"Timeout\",\"message\":\"m\"}\n");
    // the default: on_commit
    let mut synced = synced_paths(&ws);
    synced.sort();
    synced.dedup();
    for name in [
        "results",
        "campaign_summary",
        "error_log",
        "out",
        "exporter",
    ] {
        assert!(
            synced.contains(&name.to_string()),
            "{name} not synced: {synced:?}"
        );
    }
    // never, on every sink: not one sync
    let text = ws
        .read("exporter.toml")
        .replace("type = \"csv\"", "type = \"csv\"\nfsync = \"never\"");
    let text = text
        .replace(
            "type = \"error-log\"",
            "type = \"error-log\"\nfsync = \"never\"",
        )
        .replace(
            "type = \"campaign-summary\"",
            "type = \"campaign-summary\"\nfsync = \"never\"",
        );
    ws.write("exporter.toml", text);
    assert_eq!(synced_paths(&ws), Vec::<String>::new());
}
