//! The record gate: every record is written, rejected or counted as a duplicate, once.

use std::collections::BTreeMap;

use exporter_core::serde_json::{Map, Value, json};
use exporter_core::{ErrorEvent, EventContext, Record, RecordTally, SinkError};
use table_schema::{
    CellEffects, Field, FieldValue, KeySet, RowStorage, TableSchema, Violation, check, cut,
    is_missing,
};

use crate::{ExtraFields, OnInvalid, OnOverflow};

/// How a sink renders and writes one record's cells. The gate calls [`TableRow::render`] for
/// every field of a record that passed the schema, and [`TableRow::write`] only when the
/// rendered row is to be written.
pub trait TableRow {
    /// What the cells are written as, for messages: `"the excel dialect"`, `"a workbook"`.
    fn written_as(&self) -> &str;

    /// Renders field `i` (`missing`: null, absent or a missing value) into the pending row.
    fn render(
        &mut self,
        i: usize,
        field: &Field,
        value: &FieldValue<'_>,
        missing: bool,
    ) -> CellEffects;

    /// The text of field `i`'s rendered cell as the table's validator reads it; empty for an
    /// empty cell. Keys are fingerprints of these texts.
    fn text(&self, i: usize) -> &str;

    /// When field `i`'s rendered cell may read back otherwise than its value was checked (a
    /// cut cell, array items joined, an `any` value as text): the violation a reader of the
    /// table would find, if any.
    fn read_back(&self, schema: &TableSchema, i: usize, truncated: bool) -> Option<Violation>;

    /// Writes the rendered row.
    fn write(&mut self) -> Result<(), SinkError>;
}

/// The schema's rules applied to each record, and the record accounting.
///
/// ```
/// use exporter_core::serde_json::json;
/// use exporter_record_table::{ExtraFields, OnInvalid, OnOverflow, RecordGate};
/// let schema = table_schema::TableSchema::from_json(json!({"fields": [{"name": "id"}]})).unwrap();
/// let gate = RecordGate::new(schema, vec![0], OnInvalid::Reject, ExtraFields::Ignore, OnOverflow::Truncate);
/// let (tally, details) = gate.finish();
/// assert_eq!(tally.received, 0);
/// assert_eq!(details["distinct_keys"], 0);
/// ```
pub struct RecordGate {
    schema: TableSchema,
    on_invalid: OnInvalid,
    extra_fields: ExtraFields,
    on_overflow: OnOverflow,
    key_fields: Vec<usize>,
    keys: KeySet,
    unique: Vec<(usize, KeySet)>,
    tally: RecordTally,
    /// Valid records written without deduplication: a part of their key was missing.
    unkeyed: u64,
    /// Storage for the values of one record, reused for the next.
    row: RowStorage,
}

/// A violation's message for the error log and for findings: the value at fault masked of
/// passwords, then cut (masked first, so a cut cannot keep half of one).
///
/// ```
/// let v = table_schema::Violation::with_value("proxy", "pattern", "{value} does not match", "http://u:pw@h:1");
/// assert!(!exporter_record_table::masked_message(&v).contains("pw@"));
/// ```
pub fn masked_message(v: &Violation) -> String {
    v.message_with(|value| {
        let clean = exporter_core::redact(value);
        std::borrow::Cow::Owned(cut(&clean, 80).into_owned())
    })
}

