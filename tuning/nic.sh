#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# nic.sh: prepare a capture interface for Peregrine with ethtool: receive and segmentation offloads
# off, one receive queue per worker, a symmetric RSS hash, the largest receive ring. Dry run by
# default; idempotent with --apply. tuning/README.md explains each knob and the counter behind it.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: tuning/nic.sh IFACE [--apply] [--workers N | --channels N] [--rx-ring N] [--capture af_packet|af_xdp]

Prints, for each knob, the current value, the target, why, the counter that shows the knob matters
and the ethtool command; --apply runs the commands (root) and reads each value back.
  --workers N    one receive queue per worker (same as --channels N)
  --channels N   receive queues to keep (capped at the driver's maximum)
  --rx-ring N    receive ring entries (default: the driver's maximum)
  --capture M    af_packet (default) or af_xdp: AF_XDP also needs rx-vlan-offload off
Exit status: 0, 2 on a usage or setup error, 3 when --apply had a change refused by the driver.
USAGE
}

# shellcheck source=tuning/lib.sh
. "$(dirname "$0")/lib.sh"

iface=""
channels=""
rx_ring=""
capture=af_packet
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --apply) tune_apply=1; shift ;;
    --workers | --channels) channels=${2:-}; [[ $channels =~ ^[1-9][0-9]*$ ]] || tune_die "$1 needs a positive number"; shift 2 ;;
    --rx-ring) rx_ring=${2:-}; [[ $rx_ring =~ ^[1-9][0-9]*$ ]] || tune_die "--rx-ring needs a positive number"; shift 2 ;;
    --capture) capture=${2:-}; [[ $capture == af_packet || $capture == af_xdp ]] || tune_die "--capture is af_packet or af_xdp"; shift 2 ;;
    -*) tune_die "unknown option '$1' (see --help)" ;;
    *) [[ -z $iface ]] || tune_die "one interface only (run once per interface)"; iface=$1; shift ;;
    esac
done
tune_need_tool ethtool ethtool
tune_need_interface "$iface"
tune_need_root

echo "$tune_name: $iface ($(ethtool -i "$iface" 2>/dev/null | awk '/^driver:/ {print $2}'), $(tune_mode))"

# ---- offloads ---------------------------------------------------------------------------------------
# feature_value NAME: the value `ethtool -k` shows for NAME, without the "[fixed]"/"[requested ...]" note.
feature_value() { ethtool -k "$iface" | awk -F': ' -v n="$1" '$1 == n {split($2, v, " "); print v[1]}'; }
feature_line() { ethtool -k "$iface" | awk -F': ' -v n="$1" '$1 == n {print $2}'; }

oversize_counter="frames longer than the MTU in the capture: 'tcpdump -ni $iface -c 1000 greater 1515' prints them (with jumbo frames use the MTU + 15); conn.log byte counts and capture_loss.log go wrong around them"
# offload SHORT LONG WHY [COUNTER]: one offload that must be off; LONG is its name in `ethtool -k`.
offload() {
    local short=$1 long=$2 why=$3 counter=${4:-$oversize_counter} line
    line=$(feature_line "$long")
    case $line in
    "") tune_unsupported "$short" "the driver does not list $long" ;;
    "off [fixed]") tune_ok "$short" "off (fixed by the driver)" ;;
    "on [fixed]") tune_unsupported "$short" "fixed on by the driver: the capture will hold merged frames ($why)" ;;
    *) knob "$short" "feature_value $long" off "$why" "$counter" "ethtool -K $iface $short off" ;;
    esac
}
offload gro generic-receive-offload \
    "GRO merges a flow's segments in the kernel before AF_PACKET or XDP sees them: Peregrine gets one frame per burst, larger than the wire allowed, and TCP analysis, sizes and packet counts no longer match the wire"
offload lro large-receive-offload \
    "LRO is GRO done by the NIC, with the same effect and no way to see the original segments"
offload rx-gro-hw rx-gro-hw \
    "hardware GRO merges segments in the NIC (bnxt, qede, mlx5) or the hypervisor (virtio_net) like LRO"
