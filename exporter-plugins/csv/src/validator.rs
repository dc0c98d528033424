//! The `csv-table-schema` validator: reads a written table back and checks it against its
//! Table Schema and dialect: BOM and line endings, header labels, cells per row, every cell's
//! type and constraints, key uniqueness, and the row count the sink reported. Every problem is
//! collected (up to a cap per file), each with its row and field.

use exporter_core::serde_json;
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, FindingList, GrowingFile, Validator, ValidatorContext,
    ValidatorPlugin,
};
use exporter_tabular::{BOM, FramingReport, Row, RowReader, cut_points};
use table_schema::{CellFormat, KeySet, TableSchema};

use crate::Config;

/// A table's expected shape.
pub struct TableValidator {
    schema: TableSchema,
    cells: CellFormat,
    delimiter: u8,
    key_fields: Vec<usize>,
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    if cx.sink_type != "csv" {
        return Err(format!(
            "csv-table-schema checks `csv` sinks, not {:?}",
            cx.sink_type
        ));
    }
    let config: Config = serde_json::from_value(cx.config.clone()).map_err(|e| e.to_string())?;
    let (schema, key_fields) = exporter_record_table::load_table(
        &config.schema,
        config.dedupe_on.as_deref(),
        cx.manifest_dir,
    )
    .map_err(|e| e.message)?;
    Ok(Box::new(TableValidator {
        cells: config.format(),
        delimiter: config.delimiter.byte(),
        key_fields,
        schema,
    }))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "csv-table-schema",
        description: "The CSV reads back with the dialect's BOM and line endings, the schema's header, valid cells, unique keys and the row count written.",
        build,
    }
}

impl TableValidator {
    fn labels(&self) -> Vec<String> {
        self.schema
            .fields
            .iter()
            .map(|f| self.cells.label(&f.name).into_owned())
            .collect()
    }

    fn check_bom(&self, has_bom: bool, out: &mut FindingList) {
        if self.cells.dialect.bom() && !has_bom {
            out.push(out.finding(
                FindingCode::EncodingError,
                "the file does not start with the UTF-8 BOM the excel dialect needs",
            ));
        }
        if !self.cells.dialect.bom() && has_bom {
            out.push(out.finding(
                FindingCode::EncodingError,
                format!(
                    "the {} dialect writes no BOM, but the file has one",
                    self.cells.dialect.as_str()
                ),
            ));
        }
    }

    fn framing_findings(&self, report: &FramingReport, out: &mut FindingList) {
        if let Some(r) = report.wrong_terminator_row {
            let want = if self.cells.dialect.line_end() == b"\r\n" {
                "CRLF"
            } else {
                "LF"
            };
            let f = out.finding(
                FindingCode::EncodingError,
                format!(
                    "line ending is not {want} as the {} dialect writes",
                    self.cells.dialect.as_str()
                ),
            );
            out.push(if r == 0 { f } else { f.at_row(r) });
        }
        if !report.ends_with_newline {
            out.push(out.finding(
                FindingCode::EncodingError,
                "the last row has no line ending (a torn write?)",
            ));
        }
    }
}

/// Tables smaller than this are checked on one thread.
const PARALLEL_FROM_BYTES: u64 = 8 << 20;

/// What one stretch of rows showed. Rows are numbered from the stretch's start.
struct Stretch {
    findings: FindingList,
    rows: u64,
    keys: Keys,
    framing: FramingReport,
}

/// How a stretch keeps its rows' keys.
enum Keys {
    /// In a set, a repeat found at once (the first stretch of a finished file).
    Set(KeySet),
    /// In row order, checked when the stretches are put together (the other stretches).
    Rows(Vec<u128>),
    /// In row order, 64 bits each, while the file is written: half the memory, since the
    /// sink's own key set is alive meanwhile. Any repeat among them sends the finished file
    /// to the exact check, so a 64-bit collision (odds near n²/2⁶⁵) costs time, never a
    /// wrong finding.
    Short(Vec<u64>),
}

