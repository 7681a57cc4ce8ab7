#!/bin/sh
# Captures the rtnetlink requests iproute2 sends (the bytes in tests/iproute2_golden.rs), in two
# namespaces made for it and deleted after. Needs root, iproute2 and strace. Run: sh tests/capture-iproute2.sh
set -e
A=rtnlcap-a; B=rtnlcap-b
ip netns add $A; ip netns add $B
trap 'ip netns del $A; ip netns del $B' EXIT
ip -n $A link add veth0 type veth peer name veth1
ip -n $A link set veth0 up; ip -n $A link set veth1 up
cap() { echo "### ip -n NS $*"; strace -f -e trace=sendmsg -e write=3 ip -n $A "$@" 2>&1 | grep -E '^ \| |^sendmsg\(3|exited|Error'; }
ip -n $A -o link show veth0
cap addr add 10.1.2.3/24 dev veth0 valid_lft 300 preferred_lft 300
cap addr replace 10.1.2.3/24 broadcast 10.1.2.255 dev veth0 valid_lft 600 preferred_lft 600
cap route add 10.9.0.0/16 via 10.1.2.1 dev veth0
cap route replace default via 10.1.2.1 dev veth0 proto dhcp
cap route del 10.9.0.0/16 via 10.1.2.1 dev veth0
cap addr del 10.1.2.3/24 dev veth0
ip -n $A link set veth0 down
cap link set dev veth0 name net1 netns $B
ip -n $B -o link show
