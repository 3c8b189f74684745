#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Tests of the tuning scripts on a real device (style.md §6: privileged, built here, torn down even on
# failure): a 4-queue veth pair in a network namespace of its own for nic.sh (dry run, --apply, second
# --apply), the machine's own NIC for irq-affinity.sh (dry run only: its interrupts serve the machine),
# and sysctl.sh in the initial namespace (values put back afterwards). Without root, ip or ethtool it
# skips with a one-line reason. Exit status 1 when a check fails.
set -euo pipefail

cd "$(dirname "$0")/../.."
if [[ $(id -u) -ne 0 ]]; then echo "tuning tests: skipped (need root: network namespaces, ethtool -K)"; exit 0; fi
for tool in ip ethtool setpriv; do
    command -v "$tool" >/dev/null || { echo "tuning tests: skipped (need $tool: scripts/install-deps.sh)"; exit 0; }
done

ns=prg-tune-$$
sysctl_dir=$(mktemp -d -t peregrine-sysctl.XXXXXX)
saved_sysctls=()
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    local entry
    for entry in "${saved_sysctls[@]}"; do sysctl -q -w "$entry" || true; done
    rm -rf "$sysctl_dir"
}
trap cleanup EXIT

failures=0
checks=0
out=""
# check NAME COMMAND...: runs COMMAND (a test expression or a pipeline via bash -c is not needed: it is
# evaluated in this shell); a failure prints NAME and the last script output.
check() {
    local name=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        echo "ok    $name"
    else
        echo "FAIL  $name"
        echo "$out" | sed 's/^/      | /'
        failures=$((failures + 1))
    fi
}
# runs NS|- SCRIPT ARGS...: runs a tuning script (in namespace NS unless -), output in $out, status in $rc.
runs() {
    local where=$1
    shift
    rc=0
    if [[ $where == - ]]; then
        out=$("$@" 2>&1) || rc=$?
    else
        out=$(ip netns exec "$where" "$@" 2>&1) || rc=$?
    fi
}
commands() { sed -n 's/^ *\(run\|ran\): //p' <<<"$out"; }
has_line() { grep -qE "$1" <<<"$out"; }
equal() { [[ $1 == "$2" ]]; }
in_ns() { ip netns exec "$ns" "$@"; }
feature() { in_ns ethtool -k "$1" | awk -F': ' -v n="$2" '$1 == n {print $2}'; }

# ---- a multi-queue veth, with GRO on so that every offload has something to do
ip netns add "$ns"
ip -n "$ns" link add v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up
in_ns ethtool -K v0 gro on

echo "== nic.sh on a 4-queue veth"
before=$(in_ns ethtool -k v0; in_ns ethtool -l v0)
runs "$ns" tuning/nic.sh v0 --workers 2
check "dry run exits 0" equal "$rc" 0
check "dry run lists exactly the commands veth needs" equal "$(commands)" "ethtool -K v0 gro off
ethtool -K v0 tso off
ethtool -K v0 gso off
ethtool -L v0 rx 2 tx 2"
check "dry run names the counter of each change" equal "$(grep -c '^ *counter: ' <<<"$out")" 4
check "dry run explains that veth has no RSS key" has_line '^\[unsupported\] rss: the driver has no RSS'
check "dry run explains that veth has no ring to size" has_line '^\[unsupported\] rx-ring: the driver has no receive ring'
check "dry run sees LRO fixed off" has_line '^\[ok\] +lro: off \(fixed by the driver\)'
check "dry run ends with the count and the hint" has_line '^nic.sh: v0: dry run: 4 change\(s\) to make .*run again with --apply$'
check "dry run changes nothing" equal "$(in_ns ethtool -k v0; in_ns ethtool -l v0)" "$before"

runs "$ns" tuning/nic.sh v0 --workers 2 --capture af_xdp
check "AF_XDP dry run also turns rx-vlan-offload off" equal "$(commands | grep rxvlan)" "ethtool -K v0 rxvlan off"

runs "$ns" tuning/nic.sh v0 --workers 9
check "more queues than the driver has: capped, and said" has_line '^\[note\] +channels: 9 asked, the driver allows 4: using 4'
check "capped target is the maximum (already current)" has_line '^\[ok\] +channels: rx 4 tx 4'

runs "$ns" tuning/nic.sh v0 --workers 2 --capture af_xdp --apply
check "apply exits 0 (nothing refused)" equal "$rc" 0
check "apply ran the five commands" equal "$(commands)" "ethtool -K v0 gro off
ethtool -K v0 tso off
ethtool -K v0 gso off
ethtool -K v0 rxvlan off
ethtool -L v0 rx 2 tx 2"
check "apply: GRO is off" equal "$(feature v0 generic-receive-offload)" off
check "apply: TSO is off" equal "$(feature v0 tcp-segmentation-offload)" off
check "apply: GSO is off" equal "$(feature v0 generic-segmentation-offload)" off
check "apply: rx-vlan-offload is off" equal "$(feature v0 rx-vlan-offload)" off
check "apply: 2 rx and 2 tx queues" equal "$(in_ns ethtool -l v0 | sed -n '/^Current/,$p' | awk '$1 == "RX:" || $1 == "TX:" {printf "%s%s ", $1, $2}')" "RX:2 TX:2 "
check "apply explains, not fails, what veth cannot do" has_line '^\[unsupported\] rss: '
check "apply summary" has_line '^nic.sh: v0: applied 5 change\(s\), 0 refused'

