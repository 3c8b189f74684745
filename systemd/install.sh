#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# install.sh: install Peregrine as a systemd service: the binary, the BPF objects (when built), the
# unit, the sysusers and tmpfiles snippets, the configuration file (once, never overwritten), the tuning
# scripts and the documentation. Idempotent: a file already identical is left alone and said so.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: systemd/install.sh [--dry-run] [--prefix DIR] [--bin PATH]

  --dry-run     print what would be installed or created, change nothing
  --prefix DIR  install under DIR (an image or chroot being built) instead of /; the user, the log
                directory and systemctl daemon-reload are then left to the first boot
  --bin PATH    the peregrine binary (default .build/release/peregrine: swift build -c release)
Then: edit /etc/peregrine/peregrine.yaml, peregrine check, systemctl enable --now peregrine
(systemd/README.md).
USAGE
}

cd "$(dirname "$0")/.."
root=$(pwd)
dry_run=0
prefix=""
bin=$root/.build/release/peregrine
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1; shift ;;
    --prefix) prefix=${2:?--prefix needs a directory}; prefix=${prefix%/}; shift 2 ;;
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x $bin ]] || { echo "install.sh: no binary at $bin (swift build -c release, or --bin PATH)" >&2; exit 1; }
[[ $dry_run -eq 1 || -n $prefix || $(id -u) -eq 0 ]] || { echo "install.sh: installing into / needs root" >&2; exit 1; }

changed=0
# put MODE SOURCE DEST: installs SOURCE as $prefix/DEST unless an identical file is there.
put() {
    local mode=$1 source=$2 dest=$prefix$3
    if cmp -s "$source" "$dest" && [[ $(stat -c %a "$dest") == "${mode#0}" ]]; then
        echo "unchanged  $dest"
        return
    fi
    echo "install    $dest (from ${source#"$root"/}, mode $mode)"
    changed=$((changed + 1))
    [[ $dry_run -eq 1 ]] || install -D -m "$mode" "$source" "$dest"
}
# put_once MODE SOURCE DEST: like put, but never replaces an existing file (operator settings).
put_once() {
    if [[ -e $prefix$3 ]]; then
        echo "kept       $prefix$3 (exists; compare with ${2#"$root"/})"
    else
        put "$@"
    fi
}

put 0755 "$bin" /usr/local/bin/peregrine
# BPF objects are built by `make -C bpf` (never committed); install them when present.
shopt -s nullglob
for object in bpf/*.bpf.o; do
    put 0644 "$root/$object" "/usr/local/lib/peregrine/bpf/${object##*/}"
done
for script in tuning/lib.sh tuning/nic.sh tuning/irq-affinity.sh tuning/sysctl.sh; do
    put "$([[ $script == */lib.sh ]] && echo 0644 || echo 0755)" "$root/$script" "/usr/local/lib/peregrine/$script"
done
put 0644 "$root/tuning/sysctl.d/60-peregrine.conf" /usr/local/lib/peregrine/tuning/sysctl.d/60-peregrine.conf
put 0644 "$root/README.md" /usr/local/share/doc/peregrine/README.md
put 0644 "$root/systemd/README.md" /usr/local/share/doc/peregrine/systemd.md
put 0644 "$root/tuning/README.md" /usr/local/share/doc/peregrine/tuning.md
put 0644 "$root/systemd/peregrine.service" /etc/systemd/system/peregrine.service
put 0644 "$root/systemd/peregrine.sysusers" /etc/sysusers.d/peregrine.conf
put 0644 "$root/systemd/peregrine.tmpfiles" /etc/tmpfiles.d/peregrine.conf
put_once 0644 "$root/systemd/peregrine.yaml" /etc/peregrine/peregrine.yaml

# Activation: the user and log directory now (systemd-sysusers and systemd-tmpfiles need no running
# systemd), and the unit reloaded when systemd is the init.
if [[ -n $prefix ]]; then
    echo "install.sh: installed under $prefix; systemd-sysusers and systemd-tmpfiles create the user and /var/log/peregrine at its first boot"
elif [[ $dry_run -eq 1 ]]; then
    echo "would run  systemd-sysusers /etc/sysusers.d/peregrine.conf"
    echo "would run  systemd-tmpfiles --create /etc/tmpfiles.d/peregrine.conf"
    echo "would run  systemctl daemon-reload (when systemd is the init)"
else
    systemd-sysusers /etc/sysusers.d/peregrine.conf
    systemd-tmpfiles --create /etc/tmpfiles.d/peregrine.conf
    if [[ -d /run/systemd/system ]]; then
        [[ $changed -eq 0 ]] || systemctl daemon-reload
    else
        echo "install.sh: systemd is not the init here: the unit is installed but cannot run"
    fi
fi
if [[ $dry_run -eq 1 ]]; then
    echo "install.sh: dry run: $changed file(s) to install"
else
    echo "install.sh: $changed file(s) installed; next: edit /etc/peregrine/peregrine.yaml, peregrine check, then systemctl enable --now peregrine"
fi
