#!/bin/sh
# Captures the RDMA netlink requests iproute2's `rdma` tool sends (the bytes in
# tests/iproute2_golden.rs). This machine's kernel has no NETLINK_RDMA, so the tool runs with the
# LD_PRELOAD shim tests/capture/nl_rdma_shim.c, which stands in for the kernel's socket, logs each
# request as a line of hex and answers it (one device, mlx5_0 with index 5; netns mode shared).
# Needs gcc, iproute2's rdma and, for the netns move, root (it makes and deletes a namespace).
# Run from rdma-nl/: sh tests/capture-iproute2.sh
set -e
DIR=$(mktemp -d)
NS=rdmacap-pod
trap 'rm -rf "$DIR"; ip netns del $NS 2>/dev/null || true' EXIT
gcc -shared -fPIC -Wall -o "$DIR/shim.so" tests/capture/nl_rdma_shim.c -ldl
rdma -V
cap() { echo "### rdma $*"; : > "$DIR/log"; RDMA_SHIM_LOG="$DIR/log" LD_PRELOAD="$DIR/shim.so" rdma "$@"; cat "$DIR/log"; }
cap dev
cap link
cap system show
cap system set netns exclusive
cap system set netns shared
ip netns add $NS
cap dev set mlx5_0 netns $NS
