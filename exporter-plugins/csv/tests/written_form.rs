//! The sink and the table's validator agree on every value: whatever records arrive, what the
//! sink writes passes the `csv-table-schema` validator, so one record can only ever be
//! rejected (or counted as a duplicate), never fail the run. Records are drawn from values
//! that once broke that agreement: numbers beyond a double, date-times that leave Excel's
//! years, formula starts behind apostrophes, keys that only the guard or the cell limit tells
//! apart, array items holding the separator, `any` values, cells cut at the limit.

use exporter_core::serde_json;
use exporter_csv as _; // link the plugin
use exporter_runtime::Manifest;
use exporter_runtime::{Pipeline, RunOptions};
use proptest::prelude::*;

const SCHEMA: &str = r#"
[sinks.schema]
[[sinks.schema.fields]]
name = "id"
[[sinks.schema.fields]]
name = "code"
constraints = { pattern = "[=@'+A-Za-z0-9-]*", maxLength = 40000, unique = true }
[[sinks.schema.fields]]
name = "kind"
constraints = { enum = ["'=x", "=x", "a"] }
[[sinks.schema.fields]]
name = "n"
type = "number"
constraints = { minimum = -1e300 }
[[sinks.schema.fields]]
name = "i"
type = "integer"
[[sinks.schema.fields]]
name = "at"
type = "datetime"
constraints = { minimum = "2026-11-26T08:00:00.0003Z" }
[[sinks.schema.fields]]
name = "plain_at"
type = "datetime"
[[sinks.schema.fields]]
name = "tags"
type = "array"
constraints = { required = true, maxLength = 2 }
[[sinks.schema.fields]]
name = "free"
type = "any"
constraints = { enum = [5, "5", "x"] }
[[sinks.schema.fields]]
name = "attrs"
type = "object"
"#;

fn json_of(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A value for each field (as JSON text; `None` leaves the key out).
fn value(field: usize) -> BoxedStrategy<Option<String>> {
    let long = |c: char, extra: &'static str| format!("{}{extra}", c.to_string().repeat(32_766));
    let any_text = prop_oneof![
        Just("=x".to_string()),
        Just("'=x".to_string()),
        Just("''=x".to_string()),
        Just("'".to_string()),
        Just("+1+1".to_string()),
        Just("-5".to_string()),
        Just("a".to_string()),
        Just(long('a', "Z!")),
        Just(long('b', "")),
        Just(long('=', "c")),
        "[=@'+a-z0-9 ;-]{0,6}",
    ]
    .prop_map(|s| Some(json_of(&s)));
    let pool: Vec<&'static str> = match field {
        0 => return Just(None).boxed(), // the id is set by the test
        1 | 2 => return prop_oneof![any_text, Just(None), Just(Some("null".into()))].boxed(),
        3 => vec![
            "1e400",
            "-1e309",
            "1e-400",
            "1e21",
            "0.30000000000000004",
            "-1e300",
            "-1.1e300",
            "4.50",
            "-0.0",
            "\"4,5\"",
            "null",
        ],
        4 => vec![
            "9007199254740993",
            "1e2",
            "1.5e1",
            "12.5",
            "1e400",
            "-0",
            "123456789012345678901234567890",
        ],
        5 | 6 => vec![
            "\"9999-12-31T23:59:59-14:00\"",
            "\"0000-01-01T00:00:00+01:00\"",
            "\"2026-11-26T08:00:00.0005Z\"",
            "\"2026-11-26T08:00:00.0001Z\"",
            "\"2026-11-26T09:00:00.0004+01:00\"",
            "\"2026-11-26T08:00:01Z\"",
            "\"yesterday\"",
        ],
        7 => vec![
            "[]",
            "[null]",
            "[\"\"]",
            "[\"a; b\"]",
            "[\"a\",\"b\"]",
            "[\"=x\"]",
            "[1,true,null]",
            "[[\"x\"]]",
            "\"a\"",
        ],
        8 => vec!["5", "\"5\"", "\"x\"", "5.0", "[]", "[5]", "\"\"", "true"],
        _ => vec![
            "{}",
            "{\"b\":1,\"a\":1.50,\"a\":2}",
            "{\"k\":\"=cmd\"}",
            "[1]",
            "{\"n\":1e400}",
        ],
    };
    prop_oneof![
        8 => proptest::sample::select(pool).prop_map(|v| Some(v.to_string())),
        1 => Just(None),
    ]
    .boxed()
}

fn record() -> impl Strategy<Value = Vec<Option<String>>> {
    (0..10).map(value).collect::<Vec<_>>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn what_the_sink_writes_the_validator_accepts(
        records in prop::collection::vec(record(), 1..8),
        dialect in prop_oneof![Just("excel"), Just("sheets"), Just("unix")],
        dedupe_on in prop_oneof![Just("[\"code\"]"), Just("[\"kind\", \"code\"]"), Just("[]")],
    ) {
        let names = ["id", "code", "kind", "n", "i", "at", "plain_at", "tags", "free", "attrs"];
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"csv\"\ndialect = \"{dialect}\"\ndedupe_on = {dedupe_on}\n{SCHEMA}"
        );
        let manifest = Manifest::parse(&text, "t.toml", dir.path()).unwrap();
        let mut pipeline = Pipeline::new(&manifest, RunOptions::default()).unwrap();
        let mut ndjson = String::new();
        for (i, values) in records.iter().enumerate() {
            let mut members = vec![format!("\"id\":\"r{i}\"")];
            for (name, v) in names.iter().zip(values).skip(1) {
                if let Some(v) = v {
                    members.push(format!("\"{name}\":{v}"));
                }
            }
            ndjson.push_str(&format!("{{\"type\":\"record\",\"data\":{{{}}}}}\n", members.join(",")));
        }
        pipeline.read(ndjson.as_bytes(), "t.ndjson").unwrap();
        let report = match pipeline.finish() {
            Ok(r) => r,
            Err(e) => return Err(TestCaseError::fail(format!("the run failed: {e}\n{ndjson}"))),
        };
        let tally = report.sinks[0].records.as_ref().unwrap();
        prop_assert!(tally.balanced(), "{tally:?}");
        prop_assert_eq!(tally.received, records.len() as u64);
    }
}
