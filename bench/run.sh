#!/usr/bin/env bash
# Whole-process benchmark: generates three input sizes with the project's own generator,
# runs `exporter run` (the four outputs, validation, staging, hashes) and the bare floor
# (bench/floor: parse to serde_json::Value, write CSV rows and per-proxy counts) on each,
# under /usr/bin/time -v, and prints events/s, MB/s, wall and CPU seconds, peak RSS and the
# exporter/floor ratios measured in this one run.
#
#   bench/run.sh [small|medium|large ...]     (default: all three)
#   BENCH_DIR=/path bench/run.sh              (where inputs and outputs go; default a temp dir)
#   RUNS=3 bench/run.sh                       (best of N runs per program and size, the
#                                             programs taking turns)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(small medium large)
runs=${RUNS:-1}
dir=${BENCH_DIR:-$(mktemp -d -t exporter-bench.XXXXXX)}
mkdir -p "$dir"

cargo build --release -q -p exporter-cli -p exporter-bench-gen
cargo build --release -q --manifest-path bench/floor/Cargo.toml
exporter=target/release/exporter
floor=bench/floor/target/release/exporter-bench-floor
gen=target/release/gen-events

params() {
  case "$1" in
    small)  echo "--records 10000 --requests 30000 --errors 1000 --proxies 50" ;;
    medium) echo "--records 100000 --requests 300000 --errors 5000 --proxies 200" ;;
    large)  echo "--records 1000000 --requests 3000000 --errors 50000 --proxies 500" ;;
    *) echo "unknown size $1" >&2; exit 2 ;;
  esac
}

# once OUTDIR CMD... -> runs CMD once, prints "wall user sys rss_kb"
once() {
  local out=$1; shift
  rm -rf "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" || {
    echo "failed: $*" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
  tail -1 "$dir/time.txt"
}

# best A B -> whichever of two "wall ..." lines has the lower wall time (A when B is empty)
best() {
  if [ -z "$2" ] || awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN{exit !(a<b)}'; then echo "$1"; else echo "$2"; fi
}

printf '%-7s %-9s %9s %9s %8s %8s %8s %9s\n' size program "events/s" "MB/s" "wall s" "cpu s" "rss MiB" "vs floor"
for size in "${sizes[@]}"; do
  input="$dir/$size.ndjson"
  [ -s "$input" ] || $gen $(params "$size") --seed 42 -o "$input"
  bytes=$(stat -c %s "$input")
  lines=$(wc -l < "$input")
  # the two programs take turns, so a slow phase of this shared machine stretches both
  f="" e=""
  for _ in $(seq "$runs"); do
    f=$(best "$(once "$dir/floor-$size" $floor examples/lead.schema.json "$input" "$dir/floor-$size")" "$f")
    e=$(best "$(once "$dir/out-$size" $exporter run -m bench/exporter.toml --out-dir "$dir/out-$size" "$input")" "$e")
  done
  for row in "floor $f" "exporter $e"; do
    set -- $row
    awk -v size="$size" -v prog="$1" -v wall="$2" -v user="$3" -v sys="$4" -v rss="$5" \
        -v lines="$lines" -v bytes="$bytes" -v fwall="$(echo "$f" | cut -d' ' -f1)" 'BEGIN {
      printf "%-7s %-9s %9.0f %9.1f %8.2f %8.2f %8.1f %9s\n", size, prog, lines/wall, bytes/1048576/wall,
             wall, user+sys, rss/1024, (prog == "floor" ? "" : sprintf("%.2fx", wall/fwall)) }'
  done
done
echo "inputs and outputs in $dir"
