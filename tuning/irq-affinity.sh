#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# irq-affinity.sh: pin a capture NIC's interrupts to CPUs of the NIC's NUMA node that run no worker,
# one CPU per interrupt in turn, and keep irqbalance from moving them back. Dry run by default;
# idempotent with --apply. tuning/README.md explains why and which counters show the need.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: tuning/irq-affinity.sh IFACE --cpus LIST [--apply]

  --cpus LIST  the workers' CPUs (as given to peregrine --cpus, e.g. 2-7): interrupts go to the
               other CPUs of the NIC's NUMA node
  --apply      write /proc/irq/N/smp_affinity_list and stop irqbalance (root)
Without --cpus it shows where the interrupts are now and changes nothing.
Exit status: 0, 2 on a usage or setup error, 3 when --apply had a change refused by the kernel.
USAGE
}

# shellcheck source=tuning/lib.sh
. "$(dirname "$0")/lib.sh"

iface=""
cpus=""
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --apply) tune_apply=1; shift ;;
    --cpus)
        cpus=${2:-}
        if [[ -z $cpus ]] || ! cpulist_expand "$cpus" >/dev/null; then tune_die "--cpus needs a CPU list such as 2-7 or 1,3"; fi
        shift 2 ;;
    -*) tune_die "unknown option '$1' (see --help)" ;;
    *) [[ -z $iface ]] || tune_die "one interface only (run once per interface)"; iface=$1; shift ;;
    esac
done
tune_need_interface "$iface"
tune_need_root

echo "$tune_name: $iface ($(tune_mode))"

# The PCI function holds the interrupts and the NUMA node; for virtio_net the net device's parent is
# the virtio device, whose parent is the PCI function.
pci=""
for dir in /sys/class/net/$iface/device /sys/class/net/$iface/device/..; do
    if [[ -d $dir/msi_irqs || -r $dir/irq ]]; then
        pci=$(realpath "$dir")
        break
    fi
done

why="the kernel's receive work (NAPI softirq, the copy into the AF_PACKET ring) runs on the CPU that takes the queue's interrupt; on a worker's CPU it competes with that worker, on another NUMA node every frame crosses the interconnect"
counter="per-CPU interrupt counts in /proc/interrupts and the softirq rows of /proc/net/softnet_stat (2nd column: drops, 3rd: time squeezed) on the workers' CPUs; stats.log pkts_dropped rising while the workers' CPUs are not busy"

irqs=()
if [[ -n $pci ]]; then
    if [[ -d $pci/msi_irqs ]]; then
        mapfile -t irqs < <(ls "$pci/msi_irqs" | sort -n)
    else
        irqs=("$(cat "$pci/irq")")
    fi
fi
if [[ ${#irqs[@]} -eq 0 ]]; then
    tune_unsupported irq-affinity "$iface has no device interrupts (a virtual interface such as veth: its receive work runs on the sending CPU)"
else
    node=$(cat "$pci/numa_node" 2>/dev/null || echo -1)
    if [[ $node -ge 0 && -r /sys/devices/system/node/node$node/cpulist ]]; then
        node_cpus=$(cat "/sys/devices/system/node/node$node/cpulist")
        where="NUMA node $node (CPUs $node_cpus)"
    else
        node_cpus=$(cat /sys/devices/system/cpu/online)
        where="no NUMA node reported (one node): CPUs $node_cpus"
    fi
    echo "$tune_name: $iface: interrupts ${irqs[*]} on $pci, $where"
    if [[ -z $cpus ]]; then
        for irq in "${irqs[@]}"; do
            tune_skip "irq $irq" "on CPUs $(cat "/proc/irq/$irq/smp_affinity_list"); pass --cpus LIST (the workers' CPUs) to pin it away from them"
        done
    else
        workers=" $(cpulist_expand "$cpus") "
        spare=()
        for cpu in $(cpulist_expand "$node_cpus"); do
            [[ $workers == *" $cpu "* ]] || spare+=("$cpu")
        done
        if [[ ${#spare[@]} -eq 0 ]]; then
            tune_unsupported irq-affinity "every CPU near the NIC ($node_cpus) is a worker CPU ($cpus): leave one of them to the interrupts (peregrine --cpus)"
        else
            irq_now() { cat "/proc/irq/$1/smp_affinity_list"; }
            i=0
            for irq in "${irqs[@]}"; do
                target=${spare[$((i % ${#spare[@]}))]}
                i=$((i + 1))
                knob "irq $irq" "irq_now $irq" "$target" "$why" "$counter" \
                    "echo $target > /proc/irq/$irq/smp_affinity_list"
            done
        fi
    fi
fi

# ---- irqbalance ---------------------------------------------------------------------------------------
# It rewrites smp_affinity every 10 s by its own policy, undoing the pinning above.
irqbalance_state() { systemctl is-active irqbalance 2>/dev/null || true; }
if ! pid=$(pgrep -x irqbalance | head -n 1); then
    tune_ok irqbalance "not running"
elif [[ -d /run/systemd/system ]]; then
    knob irqbalance irqbalance_state inactive \
        "irqbalance moves interrupts by its own policy every 10 s and would undo the pinning above" \
        "/proc/irq/N/smp_affinity_list of the NIC's interrupts changing after this script ran" \
        "systemctl disable --now irqbalance"
else
    tune_unsupported irqbalance "running (pid $pid) under an init that is not systemd: stop and disable it there, or list the workers' CPUs in IRQBALANCE_BANNED_CPULIST in /etc/default/irqbalance"
fi

tune_summary "$iface"
