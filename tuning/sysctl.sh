#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# sysctl.sh: bring the kernel settings of tuning/sysctl.d/60-peregrine.conf into effect now (sysctl -w)
# and at every boot (the file copied into /etc/sysctl.d). Dry run by default; idempotent with --apply.
# The why and the counter of each setting come from the comments in the file.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: tuning/sysctl.sh [--apply] [--sysctl-dir DIR]

Prints each setting of tuning/sysctl.d/60-peregrine.conf with its current value, the target, why and
the counter that shows it matters; --apply sets them (root) and installs the file into DIR
(default /etc/sysctl.d) so that they hold after a reboot.
Exit status: 0, 2 on a usage or setup error, 3 when --apply had a change refused by the kernel.
USAGE
}

# shellcheck source=tuning/lib.sh
. "$(dirname "$0")/lib.sh"

conf=$(cd "$(dirname "$0")" && pwd)/sysctl.d/60-peregrine.conf
sysctl_dir=/etc/sysctl.d
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --apply) tune_apply=1; shift ;;
    --sysctl-dir) sysctl_dir=${2:?--sysctl-dir needs a directory}; shift 2 ;;
    *) tune_die "unknown argument '$1' (see --help)" ;;
    esac
done
tune_need_tool sysctl procps
tune_need_root
[[ -r $conf ]] || tune_die "cannot read $conf"

echo "$tune_name: $conf ($(tune_mode))"

sysctl_now() { tr -s ' \t' ' ' <"/proc/sys/${1//.//}"; }

# Comment blocks: "# why: text" and "# counter: text", continued on "#   text" lines.
why=""
counter=""
field=""
while IFS= read -r line; do
    case $line in
    "# why: "*) why=${line#"# why: "}; field=why ;;
    "# counter: "*) counter=${line#"# counter: "}; field=counter ;;
    "#   "*)
        text=${line#"#   "}
        case $field in
        why) why="$why $text" ;;
        counter) counter="$counter $text" ;;
        esac ;;
    [a-z]*=*)
        key=${line%%=*}
        key=${key// /}
        value=${line#*=}
        value=${value# }
        if [[ ! -e /proc/sys/${key//.//} ]]; then
            tune_unsupported "$key" "this kernel has no such setting (not built in, or not visible in this network namespace)"
        else
            knob "$key" "sysctl_now $key" "$value" "$why" "$counter" "sysctl -q -w $key=$value"
        fi
        why=""
        counter=""
        field="" ;;
    *) field="" ;;
    esac
done <"$conf"

installed="$sysctl_dir/${conf##*/}"
persisted() { if cmp -s "$conf" "$installed"; then echo installed; else echo "not installed"; fi; }
knob "$installed" persisted installed \
    "the settings above last until the next reboot unless systemd-sysctl (or procps at boot) reads them from $sysctl_dir" \
    "sysctl $(awk -F' *= *' '/^[a-z]/ {printf "%s ", $1}' "$conf")after a reboot" \
    "install -D -m 0644 $conf $installed"

tune_summary "kernel settings"
