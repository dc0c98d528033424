//! # exporter-tabular
//!
//! What every CSV output of the exporter shares (docs/contract.md §4.1), usable on its own:
//!
//! - the four [`Dialect`]s (Excel, Google Sheets, RFC 4180, Unix): encoding, line ending,
//!   formula guard, row and cell limits, booleans, how date-times are written;
//! - rows written with [`RowWriter`] and read back with [`RowReader`], both on `csv-core`
//!   (the engine of the `csv` crate), the reader also checking the framing a dialect promises;
//! - the cell rules: the formula guard ([`guard`], [`unguard`]), the cell limit
//!   ([`truncate_utf16`]), numbers with every digit and no exponent ([`write_number`]).
//!
//! ```
//! use exporter_tabular::{Dialect, RowReader, RowWriter, Row, guard};
//! let mut out = Vec::new();
//! let mut writer = RowWriter::new(Dialect::Unix, b',');
//! writer.write_row(["id", "note"], &mut out);
//! writer.write_row(["p1", &guard("=1+1")], &mut out);
//! assert_eq!(out, b"id,note\np1,'=1+1\n");
//! let mut reader = RowReader::new(&out[..], b',', false);
//! let mut row = Row::default();
//! while reader.read_row(&mut row).unwrap() {
//!     assert_eq!(row.len(), 2);
//! }
//! assert_eq!(reader.report().wrong_terminator_row, None);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cells;
mod dialect;
mod read;
mod write;

pub use cells::{guard, needs_guard, truncate_utf16, unguard, write_number};
pub use dialect::{BOM, Delimiter, Dialect};
pub use read::{FramingReport, Row, RowReader, cut_points};
pub use write::RowWriter;
