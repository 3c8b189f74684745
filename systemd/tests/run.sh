#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Tests of systemd/: every directive of the unit carries a comment; `systemd-analyze verify` passes;
# `systemd-analyze security --offline` rates it OK or better, and the READMEs quote that score; the
# sysusers and tmpfiles snippets create the user and log directory in a scratch root; install.sh
# (dry run, install, second install) into a scratch prefix; the environment template's options are
# accepted by the binary; and the release binary captures on a veth in a network namespace as an
# unprivileged user holding exactly the unit's AmbientCapabilities, under the unit's system call
# filter, address families, MemoryDenyWriteExecute= and NoNewPrivileges= (sandbox.py), and fails
# without CAP_NET_RAW or AF_PACKET; the same user and sandbox capture with AF_XDP. systemd need not be PID 1. Skips with a one-line reason without
# root or the tools.
set -euo pipefail

usage() {
    echo "Usage: systemd/tests/run.sh [--bin PATH]   (default .build/release/peregrine)"
}

cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$root/.build/release/peregrine
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --bin) bin=$(realpath "${2:?--bin needs a path}"); shift 2 ;;
    *) echo "systemd tests: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
if [[ $(id -u) -ne 0 ]]; then echo "systemd tests: skipped (need root: network namespaces, chown)"; exit 0; fi
for tool in systemd-analyze systemd-sysusers systemd-tmpfiles setpriv ip tcpreplay; do
    command -v "$tool" >/dev/null || { echo "systemd tests: skipped (need $tool: scripts/install-deps.sh)"; exit 0; }
done
/usr/bin/python3 -c 'import seccomp' 2>/dev/null ||
    { echo "systemd tests: skipped (need Debian's python3-seccomp: scripts/install-deps.sh)"; exit 0; }
[[ -x $bin ]] || { echo "systemd tests: no binary at $bin (swift build -c release)" >&2; exit 1; }

