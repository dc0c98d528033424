//! The floor under the `xlsx` sink's wall time: bare rust_xlsxwriter writing and saving the
//! cells of a results table, with the sink's settings (constant memory, one sheet, zip level
//! 3), the cells typed beforehand and held in memory, so only the library's own work is timed.
//!
//! `cargo run --release -p exporter-xlsx --example floor -- SCHEMA.json RESULTS.csv OUT.xlsx`
//!
//! RESULTS.csv is the table a csv run of the same stream wrote (`bench/xlsx_floor.py` runs
//! both). Prints one JSON line: the rows, the cells and the seconds the writing took.

use std::time::Instant;

use rust_xlsxwriter::{Format, Workbook};

enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
    DateTime(f64),
    Text(String),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [schema, results, out] = args.as_slice() else {
        return Err("usage: floor SCHEMA.json RESULTS.csv OUT.xlsx".into());
    };
    let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(schema)?)?;
    let types: Vec<String> = schema["fields"]
        .as_array()
        .ok_or("the schema has no fields")?
        .iter()
        .map(|f| f["type"].as_str().unwrap_or("string").to_owned())
        .collect();

    let mut reader = csv::Reader::from_path(results)?;
    let header: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let row: Vec<Cell> = record
            .iter()
            .zip(&types)
            .map(|(text, ty)| typed(text, ty))
            .collect();
        rows.push(row);
    }

    let start = Instant::now();
    let mut book = Workbook::new();
    book.set_zip_compression_level(3);
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = book.add_worksheet_with_constant_memory()?;
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, name)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                }
                Cell::DateTime(serial) => {
                    sheet.write_number_with_format(r, c, *serial, &datetime)?;
                }
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
            }
        }
    }
    book.save(out)?;
    let seconds = start.elapsed().as_secs_f64();
    let cells: usize = rows.iter().map(|r| r.len()).sum();
    println!(
        "{{\"rows\": {}, \"cells\": {cells}, \"write_seconds\": {seconds:.3}}}",
        rows.len()
    );
    Ok(())
}

/// The cell the sink would write for `text` in a column of type `ty` (the csv form back to
/// its type; what cannot be read as that type stays text, as it costs the writer the same).
fn typed(text: &str, ty: &str) -> Cell {
    if text.is_empty() {
        return Cell::Empty;
    }
    let parsed = match ty {
        "integer" | "number" => text.parse().ok().map(Cell::Number),
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Cell::Bool(true)),
            "false" => Some(Cell::Bool(false)),
            _ => None,
        },
        // the excel dialect writes `2026-11-26 08:00:00` (UTC), the others RFC 3339
        "datetime" => time::OffsetDateTime::parse(
            &format!("{}Z", text.replacen(' ', "T", 1).trim_end_matches('Z')),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| Cell::DateTime(t.unix_timestamp() as f64 / 86_400.0 + 25_569.0)),
        _ => None,
    };
    parsed.unwrap_or_else(|| Cell::Text(text.to_owned()))
}
