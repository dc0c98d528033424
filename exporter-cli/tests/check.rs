//! `exporter check`: clean after a run; on deliberately damaged files each validator reports
//! each of its codes, and the summary comparison reports byte and hash changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use exporter_tests::harness::{Workspace, example, stderr};
use serde_json::Value;

fn fresh() -> (Workspace, PathBuf) {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", example("exporter.toml"));
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("events.ndjson", example("events.ndjson"));
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = ws.path().join("out/example");
    (ws, dir)
}

fn check(ws: &Workspace) -> (Option<i32>, Value) {
    let out = ws.run(&["check", "-m", "exporter.toml", "--format", "json"]);
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out))),
    )
}

fn codes(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Rewrites results.csv through `edit` on its records (header first), keeping BOM and CRLF.
fn edit_rows(dir: &Path, edit: impl FnOnce(&mut Vec<Vec<String>>)) {
    let path = dir.join("results.csv");
    let bytes = std::fs::read(&path).unwrap();
    let mut rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    edit(&mut rows);
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    for r in &rows {
        w.write_record(r).unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
}

fn assert_finds(damage: impl FnOnce(&Path), expected: &[&str]) {
    let (ws, dir) = fresh();
    damage(&dir);
    let (code, report) = check(&ws);
    let found = codes(&report);
    assert_eq!(code, Some(1), "{report:#}");
    for e in expected {
        assert!(
            found.contains(*e),
            "expected {e}, found {found:?}\n{report:#}"
        );
    }
}

#[test]
fn a_fresh_run_checks_clean() {
    let (ws, _) = fresh();
    let (code, report) = check(&ws);
    assert_eq!(code, Some(0), "{report:#}");
    // the example's six deliverables: table, workbook, both reports, the error log, the page
    assert_eq!(report["files"].as_array().unwrap().len(), 6, "{report:#}");
    let text = ws.run(&["check", "-m", "exporter.toml"]);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("ok: 6 file(s)"));
}

#[test]
fn one_changed_byte_is_a_hash_count_finding() {
    assert_finds(
        |dir| {
            let path = dir.join("results.csv");
            let mut bytes = std::fs::read(&path).unwrap();
            let at = bytes
                .windows(6)
                .position(|w| w == b"Dental")
                .expect("a name to alter")
                + 1;
            bytes[at] = b'E';
            std::fs::write(&path, bytes).unwrap();
        },
        &["hash-count"],
    );
}

#[test]
fn header_damage_is_missing_and_extra_labels() {
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[0][1] = "Name".into()),
        &["missing-label"],
    );
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[0].push("bonus".into())),
        &["extra-label"],
    );
}

#[test]
fn row_damage_is_extra_and_missing_cells() {
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[3].push("surplus".into())),
        &["extra-cell"],
    );
    assert_finds(
        |dir| {
            edit_rows(dir, |rows| {
                rows[4].pop();
            })
        },
        &["missing-cell"],
    );
}

#[test]
fn cell_damage_is_type_and_constraint_errors() {
    // column 9 is `rating` (number, 0..5), column 0 `place_id` (required)
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[2][9] = "4,5".into()),
        &["type-error"],
    );
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[2][9] = "9".into()),
        &["constraint-error"],
    );
    assert_finds(
        |dir| edit_rows(dir, |rows| rows[2][0] = String::new()),
        &["constraint-error"],
    );
}

#[test]
fn a_repeated_row_is_a_unique_error_and_a_row_count() {
    assert_finds(
        |dir| {
            edit_rows(dir, |rows| {
                let r = rows[1].clone();
                rows.push(r);
            })
        },
        &["unique-error", "row-count", "byte-count", "hash-count"],
    );
}

#[test]
fn framing_damage_is_an_encoding_error() {
    assert_finds(
        |dir| {
            let p = dir.join("results.csv");
            let b = std::fs::read(&p).unwrap();
            std::fs::write(&p, &b[3..]).unwrap();
        },
        &["encoding-error"],
    );
    assert_finds(
        |dir| {
            let p = dir.join("results.csv");
            let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
            std::fs::write(&p, text.replace("\r\n", "\n")).unwrap();
        },
        &["encoding-error"],
    );
}

#[test]
fn missing_and_emptied_files() {
    assert_finds(
        |dir| std::fs::remove_file(dir.join("results.csv")).unwrap(),
        &["missing-file"],
    );
    assert_finds(
        |dir| std::fs::write(dir.join("proxy_performance.json"), "").unwrap(),
        &["byte-count"],
    );
}

#[test]
fn a_json_report_breaking_its_schema_is_a_schema_error() {
    assert_finds(
        |dir| {
            let p = dir.join("proxy_performance.json");
            let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            v["proxies"][0]["health"] = "excellent".into();
            std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        },
        &["schema-error", "hash-count"],
    );
}
