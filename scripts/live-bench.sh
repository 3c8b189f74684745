#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Live capture benchmark on a veth pair: tcpreplay sends TRACE out of one end (in a network namespace
# of its own), `peregrine -i` captures the other end with N workers; then the same options offline
# (`peregrine -r TRACE`) give the reference conn.log.
#
#   scripts/live-bench.sh TRACE [--workers N] [--queues Q] [--capture af_packet|af_xdp|both]
#                         [--umem-frames F] [--mbps RATE | --pps RATE | --timing | --topspeed] [--bin PATH]
#                         [-- PEREGRINE_ARGS...]
#
# --queues Q gives the veth Q receive queues (the sender's flow hash spreads flows over them, as
# symmetric RSS does on a NIC); --capture picks peregrine's capture path (both: one run of each on
# the same trace, then the two side by side). AF_XDP runs need the bpf/ objects (`make -C bpf`; found in
# bpf/build) and use native mode; --umem-frames F sets capture.af_xdp frame_count (and the fill and
# RX ring sizes to match, 2 KiB frames) through a generated --config file.
# `--timing` replays with the trace's own timing. PEREGRINE_ARGS go to the live run; the offline
# reference run gets them without `--shunt` and `--shunt-bytes N` (shunting is live only), so
# `-- --shunt --bpf-dir bpf/build` measures what shunting keeps out of user space (the summary's
# "shunt:" line) against the same offline conn.log.
#
# Prints the sender's rate (tcpreplay's own figures: on veth the kernel's receive path runs on the
# sending CPU, so the sender is the limit), the packets peregrine received and the kernel dropped
# (AF_XDP: also every socket and XDP program counter),
# the received rate, the worker threads' CPU per packet (utime+stime of the threads named
# peregrine-wN during the replay and 2 s after it, /proc/PID/task/TID/stat, 10 ms resolution), the
# whole process's CPU over the same time (the writer thread included), the process's peak RSS, and the cell
# recall of the live conn.log against the offline one (../shared/tools/zeekdiff --ignore ts,duration).
# Needs root, iproute2 and tcpreplay (scripts/install-deps.sh) and a release build
# (`swift build -c release`). Everything it creates (namespaces, veth, logs) is removed on exit,
# also on failure; KEEP=1 keeps the logs.
set -euo pipefail

usage() {
    echo "usage: $0 TRACE [--workers N] [--queues Q] [--capture af_packet|af_xdp|both] [--umem-frames F] [--mbps RATE | --pps RATE | --timing | --topspeed] [--bin PATH] [-- PEREGRINE_ARGS...]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
trace=$(realpath "$1")
shift
workers=2
queues=1
capture=af_packet
umem_frames=
rate=(--topspeed)
rate_options=(--topspeed)
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.build/release/peregrine"
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --workers) workers=$2; shift 2 ;;
        --queues) queues=$2; shift 2 ;;
        --capture) capture=$2; shift 2 ;;
        --umem-frames) umem_frames=$2; shift 2 ;;
        --mbps) rate=(--mbps="$2"); rate_options=(--mbps "$2"); shift 2 ;;
        --pps) rate=(--pps="$2"); rate_options=(--pps "$2"); shift 2 ;;
        --timing) rate=(); rate_options=(--timing); shift ;;
        --topspeed) rate=(--topspeed); rate_options=(--topspeed); shift ;;
        --bin) bin=$(realpath "$2"); shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) usage ;;
    esac
done
# The offline reference run: the same arguments without the live-only shunting ones.
offline_extra=()
skip=0
for arg in "${extra[@]}"; do
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    case "$arg" in
        --shunt) ;;
        --shunt-bytes) skip=1 ;;
        --shunt-bytes=*) ;;
        *) offline_extra+=("$arg") ;;
    esac
