#!/usr/bin/env bash
# Bounded fuzzing of sockscope's parsers with cargo-fuzz (libFuzzer).
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Runs every target of fuzz/Cargo.toml (or the ones named) for
# SECONDS_PER_TARGET seconds each (default 60), one after another, each in
# one process (no -jobs, -workers or -fork), starting from the seed corpus
# make_corpus.py builds from fixtures/ under fuzz/corpus/. Prints one summary
# line per target with libFuzzer's exec count; exits non-zero on any crash,
# panic, leak, timeout (-timeout=10 per input) or sanitizer report, whose
# input libFuzzer saves under fuzz/artifacts/TARGET/ (replay it with
# `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...`). Full logs:
# fuzz/artifacts/logs/TARGET.log.
#
# Toolchain: cargo fuzz passes nightly-only flags (-Zsanitizer=address and
# others). On a stable or beta toolchain this script sets RUSTC_BOOTSTRAP=1,
# which lets that toolchain accept them; AddressSanitizer works that way on
# x86_64 Linux (its runtime ships with rust-std). If the ASan build fails
# anyway, the script says why and fuzzes with `--sanitizer none` (panics are
# still caught). FUZZ_TOOLCHAIN=nightly picks a rustup toolchain;
# FUZZ_SANITIZER=none|address|leak forces a sanitizer.
#
# Time on the 2-core CI machine, measured from a fresh clone:
# `cargo install cargo-fuzz --locked` 1-3 min (only when cargo-fuzz is
# missing; 46 s idle, 2 min 50 s while other builds ran); building the 9
# targets with ASan 3-9 min (3 min 15 s idle, 8-9 min under load; under
# a minute when only src/ changed); then 9 x (SECONDS_PER_TARGET + 2 s).
# `bash fuzz/run.sh 20` as .ci/run calls it: about 7 min in all on an idle
# fresh machine, 14 min at worst; the default 60 s per target adds 5 min.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
all_targets=(netlink_inet netlink_unix netlink_linklayer netlink_events proc_inet proc_unix sockstat tcpinfo filter cgroup tracefs counters btf)
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=("${all_targets[@]}")
fi

cargo_tc=(cargo)
rustc_tc=(rustc)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  cargo_tc=(cargo "+$FUZZ_TOOLCHAIN")
  rustc_tc=(rustc "+$FUZZ_TOOLCHAIN")
fi
rustc_version=$("${rustc_tc[@]}" --version)
if [[ $rustc_version != *nightly* && $rustc_version != *-dev* ]]; then
  export RUSTC_BOOTSTRAP=1
  echo "fuzz: $rustc_version is not nightly: RUSTC_BOOTSTRAP=1 for cargo fuzz's -Z flags"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  start=$SECONDS
  cargo install cargo-fuzz --locked
  echo "fuzz: cargo-fuzz installed in $((SECONDS - start)) s"
fi

if command -v python3 >/dev/null 2>&1; then
  python3 fuzz/make_corpus.py
else
  echo "fuzz: no python3: fuzzing without the seed corpus from fixtures/" >&2
fi

mkdir -p fuzz/artifacts/logs
sanitizer=${FUZZ_SANITIZER:-address}
start=$SECONDS
build_log=fuzz/artifacts/logs/build.log
if ! "${cargo_tc[@]}" fuzz build --sanitizer "$sanitizer" >"$build_log" 2>&1; then
  tail -20 "$build_log" >&2
  if [ "$sanitizer" != address ] || [ -n "${FUZZ_SANITIZER:-}" ]; then
    exit 1
  fi
  echo "fuzz: the AddressSanitizer build failed with $rustc_version (above);" \
    "falling back to --sanitizer none: panics are still caught, memory errors are not" >&2
  sanitizer=none
  if ! "${cargo_tc[@]}" fuzz build --sanitizer none >"$build_log" 2>&1; then
    cat "$build_log" >&2
    exit 1
  fi
fi
echo "fuzz: built the targets (sanitizer $sanitizer) in $((SECONDS - start)) s"

summary=()
failed=0
for t in "${targets[@]}"; do
  log=fuzz/artifacts/logs/$t.log
  mkdir -p "fuzz/corpus/$t"
  start=$SECONDS
  status=0
  "${cargo_tc[@]}" fuzz run --sanitizer "$sanitizer" "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  result="no crash"
  if [ "$status" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY: |panicked at' "$log"; then
    result="FAILED (exit $status): see $log and fuzz/artifacts/$t/"
    failed=1
    grep -E 'panicked at|^==[0-9]+==ERROR|^SUMMARY: |^artifact_prefix|Test unit written' "$log" >&2 || tail -30 "$log" >&2
  fi
  line="fuzz: $t: ${execs:-?} execs in $((SECONDS - start)) s (${rate:-?}/s), corpus $corpus, $result"
  echo "$line"
  summary+=("$line")
done

echo "fuzz: summary (sanitizer $sanitizer, $secs s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
