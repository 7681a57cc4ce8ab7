#!/bin/sh
# Side by side, in one run: `sriov` ADD+DEL of one VF on the veth-backed reference host
# (`rdmactl sim start --veth`, no IPAM) and the reference `host-device` plugin
# (/usr/lib/cni/host-device) moving a veth of the same kind into a netns and back; then 8
# parallel `sriov` ADDs on ens2f0 (wall time). Prints the medians of N pairs. Root only.
# Everything it makes it removes by name it made (namespaces with this run's PID).
#   BIN=target/release N=100 sh sriov-cni/benches/vs_host_device.sh
set -eu
BIN=${BIN:-target/release}
N=${N:-100}
HOSTDEV=${HOSTDEV:-/usr/lib/cni/host-device}
work=$(mktemp -d)
root=$work/node
mkdir "$root"
fab=sfb$$; hns=shb$$; hd=hdb$$
cleanup() {
    "$BIN/rdmactl" sim stop --root "$root" >/dev/null 2>&1 || true
    for ns in $hd pod$$ $(seq -f "pp$$-%g" 0 7); do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
"$BIN/rdmactl" sim start --root "$root" --veth --fabric $fab --host-netns $hns --vlans 0 >/dev/null
ip netns add pod$$
ip netns add $hd
ip -n $hd link add hdv0 type veth peer name hdv0p
ip -n $hd link set hdv0p up

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f ms\n", m/1e6}'; }

sriov_conf='{"cniVersion":"1.0.0","name":"bench","type":"sriov","deviceID":"0000:3b:00.5"}'
hd_conf='{"cniVersion":"1.0.0","name":"bench","type":"host-device","device":"hdv0"}'
run_sriov() {
    echo "$sriov_conf" | CNI_COMMAND=$1 CNI_CONTAINERID=bench CNI_NETNS=/var/run/netns/pod$$ \
        CNI_IFNAME=net1 CNI_PATH="$BIN" RDMA_SRIOV_HOST_ROOT="$root" "$BIN/sriov" >/dev/null
}
run_hd() {
    echo "$hd_conf" | ip netns exec $hd env CNI_COMMAND=$1 CNI_CONTAINERID=bench \
        CNI_NETNS=/var/run/netns/pod$$ CNI_IFNAME=net1 CNI_PATH=/usr/lib/cni "$HOSTDEV" >/dev/null
}
: > "$work/ours"; : > "$work/theirs"
i=0
while [ $i -lt "$N" ]; do
    t0=$(now); run_sriov ADD; run_sriov DEL; t1=$(now)
    run_hd ADD; run_hd DEL; t2=$(now)
    echo $((t1 - t0)) >> "$work/ours"; echo $((t2 - t1)) >> "$work/theirs"
    i=$((i + 1))
done
printf "sriov ADD+DEL (veth host, no IPAM), median of %s: " "$N"; median < "$work/ours"
printf "host-device ADD+DEL (veth), median of %s:        " "$N"; median < "$work/theirs"

# 8 parallel ADDs on ens2f0, one VF each
t0=$(now)
for v in 0 1 2 3 4 5 6 7; do
    ip netns add pp$$-$v
    pci=$(printf "0000:3b:%02x.%d" $(( (2 + v) / 8 )) $(( (2 + v) % 8 )))
    echo "{\"cniVersion\":\"1.0.0\",\"name\":\"bench\",\"type\":\"sriov\",\"deviceID\":\"$pci\"}" |
        CNI_COMMAND=ADD CNI_CONTAINERID=par$v CNI_NETNS=/var/run/netns/pp$$-$v CNI_IFNAME=net1 \
        CNI_PATH="$BIN" RDMA_SRIOV_HOST_ROOT="$root" "$BIN/sriov" > "$work/par$v" &
done
wait
t1=$(now)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "8 parallel ADDs on ens2f0: %.1f ms wall; ", (b - a) / 1e6 }'
grep -L '"pciID"' "$work"/par? | wc -l | xargs printf "%s failed\n"