done
[[ -f $trace ]] || { echo "$0: no such trace: $trace" >&2; exit 2; }
case $capture in
    both)
        # One run per capture path on the same trace and veth layout, then the two summaries side by side.
        own=("$0" "$trace" --workers "$workers" --queues "$queues" --bin "$bin" "${rate_options[@]}")
        [[ -n $umem_frames ]] && own+=(--umem-frames "$umem_frames")
        for mode in af_packet af_xdp; do
            "${own[@]}" --capture "$mode" -- "${extra[@]}" | tee "/tmp/peregrine-live-bench-$$-$mode.out"
            echo
        done
        echo "side by side ($workers workers, $queues queue(s), ${rate_options[*]}):"
        for mode in af_packet af_xdp; do
            f=/tmp/peregrine-live-bench-$$-$mode.out
            printf '  %-9s  %s | %s | %s | %s\n' "$mode" "$(grep '^received rate:' "$f" | cut -c19-)" \
                "$(grep '^worker CPU:' "$f" | sed -E 's/.*s, ([0-9]+ ns\/packet).*/\1/')" \
                "$(grep '^received:' "$f" | cut -c19-)" "$(grep '^conn.log vs offline:' "$f" | grep -oE 'recall=[0-9.]+')"
            rm -f "$f"
        done
        exit 0
        ;;
    af_packet | af_xdp) ;;
    *) usage ;;
