#!/usr/bin/env bash
# perfdhcp against our server (`rdmactl dhcp serve`) and against Kea's memfile server, on the
# same veth pair in the same run, leases persisted by both. Prints DORA/s for each.
#
# Topology (namespaces made here, deleted on exit; traffic never leaves them):
#   leaf[sw0 10.111.0.1/16] <==veth==> pod[net1 10.111.0.2/16]
# perfdhcp runs in pod and acts as a relay (giaddr 10.111.0.2, unicast to 10.111.0.1:67,
# replies to 10.111.0.2:67), as in the issue's measurements.
#
# Usage (root): dhcp-ipam/perf/perfdhcp-vs-kea.sh
#   ROUNDS=2       rounds; each round runs ours, then Kea
#   SECS=15        seconds per perfdhcp run
#   RATE=20000     exchanges/s perfdhcp tries to start (above what either server sustains)
#   CLIENTS=50000  distinct clients (MACs)
#   RDMACTL=path   a prebuilt rdmactl; default: built here with the bench (optimized) profile
# Needs: iproute2, perfdhcp (Debian kea-admin), kea-dhcp4 (kea-dhcp4-server), cargo.
set -euo pipefail

ROUNDS=${ROUNDS:-2}
SECS=${SECS:-15}
RATE=${RATE:-20000}
CLIENTS=${CLIENTS:-50000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

log() { printf '[perf] %s\n' "$*" >&2; }
for p in ip perfdhcp kea-dhcp4; do
    command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || { log "missing $p"; exit 2; }
done
[ "$(id -u)" = 0 ] || { log "needs root (network namespaces)"; exit 2; }

if [ -z "${RDMACTL:-}" ]; then
    log "building rdmactl (bench profile)"
    (cd "$ROOT" && cargo build -q --profile bench -p rdmactl)
    RDMACTL="$ROOT/target/release/rdmactl"
fi

LEAF="dpk-leaf-$$"
POD="dpk-pod-$$"
WORK=$(mktemp -d /tmp/perfdhcp-vs-kea.XXXXXX)
SERVER_PID=""

cleanup() {
    stop_server
    ip netns del "$POD" 2>/dev/null || true
    ip netns del "$LEAF" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then log "kept $WORK"; else case "$WORK" in /tmp/perfdhcp-vs-kea.*) rm -rf -- "$WORK" ;; esac; fi
}
trap cleanup EXIT

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

wait_port67() {
    for _ in $(seq 100); do
        if ip netns exec "$LEAF" ss -Hlun 'sport = :67' | grep -q .; then return 0; fi
        sleep 0.1
    done
    log "server did not open udp/67"; return 1
}

ip netns add "$LEAF"
ip netns add "$POD"
ip -n "$LEAF" link set lo up
ip -n "$POD" link set lo up
ip link add sw0 netns "$LEAF" type veth peer name net1 netns "$POD"
ip -n "$LEAF" addr add 10.111.0.1/16 dev sw0
ip -n "$POD" addr add 10.111.0.2/16 dev net1
ip -n "$LEAF" link set sw0 up
ip -n "$POD" link set net1 up

cat >"$WORK/dhcpd.conf" <<CONF
authoritative;
default-lease-time 3600;
max-lease-time 7200;
subnet 10.111.0.0 netmask 255.255.0.0 {
  range 10.111.1.0 10.111.255.254;
  option routers 10.111.0.1;
}
CONF

cat >"$WORK/kea-dhcp4.json" <<CONF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "sw0" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true,
                        "name": "$WORK/kea-leases4.csv", "lfc-interval": 0 },
    "valid-lifetime": 3600, "max-valid-lifetime": 7200,
    "authoritative": true,
    "subnet4": [ { "id": 111, "subnet": "10.111.0.0/16",
        "pools": [ { "pool": "10.111.1.0 - 10.111.255.254" } ],
        "option-data": [ { "name": "routers", "data": "10.111.0.1" } ] } ],
    "loggers": [ { "name": "kea-dhcp4",
        "output_options": [ { "output": "$WORK/kea.log" } ], "severity": "WARN" } ]
} }
CONF

start_ours() {
    rm -f "$WORK"/ours.leases*
    ip netns exec "$LEAF" "$RDMACTL" dhcp serve --ifname sw0 --config "$WORK/dhcpd.conf" \
        --leases "$WORK/ours.leases" >"$WORK/ours.out" 2>&1 &
    SERVER_PID=$!
    wait_port67
}

start_kea() {
    rm -f "$WORK"/kea-leases4.csv*
    ip netns exec "$LEAF" env KEA_PIDFILE_DIR="$WORK" KEA_LOCKFILE_DIR="$WORK" \
        kea-dhcp4 -c "$WORK/kea-dhcp4.json" >"$WORK/kea.out" 2>&1 &
    SERVER_PID=$!
    wait_port67
    sleep 0.3
}

# One perfdhcp run; prints "<DORA/s> <drops>".
measure() {
    local out="$WORK/perfdhcp.$1.out"
    ip netns exec "$POD" perfdhcp -4 -l 10.111.0.2 -r "$RATE" -R "$CLIENTS" -p "$SECS" \
        10.111.0.1 >"$out" 2>&1 || true   # exits 3 when packets were dropped
    local rate drops
    rate=$(sed -n 's/^[Rr]ate: \([0-9.]*\) 4-way exchanges.*/\1/p' "$out" | tail -1)
    drops=$(sed -n 's/^ *drops: \([0-9]*\).*/\1/p' "$out" | paste -sd+ | bc 2>/dev/null || echo "?")
    [ -n "$rate" ] || { log "no rate in perfdhcp output:"; cat "$out" >&2; rate=0; }
    echo "$rate $drops"
}

declare -a OURS KEA
for r in $(seq "$ROUNDS"); do
    start_ours
    read -r rate drops < <(measure "ours.$r")
    stop_server
    leases=$(wc -l <"$WORK/ours.leases")
    log "round $r: ours $rate DORA/s (drops $drops, lease file $leases records)"
    OURS+=("$rate")

    start_kea
    read -r rate drops < <(measure "kea.$r")
    stop_server
    leases=$(($(wc -l <"$WORK/kea-leases4.csv") - 1))
    log "round $r: kea  $rate DORA/s (drops $drops, lease file $leases records)"
    KEA+=("$rate")
done

best() { printf '%s\n' "$@" | sort -g | tail -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\nperfdhcp relay, %s s per run, %s clients, target rate %s/s, %s rounds\n' "$SECS" "$CLIENTS" "$RATE" "$ROUNDS"
printf '%-26s %12s %12s\n' server "median DORA/s" "best DORA/s"
printf '%-26s %12s %12s\n' "rdmactl dhcp serve" "$(median "${OURS[@]}")" "$(best "${OURS[@]}")"
printf '%-26s %12s %12s\n' "kea-dhcp4 (memfile)" "$(median "${KEA[@]}")" "$(best "${KEA[@]}")"