offload tso tcp-segmentation-offload \
    "TSO lets a sender on this host hand over 64 KiB segments; where the capture port also carries this host's traffic (veth, a bridge) they are captured unsegmented"
offload gso generic-segmentation-offload \
    "GSO is TSO in software, with the same effect on anything this host sends through the port"
if [[ $capture == af_xdp ]]; then
    offload rxvlan rx-vlan-offload \
        "the NIC strips the 802.1Q tag into metadata that AF_XDP does not hand over: the vlan field of conn.log would be lost (AF_PACKET puts it back from the ring header)" \
        "conn.log's vlan column (protocols/conn/vlan-logging) empty for traffic that 'tcpdump -eni $iface vlan' shows tagged"
else
    tune_skip rxvlan "kept: AF_PACKET reports a stripped tag in the ring header and Peregrine writes it back into the frame (--capture af_xdp turns it off)"
fi

# ---- channels (receive queues) ------------------------------------------------------------------------
# channel_field SECTION FIELD: from `ethtool -l`, SECTION 1 = maximums, 2 = current; "n/a" reads as 0.
channel_field() {
    ethtool -l "$iface" | awk -v s="$1" -v f="$2:" '
        /^Pre-set maximums/ {sec = 1} /^Current hardware settings/ {sec = 2}
        sec == s && $1 == f {print ($2 ~ /^[0-9]+$/ ? $2 : 0); exit}'
}
channels_now() {
    if [[ $(channel_field 1 Combined) -gt 0 ]]; then
        echo "combined $(channel_field 2 Combined)"
    elif [[ $(channel_field 1 TX) -gt 0 ]]; then
        echo "rx $(channel_field 2 RX) tx $(channel_field 2 TX)"
    else
        echo "rx $(channel_field 2 RX)"
    fi
}
channels_why="one receive queue per worker: with a symmetric RSS hash each queue carries whole flows, and AF_XDP binds one socket per queue (linux-capture-facts.md 3.2); with AF_PACKET the queues spread the kernel's receive work over the CPUs their IRQs are pinned to"
channels_counter="per-queue packets and drops in 'ethtool -S $iface' (rx_queue_N_packets, rx_queue_N_drops or the driver's names) and per-CPU rows of /proc/net/softnet_stat show the spread"
if ! ethtool -l "$iface" >/dev/null 2>&1; then
    tune_unsupported channels "the driver does not report channels (ethtool -l fails): one receive queue"
elif [[ -z $channels ]]; then
    tune_skip channels "now $(channels_now); pass --workers N for one receive queue per worker"
else
    combined_max=$(channel_field 1 Combined)
    rx_max=$(channel_field 1 RX)
    tx_max=$(channel_field 1 TX)
    max=$((combined_max > 0 ? combined_max : rx_max))
    want=$channels
    if [[ $max -eq 0 ]]; then
        tune_unsupported channels "the driver reports no receive channel maximum"
        want=""
    elif [[ $want -gt $max ]]; then
        tune_say "[note]" "channels: $want asked, the driver allows $max: using $max"
        want=$max
    fi
    if [[ -n $want ]]; then
        if [[ $combined_max -gt 0 ]]; then
            target="combined $want"
            cmd="ethtool -L $iface combined $want"
        elif [[ $tx_max -gt 0 ]]; then
            # veth has separate rx and tx queues and no combined ones; tx follows rx so that the peer
            # sending into this end can use every queue.
            tx=$((want < tx_max ? want : tx_max))
            target="rx $want tx $tx"
            cmd="ethtool -L $iface rx $want tx $tx"
        else
            target="rx $want"
            cmd="ethtool -L $iface rx $want"
        fi
        knob channels channels_now "$target" "$channels_why" "$channels_counter" "$cmd"
    fi
fi

