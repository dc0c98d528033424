//! Every record written to the CSV reads back, with the `csv` crate, to the same cells
//! (modulo the documented formula guard), in every dialect; rollover loses and repeats nothing.

use exporter_core::serde_json;
use exporter_csv as _; // link the plugin
use exporter_runtime::{Exporter, RunOptions};
use proptest::prelude::*;

#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    id: String,
    text: String,
    num: f64,
    /// Any integer, as JSON reads it: most beyond 64 bits.
    int: serde_json::Number,
    flag: bool,
    tags: Vec<String>,
}

const SCHEMA: &str = r#"
[sinks.schema]
primaryKey = "id"
[[sinks.schema.fields]]
name = "id"
[[sinks.schema.fields]]
name = "text"
[[sinks.schema.fields]]
name = "num"
type = "number"
[[sinks.schema.fields]]
name = "int"
type = "integer"
[[sinks.schema.fields]]
name = "flag"
type = "boolean"
[[sinks.schema.fields]]
name = "tags"
type = "array"
"#;

fn write(
    rows: &[Row],
    dialect: &str,
    extra: &str,
) -> (tempfile::TempDir, exporter_runtime::RunReport) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\ndialect = \"{dialect}\"\n{extra}\n{SCHEMA}"
    );
    let exporter =
        Exporter::from_manifest_str(&manifest, dir.path(), RunOptions::default()).unwrap();
    for r in rows {
        exporter.record(r).unwrap();
    }
    let report = exporter.finish().unwrap();
    (dir, report)
}

fn read(path: &std::path::Path) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(path).unwrap();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    assert!(!body.starts_with(b"\xEF\xBB\xBF"));
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap())
        .collect()
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,30}",
        // every C0 control, NUL included, among the characters that make a cell need quotes
        // or the formula guard
        4 => "[\\x00-\\x1f=+@\\-\\t\\r\\n\",; 0-9a-z()']{0,16}",
        1 => Just("+1 555 0100".to_string()),
        1 => Just("-0.5".to_string()),
        1 => Just("a\r\nb".to_string()),
        // around the Excel (32,767) and Sheets (50,000) limits, in characters of one, two and
        // four UTF-8 bytes (a four-byte one is two UTF-16 units)
        1 => (32_700usize..32_800, prop_oneof![Just('x'), Just('é'), Just('😀')])
            .prop_map(|(n, c)| c.to_string().repeat(n / c.len_utf16())),
        1 => (49_950usize..50_050, prop_oneof![Just('y'), Just('😀')])
            .prop_map(|(n, c)| format!("a{}", c.to_string().repeat(n / c.len_utf16()))),
    ]
}

fn integer_strategy() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        // up to 60 digits: far past 64 bits, and past what a double holds exactly
        ("-?[1-9][0-9]{18,59}").prop_map(|digits| digits.parse().unwrap()),
    ]
}

fn rows_strategy() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            text_strategy(),
            prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL,
            integer_strategy(),
            any::<bool>(),
            prop::collection::vec("[a-z=+ \\x00-\\x1f]{1,5}", 0..3),
        ),
        1..12,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (text, num, int, flag, tags))| Row {
                id: format!("id{i}"),
                text,
                num,
                int,
                flag,
                tags,
            })
            .collect()
    })
}

/// The longest start of `s` of at most `limit` UTF-16 units that ends between characters:
/// the cell limit as the README states it, computed here independently of the writer.
fn cut_to_units(s: &str, limit: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return &s[..i];
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn cells_read_back(rows in rows_strategy(), dialect in prop_oneof![Just("excel"), Just("sheets"), Just("rfc4180"), Just("unix")]) {
        let (dir, report) = write(&rows, dialect, "");
        let back = read(&dir.path().join("out/results.csv"));
        prop_assert_eq!(back.len(), rows.len());
        let guarded = matches!(dialect, "excel" | "sheets");
        let limit = match dialect {
            "excel" => 32_767,
            "sheets" => 50_000,
            _ => usize::MAX,
        };
        let expect = |s: &str| {
            let s = if guarded { exporter_tabular::guard(s).into_owned() } else { s.to_string() };
            cut_to_units(&s, limit).to_string()
        };
        let (t, f) = if guarded { ("TRUE", "FALSE") } else { ("true", "false") };
        let mut cut = 0;
        for (row, cells) in rows.iter().zip(&back) {
            prop_assert_eq!(&cells[0], row.id.as_str());
            prop_assert_eq!(&cells[1], expect(&row.text));
            cut += u64::from(cells[1].len() < expect_uncut(&row.text, guarded).len());
            prop_assert!(!cells[2].contains(['e', 'E']), "{}", &cells[2]);
            prop_assert_eq!(cells[2].parse::<f64>().unwrap(), row.num);
            prop_assert_eq!(&cells[3], row.int.to_string());
            prop_assert_eq!(&cells[4], if row.flag { t } else { f });
            prop_assert_eq!(&cells[5], expect(&row.tags.join("; ")));
        }
        let tally = report.sinks[0].records.as_ref().unwrap();
        prop_assert_eq!(tally.written, rows.len() as u64);
        prop_assert_eq!(tally.truncated_cells, cut);
    }
}

/// The text as written before any cut.
fn expect_uncut(s: &str, guarded: bool) -> String {
    if guarded {
        exporter_tabular::guard(s).into_owned()
    } else {
        s.to_string()
    }
}

#[test]
fn rollover_keeps_every_row_once_with_a_header_in_each_file() {
    let rows: Vec<Row> = (0..10)
        .map(|i| Row {
            id: format!("r{i}"),
            text: format!("t{i}"),
            num: 1.5,
            int: i.into(),
            flag: true,
            tags: vec![],
        })
        .collect();
    let (dir, report) = write(&rows, "excel", "max_rows_per_file = 3");
    let names = [
        "results.csv",
        "results-0002.csv",
        "results-0003.csv",
        "results-0004.csv",
    ];
    let files = &report.sinks[0].files;
    assert_eq!(files.iter().map(|f| f.path()).collect::<Vec<_>>(), names);
    assert_eq!(
        files.iter().map(|f| f.rows()).collect::<Vec<_>>(),
        [3, 3, 3, 1]
    );
    assert_eq!(report.sinks[0].records.as_ref().unwrap().files, 4);
    let mut ids = Vec::new();
    for name in names {
        let bytes = std::fs::read(dir.path().join("out").join(name)).unwrap();
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBFid,text,num,int,flag,tags\r\n"),
            "{name} has BOM and header"
        );
        ids.extend(
            read(&dir.path().join("out").join(name))
                .iter()
                .map(|r| r[0].to_string()),
        );
    }
    assert_eq!(ids, rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
    assert!(!dir.path().join("out/results-0005.csv").exists());
}

#[test]
fn duplicates_are_skipped_and_counted_only_after_validation() {
    let mut rows: Vec<Row> = (0..3)
        .map(|i| Row {
            id: format!("r{i}"),
            text: String::new(),
            num: 1.0,
            int: i.into(),
            flag: false,
            tags: vec![],
        })
        .collect();
    rows.push(rows[1].clone());
    rows.push(Row {
        num: f64::NAN,
        ..rows[2].clone()
    }); // NaN serializes as null: valid, a duplicate
    let (dir, report) = write(&rows, "unix", "");
    let tally = report.sinks[0].records.clone().unwrap();
    assert_eq!(
        (
            tally.received,
            tally.written,
            tally.duplicates,
            tally.rejected
        ),
        (5, 3, 2, 0)
    );
    assert!(tally.balanced());
    assert_eq!(read(&dir.path().join("out/results.csv")).len(), 3);
}
