#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the libFuzzer entry points of Tests/Fuzz (a package of their own, see its Package.swift)
# with libFuzzer and AddressSanitizer, seeds them from the packet traces of Zeek's corpus in
# ../shared (extracted at run time by Tests/Fuzz/seeds.py; traces never enter the repository),
# runs each target and prints executions, exec/s and crashes per target.
#
# usage: scripts/fuzz.sh [TARGET...]        targets: decode tunnels fragments worker dns ntp dhcp http tls x509 ssh
#                                            ftp smtp dnstcp (default: all)
# environment:
#   FUZZ_RUNS=N        inputs per target (libFuzzer -runs; default 1000000)
#   FUZZ_SECONDS=S     time limit per target (-max_total_time; default 600)
#   FUZZ_TRACES="..."  traces to seed from (default: ../shared/corpus/zeek/*/*.pcap*)
#   FUZZ_WORK=DIR      seeds, grown corpora, crash inputs and logs (default .build/fuzz; the grown
#                      corpora are kept between runs)
# Exit status: 0 when no target crashed, 1 otherwise. A crash input is saved as
# $FUZZ_WORK/crashes/<target>-crash-<sha1>; replay it with `<bin>/fuzz-<target> FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${FUZZ_RUNS:-1000000}
seconds=${FUZZ_SECONDS:-600}
work=${FUZZ_WORK:-.build/fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode tunnels fragments worker dns ntp dhcp http tls x509 ssh ftp smtp dnstcp)

# Swift 6.3 on Linux ships libFuzzer with its clang; -sanitize=fuzzer links it and adds coverage.
# Not -parse-as-library (swift/docs/libFuzzerIntegration.md): SwiftPM links executables with
# `--defsym main=<module>_main`, so each main.swift starts libFuzzer through LLVMFuzzerRunDriver.
flags=(-c release --package-path Tests/Fuzz -Xswiftc -sanitize=fuzzer,address)
swift build "${flags[@]}"
bin=$(swift build "${flags[@]}" --show-bin-path)

mkdir -p "$work/crashes"
rm -rf "$work/seeds"
# shellcheck disable=SC2086 # FUZZ_TRACES is a list of paths.
python3 Tests/Fuzz/seeds.py "$work/seeds" ${FUZZ_TRACES:-../shared/corpus/zeek/*/*.pcap*}

status=0
summary=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus" "$work/seeds/$target"
    log="$work/$target.log"
    marker="$work/.started-$target"
    touch "$marker"
    echo "== fuzz-$target: up to $runs inputs or ${seconds}s"
    set +e
    "$bin/fuzz-$target" -runs="$runs" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/$target-" "$corpus" "$work/seeds/$target" >"$log" 2>&1
    rc=$?
    set -e
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    # libFuzzer also saves inputs slower than -report_slow_units (10 s) as slow-unit files; they are
    # not failures (on a loaded machine a stall is enough), so they are counted apart.
    crashes=$(find "$work/crashes" -name "$target-*" ! -name "$target-slow-unit-*" -newer "$marker" 2>/dev/null | wc -l)
    slow=$(find "$work/crashes" -name "$target-slow-unit-*" -newer "$marker" 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ]; then
        status=1
        tail -40 "$log"
    fi
    summary+=("$(printf '%-10s runs %-10s exec/s %-8s exit %-3s new crash files %s, slow units %s' \
        "$target" "${executed:-?}" "${rate:-?}" "$rc" "$crashes" "$slow")")
done
echo "== summary (logs in $work/<target>.log)"
printf '%s\n' "${summary[@]}"
exit $status
