//! Records written to a workbook read back with `calamine` to the same typed values; the
//! workbook's layout (sheets, header, filter, notes, summary) is what the README says.

use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use exporter_core::serde_json::{self, Value, json};
use exporter_runtime::{Exporter, RunOptions, RunReport};
use exporter_xlsx as _;
use proptest::prelude::*;

const SCHEMA: &str = r#"
[sinks.schema]
primaryKey = "id"
[[sinks.schema.fields]]
name = "id"
title = "Place id"
description = "The scraper's id of the place"
[[sinks.schema.fields]]
name = "text"
[[sinks.schema.fields]]
name = "int"
type = "integer"
[[sinks.schema.fields]]
name = "num"
type = "number"
[[sinks.schema.fields]]
name = "flag"
type = "boolean"
[[sinks.schema.fields]]
name = "day"
type = "date"
[[sinks.schema.fields]]
name = "at"
type = "datetime"
[[sinks.schema.fields]]
name = "tags"
type = "array"
"#;

fn write(records: &[Value], extra: &str) -> (tempfile::TempDir, RunReport) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"xlsx\"\npath = \"results.xlsx\"\n{extra}\n{SCHEMA}"
    );
    let exporter =
        Exporter::from_manifest_str(&manifest, dir.path(), RunOptions::default()).unwrap();
    for r in records {
        exporter.record(r).unwrap();
    }
    let report = exporter.finish().unwrap();
    (dir, report)
}

/// Every sheet's rows, as calamine reads them (header first).
fn sheets(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

/// The text of a part of the workbook's zip (a sheet's XML, the comments).
fn part(path: &Path, name: &str) -> Option<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut file = zip.by_name(name).ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    Some(text)
}

fn serial_of(data: &Data) -> f64 {
    match data {
        Data::DateTime(d) => d.as_f64(),
        other => panic!("expected a date cell, found {other:?}"),
    }
}

/// An Excel serial of a UTC date-time, computed independently of the sink (days since
/// 1899-12-30).
fn excel_serial(at: time::OffsetDateTime) -> f64 {
    let epoch = time::macros::datetime!(1899-12-30 0:00 UTC);
    (at - epoch).whole_milliseconds() as f64 / 86_400_000.0
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,20}",
        Just("=1+1".to_string()),
        Just("@SUM(A1)".to_string()),
        Just("00123".to_string()),
        Just("-5".to_string()),
        Just("a\r\nb\rc\nd".to_string()),
        Just("emoji 😀👍🏽 and שלום עולם".to_string()),
        Just("  spaces  ".to_string()),
    ]
}

#[derive(Debug, Clone)]
struct Row {
    text: Option<String>,
    int: Option<i128>,
    num: Option<f64>,
    flag: Option<bool>,
    day: Option<(i32, u8, u8)>,
    at: Option<(i64, i32)>, // unix seconds, offset minutes
    tags: Vec<String>,
}

fn row_strategy() -> impl Strategy<Value = Row> {
    (
        prop::option::of(text_strategy()),
        prop::option::of(prop_oneof![
            any::<i32>().prop_map(i128::from),
            Just((1i128 << 53) + 1),
            Just(-(1i128 << 53) - 1),
            Just(1i128 << 53),
            any::<i64>().prop_map(i128::from),
        ]),
        prop::option::of(prop::num::f64::NORMAL | prop::num::f64::ZERO),
        prop::option::of(any::<bool>()),
        prop::option::of((1901i32..2100, 1u8..13, 1u8..29)),
        prop::option::of((-2_177_452_800i64..4_102_444_800, -840i32..840)),
        prop::collection::vec("[a-z =+]{1,5}", 0..3),
    )
        .prop_map(|(text, int, num, flag, day, at, tags)| Row {
            text,
            int,
            num,
            flag,
            day,
            at,
            tags,
        })
}

