ip link show dev lan-shim >/dev/null 2>&1 || ip link add link enp3s0 name lan-shim type macvlan mode bridge
ip link set dev lan-shim alias flatnet:lan-apps
ip -o addr show dev lan-shim scope global | while read -r _ _ _ addr _; do case $addr in 192.168.88.192/32) ;; *) ip addr del "$addr" dev lan-shim ;; esac; done
ip addr replace 192.168.88.192/32 dev lan-shim
ip link set dev lan-shim up
ip route replace 192.168.88.192/27 dev lan-shim
ip route show dev lan-shim | while read -r dst rest; do case "$dst $rest " in '192.168.88.192/27 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev lan-shim ;; esac; done
ip -6 route show dev lan-shim 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev lan-shim ;; esac; done
ip link show dev enp3s0.20 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.20 type vlan id 20 && ip link set dev enp3s0.20 alias flatnet:enp3s0.20; }
ip link set dev enp3s0.20 up
ip link show dev fn-20 >/dev/null 2>&1 || ip link add link enp3s0.20 name fn-20 type macvlan mode bridge
ip link set dev fn-20 alias flatnet:media
ip -o addr show dev fn-20 scope global | while read -r _ _ _ addr _; do case $addr in 10.20.0.64/32) ;; *) ip addr del "$addr" dev fn-20 ;; esac; done
ip addr replace 10.20.0.64/32 dev fn-20
ip link set dev fn-20 up
ip route replace 10.20.0.64/26 dev fn-20
ip route show dev fn-20 | while read -r dst rest; do case "$dst $rest " in '10.20.0.64/26 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-20 ;; esac; done
ip -6 route show dev fn-20 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-20 ;; esac; done
ip link show dev enp3s0.40 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.40 type vlan id 40 && ip link set dev enp3s0.40 alias flatnet:enp3s0.40; }
ip link set dev enp3s0.40 up
ip link show dev fn-40 >/dev/null 2>&1 || ip link add link enp3s0.40 name fn-40 type macvlan mode bridge
ip link set dev fn-40 alias flatnet:dmz
ip -o addr show dev fn-40 scope global | while read -r _ _ _ addr _; do case $addr in 10.40.0.128/32|2001:db8:40::1000/128) ;; *) ip addr del "$addr" dev fn-40 ;; esac; done
ip addr replace 10.40.0.128/32 dev fn-40
ip -6 addr replace 2001:db8:40::1000/128 dev fn-40 nodad
ip link set dev fn-40 up
ip route replace 10.40.0.128/25 dev fn-40
ip route show dev fn-40 | while read -r dst rest; do case "$dst $rest " in '10.40.0.128/25 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-40 ;; esac; done
ip -6 route replace 2001:db8:40::1000/116 dev fn-40
ip -6 route show dev fn-40 2>/dev/null | while read -r dst rest; do case "$dst $rest " in '2001:db8:40::1000/116 '*|*' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-40 ;; esac; done