runs "$ns" tuning/nic.sh v0 --workers 2 --capture af_xdp --apply
check "second apply exits 0" equal "$rc" 0
check "second apply runs nothing" equal "$(commands)" ""
check "second apply says so" has_line '^nic.sh: v0: nothing to change \(7 already right, 2 unsupported\)$'

echo "== nic.sh errors"
runs "$ns" tuning/nic.sh nosuch0
check "unknown interface: exit 2 and a clear line" equal "$rc:$out" "2:nic.sh: no interface 'nosuch0' in this network namespace (see 'ip link')"
runs "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups tuning/nic.sh v0 --apply
check "--apply without root: exit 2" equal "$rc:$out" "2:nic.sh: --apply needs root (a dry run does not)"
runs "$ns" env PATH=/usr/bin:/bin bash tuning/nic.sh v0
check "no ethtool: exit 2 and the package to install" equal "$rc:$out" "2:nic.sh: ethtool not found: apt-get install ethtool (scripts/install-deps.sh)"
runs "$ns" tuning/nic.sh v0 --workers 0
check "bad --workers: exit 2" equal "$rc" 2

echo "== irq-affinity.sh"
runs "$ns" tuning/irq-affinity.sh v0 --cpus 0 --apply
check "veth: no interrupts, explained, exit 0" equal "$rc" 0
check "veth: the reason is given" has_line '^\[unsupported\] irq-affinity: v0 has no device interrupts'
# The machine's own NIC (the first with MSI interrupts), dry run only.
nic=""
for dev in /sys/class/net/*; do
    for dir in "$dev/device" "$dev/device/.."; do
        if [[ -d $dir/msi_irqs ]]; then nic=${dev##*/}; msi=$(ls "$dir/msi_irqs" | sort -n | tr '\n' ' '); break 2; fi
    done
done
cpus_online=$(cat /sys/devices/system/cpu/online)
if [[ -z $nic || $cpus_online != *[-,]* ]]; then
    echo "skip  irq-affinity dry run on a NIC (no NIC with MSI interrupts, or one CPU)"
else
    worker=${cpus_online##*[-,]}
    before=$(for irq in $msi; do cat "/proc/irq/$irq/smp_affinity_list"; done)
    runs - tuning/irq-affinity.sh "$nic" --cpus "$worker"
    check "NIC dry run exits 0" equal "$rc" 0
    check "NIC dry run names every interrupt of the device" equal \
        "$(sed -n 's/^\[\(change\|ok\)\] *irq \([0-9]*\):.*/\2/p' <<<"$out" | tr '\n' ' ')" "$msi"
    check "NIC dry run keeps every interrupt off the worker CPU $worker" \
        bash -c '! grep -E "^ *run: echo '"$worker"' > " <<<"$1"' _ "$out"
    check "NIC dry run writes only smp_affinity_list" \
        bash -c '! grep "^ *run: " <<<"$1" | grep -vE "^ *run: echo [0-9]+ > /proc/irq/[0-9]+/smp_affinity_list$"' _ "$out"
    check "NIC dry run changes nothing" equal "$(for irq in $msi; do cat "/proc/irq/$irq/smp_affinity_list"; done)" "$before"
    runs - tuning/irq-affinity.sh "$nic" --cpus "$cpus_online"
    check "every CPU a worker: explained" has_line '^\[unsupported\] irq-affinity: every CPU near the NIC'
fi

echo "== sysctl.sh"
for key in $(awk -F' *= *' '/^[a-z]/ {print $1}' tuning/sysctl.d/60-peregrine.conf); do
    saved_sysctls+=("$key=$(sysctl -n "$key")")
done
runs - tuning/sysctl.sh --sysctl-dir "$sysctl_dir"
check "sysctl dry run exits 0" equal "$rc" 0
check "sysctl dry run: every command is sysctl -w of the file's values or the install" \
    bash -c '! grep "^ *run: " <<<"$1" | grep -vE "^ *run: (sysctl -q -w [a-z_.]+=[0-9]+|install -D -m 0644 .*/60-peregrine.conf '"$sysctl_dir"'/60-peregrine.conf)$"' _ "$out"
check "sysctl dry run installs nothing" test ! -e "$sysctl_dir/60-peregrine.conf"
runs - tuning/sysctl.sh --sysctl-dir "$sysctl_dir" --apply
check "sysctl apply exits 0" equal "$rc" 0
check "sysctl apply set every value of the file" bash -c '
    awk -F" *= *" "/^[a-z]/ {print \$1, \$2}" tuning/sysctl.d/60-peregrine.conf |
    while read -r key value; do [[ $(sysctl -n "$key") == "$value" ]] || exit 1; done'
check "sysctl apply installed the file" cmp -s tuning/sysctl.d/60-peregrine.conf "$sysctl_dir/60-peregrine.conf"
runs - tuning/sysctl.sh --sysctl-dir "$sysctl_dir" --apply
check "second sysctl apply says nothing to change" has_line '^sysctl.sh: kernel settings: nothing to change'
runs "$ns" tuning/sysctl.sh --sysctl-dir "$sysctl_dir"
check "in a network namespace the global settings are explained, not failed" \
    has_line '^\[unsupported\] net.core.netdev_max_backlog: this kernel has no such setting'

echo "tuning tests: $((checks - failures))/$checks checks passed"
[[ $failures -eq 0 ]]
