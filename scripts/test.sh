#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test.sh: the project's test command (README, CI). Installs the Debian packages, builds in release
# mode with warnings as errors, runs the whole Swift test suite, then the corpus check if it exists.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/test.sh [--help] [--skip-deps] [-- SWIFT_TEST_ARGS...]

  1. scripts/install-deps.sh            (skipped with --skip-deps)
  2. swift build -c release -Xswiftc -warnings-as-errors
  3. make -C bpf install DESTDIR=<release bin dir>   (BPF objects next to the binary)
  4. tuning/tests/run.sh                 (NIC, IRQ and sysctl scripts on a veth in a netns; root)
  5. systemd/tests/run.sh                (unit: verify, security score, sysusers/tmpfiles, install.sh,
                                          capture with the unit's capabilities only; root)
  6. swift test                          (debug; extra arguments after -- go to swift test)
  7. scripts/corpus-check.sh             (hook: run only if that script exists)
Run as root on Debian 12 with Swift 6.3; privileged tests run when root (style.md §6).
USAGE
}

skip_deps=0
test_args=()
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --skip-deps) skip_deps=1; shift ;;
    --) shift; test_args=("$@"); break ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

step() { echo "==> $*" >&2; }

if [[ $skip_deps -eq 0 ]]; then
    step "installing Debian packages"
    scripts/install-deps.sh
fi

step "release build with warnings as errors"
swift build -c release -Xswiftc -warnings-as-errors

step "BPF programs (make -C bpf), installed next to the binary"
make -C bpf install DESTDIR="$(swift build -c release --show-bin-path)"

# The script tests take seconds; they run before the Swift suite so that its summary line stays last.
step "tuning scripts (tuning/tests/run.sh)"
tuning/tests/run.sh
step "systemd unit and install (systemd/tests/run.sh)"
systemd/tests/run.sh

# Hook for the corpus check: said before the tests when absent, so that the output still ends with
# Swift Testing's summary line.
corpus_check=scripts/corpus-check.sh
if [[ ! -x $corpus_check ]]; then
    step "no $corpus_check yet: corpus check skipped"
fi

step "swift test"
swift test "${test_args[@]}"

if [[ -x $corpus_check ]]; then
    step "corpus check ($corpus_check)"
    "$corpus_check"
fi
