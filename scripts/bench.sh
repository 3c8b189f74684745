#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench.sh: time `peregrine -r TRACE` against the floor `tcpdump -r TRACE -w /dev/null` (reading the
# file and nothing else). Best of N runs (lowest wall time) after one warm-up run that fills the page
# cache; each run under /usr/bin/time -v.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/bench.sh TRACE [--workers N] [--bin PATH] [--runs N]

Prints the trace's packets and wire bytes (capinfos, or a stdlib Python parse of classic pcap), then
for `peregrine -r TRACE` (in a temporary folder, default logs: every analyzer), for the conn-only run
`peregrine -r TRACE Analyzer::disable_all=T` and for `tcpdump -r TRACE -w /dev/null`:
wall seconds, CPU seconds (user+sys), packets/s, Gbit/s (wire bytes * 8 / wall), peak RSS; and the
ratio of each peregrine run's wall time to tcpdump's.

  --workers N  pass --workers N to peregrine
  --bin PATH   the peregrine binary (default .build/release/peregrine)
  --runs N     timed runs per tool, best reported (default 3)
If the binary is missing, the tcpdump floor is still measured and the script exits 1.
USAGE
}

trace=""
workers=""
runs=3
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$root/.build/release/peregrine
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --workers) workers=${2:?--workers needs a number}; shift 2 ;;
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    -*) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [[ -z $trace ]] || { echo "bench.sh: one TRACE only" >&2; exit 2; }; trace=$1; shift ;;
    esac
done
[[ -n $trace ]] || { usage >&2; exit 2; }
[[ -f $trace ]] || { echo "bench.sh: trace '$trace' not found" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --runs must be a positive integer" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
trace=$(realpath "$trace")

work=$(mktemp -d -t peregrine-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- packets and wire bytes
if command -v capinfos >/dev/null; then
    # -T table, -r no header, -c packets, -d data size (sum of wire lengths); tab separated.
    read -r packets bytes < <(capinfos -T -r -c -d "$trace" | awk -F'\t' '{print $2, $3}')
else
    read -r packets bytes < <(python3 - "$trace" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    magic = f.read(24)[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("bench.sh: not a classic pcap; install capinfos (wireshark-common) for pcapng")
    packets = wire = 0
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        _, _, caplen, length = struct.unpack(e + "IIII", h)
        f.seek(caplen, 1)
        packets += 1
        wire += length
print(packets, wire)
PY
)
fi
echo "trace:   $trace"
echo "packets: $packets"
echo "bytes:   $bytes (wire)"
echo "runs:    best of $runs after 1 warm-up"
echo

# run_timed NAME OUTFILE CMD... : runs CMD under /usr/bin/time -v in $work/run, appends
# "wall cpu rss_kb" to OUTFILE; fails if CMD fails.
run_timed() {
    local name=$1 out=$2
    shift 2
    rm -rf "$work/run" && mkdir "$work/run"
    local start end
    start=$(date +%s.%N)
    if ! (cd "$work/run" && /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt"); then
        echo "bench.sh: $name failed:" >&2
        tail -n 5 "$work/stderr.txt" >&2
        return 1
    fi
    end=$(date +%s.%N)
    # Wall time from date (ns resolution; time -v gives only centiseconds); CPU and RSS from time -v.
    awk -F': ' -v w="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" '
        /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
        END {printf "%.3f %.3f %d\n", w, u+s, r}' "$work/time.txt" >>"$out"
}

# bench NAME CMD... : warm-up + $runs runs; prints the best run's line and sets best_wall.
best_wall=""
bench() {
    local name=$1
    shift
    local results=$work/$name.results
    : >"$results"
    run_timed "$name" /dev/null "$@" || return 1
    for _ in $(seq "$runs"); do run_timed "$name" "$results" "$@" || return 1; done
    read -r wall cpu rss < <(sort -n "$results" | head -n 1)
    best_wall=$wall
    awk -v n="$name" -v w="$wall" -v c="$cpu" -v r="$rss" -v p="$packets" -v b="$bytes" 'BEGIN {
        printf "%-10s wall %8.3f s  cpu %8.3f s  %12.0f packets/s  %7.3f Gbit/s  peak RSS %8.1f MiB\n",
            n, w, c, (w > 0 ? p / w : 0), (w > 0 ? b * 8 / w / 1e9 : 0), r / 1024 }'
}

status=0
peregrine_args=(-r "$trace")
[[ -z $workers ]] || peregrine_args+=(--workers "$workers")
# Two configurations: every analyzer (the default run) and conn-only (Zeek's
# Analyzer::disable_all=T: conn.log, weird.log and tunnel.log, no application analysis).
walls=()
if [[ -x $bin ]]; then
    for config in peregrine conn-only; do
        args=("${peregrine_args[@]}")
        [[ $config == conn-only ]] && args+=("Analyzer::disable_all=T")
        if bench "$config" "$bin" "${args[@]}"; then
            walls+=("$config=$best_wall")
        else
            status=1
        fi
    done
else
    echo "peregrine  not measured: binary '$bin' not found or not executable (build it with swift build -c release, or pass --bin PATH)"
    status=1
fi

command -v tcpdump >/dev/null || { echo "bench.sh: tcpdump missing (scripts/install-deps.sh)" >&2; exit 1; }
bench tcpdump tcpdump -r "$trace" -w /dev/null
tcpdump_wall=$best_wall

for entry in "${walls[@]}"; do
    awk -v n="${entry%%=*}" -v p="${entry#*=}" -v t="$tcpdump_wall" 'BEGIN {
        printf "ratio      %s/tcpdump wall time: %.2f\n", n, (t > 0 ? p / t : 0) }'
done
exit "$status"
