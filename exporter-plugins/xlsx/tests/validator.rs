//! The `xlsx-table-schema` validator finds what is wrong with a workbook, each finding with
//! its code, row and field: workbooks made wrong on purpose with `rust_xlsxwriter`.

use exporter_core::serde_json::json;
use exporter_core::{FileUnderCheck, FindingCode, ValidatorContext};
use exporter_xlsx as _;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

fn validator() -> Box<dyn exporter_core::Validator> {
    let config = json!({"schema": {
        "fields": [
            {"name": "id", "constraints": {"required": true}},
            {"name": "n", "type": "integer", "constraints": {"maximum": 10}},
            {"name": "day", "type": "date"},
            {"name": "code"}
        ],
        "primaryKey": "id"
    }});
    let plugin = exporter_core::validator_plugin("xlsx-table-schema").unwrap();
    (plugin.build)(&ValidatorContext {
        sink_type: "xlsx",
        sink_name: "workbook",
        config: &config,
        manifest_dir: std::path::Path::new("."),
        output_schema: None,
        argument: None,
    })
    .unwrap()
}

fn header(sheet: &mut Worksheet, labels: &[&str]) {
    for (i, l) in labels.iter().enumerate() {
        sheet.write_string(0, i as u16, *l).unwrap();
    }
}

/// (code, row, field) of each finding for `book` with `rows` data rows reported.
fn findings(mut book: Workbook, rows: u64) -> Vec<(&'static str, Option<u64>, Option<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.xlsx");
    book.save(&path).unwrap();
    validator()
        .check(&FileUnderCheck {
            path: &path,
            name: "results.xlsx",
            rows: Some(rows),
        })
        .into_iter()
        .map(|f| (f.code.as_str(), f.row, f.field))
        .collect()
}

fn date() -> Format {
    Format::new().set_num_format("yyyy-mm-dd")
}

#[test]
fn a_well_made_workbook_passes() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("results").unwrap();
    header(sheet, &["id", "n", "day", "code"]);
    sheet.write_string(1, 0, "a").unwrap();
    sheet.write_number(1, 1, 3).unwrap();
    let day = ExcelDateTime::from_ymd(2026, 11, 26).unwrap();
    sheet
        .write_datetime_with_format(1, 2, &day, &date())
        .unwrap();
    sheet.write_string(1, 3, "00123").unwrap();
    sheet.write_string(2, 0, "b").unwrap();
    sheet.autofilter(0, 0, 2, 3).unwrap();
    assert_eq!(findings(book, 2), []);
}

#[test]
fn wrong_types_values_header_keys_and_counts_are_found() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("results").unwrap();
    header(sheet, &["id", "count", "day", "code"]);
    // row 1: a number where text belongs, text where a number belongs
    sheet.write_string(1, 0, "a").unwrap();
    sheet.write_string(1, 1, "3").unwrap();
    sheet.write_number(1, 3, 123).unwrap();
    // row 2: above the maximum, a day written as a plain number
    sheet.write_string(2, 0, "b").unwrap();
    sheet.write_number(2, 1, 11).unwrap();
    sheet.write_number(2, 2, 46000).unwrap();
    // row 3: the key of row 1 again; row 4: no id
    sheet.write_string(3, 0, "a").unwrap();
    sheet.write_number(4, 1, 1).unwrap();
    sheet.autofilter(0, 0, 4, 3).unwrap();
    let found = findings(book, 5);
    let has = |code: &str, row: Option<u64>, field: Option<&str>| {
        found
            .iter()
            .any(|(c, r, f)| *c == code && *r == row && f.as_deref() == field)
    };
    assert!(has("missing-label", None, Some("n")), "{found:?}");
    assert!(has("type-error", Some(1), Some("n")), "{found:?}");
    assert!(has("type-error", Some(1), Some("code")), "{found:?}");
    assert!(has("constraint-error", Some(2), Some("n")), "{found:?}");
    assert!(has("type-error", Some(2), Some("day")), "{found:?}");
    assert!(has("unique-error", Some(3), None), "{found:?}");
    assert!(has("constraint-error", Some(4), Some("id")), "{found:?}");
    assert!(has("row-count", None, None), "{found:?}");
}

#[test]
fn every_data_sheet_is_read_and_other_sheets_are_not() {
    let mut book = Workbook::new();
    for (name, id) in [("results", "a"), ("results (2)", "b")] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        header(sheet, &["id", "n", "day", "code"]);
        sheet.write_string(1, 0, id).unwrap();
        sheet.autofilter(0, 0, 1, 3).unwrap();
    }
    let summary = book.add_worksheet();
    summary.set_name("summary").unwrap();
    summary.write_string(0, 0, "records").unwrap();
    assert_eq!(findings(book, 2), []);

    // a repeated key across sheets is found; a rows count that leaves out a sheet too
    let mut book = Workbook::new();
    for name in ["results", "results (2)"] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        header(sheet, &["id", "n", "day", "code"]);
        sheet.write_string(1, 0, "same").unwrap();
        sheet.autofilter(0, 0, 1, 3).unwrap();
    }
    let found = findings(book, 1);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "unique-error" && f.1 == Some(2)),
        "{found:?}"
    );
    assert!(found.iter().any(|f| f.0 == "row-count"), "{found:?}");
}

#[test]
fn an_empty_record_row_inside_the_filter_counts_and_cells_below_it_are_found() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("results").unwrap();
    header(sheet, &["id", "n", "day", "code"]);
    sheet.write_string(1, 0, "a").unwrap();
    // row 2 holds no cell; the filter says the table has two rows
    sheet.autofilter(0, 0, 2, 3).unwrap();
    sheet.write_string(5, 0, "stray").unwrap();
    let found = findings(book, 2);
    assert!(found.iter().any(|f| f.0 == "extra-cell"), "{found:?}");
    // and the empty row breaks `required` on its id
    assert!(
        found
            .iter()
            .any(|f| f.0 == "constraint-error" && f.1 == Some(2)),
        "{found:?}"
    );
    let codes: Vec<_> = found.iter().map(|f| f.0).collect();
    assert!(!codes.contains(&"row-count"), "{found:?}");
    let _ = FindingCode::RowCount;
}

#[test]
fn what_is_not_a_workbook_is_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.xlsx");
    std::fs::write(&path, "id,n\na,1\n").unwrap();
    let found = validator().check(&FileUnderCheck {
        path: &path,
        name: "results.xlsx",
        rows: Some(1),
    });
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, FindingCode::EncodingError);
}
