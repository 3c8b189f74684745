#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# install-deps.sh: install every Debian 12 package Peregrine needs to build, test, run the demo and
# benchmark, and check that Swift is on PATH. Idempotent: it runs `apt-get update` only when a package
# is missing, and installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/install-deps.sh [--help]

Installs the Debian packages Peregrine needs (only those that are missing):
  build/run:   libpcap-dev zlib1g-dev (HTTP content decoding, gzip logs) libzstd-dev (zstd logs)
  tests/live:  tcpdump tcpreplay iproute2 ethtool zstd (checks the archiver's zstd files)
  appliance:   systemd (systemd-analyze, -sysusers, -tmpfiles for systemd/ and its tests),
               python3-seccomp (the unit's sandbox emulated in systemd/tests), procps (sysctl, pgrep)
  bench:       time (/usr/bin/time -v), python3, wireshark-common (capinfos)
  demo trace:  nftables nginx-light dnsmasq-base dropbear-bin openssh-client dnsutils curl openssl
               iputils-ping (what ../shared/bench/make-real-capture.sh uses)
  bpf/:        libbpf-dev linux-libc-dev clang llvm make (BPF programs and their loader)
  later:       libxdp-dev libnuma-dev xdp-tools (AF_XDP, NUMA)
Then checks that `swift` is on PATH (or in /opt/swift/usr/bin).
USAGE
}

if [[ ${1:-} == "--help" || ${1:-} == "-h" ]]; then
    usage
    exit 0
fi
if [[ $# -gt 0 ]]; then
    echo "install-deps.sh: unknown argument '$1' (see --help)" >&2
    exit 2
fi

PACKAGES=(
    libpcap-dev zlib1g-dev libzstd-dev
    tcpdump tcpreplay iproute2 ethtool zstd
    systemd python3-seccomp procps
    time python3 wireshark-common
    nftables nginx-light dnsmasq-base dropbear-bin openssh-client dnsutils curl openssl iputils-ping
    libbpf-dev linux-libc-dev clang llvm make
    libxdp-dev libnuma-dev xdp-tools
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null; then
            SUDO=(sudo)
        else
            echo "install-deps.sh: missing packages (${missing[*]}) and not root; run as root" >&2
            exit 1
        fi
    fi
    echo "install-deps.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # wireshark-common asks whether non-root users may capture; answer "no" without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | "${SUDO[@]}" debconf-set-selections
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "install-deps.sh: all ${#PACKAGES[@]} Debian packages present" >&2
fi

if ! command -v swift >/dev/null; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        echo "install-deps.sh: swift found in /opt/swift/usr/bin (not on PATH; the scripts add it)" >&2
    else
        cat >&2 <<'MSG'
install-deps.sh: Swift is not installed. Peregrine needs Swift 6.3 for Linux:
  download the Debian 12 toolchain from https://www.swift.org/install/linux/ (or use swiftly:
  https://www.swift.org/install/linux/#with-swiftly), unpack it so that /opt/swift/usr/bin/swift
  exists (or put its usr/bin on PATH), then run this script again.
MSG
        exit 1
    fi
fi