impl Keys {
    /// Whether short keys hold a repeat (kept or other keys: never). They are sorted for it:
    /// this runs once the file is complete, and sorting a million keys takes a fraction of
    /// the time a set of them would, whose every insert misses the cache.
    fn short_ones_repeat(&mut self) -> bool {
        let Keys::Short(keys) = self else {
            return false;
        };
        keys.sort_unstable();
        keys.windows(2).any(|pair| pair[0] == pair[1])
    }
}

impl TableValidator {
    /// Checks the rows of one stretch (the first one also has the header).
    fn check_stretch(
        &self,
        name: &str,
        input: impl std::io::Read,
        header: bool,
        mut keys: Keys,
    ) -> Stretch {
        // a schema of its own per thread: its regexes then keep their caches to themselves
        let schema = self.schema.clone();
        let mut out = FindingList::new(name);
        let crlf = self.cells.dialect.line_end() == b"\r\n";
        let mut reader = RowReader::new(input, self.delimiter, crlf);
        // one row for every row: reading a row allocates nothing
        let mut record = Row::default();
        if header {
            let first = match reader.read_row(&mut record) {
                Ok(true) => Some(Ok(record.clone())),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            };
            self.check_header(first, &mut out);
        }
        let n = self.schema.fields.len();
        let mut rows = 0u64;
        loop {
            match reader.read_row(&mut record) {
                Ok(true) => rows += 1,
                Ok(false) => break,
                Err(e) => {
                    rows += 1;
                    out.push(
                        out.finding(FindingCode::EncodingError, format!("unreadable row: {e}"))
                            .at_row(rows),
                    );
                    break; // the same read would fail again
                }
            }
            if record.len() > n {
                out.push(
                    out.finding(
                        FindingCode::ExtraCell,
                        format!("{} cells, the header has {n}", record.len()),
                    )
                    .at_row(rows),
                );
            } else if record.len() < n {
                out.push(
                    out.finding(
                        FindingCode::MissingCell,
                        format!("{} cells, the header has {n}", record.len()),
                    )
                    .at_row(rows),
                );
            }
            // one UTF-8 check per row, then the cells are slices of it (a row with an invalid
            // byte is reported, then read lossily)
            let lossy;
            let row_text: &str = match std::str::from_utf8(record.as_slice()) {
                Ok(t) => t,
                Err(e) => {
                    out.push(
                        out.finding(
                            FindingCode::EncodingError,
                            format!("not UTF-8 at byte {} of the row", e.valid_up_to()),
                        )
                        .at_row(rows),
                    );
                    lossy = String::from_utf8_lossy(record.as_slice()).into_owned();
                    &lossy
                }
            };
            let cell = |i: usize| -> &str {
                match (record.range(i), row_text.len() == record.as_slice().len()) {
                    (Some(r), true) => &row_text[r],
                    _ => "",
                }
            };
            for (i, field) in schema.fields.iter().enumerate() {
                if let Some(violation) = self.cells.verdict(&schema, field, cell(i)) {
                    let code = match violation.rule {
                        "type" => FindingCode::TypeError,
                        _ => FindingCode::ConstraintError,
                    };
                    let msg = format!(
                        "{} ({})",
                        exporter_record_table::masked_message(&violation),
                        violation.rule
                    );
                    out.push(out.finding(code, msg).at_row(rows).at_field(&field.name));
                }
            }
            // a row missing a part of its key is not deduplicated (the sink writes it)
            if !self.key_fields.is_empty() && self.key_fields.iter().all(|&i| !cell(i).is_empty()) {
                let key = KeySet::fingerprint(self.key_fields.iter().map(|&i| cell(i)));
                match &mut keys {
                    Keys::Set(set) => {
                        if !set.insert(key) {
                            out.push(self.unique_finding(&out, rows));
                        }
                    }
                    // row = index + 1
                    Keys::Rows(list) => list.push(key),
                    Keys::Short(list) => list.push((key >> 64) as u64),
                }
            }
        }
        let framing = reader.report();
        Stretch {
            findings: out,
            rows,
            keys,
            framing,
        }
    }

