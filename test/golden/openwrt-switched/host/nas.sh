ip link show dev enp3s0.200 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.200 type vlan id 200 && ip link set dev enp3s0.200 alias flatnet:enp3s0.200; }
ip link set dev enp3s0.200 up
ip link show dev fn-200 >/dev/null 2>&1 || ip link add link enp3s0.200 name fn-200 type macvlan mode bridge
ip link set dev fn-200 alias flatnet:apps
ip -o addr show dev fn-200 scope global | while read -r _ _ _ addr _; do case $addr in 192.168.200.192/32) ;; *) ip addr del "$addr" dev fn-200 ;; esac; done
ip addr replace 192.168.200.192/32 dev fn-200
ip link set dev fn-200 up
ip route replace 192.168.200.192/27 dev fn-200
ip route show dev fn-200 | while read -r dst rest; do case "$dst $rest " in '192.168.200.192/27 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-200 ;; esac; done
ip -6 route show dev fn-200 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-200 ;; esac; done
ip link show dev enp3s0.400 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.400 type vlan id 400 && ip link set dev enp3s0.400 alias flatnet:enp3s0.400; }
ip link set dev enp3s0.400 up
ip link show dev fn-400 >/dev/null 2>&1 || ip link add link enp3s0.400 name fn-400 type macvlan mode bridge
ip link set dev fn-400 alias flatnet:cams
ip -o addr show dev fn-400 scope global | while read -r _ _ _ addr _; do case $addr in 192.168.40.192/32) ;; *) ip addr del "$addr" dev fn-400 ;; esac; done
ip addr replace 192.168.40.192/32 dev fn-400
ip link set dev fn-400 up
ip route replace 192.168.40.192/27 dev fn-400
ip route show dev fn-400 | while read -r dst rest; do case "$dst $rest " in '192.168.40.192/27 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-400 ;; esac; done
ip -6 route show dev fn-400 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-400 ;; esac; done