esac
[[ -x $bin ]] || { echo "$0: no peregrine binary at $bin (run: swift build -c release)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "$0: needs root (network namespaces, AF_PACKET)" >&2; exit 2; }
zeekdiff=$root/../shared/tools/zeekdiff

tag=$$
send_ns=prg-bench-send-$tag
cap_ns=prg-bench-cap-$tag
work=$(mktemp -d /tmp/peregrine-live-bench.XXXXXX)
pid=

cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid" 2>/dev/null || true
        sleep 2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    ip netns del "$send_ns" 2>/dev/null || true
    ip netns del "$cap_ns" 2>/dev/null || true
    if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Namespaces and veth as the tests build them (Tests/PeregrineTestSupport/VethNamespaces.swift):
# IPv6 off, no addresses, so neither kernel sends anything of its own.
ip netns add "$send_ns"
ip netns add "$cap_ns"
queue_args=()
[[ $queues -gt 1 ]] && queue_args=(numtxqueues "$queues" numrxqueues "$queues")
ip link add prgbsend0 netns "$send_ns" "${queue_args[@]}" type veth peer name prgbcap0 netns "$cap_ns" "${queue_args[@]}"
for pair in "$send_ns:prgbsend0" "$cap_ns:prgbcap0"; do
    ns=${pair%%:*}
    ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
    ip -n "$ns" link set "${pair#*:}" up
done

mkdir -p "$work/live" "$work/offline"
capture_args=(--capture "$capture")
if [[ $capture == af_xdp ]]; then
    make -s -C "$root/bpf"
    capture_args+=(--bpf-dir "$root/bpf/build")
    if [[ -n $umem_frames ]]; then
        cat >"$work/peregrine.yaml" <<EOF
capture:
  af_xdp:
    frame_size: 2048
    frame_count: $umem_frames
    fill_ring_size: $umem_frames
    rx_ring_size: $umem_frames
EOF
        capture_args+=(--config "$work/peregrine.yaml")
    fi
fi
ip netns exec "$cap_ns" "$bin" -i prgbcap0 --workers "$workers" --logdir "$work/live" "${capture_args[@]}" "${extra[@]}" \
    >"$work/peregrine.out" 2>&1 &
pid=$!

# Ready when every worker thread exists (its socket joined the fanout group before it started).
for _ in $(seq 1 300); do
    named=$(cat "/proc/$pid"/task/*/comm 2>/dev/null | grep -c '^peregrine-w' || true)
    [[ $named -ge $workers ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/peregrine.out" >&2; exit 1; }
    sleep 0.1
done
sleep 0.5

# CPU ticks (utime + stime, fields 14 and 15: 12th and 13th after the ")" that ends the name) of the
# threads named peregrine-w*, or of the whole process with "all". Read before and after the replay,
# so the workers' start-up (building their tables) is not counted.
cpu_ticks() {
    local total=0 task f
    for task in "/proc/$pid"/task/*; do
        [[ $1 == all || $(cat "$task/comm" 2>/dev/null) == peregrine-w* ]] || continue
        read -r -a f <<<"$(sed 's/.*) //' "$task/stat")"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}
ticks=$(getconf CLK_TCK)
workers_before=$(cpu_ticks workers)
process_before=$(cpu_ticks all)

ip netns exec "$send_ns" tcpreplay -i prgbsend0 "${rate[@]}" "$trace" >"$work/tcpreplay.out" 2>&1
# Let the last blocks retire (10 ms block timeout) and the workers catch up.
sleep 2

worker_ticks=$(($(cpu_ticks workers) - workers_before))
process_ticks=$(($(cpu_ticks all) - process_before))
peak_rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")

kill -INT "$pid"
wait "$pid" || { echo "peregrine failed:" >&2; cat "$work/peregrine.out" >&2; exit 1; }
pid=
summary=$(grep -E 'packets received on' "$work/peregrine.out" | tail -1)
xdp_lines=$(grep -E '^peregrine: AF_XDP' "$work/peregrine.out" || true)

sent=$(awk '/Actual:/ { print $2 }' "$work/tcpreplay.out")
seconds=$(awk '/Actual:/ { for (i = 1; i <= NF; i++) if ($i == "sent") print $(i + 2) }' "$work/tcpreplay.out")
mbps=$(awk '/Rated:/ { for (i = 1; i <= NF; i++) if ($i ~ /^Mbps/) print $(i - 1) }' "$work/tcpreplay.out" | tr -d ,)
pps=$(awk '/Rated:/ { for (i = 1; i <= NF; i++) if ($i ~ /^pps/) print $(i - 1) }' "$work/tcpreplay.out" | tr -d ,)
received=$(sed -E 's/.*: ([0-9]+) packets received on .*/\1/' <<<"$summary")
dropped=$(sed -E 's/.* ([0-9]+) dropped by the kernel.*/\1/' <<<"$summary")
processed=$(sed -E 's/.*; ([0-9]+) processed by .*/\1/' <<<"$summary")

(cd "$work/offline" && "$bin" -r "$trace" --workers "$workers" "${offline_extra[@]}")

echo "capture:          $capture, $workers workers, veth with $queues queue(s)"
echo "trace:            $trace ($sent packets sent by tcpreplay ${rate[*]:-at the trace timing})"
echo "sender:           $pps packets/s, $(awk -v m="$mbps" 'BEGIN { printf "%.3f", m / 1000 }') Gbit/s, $seconds s"
echo "peregrine:        ${summary#peregrine: }"
echo "received:         $received packets ($processed processed), $dropped kernel drops"
if [[ -n $xdp_lines ]]; then
    while IFS= read -r line; do echo "xdp:              ${line#peregrine: }"; done <<<"$xdp_lines"
fi
echo "received rate:    $(awk -v n="$processed" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') packets/s over the sender's $seconds s"
echo "worker CPU:       $(awk -v t="$worker_ticks" -v h="$ticks" -v n="$processed" 'BEGIN { printf "%.3f s, %.0f ns/packet", t / h, t / h * 1e9 / n }') ($workers threads peregrine-w*); whole process $(awk -v t="$process_ticks" -v h="$ticks" 'BEGIN { printf "%.3f s", t / h }') (replay + 2 s)"
echo "peak RSS:         $((peak_rss_kb / 1024)) MiB"
if grep -q 'peregrine: shunt:' "$work/peregrine.out"; then
    echo "shunt:            $(grep 'peregrine: shunt:' "$work/peregrine.out" | tail -1 | sed 's/^peregrine: shunt: //')"
fi
if [[ -x $zeekdiff ]]; then
    "$zeekdiff" "$work/offline" "$work/live" --logs conn --ignore ts,duration >"$work/zeekdiff.out"
    echo "conn.log vs offline: $(grep '^conn.log' "$work/zeekdiff.out")"
else
    echo "conn.log vs offline: $zeekdiff not found"
fi
