ip link show dev eth0.218 >/dev/null 2>&1 || { ip link add link eth0 name eth0.218 type vlan id 218 && ip link set dev eth0.218 alias flatnet:eth0.218; }
ip link set dev eth0.218 up
ip link show dev fn-218 >/dev/null 2>&1 || ip link add link eth0.218 name fn-218 type macvlan mode bridge
ip link set dev fn-218 alias flatnet:macvlan216
ip addr replace 192.168.216.128/32 dev fn-218
ip -6 addr replace 2001:db8:abc8::1/128 dev fn-218 nodad
ip link set dev fn-218 up
ip route replace 192.168.216.128/25 dev fn-218
ip -6 route replace 2001:db8:abc8::/64 dev fn-218
