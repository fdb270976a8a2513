ip link show dev eth0.218 >/dev/null 2>&1 || { ip link add link eth0 name eth0.218 type vlan id 218 && ip link set dev eth0.218 alias flatnet:eth0.218; }
ip link set dev eth0.218 up
ip link show dev fn-218 >/dev/null 2>&1 || ip link add link eth0.218 name fn-218 type macvlan mode bridge
ip link set dev fn-218 alias flatnet:macvlan216
ip -o addr show dev fn-218 scope global | while read -r _ _ _ addr _; do case $addr in 192.168.216.128/32|2001:db8:abc8::1/128) ;; *) ip addr del "$addr" dev fn-218 ;; esac; done
ip addr replace 192.168.216.128/32 dev fn-218
ip -6 addr replace 2001:db8:abc8::1/128 dev fn-218 nodad
ip link set dev fn-218 up
ip route replace 192.168.216.128/25 dev fn-218
ip route show dev fn-218 | while read -r dst rest; do case "$dst $rest " in '192.168.216.128/25 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-218 ;; esac; done
ip -6 route replace 2001:db8:abc8::/64 dev fn-218
ip -6 route show dev fn-218 2>/dev/null | while read -r dst rest; do case "$dst $rest " in '2001:db8:abc8::/64 '*|*' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-218 ;; esac; done