    fn unique_finding(&self, out: &FindingList, row: u64) -> Finding {
        let names: Vec<&str> = self
            .key_fields
            .iter()
            .map(|&i| self.schema.fields[i].name.as_str())
            .collect();
        out.finding(
            FindingCode::UniqueError,
            format!("the key ({}) repeats an earlier row", names.join(", ")),
        )
        .at_row(row)
    }

    fn check_header(&self, header: Option<std::io::Result<Row>>, out: &mut FindingList) {
        let expected = self.labels();
        match header {
            None => out.push(out.finding(FindingCode::MissingLabel, "the file has no header row")),
            Some(Err(e)) => out.push(out.finding(
                FindingCode::EncodingError,
                format!("unreadable header: {e}"),
            )),
            Some(Ok(header)) => {
                let found: Vec<String> = header
                    .iter()
                    .map(|h| String::from_utf8_lossy(h).into_owned())
                    .collect();
                for (i, label) in expected.iter().enumerate() {
                    if found.get(i) != Some(label) {
                        let f = out.finding(
                            FindingCode::MissingLabel,
                            format!(
                                "column {} should be {label:?}, found {:?}",
                                i + 1,
                                found.get(i)
                            ),
                        );
                        out.push(f.at_field(&self.schema.fields[i].name));
                    }
                }
                for label in found.iter().skip(expected.len()) {
                    out.push(
                        out.finding(
                            FindingCode::ExtraLabel,
                            format!("column {label:?} is not in the schema"),
                        )
                        .at_field(label),
                    );
                }
            }
        }
    }
}

impl Validator for TableValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        self.check_in_stretches(file, PARALLEL_FROM_BYTES)
    }

    fn follows_writes(&self) -> bool {
        true
    }

    /// One pass behind the writer, on idle time; what is left when the sink finishes is
    /// the end of the file. Keys are kept short meanwhile (see [`Keys::Short`]).
    fn check_while_written(&self, file: &mut GrowingFile) -> Vec<Finding> {
        use std::io::Read;
        let name = file.under_check().name.to_string();
        let mut out = FindingList::new(&name);
        let mut head = Vec::with_capacity(BOM.len());
        let head_read = (&mut *file).take(BOM.len() as u64).read_to_end(&mut head);
        let has_bom = head == BOM;
        let rest: &[u8] = if has_bom { &[] } else { &head };
        let input = rest.chain(&mut *file);
        let keys = Keys::Short(Vec::new());
        let mut stretch = self.check_stretch(&name, input, true, keys);
        let under = file.under_check();
        if let Err(e) = head_read {
            out.push(out.finding(
                FindingCode::MissingFile,
                format!("cannot read the file: {e}"),
            ));
            return out.into_vec();
        }
        if under.rows.is_none() {
            // the sink gave the file up: the run failed, and these findings go nowhere
            return out.into_vec();
        }
        self.check_bom(has_bom, &mut out);
        if stretch.keys.short_ones_repeat() {
            // a repeated key, or two keys sharing 64 bits: the exact check says which
            drop(stretch);
            return self.check(&under);
        }
        self.conclude(out, vec![stretch], under.rows)
    }
}

