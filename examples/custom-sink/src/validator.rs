//! `jsonl-lines`: every line is a JSON object, and there are as many as the sink wrote.

use exporter_core::serde_json::{self, Value};
use exporter_core::{
    FileUnderCheck, Finding, FindingCode, Validator, ValidatorContext, ValidatorPlugin,
};

struct LinesAreObjects;

impl Validator for LinesAreObjects {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        let text = match std::fs::read_to_string(file.path) {
            Ok(t) => t,
            Err(e) => {
                return vec![Finding::new(
                    FindingCode::MissingFile,
                    file.name,
                    e.to_string(),
                )];
            }
        };
        let mut findings = Vec::new();
        let mut rows = 0;
        for (i, line) in text.lines().enumerate() {
            rows += 1;
            if !matches!(serde_json::from_str(line), Ok(Value::Object(_))) {
                findings.push(
                    Finding::new(FindingCode::TypeError, file.name, "not a JSON object")
                        .at_row(i as u64 + 1),
                );
            }
        }
        if !text.is_empty() && !text.ends_with('\n') {
            findings.push(Finding::new(
                FindingCode::EncodingError,
                file.name,
                "the last line has no line ending",
            ));
        }
        if let Some(want) = file.rows.filter(|w| *w != rows) {
            findings.push(Finding::new(
                FindingCode::RowCount,
                file.name,
                format!("{rows} lines, {want} written"),
            ));
        }
        findings
    }
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "jsonl-lines",
        description: "Every line is a JSON object; the line count matches the rows written.",
        build: |_: &ValidatorContext<'_>| Ok(Box::new(LinesAreObjects)),
    }
}
