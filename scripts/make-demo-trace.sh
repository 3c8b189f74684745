#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make-demo-trace.sh: regenerate the bundled demo trace from real programs: run
# ../shared/bench/make-real-capture.sh (root; network namespaces, real servers and clients), then keep
# a small representative set of whole flows (scripts/select-demo-flows.py + tcpdump).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/make-demo-trace.sh [OUT.pcap] [--capture-script PATH]

Default OUT is Tests/Fixtures/Traces/demo/demo.pcap; default capture script is
../shared/bench/make-real-capture.sh (relative to the repository root). Needs root and the packages
scripts/install-deps.sh installs. The result differs run to run (ports, keys, timing).
USAGE
}

cd "$(dirname "$0")/.."
out=Tests/Fixtures/Traces/demo/demo.pcap
capture=../shared/bench/make-real-capture.sh
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --capture-script) capture=$2; shift 2 ;;
    -*) echo "make-demo-trace.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
    esac
done
[[ -f $capture ]] || { echo "make-demo-trace.sh: capture script '$capture' not found" >&2; exit 1; }

work=$(mktemp -d -t peregrine-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # tcpdump drops privileges to user tcpdump and must write here
bash "$capture" "$work/real.pcap"
scripts/select-demo-flows.py "$work/real.pcap" >"$work/filter.txt"
mkdir -p "$(dirname "$out")"
tcpdump -r "$work/real.pcap" -w "$work/demo.pcap" "$(cat "$work/filter.txt")"
cp "$work/demo.pcap" "$out"
echo "make-demo-trace.sh: wrote $out ($(stat -c %s "$out") bytes)" >&2
