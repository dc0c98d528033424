//! Real OS faults through the real binary: `kill -9` at random moments, a file-size limit,
//! a read-only output directory. Every final path must hold the previous run's complete file
//! or the new complete file, never a partial one, and a rerun must succeed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use exporter_tests::harness::{ReadOnlyDir, Workspace, example, stderr};

const MANIFEST: &str = r#"
[campaign]
id = "faults"

[output]
dir = "out"

[[sinks]]
type = "csv"
name = "results"
path = "results.csv"
schema = "lead.schema.json"
max_rows_per_file = 1000

[[sinks]]
type = "proxy-performance"

[[sinks]]
type = "campaign-summary"
"#;

/// The example stream `copies` times, with record ids and proxies made distinct per copy (so
/// every copy writes rows), and `variant` changing every place id (so runs differ).
fn stream(copies: usize, variant: &str) -> String {
    let base = String::from_utf8_lossy(&example("events.ndjson")).into_owned();
    let mut s = String::with_capacity(base.len() * copies);
    for c in 0..copies {
        s.push_str(
            &base
                .replace("\"ChIJ", &format!("\"{variant}{c:03}"))
                .replace("pool.example.net", &format!("pool{c}.example.net")),
        );
    }
    s
}

fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            files.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    files
}

fn setup() -> Workspace {
    let ws = Workspace::new(env!("CARGO_BIN_EXE_exporter"));
    ws.write("exporter.toml", MANIFEST);
    ws.write("lead.schema.json", example("lead.schema.json"));
    ws.write("a.ndjson", stream(20, "ChA"));
    ws.write("b.ndjson", stream(20, "ChB"));
    ws
}

fn run_ok(ws: &Workspace, input: &str, out_dir: &str) -> Duration {
    let start = Instant::now();
    let out = ws.run(&["run", "-m", "exporter.toml", "--out-dir", out_dir, input]);
    assert!(out.status.success(), "{}", stderr(&out));
    start.elapsed()
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_partial_file() {
    let ws = setup();
    run_ok(&ws, "a.ndjson", "previous");
    let previous = outputs(&ws.path().join("previous"));
    // the shorter of two runs: kills spread over [0, 0.9 x that] land while a run is going on,
    // even when the machine is busy with other tests
    let took = run_ok(&ws, "b.ndjson", "new").min(run_ok(&ws, "b.ndjson", "new"));
    let new = outputs(&ws.path().join("new"));
    assert!(
        previous.len() >= 5,
        "rollover gives several files: {:?}",
        previous.keys()
    );
    let out = ws.path().join("out");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut killed_mid_run = 0;
    for iteration in 0..24 {
        // the previous run's files in place
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        for (name, bytes) in &previous {
            std::fs::write(out.join(name), bytes).unwrap();
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = took.mul_f64(((seed >> 33) % 1000) as f64 / 1000.0 * 0.9);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_exporter"))
            .current_dir(ws.path())
            .env(
                "SOURCE_DATE_EPOCH",
                exporter_tests::harness::SOURCE_DATE_EPOCH,
            )
            .args(["run", "-m", "exporter.toml", "--out-dir", "out", "b.ndjson"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for (name, bytes) in outputs(&out) {
            let was = previous.get(&name);
            let is_new = new.get(&name);
            assert!(
                was == Some(&bytes) || is_new == Some(&bytes),
                "iteration {iteration} (seed {seed}, killed after {delay:?}): {name} is neither the previous nor the new file"
            );
        }
        // each file old or new is not enough: the set must be one run's. `check` rolls an
        // interrupted commit forward, then holds every file to the summary beside it
        let check = ws.run(&["check", "-m", "exporter.toml", "--out-dir", "out"]);
        assert!(
            check.status.success(),
            "iteration {iteration} (seed {seed}, killed after {delay:?}): {}",
            exporter_tests::harness::stdout(&check)
        );
        let set = outputs(&out);
        assert!(
            set == previous || set == new,
            "iteration {iteration} (seed {seed}, killed after {delay:?}): a mixed set {:?}",
            set.keys()
        );
    }
    assert!(
        killed_mid_run >= 8,
        "only {killed_mid_run} of 24 kills hit a running process"
    );
    // a rerun succeeds, gives the new files, and cleans the staging files of the killed runs
    run_ok(&ws, "b.ndjson", "out");
    assert_eq!(outputs(&out), new);
    assert!(ws.staging_files().is_empty(), "{:?}", ws.staging_files());
}

/// The data rows of an error log (after its BOM and header), without their first cell: the
/// time of the pipeline's own rows (bad input) is the time of the run.
fn log_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "the BOM starts the file"
    );
    csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(|r| {
            let r = r.expect("every row parses");
            assert_eq!(r.len(), 8, "every row whole: {r:?}");
            r.iter().skip(1).map(String::from).collect()
        })
        .collect()
}

#[test]
fn an_error_log_killed_mid_append_is_repaired_and_stays_parseable() {
    const LOG_ONLY: &str =
        "[output]\ndir = \"out\"\n[[sinks]]\ntype = \"error-log\"\nfsync = \"never\"\n";
    // what one whole run appends, from a run of its own
    let reference = setup();
    reference.write("exporter.toml", LOG_ONLY);
    let out = reference.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = log_rows(&std::fs::read(reference.path().join("out/error_log.csv")).unwrap());
    assert!(whole.len() > 100, "{} rows", whole.len());

    let ws = setup();
    ws.write("exporter.toml", LOG_ONLY);
    let log = ws.path().join("out/error_log.csv");
    for i in 0..8u64 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_exporter"))
            .current_dir(ws.path())
            .args(["run", "-m", "exporter.toml", "a.ndjson"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + i * 13));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let survived =
        std::fs::read(&log).map_or(0, |b| if b.is_empty() { 0 } else { log_rows(&b).len() });
    // and a writer killed inside a row: the row cut short, without its line end
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&log)
        .unwrap();
    std::io::Write::write_all(
        &mut torn,
        b"2026-11-26T08:00:00Z,error,TornRow,\"half a mess",
    )
    .unwrap();
    drop(torn);

    let out = ws.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("removed a torn last row"),
        "the repair is reported: {}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains('\x1b'),
        "no colour codes when not at a terminal"
    );
    let bytes = std::fs::read(&log).unwrap();
    assert_eq!(
        bytes.windows(3).filter(|w| *w == b"\xEF\xBB\xBF").count(),
        1
    );
    assert!(bytes.ends_with(b"\r\n"));
    assert!(
        !bytes.windows(7).any(|w| w == b"TornRow"),
        "the torn row is cut away"
    );
    let rows = log_rows(&bytes);
    // every run's rows are a prefix of a whole run's (a kill loses the rows not yet
    // appended, never one in the middle), and the last run's are all there
    let mut runs: Vec<usize> = Vec::new();
    let mut at = 0;
    for (i, row) in rows.iter().enumerate() {
        if at < whole.len() && *row == whole[at] {
            at += 1;
        } else if *row == whole[0] {
            runs.push(at);
            at = 1;
        } else {
            panic!("row {} is no run's next row: {row:?}", i + 2);
        }
    }
    runs.push(at);
    assert_eq!(
        *runs.last().unwrap(),
        whole.len(),
        "the last run's rows: {runs:?}"
    );
    // the rows killed runs left are still there, none lost to the repair
    assert_eq!(rows.len() - whole.len(), survived, "{runs:?}");
    assert!(
        survived > 0,
        "no kill landed after a batch was appended: {runs:?}"
    );
}