# ---- RSS: symmetric hash ------------------------------------------------------------------------------
# Toeplitz with the key 6D:5A repeated hashes (a, b) and (b, a) alike for IPv4/IPv6 addresses and ports
# (Woo and Park, "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling", 2012).
rss_why="both directions of a flow must reach the same queue (and so the same AF_XDP worker); a random Toeplitz key sends them to different queues. The key 6D:5A repeated makes Toeplitz symmetric"
rss_counter="with one socket per queue: connections seen from one side only (conn.log history without the responder's letters, weird.log possible_split_routing); AF_PACKET's fanout hash is symmetric by itself"
rss_key() { ethtool -x "$iface" | awk '/^RSS hash key:/ {k = 1; next} /^RSS hash function:/ {k = 0} k && NF {printf "%s", $0}' | tr 'A-F' 'a-f'; }
rss_hfunc() { ethtool -x "$iface" | awk '/^RSS hash function:/ {h = 1; next} h && $2 == "on" {sub(":", "", $1); print $1; exit}'; }
rss_now() { echo "$(rss_hfunc) key $(rss_key)"; }
rss_xfrm() { ethtool -x "$iface" | awk '/symmetric-xor:/ {print $2; exit}'; }
ethtool_at_least() {
    local v
    v=$(ethtool --version | awk '{print $3}')
    [[ $(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1) == "$1" ]]
}
if ! rss_out=$(ethtool -x "$iface" 2>&1); then
    tune_unsupported rss "the driver has no RSS indirection table or key (ethtool -x: ${rss_out//$'\n'/ }); on veth the sender's transmit queue choice spreads flows, symmetrically"
elif ! grep -q '^ *toeplitz: ' <<<"$rss_out"; then
    if grep -q '^ *symmetric-xor: ' <<<"$rss_out" && ethtool_at_least 6.8; then
        knob rss "rss_xfrm" on "$rss_why; this driver has no Toeplitz, symmetric-xor does the same" "$rss_counter" \
            "ethtool -X $iface xfrm symmetric-xor"
    else
        tune_unsupported rss "the driver offers no Toeplitz hash; symmetric-xor needs ethtool >= 6.8 and a driver that lists it (ethtool $(ethtool --version | awk '{print $3}') here)"
    fi
else
    key=$(rss_key)
    if [[ -z $key || $key == *[!0-9a-f:]* ]]; then
        tune_unsupported rss "the driver does not let the RSS key be read or set (hash key: ${key:-none})"
    else
        bytes=$(( (${#key} + 1) / 3 ))
        target_key=$(for ((i = 0; i < bytes; i += 2)); do printf '6d:5a:'; done | cut -c "1-$((bytes * 3 - 1))")
        knob rss rss_now "toeplitz key $target_key" "$rss_why" "$rss_counter" \
            "ethtool -X $iface hkey $target_key hfunc toeplitz"
    fi
fi

# ---- receive ring -------------------------------------------------------------------------------------
ring_field() {
    ethtool -g "$iface" | awk -v s="$1" '
        /^Pre-set maximums/ {sec = 1} /^Current hardware settings/ {sec = 2}
        sec == s && $1 == "RX:" {print $2; exit}'
}
ring_now() { ring_field 2; }
if ! ring_out=$(ethtool -g "$iface" 2>&1); then
    tune_unsupported rx-ring "the driver has no receive ring to size (ethtool -g: ${ring_out//$'\n'/ })"
else
    ring_max=$(ring_field 1)
    want=${rx_ring:-$ring_max}
    if [[ $want -gt $ring_max ]]; then
        tune_say "[note]" "rx-ring: $want asked, the driver allows $ring_max: using $ring_max"
        want=$ring_max
    fi
    knob rx-ring ring_now "$want" \
        "the NIC's receive ring absorbs bursts while the kernel's softirq is late; when it is full the NIC drops frames that neither the kernel nor Peregrine's pkts_dropped ever count" \
        "'ethtool -S $iface | grep -iE \"rx_missed|rx_no_buffer|rx_fifo|rx_discards|rx_dropped\"' and 'ip -s link show $iface' (missed)" \
        "ethtool -G $iface rx $want"
fi

tune_summary "$iface"
