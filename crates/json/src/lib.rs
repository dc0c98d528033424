//! # exporter-json
//!
//! Reading JSON text without decoding it or allocating, for the exporter's hot path, and
//! usable on its own.
//!
//! - [`Cursor`] reads text that may be anything: it checks the grammar of RFC 8259 as it
//!   goes and hands out the text of what it read. What it cannot be sure of (nesting deeper
//!   than [`MAX_DEPTH`]) it refuses like anything invalid, and the caller falls back to
//!   `serde_json`, which is the authority.
//! - [`JsonObject`] keeps an object as its text with an index of its members: the one form a
//!   record takes in the exporter. Values are taken as their raw text
//!   ([`JsonObject::members`]), nested values split without building anything
//!   ([`JsonObject::members_of`], [`JsonObject::items_of`]), strings decoded into storage of
//!   the caller's ([`JsonObject::unquote_into`]).
//!
//! Strings are scanned 16 bytes at a time with SSE2 on x86-64 (8 at a time elsewhere): the
//! crate's only `unsafe`, each block with its SAFETY comment. Property tests hold the cursor
//! and the scanner to `serde_json`; `fuzz/` holds a `cargo fuzz` target that does the same on
//! any input (`fuzz/run.sh`).
//!
//! ```
//! use exporter_json::{Cursor, JsonObject};
//! let data = JsonObject::parse(r#"{"id": "p1", "tags": ["a", "b"]}"#).unwrap();
//! let tags = data.members().find(|(k, _)| k == "tags").unwrap().1;
//! assert_eq!(JsonObject::items_of(tags).collect::<Vec<_>>(), [r#""a""#, r#""b""#]);
//! let mut c = Cursor::new(r#"[1, {"x": true}]"#);
//! assert_eq!(c.value(), Some(r#"[1, {"x": true}]"#));
//! assert!(Cursor::new("[1,]").value().is_none());
//! ```

#![warn(missing_docs)]

mod cursor;
mod object;

pub use cursor::{Cursor, MAX_DEPTH, trim_json_whitespace};
pub use object::{JsonItems, JsonMembers, JsonObject, Member, has_surrogate_escape};
