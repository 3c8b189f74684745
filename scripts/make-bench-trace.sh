#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make-bench-trace.sh: regenerate the 1.8 GB benchmark trace (big-mix.pcap) from the shared real
# capture with the shared scaler (../shared/bench/README.md §2). Deterministic: same input, same output.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/make-bench-trace.sh OUT.pcap [--target-bytes SIZE]

Runs python3 ../shared/bench/scale_pcap.py ../shared/bench/real-mix.pcap OUT.pcap --target-bytes 1.8G
(paths relative to the repository root; SIZE default 1.8G). Takes about 15 s and OUT's size in disk.
Do not write OUT inside the repository: traces over 1 MB are never committed.
USAGE
}

out=""
size=1.8G
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --target-bytes) size=${2:?--target-bytes needs a size}; shift 2 ;;
    -*) echo "make-bench-trace.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
    esac
done
[[ -n $out ]] || { usage >&2; exit 2; }
out=$(realpath -m "$out")
cd "$(dirname "$0")/.."
bench=../shared/bench
for f in "$bench/scale_pcap.py" "$bench/real-mix.pcap"; do
    [[ -f $f ]] || { echo "make-bench-trace.sh: $f not found" >&2; exit 1; }
done
python3 "$bench/scale_pcap.py" "$bench/real-mix.pcap" "$out" --target-bytes "$size"
echo "make-bench-trace.sh: wrote $out ($(stat -c %s "$out") bytes)" >&2