impl RecordGate {
    /// A gate for `schema`, deduplicating on `key_fields` (none: no dedupe).
    pub fn new(
        schema: TableSchema,
        key_fields: Vec<usize>,
        on_invalid: OnInvalid,
        extra_fields: ExtraFields,
        on_overflow: OnOverflow,
    ) -> Self {
        let unique = schema
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.constraints.unique)
            .map(|(i, _)| (i, KeySet::default()))
            .collect();
        RecordGate {
            schema,
            on_invalid,
            extra_fields,
            on_overflow,
            key_fields,
            keys: KeySet::default(),
            unique,
            tally: RecordTally {
                rejected_by_rule: BTreeMap::new(),
                ..RecordTally::default()
            },
            unkeyed: 0,
            row: RowStorage::default(),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    /// Checks `record`, has `row` render it, and writes it, rejects it (raising a
    /// `SchemaViolation` error event, or failing the run with `on_invalid = "fail"`) or
    /// skips it as a duplicate.
    pub fn offer(
        &mut self,
        record: &Record<'_>,
        cx: &mut EventContext<'_>,
        row: &mut impl TableRow,
    ) -> Result<(), SinkError> {
        self.tally.received += 1;
        let slots = self.schema.slot(record.data(), &mut self.row);
        let mut violations = Vec::new();
        if !slots.extra.is_empty() {
            self.tally.extra_fields += 1;
            if self.extra_fields == ExtraFields::Reject {
                violations.push(Violation::new(
                    &slots.extra[0],
                    "extra_field",
                    format!(
                        "fields not in the schema: {}",
                        cut(&slots.extra.join(", "), 200)
                    ),
                ));
            }
        }
        violations.extend(check(&self.schema, &slots.values));
        // then the cells, and what they read back as: the written form must pass the checks
        // the table's validator makes, or the record is rejected (never the run failed)
        let (mut guarded, mut truncated) = (0, 0);
        for (i, field) in self.schema.fields.iter().enumerate() {
            let value = &slots.values[i];
            let missing = is_missing(&self.schema, value);
            let effects = row.render(i, field, value, missing);
            guarded += u64::from(effects.guarded);
            truncated += u64::from(effects.truncated);
            if !violations.is_empty() {
                continue;
            }
            if effects.unwritable {
                violations.push(Violation::new(
                    &field.name,
                    "type",
                    format!(
                        "{} cannot write this date-time: in UTC its year leaves 0000-9999",
                        row.written_as()
                    ),
                ));
            } else if effects.truncated && self.on_overflow == OnOverflow::Reject {
                violations.push(Violation::new(
                    &field.name,
                    "cell_limit",
                    format!("longer than the cell limit of {}", row.written_as()),
                ));
            } else if let Some(v) = row.read_back(&self.schema, i, effects.truncated) {
                violations.push(v);
            }
        }
        self.row.keep(slots.values);
        let mut unique_keys = Vec::with_capacity(self.unique.len());
        for (u, (field, seen)) in self.unique.iter().enumerate() {
            let Some(key) = key_of(row, &[*field]) else {
                continue;
            };
            if seen.contains(key) {
                violations.push(Violation::new(
                    &self.schema.fields[*field].name,
                    "unique",
                    "the value repeats an earlier record's",
                ));
            }
            unique_keys.push((u, key));
        }
        if !violations.is_empty() {
            return self.reject(record, violations, cx);
        }
        // only a valid record claims its key
        if !self.key_fields.is_empty() {
            match key_of(row, &self.key_fields) {
                Some(key) => {
                    if !self.keys.insert(key) {
                        self.tally.duplicates += 1;
                        return Ok(());
                    }
                }
                None => self.unkeyed += 1,
            }
        }
        for (u, key) in unique_keys {
            self.unique[u].1.insert(key);
        }
        row.write()?;
        self.tally.written += 1;
        self.tally.guarded_cells += guarded;
        self.tally.truncated_cells += truncated;
        Ok(())
    }

    fn reject(
        &mut self,
        record: &Record<'_>,
        violations: Vec<Violation>,
        cx: &mut EventContext<'_>,
    ) -> Result<(), SinkError> {
        let first = &violations[0];
        let mut message = format!(
            "field {:?}: {} ({})",
            first.field,
            masked_message(first),
            first.rule
        );
        if violations.len() > 1 {
            message.push_str(&format!(" (and {} more)", violations.len() - 1));
        }
        if self.on_invalid == OnInvalid::Fail {
            let at = cx.location().map(|l| format!("{l}: ")).unwrap_or_default();
            return Err(SinkError::new(format!(
                "{at}record violates the schema: {message} (on_invalid = \"fail\")"
            )));
        }
        self.tally.rejected += 1;
        *self
            .tally
            .rejected_by_rule
            .entry(first.rule.to_string())
            .or_default() += 1;
        let mut context = Map::new();
        context.insert("field".into(), Value::String(first.field.clone()));
        context.insert("rule".into(), Value::String(first.rule.into()));
        context.insert(
            "violations".into(),
            Value::Array(
                violations
                    .iter()
                    .map(
                        |v| json!({"field": v.field, "rule": v.rule, "message": masked_message(v)}),
                    )
                    .collect(),
            ),
        );
        if let Some(at) = cx.location() {
            context.insert("input".into(), Value::String(at.input.clone()));
            context.insert("line".into(), Value::from(at.line));
        }
        context.insert("record".into(), record.to_json());
        cx.raise(
            ErrorEvent::new(ErrorEvent::SCHEMA_VIOLATION, message)
                .with_context(Value::Object(context)),
        );
        Ok(())
    }

    /// The gate's state for the next generation of a followed stream: the accounting so far
    /// and every key seen (for deduplication across the parts). Read back with
    /// [`RecordGate::restore`].
    pub fn save(&self) -> Vec<u8> {
        let keys = self.keys.to_bytes();
        let unique: Vec<Vec<u8>> = self.unique.iter().map(|(_, k)| k.to_bytes()).collect();
        let head = json!({
            "tally": self.tally,
            "unkeyed": self.unkeyed,
            "keys": keys.len(),
            "unique": unique.iter().map(Vec::len).collect::<Vec<_>>(),
        });
        let head = exporter_core::serde_json::to_vec(&head).expect("JSON");
        let mut out = (head.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&head);
        out.extend_from_slice(&keys);
        for u in unique {
            out.extend_from_slice(&u);
        }
        out
    }

    /// Continues from a state [`RecordGate::save`] wrote.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let bad = || "the saved state of the table is damaged".to_string();
        let len = bytes.get(..8).ok_or_else(bad)?;
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes")) as usize;
        let head = bytes.get(8..8 + len).ok_or_else(bad)?;
        let head: Value = exporter_core::serde_json::from_slice(head).map_err(|_| bad())?;
        self.tally =
            exporter_core::serde_json::from_value(head["tally"].clone()).map_err(|_| bad())?;
        self.unkeyed = head["unkeyed"].as_u64().ok_or_else(bad)?;
        let mut at = 8 + len;
        let mut take = |n: Option<u64>| -> Result<&[u8], String> {
            let n = n.ok_or_else(bad)? as usize;
            let part = bytes.get(at..at + n).ok_or_else(bad)?;
            at += n;
            Ok(part)
        };
        if !self.keys.extend_from_bytes(take(head["keys"].as_u64())?) {
            return Err(bad());
        }
        let sizes = head["unique"].as_array().ok_or_else(bad)?;
        if sizes.len() != self.unique.len() {
            return Err("the saved state is of a table with other unique fields".into());
        }
        for ((_, set), size) in self.unique.iter_mut().zip(sizes) {
            if !set.extend_from_bytes(take(size.as_u64())?) {
                return Err(bad());
            }
        }
        Ok(())
    }

    /// The accounting (`files` left for the sink to set) and the gate's own counts:
    /// `distinct_keys`, `unkeyed`.
    pub fn finish(self) -> (RecordTally, Map<String, Value>) {
        let mut details = Map::new();
        details.insert("distinct_keys".into(), Value::from(self.keys.len() as u64));
        details.insert("unkeyed".into(), Value::from(self.unkeyed));
        (self.tally, details)
    }
}

/// The fingerprint of the written cells of `fields`, or `None` when one is empty (a record
/// missing a part of its key is not deduplicated). Keys come from the cells, not the values:
/// two values written alike (the same instant at two offsets, two long texts cut at the cell
/// limit) are the same key, as the table's validator would find.
fn key_of(row: &impl TableRow, fields: &[usize]) -> Option<u128> {
    if fields.iter().any(|&i| row.text(i).is_empty()) {
        return None;
    }
    Some(KeySet::fingerprint(fields.iter().map(|&i| row.text(i))))
}
