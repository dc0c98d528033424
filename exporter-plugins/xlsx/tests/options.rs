//! One test per option the xlsx sink shares with the csv sink (the record gate's), each
//! checking the default and the other choice on the workbook as calamine reads it back.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use exporter_core::serde_json::{Value, json};
use exporter_runtime::{Exporter, RunOptions, RunReport};
use exporter_xlsx as _;

const SCHEMA: &str = r#"
[sinks.schema]
primaryKey = "id"
[[sinks.schema.fields]]
name = "id"
[[sinks.schema.fields]]
name = "text"
[[sinks.schema.fields]]
name = "rating"
type = "number"
constraints = { maximum = 5 }
[[sinks.schema.fields]]
name = "tags"
type = "array"
"#;

fn write(records: &[Value], extra: &str) -> Result<(tempfile::TempDir, RunReport), String> {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"xlsx\"\npath = \"results.xlsx\"\n{extra}\n{SCHEMA}"
    );
    let exporter =
        Exporter::from_manifest_str(&manifest, dir.path(), RunOptions::default()).unwrap();
    for r in records {
        exporter.record(r).map_err(|e| e.to_string())?;
    }
    let report = exporter.finish().map_err(|e| e.to_string())?;
    Ok((dir, report))
}

/// The first sheet's rows below the header.
fn rows(dir: &Path) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook(dir.join("out/results.xlsx")).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    range.rows().skip(1).map(|r| r.to_vec()).collect()
}

fn ids(dir: &Path) -> Vec<String> {
    rows(dir).iter().map(|r| r[0].to_string()).collect()
}

#[test]
fn on_overflow_cuts_by_default_and_rejects_when_asked() {
    let long = "é".repeat(40_000);
    let records = [
        json!({"id": "a", "text": long}),
        json!({"id": "b", "text": "short"}),
    ];
    let (dir, report) = write(&records, "").unwrap();
    let tally = report.sinks[0].records.as_ref().unwrap();
    assert_eq!((tally.written, tally.truncated_cells), (2, 1));
    let cut = rows(dir.path())[0][1].to_string();
    assert_eq!(cut.chars().count(), 32_767, "Excel's cell limit");
    assert!(long.starts_with(&cut));

    let (dir, report) = write(&records, "on_overflow = \"reject\"").unwrap();
    let tally = report.sinks[0].records.as_ref().unwrap();
    assert_eq!(
        (tally.written, tally.rejected, tally.truncated_cells),
        (1, 1, 0)
    );
    assert_eq!(ids(dir.path()), ["b"]);
}

#[test]
fn extra_fields_are_ignored_by_default_and_rejected_when_asked() {
    let records = [json!({"id": "a", "surprise": 1}), json!({"id": "b"})];
    let (dir, report) = write(&records, "").unwrap();
    let tally = report.sinks[0].records.as_ref().unwrap();
    assert_eq!((tally.written, tally.extra_fields), (2, 1));
    assert_eq!(ids(dir.path()), ["a", "b"]);

    let (dir, report) = write(&records, "extra_fields = \"reject\"").unwrap();
    let tally = report.sinks[0].records.as_ref().unwrap();
    assert_eq!((tally.written, tally.rejected), (1, 1));
    assert_eq!(ids(dir.path()), ["b"]);
}

#[test]
fn on_invalid_rejects_by_default_and_fails_the_run_when_asked() {
    let records = [
        json!({"id": "a", "rating": 9}),
        json!({"id": "b", "rating": 4.5}),
    ];
    let (dir, report) = write(&records, "").unwrap();
    let tally = report.sinks[0].records.as_ref().unwrap();
    assert_eq!(tally.rejected_by_rule.get("maximum"), Some(&1));
    assert_eq!(ids(dir.path()), ["b"]);
    assert_eq!(rows(dir.path())[0][2], Data::Float(4.5));

    let Err(err) = write(&records, "on_invalid = \"fail\"") else {
        panic!("the run fails");
    };
    assert!(err.contains("maximum"), "{err}");
}

#[test]
fn array_separator_joins_array_cells() {
    let records = [json!({"id": "a", "tags": ["x", "y", "z"]})];
    let (dir, _) = write(&records, "").unwrap();
    assert_eq!(
        rows(dir.path())[0][3],
        Data::String("x; y; z".into()),
        "the default separator"
    );
    let (dir, _) = write(&records, "array_separator = \" | \"").unwrap();
    assert_eq!(rows(dir.path())[0][3], Data::String("x | y | z".into()));
}

#[test]
fn dedupe_follows_the_primary_key_unless_dedupe_on_says_otherwise() {
    let records = [
        json!({"id": "a", "text": "same"}),
        json!({"id": "a", "text": "other"}),
        json!({"id": "b", "text": "same"}),
    ];
    let (dir, report) = write(&records, "").unwrap();
    assert_eq!(report.sinks[0].records.as_ref().unwrap().duplicates, 1);
    assert_eq!(ids(dir.path()), ["a", "b"]);
    let (dir, report) = write(&records, "dedupe_on = [\"text\"]").unwrap();
    assert_eq!(report.sinks[0].records.as_ref().unwrap().duplicates, 1);
    assert_eq!(ids(dir.path()), ["a", "a"]);
}
