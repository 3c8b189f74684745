# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: what the tuning scripts share (sourced, never run). A script describes each knob once with
# `knob`: how to read its current value, the value Peregrine wants, why, which counter shows that the
# knob matters, and the command that sets it. In a dry run (the default) `knob` prints that plan; with
# --apply it runs the command and reads the value back, so a second --apply finds nothing to change.
#
# Output, one block per knob (tuning/tests/run.sh parses the `run:` and `ran:` lines):
#   [ok]          KNOB: VALUE
#   [change]      KNOB: CURRENT -> TARGET       then  why:, counter:, run: CMD (dry run) or ran: CMD
#   [unsupported] KNOB: REASON                  the driver or the machine cannot do it; nothing is run
#   [skip]        KNOB: REASON                  not asked for (an option would enable it)
#   [refused]     KNOB: REASON                  --apply ran the command and the value did not change

tune_name=${0##*/}
tune_apply=0
tune_ok=0
tune_changes=0
tune_unsupported=0
tune_refused=0

tune_die() {
    echo "$tune_name: $*" >&2
    exit 2
}

# tune_need_tool TOOL PACKAGE: exits with an install hint when TOOL is not on PATH.
tune_need_tool() {
    command -v "$1" >/dev/null || tune_die "$1 not found: apt-get install $2 (scripts/install-deps.sh)"
}

# tune_need_root: --apply writes device settings, /proc/irq and /proc/sys; a dry run only reads.
tune_need_root() {
    [[ $tune_apply -eq 0 || $(id -u) -eq 0 ]] || tune_die "--apply needs root (a dry run does not)"
}

# tune_need_interface IFACE: exits unless IFACE exists in this network namespace.
tune_need_interface() {
    [[ -n $1 ]] || tune_die "no interface given (see --help)"
    [[ -e /sys/class/net/$1 ]] || tune_die "no interface '$1' in this network namespace (see 'ip link')"
}

# tune_mode: "apply" or "dry run", for the first line of output.
tune_mode() { if [[ $tune_apply -eq 1 ]]; then echo apply; else echo "dry run"; fi; }

tune_say() { printf '%-13s %s\n' "$1" "$2"; }
tune_detail() { printf '%-13s %s: %s\n' "" "$1" "$2"; }

# tune_unsupported KNOB REASON / tune_skip KNOB REASON / tune_ok KNOB VALUE: knobs with no command.
tune_unsupported() {
    tune_say "[unsupported]" "$1: $2"
    tune_unsupported=$((tune_unsupported + 1))
}
tune_skip() { tune_say "[skip]" "$1: $2"; }
tune_ok() {
    tune_say "[ok]" "$1: $2"
    tune_ok=$((tune_ok + 1))
}

# knob KNOB READER TARGET WHY COUNTER CMD
#   READER is a function name and its arguments (split on spaces) that prints the current value; the
#   knob is done when it prints TARGET. CMD is one shell command line (printed as is, run by bash -c).
knob() {
    local name=$1 reader=$2 target=$3 why=$4 counter=$5 cmd=$6
    local current
    current=$($reader) || current="?"
    if [[ $current == "$target" ]]; then
        tune_ok "$name" "$current"
        return 0
    fi
    tune_say "[change]" "$name: $current -> $target"
    tune_detail why "$why"
    tune_detail counter "$counter"
    if [[ $tune_apply -eq 0 ]]; then
        tune_detail run "$cmd"
        tune_changes=$((tune_changes + 1))
        return 0
    fi
    tune_detail ran "$cmd"
    local output after
    if ! output=$(bash -c "$cmd" 2>&1); then
        tune_say "[refused]" "$name: '$cmd' failed: ${output//$'\n'/ }"
        tune_refused=$((tune_refused + 1))
        return 0
    fi
    after=$($reader) || after="?"
    if [[ $after != "$target" ]]; then
        tune_say "[refused]" "$name: the command succeeded but the value is still $after${output:+ (${output//$'\n'/ })}"
        tune_refused=$((tune_refused + 1))
        return 0
    fi
    tune_changes=$((tune_changes + 1))
}

# tune_summary WHAT: the last line, and the exit status: 0, or 3 when --apply had a change refused.
tune_summary() {
    local what=$1 tail="$tune_ok already right, $tune_unsupported unsupported"
    if [[ $tune_apply -eq 0 ]]; then
        if [[ $tune_changes -eq 0 ]]; then
            echo "$tune_name: $what: nothing to change ($tail)"
        else
            echo "$tune_name: $what: dry run: $tune_changes change(s) to make ($tail); run again with --apply"
        fi
        return 0
    fi
    if [[ $tune_changes -eq 0 && $tune_refused -eq 0 ]]; then
        echo "$tune_name: $what: nothing to change ($tail)"
    else
        echo "$tune_name: $what: applied $tune_changes change(s), $tune_refused refused ($tail)"
    fi
    [[ $tune_refused -eq 0 ]] || return 3
}

# cpulist_expand LIST: "0-2,5" -> "0 1 2 5" (one line, ascending as written).
cpulist_expand() {
    local part parts out=()
    IFS=, read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            mapfile -t -O "${#out[@]}" out < <(seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$part")
        else
            return 1
        fi
    done
    echo "${out[*]}"
}