impl TableValidator {
    /// Reads the table once; a table of `parallel_from` bytes or more is cut into stretches at
    /// record ends and checked on every core, then the stretches' findings, row numbers and
    /// keys are put together.
    fn check_in_stretches(&self, file: &FileUnderCheck<'_>, parallel_from: u64) -> Vec<Finding> {
        use std::io::{Read, Seek};
        let mut out = FindingList::new(file.name);
        let open = || -> std::io::Result<(std::fs::File, u64)> {
            let f = std::fs::File::open(file.path)?;
            let size = f.metadata()?.len();
            Ok((f, size))
        };
        let (mut head, size) = match open() {
            Ok(x) => x,
            Err(e) => {
                return vec![out.finding(
                    FindingCode::MissingFile,
                    format!("cannot read the file: {e}"),
                )];
            }
        };
        let mut bom = [0u8; 3];
        let has_bom = head.read_exact(&mut bom).is_ok() && bom == *BOM;
        self.check_bom(has_bom, &mut out);
        let body_start = if has_bom { BOM.len() as u64 } else { 0 };
        let parts = if size >= parallel_from {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get() as u64)
                .clamp(2, 8)
        } else {
            1
        };
        let mut cuts = if parts > 1 {
            cut_points(file.path, size, parts).unwrap_or_else(|_| vec![0])
        } else {
            vec![0]
        };
        cuts[0] = body_start;
        cuts.push(size);
        let stretches: Vec<Stretch> = std::thread::scope(|scope| {
            let handles: Vec<_> = cuts
                .windows(2)
                .enumerate()
                .map(|(k, w)| {
                    let (start, end) = (w[0], w[1]);
                    scope.spawn(move || -> std::io::Result<Stretch> {
                        let mut f = std::fs::File::open(file.path)?;
                        f.seek(std::io::SeekFrom::Start(start))?;
                        let input = f.take(end - start);
                        let keys = match k {
                            // sized once for every row of the file: the others' keys join it
                            0 => Keys::Set(KeySet::with_capacity(
                                file.rows.unwrap_or(0).min(size / 8) as usize,
                            )),
                            _ => Keys::Rows(Vec::new()),
                        };
                        Ok(self.check_stretch(file.name, input, k == 0, keys))
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok().and_then(Result::ok))
                .collect()
        });
        if stretches.len() + 1 != cuts.len() {
            out.push(out.finding(
                FindingCode::MissingFile,
                "the file could not be read to its end",
            ));
            return out.into_vec();
        }
        self.conclude(out, stretches, file.rows)
    }

    /// Puts the stretches of a file together, in order: their findings with rows counted
    /// from the file's start, the framing, repeated keys across stretches, the row count.
    fn conclude(
        &self,
        mut out: FindingList,
        stretches: Vec<Stretch>,
        rows: Option<u64>,
    ) -> Vec<Finding> {
        let mut rows_before = 0u64;
        let mut seen = KeySet::default();
        let last = stretches.len() - 1;
        for (k, stretch) in stretches.into_iter().enumerate() {
            let mut findings = stretch.findings;
            findings.shift_rows(rows_before);
            out.extend(findings);
            let mut framing = stretch.framing;
            if k > 0 {
                framing.wrong_terminator_row =
                    framing.wrong_terminator_row.map(|r| r + rows_before + 1);
            }
            if k != last {
                framing.ends_with_newline = true;
            }
            self.framing_findings(&framing, &mut out);
            match stretch.keys {
                Keys::Set(set) => seen = set,
                Keys::Rows(list) => {
                    seen.reserve(list.len());
                    for (i, key) in list.into_iter().enumerate() {
                        if !seen.insert(key) {
                            out.push(self.unique_finding(&out, i as u64 + 1 + rows_before));
                        }
                    }
                }
                Keys::Short(_) => {} // checked for repeats before (`short_ones_repeat`)
            }
            rows_before += stretch.rows;
        }
        if let Some(want) = rows.filter(|w| *w != rows_before) {
            out.push(out.finding(
                FindingCode::RowCount,
                format!("{rows_before} data rows, {want} were written"),
            ));
        }
        // file-level findings first, then by row: the same order however the file was cut
        out.sort_by_row();
        out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exporter_core::serde_json::json;

    fn validator() -> TableValidator {
        let schema = TableSchema::from_json(json!({"fields": [
            {"name": "id", "constraints": {"required": true}},
            {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "note"}
        ], "primaryKey": "id"}))
        .unwrap();
        TableValidator {
            schema,
            cells: CellFormat::of(exporter_tabular::Dialect::Excel),
            delimiter: b',',
            key_fields: vec![0],
        }
    }

    /// What the validator makes of `cell` in column `i`: fine, or the rule it breaks.
    fn verdict(v: &TableValidator, i: usize, cell: &str) -> Result<(), &'static str> {
        match v.cells.verdict(&v.schema, &v.schema.fields[i], cell) {
            Some(violation) => Err(violation.rule),
            None => Ok(()),
        }
    }

    #[test]
    fn array_and_object_cells_are_checked_with_or_without_their_items() {
        let mut v = validator();
        v.schema = TableSchema::from_json(json!({"fields": [
            {"name": "attrs", "type": "object"},
            {"name": "tags", "type": "array"},
            {"name": "few", "type": "array", "constraints": {"maxLength": 2}},
            {"name": "small", "type": "object", "constraints": {"maxLength": 1}}
        ]}))
        .unwrap();
        let verdict = |i: usize, cell: &str| verdict(&v, i, cell);
        assert_eq!(verdict(0, r#"{"a":{"b":[1,2]}}"#), Ok(()));
        assert_eq!(verdict(0, r#"{"a":"\ud83d\ude00"}"#), Ok(()));
        for bad in ["[1]", "{oops", r#"{"a":"\ud800"}"#, "{} {}", "4"] {
            assert_eq!(verdict(0, bad), Err("type"), "{bad}");
        }
        assert_eq!(verdict(1, "a; b; c"), Ok(()));
        assert_eq!(verdict(2, "a; b"), Ok(()));
        assert_eq!(verdict(2, "a; b; c"), Err("maxLength"));
        assert_eq!(verdict(3, r#"{"a":1}"#), Ok(()));
        assert_eq!(verdict(3, r#"{"a":1,"b":2}"#), Err("maxLength"));
    }

    #[test]
    fn excel_date_time_cells_are_read_with_or_without_their_value() {
        let mut v = validator();
        v.schema = TableSchema::from_json(json!({"fields": [
            {"name": "at", "type": "datetime"},
            {"name": "after", "type": "datetime", "constraints": {"minimum": "2026-01-01T00:00:00Z"}}
        ]}))
        .unwrap();
        let verdict = |i: usize, cell: &str| verdict(&v, i, cell);
        for i in 0..2 {
            assert_eq!(verdict(i, "2026-11-26 08:00:01.250"), Ok(()));
            assert_eq!(verdict(i, "2026-11-26 08:00:01"), Ok(()));
            let long = format!("2026-11-26 08:00:01.{}", "0".repeat(70));
            for bad in [
                "2026-11-26T08:00:01Z",
                "2026-13-26 08:00:01",
                "yesterday",
                &long,
            ] {
                assert_eq!(verdict(i, bad), Err("type"), "{bad}");
            }
        }
        // the value is compared only where a constraint asks
        assert_eq!(verdict(0, "1999-12-31 23:59:59"), Ok(()));
        assert_eq!(verdict(1, "1999-12-31 23:59:59"), Err("minimum"));
    }

    /// Findings of `text` checked while written, and checked when finished.
    fn followed_and_whole(
        v: &TableValidator,
        text: &str,
        rows: u64,
    ) -> (Vec<Finding>, Vec<Finding>) {
        exporter_testkit::followed_and_finished(v, text.as_bytes(), "t.csv", rows).unwrap()
    }

    #[test]
    fn checking_while_written_finds_what_checking_afterwards_finds() {
        let v = validator();
        let show = |f: &[Finding]| {
            f.iter()
                .map(|x| (x.code, x.row, x.field.clone(), x.message.clone()))
                .collect::<Vec<_>>()
        };
        let mut text = String::from("\u{feff}id,n,note\r\n");
        for i in 0..300 {
            match i {
                100 => text.push_str("r100,-1,x\r\n"),         // minimum
                200 => text.push_str("r200,2\n"),              // LF, missing cell
                250 => text.push_str("r250,x,\"a\r\nb\"\r\n"), // type, a multi-line cell
                _ => text.push_str(&format!("r{i},{i},\"q,{i}\"\r\n")),
            }
        }
        let (followed, whole) = followed_and_whole(&v, &text, 299);
        assert_eq!(show(&followed), show(&whole));
        let codes: Vec<_> = followed.iter().map(|f| (f.code, f.row)).collect();
        for want in [
            (FindingCode::ConstraintError, Some(101)),
            (FindingCode::MissingCell, Some(201)),
            (FindingCode::TypeError, Some(251)),
            (FindingCode::RowCount, None),
        ] {
            assert!(codes.contains(&want), "{want:?} in {codes:?}");
        }
        // a repeated key: the exact check of the finished file names the row
        let (followed, whole) = followed_and_whole(&v, &text.replace("r7,7,", "r5,7,"), 300);
        assert_eq!(show(&followed), show(&whole));
        assert!(
            followed
                .iter()
                .any(|f| f.code == FindingCode::UniqueError && f.row == Some(8))
        );
        // no BOM, nothing else wrong
        let clean = "id,n,note\r\nr1,1,x\r\n";
        let (followed, whole) = followed_and_whole(&v, clean, 1);
        assert_eq!(show(&followed), show(&whole));
        assert_eq!(followed.len(), 1, "{followed:?}");
        assert_eq!(followed[0].code, FindingCode::EncodingError);
    }

    #[test]
    fn a_file_given_up_ends_the_check_quietly() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut staged = exporter_core::StagedFile::create(
            &dir.path().join("t.csv"),
            exporter_core::Fsync::Never,
        )
        .unwrap();
        let mut growing = staged.growing("t.csv").unwrap();
        let v = validator();
        let follower = std::thread::spawn(move || v.check_while_written(&mut growing));
        staged
            .write_all(b"\xef\xbb\xbfid,n,note\r\nr1,1,x\r\n")
            .unwrap();
        staged.flush().unwrap();
        drop(staged); // the run failed
        assert!(follower.join().unwrap().is_empty());
    }

    #[test]
    fn stretches_give_the_same_findings_as_one_pass() {
        let mut text = String::from("\u{feff}id,n,note\r\n");
        for i in 0..400 {
            match i {
                120 => text.push_str("r5,1,\"a \"\"quoted\"\"\r\nmulti-line, cell\"\r\n"), // repeats r5
                250 => text.push_str("r250,-1,x\r\n"), // minimum
                333 => text.push_str("r333,1\n"),      // LF, missing cell
                390 => text.push_str("r260,2,dup of a row in another stretch\r\n"),
                _ => text.push_str(&format!("r{i},{i},\"q,{i}\"\r\n")),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, &text).unwrap();
        let file = FileUnderCheck {
            path: &path,
            name: "t.csv",
            rows: Some(401),
        };
        let v = validator();
        let one = v.check_in_stretches(&file, u64::MAX);
        let split = v.check_in_stretches(&file, 0);
        let show = |f: &[Finding]| {
            f.iter()
                .map(|x| (x.code, x.row, x.field.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(show(&split), show(&one));
        let codes: Vec<_> = one.iter().map(|f| (f.code, f.row)).collect();
        assert!(
            codes.contains(&(FindingCode::UniqueError, Some(121))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&(FindingCode::UniqueError, Some(391))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&(FindingCode::ConstraintError, Some(251))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&(FindingCode::MissingCell, Some(334))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&(FindingCode::EncodingError, Some(334))),
            "{codes:?}"
        );
        assert!(codes.contains(&(FindingCode::RowCount, None)), "{codes:?}");
    }
}
