//! # table-schema
//!
//! [Frictionless Table Schema](https://specs.frictionlessdata.io/table-schema/) for tables
//! written from JSON records and read back from text, usable without the exporter:
//!
//! - a [`TableSchema`] loaded from its JSON (fields, types, formats, constraints, patterns,
//!   `primaryKey`, `missingValues`), every problem located by its JSON path;
//! - a record's values slotted by column straight from its JSON text ([`TableSchema::slot`]),
//!   and checked against the constraints ([`check`], every [`Violation`] collected);
//! - cells written for a spreadsheet dialect and read back ([`CellFormat`]): the same code
//!   decides both, so whatever is written reads back valid, and a table's validator
//!   ([`CellFormat::verdict`]) says exactly what a writer would;
//! - unique keys remembered in bounded memory ([`KeySet`]: a 128-bit fingerprint per key).
//!
//! Types are strict: JSON types must match the field's (`"4.5"` in a `number` field is a
//! violation, not cast). See `README.md` for what is supported and `examples/` for a table
//! checked end to end.
//!
//! ```
//! use table_schema::{CellFormat, RowStorage, TableSchema, check};
//! use exporter_json::JsonObject;
//! let schema = TableSchema::from_json(serde_json::json!({
//!     "fields": [
//!         {"name": "id", "constraints": {"required": true, "pattern": "[a-z][0-9]+"}},
//!         {"name": "rating", "type": "number", "constraints": {"maximum": 5}}
//!     ],
//!     "primaryKey": "id"
//! })).unwrap();
//! let data = JsonObject::parse(r#"{"id": "p1", "rating": 7.5}"#).unwrap();
//! let mut storage = RowStorage::default();
//! let slots = schema.slot(&data, &mut storage);
//! let violations = check(&schema, &slots.values);
//! assert_eq!(violations[0].rule, "maximum");
//! assert_eq!(violations[0].message(), "7.5 is above the maximum 5");
//! // the cell a spreadsheet gets, and what the table's validator makes of it
//! let format = CellFormat::of(exporter_tabular::Dialect::Excel);
//! let mut cell = String::new();
//! format.write(&schema.fields[1], &slots.values[1], false, &mut cell);
//! assert_eq!(cell, "7.5");
//! assert_eq!(format.verdict(&schema, &schema.fields[1], &cell).unwrap().rule, "maximum");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// the README's example runs as a doc test
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod cells;
mod constraints;
mod keys;
mod pattern;
mod schema;
mod value;

pub use cells::{CellEffects, CellFormat, compact_json, compact_json_text};
pub use constraints::{
    Violation, check, check_one, cut, is_date, is_integral, is_missing, parse_datetime,
};
pub use keys::KeySet;
pub use pattern::Pattern;
pub use schema::{Bound, Constraints, Field, FieldType, StringFormat, TableSchema};
pub use value::{FieldValue, RowStorage, Slots};
