#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-demo.sh: the project's "run the main job" command (README). Installs the Debian packages, builds
# peregrine in release mode, runs it on the bundled demo trace (or live on an interface) in a fresh
# output folder, and summarises the logs it wrote.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/run-demo.sh [--skip-deps] [-i IFACE] [OUT_DIR] [-- PEREGRINE_ARGS...]

Without -i: peregrine -r Tests/Fixtures/Traces/demo/demo.pcap, logs into OUT_DIR (default demo-logs/,
emptied first). With -i IFACE: peregrine -i IFACE (live capture; stop it with Ctrl-C).
Arguments after -- are passed to peregrine (for instance --json or Site::local_nets={10.0.0.0/8}).
Run as root on Debian 12 with Swift 6.3.
USAGE
}

skip_deps=0
iface=""
out=""
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --skip-deps) skip_deps=1; shift ;;
    -i) [[ $# -ge 2 ]] || { echo "run-demo.sh: -i needs an interface" >&2; exit 2; }; iface=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "run-demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
    esac
done

cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
out=${out:-demo-logs}

if [[ $skip_deps -eq 0 ]]; then
    scripts/install-deps.sh
fi
echo "==> release build" >&2
swift build -c release --product peregrine
bin=$(swift build -c release --show-bin-path)/peregrine
make -C bpf install DESTDIR="$(dirname "$bin")" >/dev/null  # --fanout ebpf finds them next to the binary

rm -rf "$out"
mkdir -p "$out"
cd "$out"
status=0
if [[ -n $iface ]]; then
    echo "==> peregrine -i $iface ${extra[*]} (logs in $out/)" >&2
    "$bin" -i "$iface" "${extra[@]}" || status=$?
else
    trace=$root/Tests/Fixtures/Traces/demo/demo.pcap
    echo "==> peregrine -r $trace ${extra[*]} (logs in $out/)" >&2
    "$bin" -r "$trace" "${extra[@]}" || status=$?
fi

echo
echo "Logs written into $out/:"
shopt -s nullglob
logs=(*.log)
if [[ ${#logs[@]} -eq 0 ]]; then
    echo "  (none)"
fi
for log in "${logs[@]}"; do
    # Records are the lines that are not Zeek's '#' header lines (JSON logs have none).
    records=$(grep -vc '^#' "$log" || true)
    printf '  %-22s %7d records\n' "$log" "$records"
done
if [[ $status -ne 0 ]]; then
    echo "run-demo.sh: peregrine exited with status $status" >&2
fi
exit "$status"
