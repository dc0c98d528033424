#!/usr/bin/env bash
# Checks of documented behaviour too slow or too system-bound for the test suite, on the
# release build, or on the binary EXPORTER names (.ci/run passes the one `cargo test` built):
#
# 1. The excel dialect's default rollover: 1,048,577 records give results.csv with a header
#    and 1,048,575 rows (Excel's sheet limit, 1,048,576 rows, header included) and
#    results-0002.csv with a header and the 2 left; `exporter check` passes on both.
#    The xlsx sink's default: the same records give one workbook whose sheets are "results"
#    (1,048,575 rows) and "results (2)" (2 rows), and `exporter check` reads it back clean.
# 2. fsync: under strace, `fsync = "on_commit"` (the default) makes fsync/fdatasync calls
#    (each staged file, the error log, the journal, the directory) and `fsync = "never"` none.
#    Skipped, saying so, when strace is missing.
#
#   bench/limits.sh            (exit status 0 when every check holds)
#   BENCH_DIR=/path bench/limits.sh
#   EXPORTER=target/debug/exporter bench/limits.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-$(mktemp -d -t exporter-limits.XXXXXX)}
mkdir -p "$dir"
if [ -n "${EXPORTER:-}" ]; then
  exporter=$(realpath "$EXPORTER")
else
  cargo build --release -q -p exporter-cli
  exporter=$PWD/target/release/exporter
fi
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- 1. default excel rollover -------------------------------------------------------------
cd "$dir"
cat > schema.json <<'EOF'
{"fields": [{"name": "id"}, {"name": "n", "type": "integer"}], "primaryKey": "id"}
EOF
cat > exporter.toml <<'EOF'
[campaign]
id = "limits"
[output]
dir = "out"
[[sinks]]
type = "csv"
name = "results"
schema = "schema.json"
fsync = "never"
EOF
records=1048577
awk -v n=$records 'BEGIN { for (i = 0; i < n; i++) printf "{\"type\":\"record\",\"data\":{\"id\":\"r%d\",\"n\":%d}}\n", i, i }' > records.ndjson
start=$(date +%s.%N)
"$exporter" run -m exporter.toml records.ndjson > /dev/null 2>&1
end=$(date +%s.%N)
first=$(wc -l < out/results.csv)
second=$(wc -l < out/results-0002.csv)
[ "$first" -eq 1048576 ] || fail "results.csv has $first lines, expected 1048576 (header + 1,048,575 rows)"
[ "$second" -eq 3 ] || fail "results-0002.csv has $second lines, expected 3 (header + 2 rows)"
[ ! -e out/results-0003.csv ] || fail "a third part was written"
tail -n 1 out/results.csv | grep -q '^r1048574,1048574' || fail "the first part does not end with record 1,048,575"
head -c 3 out/results-0002.csv | od -An -tx1 | grep -q 'ef bb bf' || fail "the second part has no BOM"
"$exporter" check -m exporter.toml > check.txt || { cat check.txt; fail "exporter check failed on the parts"; }
printf 'rollover: %d records -> results.csv %d lines, results-0002.csv %d lines; check passed (%.1f s)\n' \
  "$records" "$first" "$second" "$(echo "$end - $start" | bc)"

# --- 1b. the xlsx sink's default sheet rollover ---------------------------------------------
cat > xlsx.toml <<'EOF2'
[campaign]
id = "limits"
[output]
dir = "out-xlsx"
[[sinks]]
type = "xlsx"
name = "workbook"
schema = "schema.json"
fsync = "never"
EOF2
start=$(date +%s.%N)
"$exporter" run -m xlsx.toml records.ndjson > /dev/null 2>&1
end=$(date +%s.%N)
python3 - out-xlsx/results.xlsx <<'EOF2' || fail "the workbook's sheets are not 1,048,575 + 2 rows"
import re, sys, zipfile
book = zipfile.ZipFile(sys.argv[1])
names = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
assert names == ["results", "results (2)"], names
for part, rows in [("xl/worksheets/sheet1.xml", 1048576), ("xl/worksheets/sheet2.xml", 3)]:
    count = 0
    with book.open(part) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            count += chunk.count(b"<row ")
    assert count == rows, (part, count)
EOF2
"$exporter" check -m xlsx.toml > check-xlsx.txt || { cat check-xlsx.txt; fail "exporter check failed on the workbook"; }
printf 'xlsx rollover: %d records -> sheets "results" (1,048,575 rows) and "results (2)" (2 rows); check passed (%.1f s)\n' \
  "$records" "$(echo "$end - $start" | bc)"

# --- 2. fsync on_commit vs never, counted by strace ------------------------------------------
if ! command -v strace > /dev/null; then
  echo "fsync: SKIPPED (strace is not installed)"
  exit 0
fi
cat > fsync.toml <<'EOF'
[campaign]
id = "limits"
[output]
dir = "out-fsync"
[[sinks]]
type = "csv"
name = "results"
schema = "schema.json"
fsync = "FSYNC"
[[sinks]]
type = "error-log"
fsync = "FSYNC"
[[sinks]]
type = "campaign-summary"
fsync = "FSYNC"
EOF
head -n 1000 records.ndjson > small.ndjson
echo '{"type":"error","ts":"2026-11-26T08:00:00Z","kind":"Timeout","message":"m"}' >> small.ndjson
syncs() {
  sed "s/FSYNC/$1/" fsync.toml > "fsync-$1.toml"
  rm -rf out-fsync
  strace -f -qq -e signal=none -e trace=fsync,fdatasync,syncfs,sync_file_range -o "strace-$1.txt" \
    "$exporter" run -m "fsync-$1.toml" small.ndjson > /dev/null 2>&1
  grep -cE '^[0-9]+ +(fsync|fdatasync|syncfs|sync_file_range)\(' "strace-$1.txt" || true
}
on_commit=$(syncs on_commit)
never=$(syncs never)
# at least: two staged files, the journal, the error log's batch, and the directory
[ "$on_commit" -ge 5 ] || fail "fsync = on_commit made $on_commit sync calls"
[ "$never" -eq 0 ] || fail "fsync = never made $never sync calls"
echo "fsync: on_commit made $on_commit sync calls, never made $never"
