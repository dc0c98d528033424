//! A table checked end to end with `table-schema` alone: JSON records are slotted by the
//! schema, checked, written as spreadsheet cells; the table is then read back and every cell
//! judged the way a table's validator judges it.
//!
//! ```sh
//! cargo run -p table-schema --example check_table
//! ```

use exporter_json::JsonObject;
use exporter_tabular::{Dialect, Row, RowReader, RowWriter};
use table_schema::{CellFormat, RowStorage, TableSchema, check};

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "place_id", "constraints": {"required": true, "pattern": "ChIJ[A-Za-z0-9_-]+"}},
    {"name": "name", "constraints": {"maxLength": 40}},
    {"name": "rating", "type": "number", "constraints": {"minimum": 0, "maximum": 5}},
    {"name": "opened", "type": "date"},
    {"name": "tags", "type": "array"}
  ],
  "primaryKey": "place_id"
}"#;

const RECORDS: [&str; 4] = [
    r#"{"place_id": "ChIJ1", "name": "=Dr. Smith", "rating": 4.5, "opened": "2019-04-01", "tags": ["dentist", "open"]}"#,
    r#"{"place_id": "ChIJ2", "name": "Zahnarzt Mitte", "rating": 7, "opened": "2020-01-01"}"#,
    r#"{"place_id": "nope", "name": "Praxis", "rating": "4.8"}"#,
    r#"{"place_id": "ChIJ3", "name": "Praxis Nord", "rating": 3.9, "opened": "2021-13-01"}"#,
];

fn main() {
    let schema_json: serde_json::Value = serde_json::from_str(SCHEMA).expect("JSON");
    let schema = TableSchema::from_json(schema_json)
        .unwrap_or_else(|(path, message)| panic!("the schema at {path}: {message}"));
    let dialect = Dialect::Excel;
    let format = CellFormat::of(dialect);
    let mut writer = RowWriter::new(dialect, b',');
    let mut table = Vec::new();
    let header: Vec<String> = schema
        .fields
        .iter()
        .map(|f| format.label(&f.name).into_owned())
        .collect();
    writer.write_row(header.iter().map(String::as_bytes), &mut table);

    // write: every record is checked first; only a valid one becomes a row
    let mut storage = RowStorage::default();
    let mut cells = vec![String::new(); schema.fields.len()];
    for (line, text) in RECORDS.iter().enumerate() {
        let record = JsonObject::parse(text).expect("a JSON object");
        let slots = schema.slot(&record, &mut storage);
        let violations = check(&schema, &slots.values);
        if !violations.is_empty() {
            for v in &violations {
                println!(
                    "record {}: rejected: {} ({})",
                    line + 1,
                    v.message(),
                    v.rule
                );
            }
            continue;
        }
        for (i, field) in schema.fields.iter().enumerate() {
            cells[i].clear();
            format.write(field, &slots.values[i], false, &mut cells[i]);
        }
        writer.write_row(cells.iter().map(String::as_bytes), &mut table);
    }
    println!("\n{}", String::from_utf8_lossy(&table));

    // read back: the validator's verdict on every cell, with the writer's own rules
    let mut reader = RowReader::new(&table[..], b',', dialect.line_end() == b"\r\n");
    let mut row = Row::default();
    let (mut rows, mut problems) = (0, 0);
    reader.read_row(&mut row).expect("a header");
    while reader.read_row(&mut row).expect("readable") {
        rows += 1;
        for (field, cell) in schema.fields.iter().zip(row.iter()) {
            let cell = std::str::from_utf8(cell).expect("UTF-8");
            if let Some(v) = format.verdict(&schema, field, cell) {
                println!("row {rows}, {}: {}", field.name, v.message());
                problems += 1;
            }
        }
    }
    println!("{rows} rows read back, {problems} cells that break their field's rules");
}
