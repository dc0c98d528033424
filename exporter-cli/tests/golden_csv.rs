//! Golden files for the `csv` sink: for each dialect, the bytes the real binary writes for
//! `exporter-cli/tests/golden/csv/events.ndjson` must equal `exporter-cli/tests/golden/csv/<dialect>.csv` exactly, and
//! the rejected records must reach the error log as `errors.csv` says.
//!
//! After a deliberate change of output, regenerate with `UPDATE_GOLDEN=1 cargo test --test
//! golden_csv` and review the diff before committing it.

use std::path::PathBuf;

use exporter_tests::harness::{Workspace, stderr};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/csv")
}

fn run_dialect(dialect: &str) -> (Vec<u8>, Vec<u8>) {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    let dir = golden_dir();
    ws.write(
        "schema.json",
        std::fs::read(dir.join("schema.json")).unwrap(),
    );
    ws.write(
        "events.ndjson",
        std::fs::read(dir.join("events.ndjson")).unwrap(),
    );
    ws.write(
        "exporter.toml",
        format!(
            "[output]\ndir = \"out\"\n\n[[sinks]]\ntype = \"csv\"\npath = \"results.csv\"\ndialect = \"{dialect}\"\n\
             schema = \"schema.json\"\n\n[[sinks]]\ntype = \"error-log\"\npath = \"errors.csv\"\ndialect = \"unix\"\n"
        ),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "events.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    (
        std::fs::read(ws.path().join("out/results.csv")).unwrap(),
        std::fs::read(ws.path().join("out/errors.csv")).unwrap(),
    )
}

fn compare(name: &str, actual: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        let at = expected
            .iter()
            .zip(actual)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        let show = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())]).into_owned()
        };
        panic!(
            "{name} differs from the golden file at byte {at} (lengths {} vs {}):\nexpected …{:?}…\nactual   …{:?}…",
            expected.len(),
            actual.len(),
            show(&expected),
            show(actual)
        );
    }
}

#[test]
fn excel() {
    let (results, errors) = run_dialect("excel");
    compare("excel.csv", &results);
    compare("errors.csv", &errors);
}

#[test]
fn sheets() {
    compare("sheets.csv", &run_dialect("sheets").0);
}

#[test]
fn rfc4180() {
    compare("rfc4180.csv", &run_dialect("rfc4180").0);
}

#[test]
fn unix() {
    compare("unix.csv", &run_dialect("unix").0);
}
