ip link show eno1.30 >/dev/null 2>&1 || ip link add link eno1 name eno1.30 type vlan id 30
ip link set eno1.30 up
ip link show fn-30 >/dev/null 2>&1 || ip link add fn-30 link eno1.30 type macvlan mode bridge
ip addr replace 10.30.0.128/32 dev fn-30
ip link set fn-30 up
ip route replace 10.30.0.128/26 dev fn-30
ip link show eno1.40 >/dev/null 2>&1 || ip link add link eno1 name eno1.40 type vlan id 40
ip link set eno1.40 up
ip link show fn-40 >/dev/null 2>&1 || ip link add fn-40 link eno1.40 type macvlan mode bridge
ip addr replace 10.40.0.192/32 dev fn-40
ip -6 addr replace 2001:db8:40::1800/128 dev fn-40 nodad
ip link set fn-40 up
ip route replace 10.40.0.128/25 dev fn-40
ip -6 route replace 2001:db8:40::1000/116 dev fn-40
