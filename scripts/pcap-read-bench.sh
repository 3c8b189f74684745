#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# pcap-read-bench.sh: time PcapFileSource's read loop alone (release build) on a trace and count heap
# allocations with an LD_PRELOAD counter, for forEachFrame and readBatch. Builds a throwaway package
# in a temporary folder whose targets link to this repository's CPcap, PeregrineCore and
# PeregrineCapture sources.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/pcap-read-bench.sh TRACE [TRACE...]

For each TRACE prints packets, seconds and ns/packet of a PcapFileSource read loop (best of 3), then
the allocation counts of one run: they stay the same whatever the packet count when the per-packet
path allocates nothing. Needs clang (scripts/install-deps.sh) and Swift.
USAGE
}
[[ $# -ge 1 && $1 != -h && $1 != --help ]] || { usage; [[ $# -ge 1 ]] && exit 0; exit 2; }

cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
work=$(mktemp -d -t peregrine-readbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/AllocBench"
for t in CPcap PeregrineCore PeregrineCapture; do ln -s "$root/Sources/$t" "$work/Sources/$t"; done
cp scripts/pcap-read-bench/main.swift "$work/Sources/AllocBench/main.swift"
cat >"$work/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(name: "allocbench", targets: [
    .systemLibrary(name: "CPcap", pkgConfig: "libpcap"),
    .target(name: "PeregrineCore"),
    .target(name: "PeregrineCapture", dependencies: ["PeregrineCore", "CPcap"]),
    .executableTarget(name: "AllocBench", dependencies: ["PeregrineCapture"]),
])
SWIFT
clang -O2 -shared -fPIC -o "$work/malloccount.so" scripts/pcap-read-bench/malloccount.c -ldl
swift build -c release --package-path "$work" >&2
bin=$work/.build/release/AllocBench
for trace in "$@"; do
    for mode in each batch; do
        echo "== $trace ($mode)"
        "$bin" "$trace" "$mode" >/dev/null  # warm-up: page cache
        for _ in 1 2 3; do "$bin" "$trace" "$mode"; done | sort -t' ' -k8 -g | head -n 1
        { LD_PRELOAD=$work/malloccount.so "$bin" "$trace" "$mode" >/dev/null; } 2>&1
    done
done