#[test]
fn a_file_size_limit_fails_the_run_naming_the_file_and_commits_nothing() {
    let ws = setup();
    ws.write("small.ndjson", stream(1, "ChS"));
    run_ok(&ws, "small.ndjson", "out");
    let before = outputs(&ws.path().join("out"));
    // 64 blocks: far below what the 20-copy stream needs; SIGXFSZ is ignored by the binary,
    // so the write fails with EFBIG and the run reports it
    let out = std::process::Command::new("sh")
        .current_dir(ws.path())
        .env(
            "SOURCE_DATE_EPOCH",
            exporter_tests::harness::SOURCE_DATE_EPOCH,
        )
        .args([
            "-c",
            "ulimit -f 64 && exec \"$0\" run -m exporter.toml b.ndjson",
            env!("CARGO_BIN_EXE_exporter"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("File too large") && err.contains("out/results"),
        "{err}"
    );
    assert_eq!(
        outputs(&ws.path().join("out")),
        before,
        "previous files intact, nothing committed"
    );
    assert!(
        ws.staging_files().is_empty(),
        "staging files removed: {:?}",
        ws.staging_files()
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_output_directory_fails_before_any_work() {
    let ws = setup();
    let dir = ws.path().join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = ReadOnlyDir::new(&dir);
    let input: String = stream(1, "ro").split_inclusive('\n').take(20).collect();
    let (out, unread) = ws.run_unread(&["run", "-m", "exporter.toml", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        // the run stops at its first write into the directory: taking the directory's lock
        err.contains("output directory out:")
            && (err.contains("not permitted") || err.contains("ermission denied")),
        "{err}"
    );
    assert_eq!(unread, input.as_bytes(), "no input was read");
}

#[cfg(unix)]
#[test]
fn an_output_path_through_a_symlink_or_outside_is_refused() {
    let ws = setup();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("out")).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("stolen.csv"),
        ws.path().join("out/results.csv"),
    )
    .unwrap();
    let out = ws.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(!elsewhere.path().join("stolen.csv").exists());
    ws.write(
        "exporter.toml",
        MANIFEST.replace("path = \"results.csv\"", "path = \"../escaped.csv\""),
    );
    let out = ws.run(&["run", "-m", "exporter.toml", "a.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("leaves the output directory"),
        "{}",
        stderr(&out)
    );
}

/// SIGINT and SIGTERM stop a run cleanly: exit 130, nothing of the run committed, the
/// previous files intact, no staging file left behind.
#[cfg(unix)]
#[test]
fn sigint_and_sigterm_stop_a_run_and_commit_nothing() {
    let ws = setup();
    ws.write("big.ndjson", stream(150, "ChG"));
    run_ok(&ws, "a.ndjson", "out");
    let before = outputs(&ws.path().join("out"));
    let took = run_ok(&ws, "big.ndjson", "timing");
    for signal in ["INT", "TERM"] {
        let mut stopped = false;
        // a signal that lands after the commit is no test of this: try a few moments
        for fraction in [0.2, 0.1, 0.3, 0.05] {
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_exporter"))
                .current_dir(ws.path())
                .args([
                    "run",
                    "-m",
                    "exporter.toml",
                    "--out-dir",
                    "out",
                    "big.ndjson",
                ])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(took.mul_f64(fraction));
            let sent = std::process::Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap();
            let out = child.wait_with_output().unwrap();
            if !sent.success() || out.status.code() == Some(0) {
                continue; // it had finished already
            }
            assert_eq!(
                out.status.code(),
                Some(130),
                "SIG{signal}: {}",
                stderr(&out)
            );
            assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
            assert_eq!(
                outputs(&ws.path().join("out")),
                before,
                "SIG{signal}: nothing committed"
            );
            assert!(
                ws.staging_files().is_empty(),
                "SIG{signal}: {:?}",
                ws.staging_files()
            );
            stopped = true;
            break;
        }
        assert!(stopped, "no SIG{signal} landed while the run was going on");
    }
}
