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
ip link show dev enp3s0.30 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.30 type vlan id 30 && ip link set dev enp3s0.30 alias flatnet:enp3s0.30; }
ip link set dev enp3s0.30 up
ip link show dev fn-30 >/dev/null 2>&1 || ip link add link enp3s0.30 name fn-30 type macvlan mode bridge
ip link set dev fn-30 alias flatnet:cams
ip -o addr show dev fn-30 scope global | while read -r _ _ _ addr _; do case $addr in 10.30.0.128/32) ;; *) ip addr del "$addr" dev fn-30 ;; esac; done
ip addr replace 10.30.0.128/32 dev fn-30
ip link set dev fn-30 up
ip route replace 10.30.0.128/26 dev fn-30
ip route show dev fn-30 | while read -r dst rest; do case "$dst $rest " in '10.30.0.128/26 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev fn-30 ;; esac; done
ip -6 route show dev fn-30 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev fn-30 ;; esac; done