fn json_of(i: usize, r: &Row) -> Value {
    let mut v = json!({"id": format!("id{i}")});
    if let Some(t) = &r.text {
        v["text"] = json!(t);
    }
    if let Some(n) = r.int {
        v["int"] = serde_json::from_str(&n.to_string()).unwrap();
    }
    if let Some(n) = r.num {
        v["num"] = json!(n);
    }
    if let Some(b) = r.flag {
        v["flag"] = json!(b);
    }
    if let Some((y, m, d)) = r.day {
        v["day"] = json!(format!("{y:04}-{m:02}-{d:02}"));
    }
    if let Some((secs, offset)) = r.at {
        let at = time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap()
            .to_offset(time::UtcOffset::from_whole_seconds(offset * 60).unwrap());
        v["at"] = json!(
            at.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        );
    }
    if !r.tags.is_empty() {
        v["tags"] = json!(r.tags);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn typed_values_read_back(rows in prop::collection::vec(row_strategy(), 1..10)) {
        let records: Vec<Value> = rows.iter().enumerate().map(|(i, r)| json_of(i, r)).collect();
        let (dir, report) = write(&records, "");
        let file = &report.sinks[0].files[0];
        prop_assert!(file.validated());
        prop_assert_eq!(file.rows(), rows.len() as u64);
        let sheets = sheets(&dir.path().join("out/results.xlsx"));
        prop_assert_eq!(sheets.len(), 1);
        let data = &sheets[0].1;
        prop_assert_eq!(data.len(), rows.len() + 1);
        let width = data[0].len();
        for (i, r) in rows.iter().enumerate() {
            let cells = &data[i + 1];
            let cell = |c: usize| cells.get(c).cloned().unwrap_or(Data::Empty);
            prop_assert_eq!(cell(0), Data::String(format!("id{i}")));
            match &r.text {
                Some(t) if !t.is_empty() => prop_assert_eq!(cell(1), Data::String(t.clone())),
                _ => prop_assert_eq!(cell(1), Data::Empty),
            }
            match r.int {
                // within 2^53 a number, beyond it text with every digit
                Some(n) if n.abs() <= 1i128 << 53 => prop_assert_eq!(cell(2), Data::Float(n as f64)),
                Some(n) => prop_assert_eq!(cell(2), Data::String(n.to_string())),
                None => prop_assert_eq!(cell(2), Data::Empty),
            }
            match r.num {
                Some(n) => prop_assert_eq!(cell(3), Data::Float(n)),
                None => prop_assert_eq!(cell(3), Data::Empty),
            }
            match r.flag {
                Some(b) => prop_assert_eq!(cell(4), Data::Bool(b)),
                None => prop_assert_eq!(cell(4), Data::Empty),
            }
            match r.day {
                Some((y, m, d)) => {
                    let day = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
                    let want = excel_serial(day.midnight().assume_utc());
                    prop_assert_eq!(serial_of(&cell(5)), want);
                }
                None => prop_assert_eq!(cell(5), Data::Empty),
            }
            match r.at {
                Some((secs, _)) => {
                    let want = excel_serial(time::OffsetDateTime::from_unix_timestamp(secs).unwrap());
                    // the same instant, in UTC, to the millisecond
                    prop_assert!((serial_of(&cell(6)) - want).abs() * 86_400_000.0 < 0.5,
                        "{:?} vs {want}", cell(6));
                }
                None => prop_assert_eq!(cell(6), Data::Empty),
            }
            if r.tags.is_empty() {
                prop_assert_eq!(cell(7), Data::Empty);
            } else {
                prop_assert_eq!(cell(7), Data::String(r.tags.join("; ")));
            }
            prop_assert!(cells.len() <= width);
        }
    }
}

#[test]
fn a_formula_like_text_stays_text_without_an_apostrophe() {
    let (dir, report) = write(
        &[
            json!({"id": "a", "text": "=1+1"}),
            json!({"id": "b", "text": "@SUM(A1)"}),
            json!({"id": "00123", "text": "+49 30 1234"}),
        ],
        "",
    );
    let rows = &sheets(&dir.path().join("out/results.xlsx"))[0].1;
    assert_eq!(rows[1][1], Data::String("=1+1".into()));
    assert_eq!(rows[2][1], Data::String("@SUM(A1)".into()));
    assert_eq!(
        rows[3][0],
        Data::String("00123".into()),
        "an id of digits keeps its zeros"
    );
    let sheet = part(
        &dir.path().join("out/results.xlsx"),
        "xl/worksheets/sheet1.xml",
    )
    .unwrap();
    assert!(!sheet.contains("<f>"), "no formula anywhere: {sheet}");
    assert_eq!(report.sinks[0].records.as_ref().unwrap().guarded_cells, 0);
}

#[test]
fn integers_past_2_pow_53_are_text_and_counted() {
    let big = "9007199254740993"; // 2^53 + 1: a double would make it ...992
    let records = [
        serde_json::from_str::<Value>(&format!(r#"{{"id": "a", "int": {big}}}"#)).unwrap(),
        json!({"id": "b", "int": 9_007_199_254_740_992i64}),
    ];
    let (dir, report) = write(&records, "");
    let rows = &sheets(&dir.path().join("out/results.xlsx"))[0].1;
    assert_eq!(rows[1][2], Data::String(big.into()));
    assert_eq!(rows[2][2], Data::Float(9_007_199_254_740_992.0));
    assert_eq!(report.sinks[0].details["integers_as_text"], 1);
}

#[test]
fn a_full_sheet_continues_in_the_next_and_a_full_file_in_the_next_file() {
    let records: Vec<Value> = (0..7)
        .map(|i| json!({"id": format!("r{i}"), "int": i}))
        .collect();
    let (dir, report) = write(&records, "max_rows_per_sheet = 2\nmax_rows_per_file = 5");
    let files: Vec<(&str, u64)> = report.sinks[0]
        .files
        .iter()
        .map(|f| (f.path(), f.rows()))
        .collect();
    assert_eq!(files, [("results.xlsx", 5), ("results-0002.xlsx", 2)]);
    assert!(report.sinks[0].files.iter().all(|f| f.validated()));
    let first = sheets(&dir.path().join("out/results.xlsx"));
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["results", "results (2)", "results (3)"]);
    let ids = |rows: &Vec<Vec<Data>>| -> Vec<String> {
        assert_eq!(
            rows[0][0],
            Data::String("id".into()),
            "every sheet has its header"
        );
        rows[1..].iter().map(|r| r[0].to_string()).collect()
    };
    assert_eq!(ids(&first[0].1), ["r0", "r1"]);
    assert_eq!(ids(&first[1].1), ["r2", "r3"]);
    assert_eq!(ids(&first[2].1), ["r4"]);
    let second = sheets(&dir.path().join("out/results-0002.xlsx"));
    assert_eq!(second.len(), 1);
    assert_eq!(ids(&second[0].1), ["r5", "r6"]);
}

#[test]
fn the_header_is_bold_frozen_filtered_and_annotated() {
    let (dir, _) = write(
        &[json!({"id": "a", "text": "a long text to widen its column"})],
        "",
    );
    let path = dir.path().join("out/results.xlsx");
    let sheet = part(&path, "xl/worksheets/sheet1.xml").unwrap();
    assert!(
        sheet.contains(r#"state="frozen""#) && sheet.contains(r#"ySplit="1""#),
        "{sheet}"
    );
    assert!(sheet.contains(r#"<autoFilter ref="A1:H2"/>"#), "{sheet}");
    assert!(sheet.contains("<cols>"), "column widths: {sheet}");
    let styles = part(&path, "xl/styles.xml").unwrap();
    assert!(styles.contains("<b/>"), "a bold font: {styles}");
    let comments = part(&path, "xl/comments1.xml").expect("the header notes");
    assert!(
        comments.contains("Place id") && comments.contains("The scraper"),
        "{comments}"
    );
}

#[test]
fn the_summary_sheet_holds_the_accounting() {
    let records = [
        json!({"id": "a", "int": 1}),
        json!({"id": "a", "int": 2}),
        json!({"id": "b", "int": "two"}),
    ];
    let (dir, report) = write(&records, "summary_sheet = true");
    let tally = report.sinks[0].records.clone().unwrap();
    assert_eq!((tally.written, tally.duplicates, tally.rejected), (1, 1, 1));
    let all = sheets(&dir.path().join("out/results.xlsx"));
    let (name, rows) = &all[1];
    assert_eq!(name, "summary");
    let find = |label: &str| -> Data {
        rows.iter()
            .find(|r| r[0] == Data::String(label.into()))
            .unwrap_or_else(|| panic!("{label} missing"))[1]
            .clone()
    };
    assert_eq!(find("received"), Data::Float(3.0));
    assert_eq!(find("written"), Data::Float(1.0));
    assert_eq!(find("duplicates"), Data::Float(1.0));
    assert_eq!(find("rejected"), Data::Float(1.0));
    assert_eq!(find("type"), Data::Float(1.0));
}

#[test]
fn an_empty_run_still_delivers_a_workbook_with_its_header() {
    let (dir, report) = write(&[], "");
    assert_eq!(report.sinks[0].files[0].rows(), 0);
    let rows = &sheets(&dir.path().join("out/results.xlsx"))[0].1;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][7], Data::String("tags".into()));
}

#[test]
fn days_excel_cannot_show_are_text_and_counted() {
    let records = [
        json!({"id": "a", "day": "1900-02-28", "at": "1899-12-31T23:00:00Z"}),
        json!({"id": "b", "day": "1900-03-01", "at": "1900-03-01T00:00:00.5Z"}),
    ];
    let (dir, report) = write(&records, "");
    assert!(report.sinks[0].files[0].validated());
    let rows = &sheets(&dir.path().join("out/results.xlsx"))[0].1;
    assert_eq!(rows[1][5], Data::String("1900-02-28".into()));
    assert_eq!(rows[1][6], Data::String("1899-12-31 23:00:00".into()));
    assert_eq!(
        serial_of(&rows[2][5]),
        61.0,
        "Excel's serial of 1 March 1900"
    );
    assert_eq!(report.sinks[0].details["dates_as_text"], 2);
}
