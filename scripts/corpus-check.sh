#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scores the release binary against Zeek's own baselines (../shared/corpus/zeek) with
# ../shared/tools/corpus-score over every log, prints the per-log figures, and fails when a run fails
# or when an analysed log's recall falls below the floor this tree reached (a regression gate).
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    echo "Usage: scripts/corpus-check.sh   (after a release build; needs ../shared beside the clone)"
    exit 0
fi
cd "$(dirname "$0")/.."
shared=$(cd .. && pwd)/shared
if [[ ! -x $shared/tools/corpus-score || ! -d $shared/corpus/zeek ]]; then
    echo "corpus-check: no corpus at $shared (skipped)" >&2
    exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The default corpus path (relative, as the project's fidelity figure is taken) exercises the
# binary's resolution of a relative -r path from a scratch working directory.
"$shared/tools/corpus-score" --json >"$out"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
# Floors a little under today's figures, so a regression in any analysed log fails the check
# (logs of analyzers not built yet have no floor).
floors = {"conn": 0.98, "tunnel": 0.99, "dns": 0.99, "http": 0.99, "http(json)": 0.99, "files": 0.99, "ntp": 0.99, "dhcp": 0.99, "ssh": 0.99,
          "ssl": 0.99, "x509": 0.99, "smtp": 0.99, "ftp": 0.99, "weird": 0.99}
ok = True
for name, v in sorted(r["per_log"].items()):
    recall = v["equal"] / v["expected"] if v["expected"] else 1.0
    print(f"corpus {name:14s} cell recall {recall:.4f} ({v['equal']}/{v['expected']})")
    if name in floors and recall < floors[name]:
        print(f"corpus-check: {name}.log recall {recall:.4f} is below {floors[name]}")
        ok = False
for failure in r["failed_runs"]:
    print(f"corpus-check: failed run: {failure}")
    ok = False
print(f"corpus overall recall {r['recall']:.4f} precision {r['precision']:.4f}")
sys.exit(0 if ok else 1)
PY