unit=systemd/peregrine.service
scratch=$(mktemp -d -t peregrine-systemd.XXXXXX)
chmod 0755 "$scratch" # the unprivileged capture below writes under it
tag=$$
capture_pid=""
cleanup() {
    [[ -z $capture_pid ]] || kill -KILL "$capture_pid" 2>/dev/null || true
    ip netns del "prg-sd-send-$tag" 2>/dev/null || true
    ip netns del "prg-sd-cap-$tag" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

failures=0
checks=0
out=""
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
equal() { [[ $1 == "$2" ]]; }
has_line() { grep -qE "$1" <<<"$out"; }

echo "== peregrine.service"
# A directive is a Key=value line; the line above it must be a comment (or it continues a comment
# block that ends right above it).
out=$(awk '/^[A-Za-z]+=/ && prev !~ /^#/ {print FILENAME ":" FNR ": " $0 " has no comment above it"} {prev = $0}' "$unit")
check "every directive has a comment saying why" equal "$out" ""

# verify checks that ExecStart's binary exists: a copy of the unit runs the binary under test instead
# of /usr/local/bin/peregrine. --man=no: the man pages of Documentation= are not installed in CI.
mkdir -p "$scratch/verify"
sed "s#^ExecStart=/usr/local/bin/peregrine #ExecStart=$bin #" "$unit" >"$scratch/verify/peregrine.service"
out=$(systemd-analyze verify --man=no "$scratch/verify/peregrine.service" 2>&1) && rc=0 || rc=$?
check "systemd-analyze verify passes with no message" equal "$rc:$out" "0:"
sed 's#^LimitMEMLOCK=infinity#LimitMEMLOCK=lots#' "$scratch/verify/peregrine.service" >"$scratch/verify/broken.service"
out=$(systemd-analyze verify --man=no "$scratch/verify/broken.service" 2>&1) || true
check "verify reports a bad value (negative control: it warns and exits 0, hence no message above)" \
    has_line "Failed to parse resource value, ignoring: lots"

# Exposure bands of systemd-analyze security (src/analyze/analyze-security.c, badness_table):
# >= 10.0 DANGEROUS, 9.0 UNSAFE, 7.5 EXPOSED, 5.0 MEDIUM, 1.0 OK, 0.1 SAFE, 0.0 PERFECT.
# --threshold=49 makes the command itself fail above 4.9, the top of the OK band.
out=$(systemd-analyze security --offline=true --no-pager --threshold=49 "$unit" 2>&1) && rc=0 || rc=$?
check "systemd-analyze security --offline exits 0 at --threshold=49" equal "$rc" 0
summary=$(sed -n 's/^→ Overall exposure level for peregrine.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' <<<"$out")
read -r score band <<<"$summary"
check "exposure is in the OK band or better (got ${summary:-nothing})" bash -c '[[ $1 =~ ^(OK|SAFE|PERFECT)$ ]]' _ "${band:-}"
echo "      systemd-analyze security --offline=true $unit: ${score:-?} ${band:-?}"
out=$(grep -n "${score:-none} ${band:-none}" README.md systemd/README.md || true)
check "README.md and systemd/README.md quote the score ${score:-?} ${band:-?}" equal "$(cut -d: -f1 <<<"$out" | sort -u | tr '\n' ' ')" "README.md systemd/README.md "

echo "== sysusers, tmpfiles, configuration file"
mkdir -p "$scratch/root/etc"
out=$(systemd-sysusers --root="$scratch/root" "$root/systemd/peregrine.sysusers" 2>&1) && rc=0 || rc=$?
check "systemd-sysusers creates the user" equal "$rc" 0
entry=$(grep '^peregrine:' "$scratch/root/etc/passwd" || true)
out=$entry
check "system user, no login shell, home /" bash -c 'IFS=: read -r _ _ uid _ _ home shell <<<"$1"; [[ $uid -lt 1000 && $home == / && $shell == /usr/sbin/nologin ]]' _ "$entry"
check "group peregrine exists" grep -q '^peregrine:' "$scratch/root/etc/group"
out=$(systemd-tmpfiles --root="$scratch/root" --create "$root/systemd/peregrine.tmpfiles" 2>&1) && rc=0 || rc=$?
check "systemd-tmpfiles creates /var/log/peregrine" equal "$rc:$(stat -c %a "$scratch/root/var/log/peregrine" 2>&1)" "0:750"
check "/var/log/peregrine belongs to the user" equal "$(stat -c %u:%g "$scratch/root/var/log/peregrine" 2>&1)" \
    "$(cut -d: -f3,4 <<<"${entry:-no:entry:-:-}")"

out=$(sed -n 's/^ExecStart=//p' "$unit")
check "the unit runs the one configuration file" equal "$out" "/usr/local/bin/peregrine --config /etc/peregrine/peregrine.yaml"
# The template's values are an 8-CPU sensor's: on this machine one worker and no CPU list.
sed -e 's/^  workers: .*/  workers: 1/' -e '/^  cpus: /d' systemd/peregrine.yaml >"$scratch/peregrine.yaml"
out=$("$bin" check "$scratch/peregrine.yaml" 2>&1) && rc=0 || rc=$?
check "peregrine check accepts the template with this machine's workers" equal "$rc:$out" "0:$scratch/peregrine.yaml: OK"
mkdir -p "$scratch/options"
out=$("$bin" --config "$scratch/peregrine.yaml" -r Tests/Fixtures/Traces/demo/demo.pcap --logdir "$scratch/options" 2>&1) && rc=0 || rc=$?
check "the binary runs with the template" equal "$rc" 0

echo "== install.sh"
prefix=$scratch/prefix
out=$(systemd/install.sh --bin "$bin" --prefix "$prefix" --dry-run 2>&1) && rc=0 || rc=$?
check "dry run exits 0 and installs nothing" equal "$rc:$(ls -A "$prefix" 2>/dev/null)" "0:"
check "dry run lists the unit" has_line "^install +$prefix/etc/systemd/system/peregrine.service "
out=$(systemd/install.sh --bin "$bin" --prefix "$prefix" 2>&1) && rc=0 || rc=$?
check "install exits 0" equal "$rc" 0
check "unit, snippets, configuration file and binary in place" bash -c '
    cmp -s systemd/peregrine.service "$1/etc/systemd/system/peregrine.service" &&
    cmp -s systemd/peregrine.sysusers "$1/etc/sysusers.d/peregrine.conf" &&
    cmp -s systemd/peregrine.tmpfiles "$1/etc/tmpfiles.d/peregrine.conf" &&
    cmp -s systemd/peregrine.yaml "$1/etc/peregrine/peregrine.yaml" &&
    cmp -s "$2" "$1/usr/local/bin/peregrine" && [[ -x $1/usr/local/bin/peregrine ]] &&
    [[ -x $1/usr/local/lib/peregrine/tuning/nic.sh ]]' _ "$prefix" "$bin"
echo "# the operator's edit" >>"$prefix/etc/peregrine/peregrine.yaml"
out=$(systemd/install.sh --bin "$bin" --prefix "$prefix" 2>&1) && rc=0 || rc=$?
check "second install changes nothing" has_line '^install.sh: 0 file\(s\) installed'
check "second install keeps the operator's configuration file" bash -c 'tail -n 1 "$1" | grep -qx "# the operator.s edit"' _ "$prefix/etc/peregrine/peregrine.yaml"
out=$("$prefix/usr/local/lib/peregrine/tuning/sysctl.sh" 2>&1) && rc=0 || rc=$?
check "installed tuning scripts run (sysctl.sh dry run)" equal "$rc" 0

echo "== capture as an unprivileged user with the unit's capabilities and sandbox"
caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
[[ $caps == "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")" ]] || echo "note  bounding set differs from ambient set"
setpriv_caps=$(tr ' ' '\n' <<<"$caps" | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -)
without_raw=$(tr ',' '\n' <<<"$setpriv_caps" | grep -vx '+net_raw' | paste -sd, -)
send=prg-sd-send-$tag
cap=prg-sd-cap-$tag
ip netns add "$send"
ip netns add "$cap"
ip link add prgsdsend0 netns "$send" type veth peer name prgsdcap0 netns "$cap"
ip -n "$send" link set prgsdsend0 up
ip -n "$cap" link set prgsdcap0 up
logs=$scratch/live
mkdir -p "$logs"
chown 65534:65534 "$logs"
# as_user CAPS [SANDBOX_OPTIONS] -- CMD...: runs CMD as nobody holding CAPS (setpriv syntax) as its
# ambient, inheritable and bounding set, inside the unit's sandbox (sandbox.py). It execs, so call it
# in a subshell ($(...) or &); with & its pid is CMD's.
as_user() {
    local set=-all${1:+,$1}
    shift
    exec ip netns exec "$cap" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
        --inh-caps="$set" --ambient-caps="$set" --bounding-set="$set" \
        /usr/bin/python3 "$root/systemd/tests/sandbox.py" "$root/$unit" "$@"
}
as_user "$setpriv_caps" -- "$bin" -i prgsdcap0 --workers 2 --logdir "$logs" >"$scratch/live.out" 2>&1 &
capture_pid=$!
# Ready when both workers' packet sockets exist (owned by uid 65534) in the capturing namespace.
for _ in $(seq 100); do
    [[ $(ip netns exec "$cap" awk '$8 == 65534' /proc/net/packet | wc -l) -ge 2 ]] && break
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.1
done
ip netns exec "$send" tcpreplay -q --topspeed -i prgsdsend0 Tests/Fixtures/Traces/demo/demo.pcap >/dev/null 2>&1
sleep 1
kill -TERM "$capture_pid" 2>/dev/null || true
rc=0
wait "$capture_pid" || rc=$?
capture_pid=""
out=$(cat "$scratch/live.out")
check "captures with $caps only, in the sandbox, exit 0 on SIGTERM" equal "$rc" 0
out=$(tail -n 1 "$logs/conn.log" 2>&1)
check "conn.log written by the unprivileged user and closed" bash -c '[[ $(stat -c %u "$1") == 65534 ]] && tail -n 1 "$1" | grep -q "^#close"' _ "$logs/conn.log"
refused='[[ $1 -ne 0 ]] && grep -q "socket(AF_PACKET, SOCK_RAW) on prgsdcap0 failed: Operation not permitted" <<<"$2"'
out=$(as_user "$without_raw" -- "$bin" -i prgsdcap0 --logdir "$logs" 2>&1) && rc=0 || rc=$?
check "without CAP_NET_RAW the socket is refused (negative control)" bash -c "$refused" _ "$rc" "$out"
out=$(as_user "$setpriv_caps" --drop-family AF_PACKET -- "$bin" -i prgsdcap0 --logdir "$logs" 2>&1) && rc=0 || rc=$?
check "without AF_PACKET in the filter the socket is refused (the sandbox is in force)" bash -c "$refused" _ "$rc" "$out"

# AF_XDP the same way: the unit's capabilities load and attach the XDP program and bind the sockets,
# inside the sandbox. The UMEMs are kept under the 8 MiB RLIMIT_MEMLOCK of a user without CAP_IPC_LOCK
# (the unit lifts the limit with LimitMEMLOCK=infinity, which setpriv cannot).
make -s -C "$root/bpf"
xdp_logs=$scratch/live-xdp
mkdir -p "$xdp_logs"
chown 65534:65534 "$xdp_logs"
printf 'capture:\n  af_xdp:\n    frame_count: 1024\n    fill_ring_size: 1024\n    rx_ring_size: 1024\n' >"$scratch/xdp.yaml"
chmod 0644 "$scratch/xdp.yaml"
as_user "$setpriv_caps" -- "$bin" --config "$scratch/xdp.yaml" -i prgsdcap0 --capture af_xdp \
    --bpf-dir "$root/bpf/build" --workers 2 --logdir "$xdp_logs" >"$scratch/xdp.out" 2>&1 &
capture_pid=$!
# Ready when the program is attached (the sockets are in its map before it attaches).
for _ in $(seq 100); do
    ip -n "$cap" link show prgsdcap0 | grep -q ' xdp ' && break
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.1
done
sent=$(ip netns exec "$send" tcpreplay --topspeed -i prgsdsend0 Tests/Fixtures/Traces/demo/demo.pcap 2>&1 |
    awk '/Successful packets:/ { print $3 }')
sleep 1
kill -TERM "$capture_pid" 2>/dev/null || true
rc=0
wait "$capture_pid" || rc=$?
capture_pid=""
out=$(cat "$scratch/xdp.out")
# The program may also see what the sender's kernel sends of its own (IPv6 neighbour discovery).
seen=$(sed -nE 's/.*XDP program: packets ([0-9]+),.*/\1/p' <<<"$out")
redirected=$(sed -nE 's/.* redirected ([0-9]+), no_socket 0,.*/\1/p' <<<"$out")
check "captures with AF_XDP as the unprivileged user in the sandbox: the $sent replayed packets redirected, none dropped" \
    bash -c '[[ $1 -eq 0 && $3 -gt 0 && $4 -ge $3 && $5 == "$4" ]] &&
        grep -q "AF_XDP sockets: rx_dropped 0, rx_ring_full 0, fill ring empty 0" <<<"$2"' \
    _ "$rc" "$out" "${sent:-0}" "${seen:-0}" "${redirected:-x}"

echo "systemd tests: $((checks - failures))/$checks checks passed"
[[ $failures -eq 0 ]]
