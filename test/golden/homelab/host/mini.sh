ip link show dev eno1.30 >/dev/null 2>&1 || { ip link add link eno1 name eno1.30 type vlan id 30 && ip link set dev eno1.30 alias flatnet:eno1.30; }
ip link set dev eno1.30 up
ip link show dev fn-30 >/dev/null 2>&1 || ip link add link eno1.30 name fn-30 type macvlan mode bridge
ip link set dev fn-30 alias flatnet:iot
ip -o addr show dev fn-30 scope global | while read -r _ _ _ addr _; do case $addr in 10.30.0.128/32) ;; *) ip addr del "$addr" dev fn-30 ;; esac; done
ip addr replace 10.30.0.128/32 dev fn-30
ip link set dev fn-30 up
ip route replace 10.30.0.128/26 dev fn-30
ip route show dev fn-30 | while read -r dst rest; do case "$dst $rest " in '10.30.0.128/26 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-30 ;; esac; done
ip -6 route show dev fn-30 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-30 ;; esac; done
ip link show dev eno1.40 >/dev/null 2>&1 || { ip link add link eno1 name eno1.40 type vlan id 40 && ip link set dev eno1.40 alias flatnet:eno1.40; }
ip link set dev eno1.40 up
ip link show dev fn-40 >/dev/null 2>&1 || ip link add link eno1.40 name fn-40 type macvlan mode bridge
ip link set dev fn-40 alias flatnet:dmz
ip -o addr show dev fn-40 scope global | while read -r _ _ _ addr _; do case $addr in 10.40.0.192/32|2001:db8:40::1800/128) ;; *) ip addr del "$addr" dev fn-40 ;; esac; done
ip addr replace 10.40.0.192/32 dev fn-40
ip -6 addr replace 2001:db8:40::1800/128 dev fn-40 nodad
ip link set dev fn-40 up
ip route replace 10.40.0.128/25 dev fn-40
ip route show dev fn-40 | while read -r dst rest; do case "$dst $rest " in '10.40.0.128/25 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-40 ;; esac; done
ip -6 route replace 2001:db8:40::1000/116 dev fn-40
ip -6 route show dev fn-40 2>/dev/null | while read -r dst rest; do case "$dst $rest " in '2001:db8:40::1000/116 '*|*' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-40 ;; esac; done
