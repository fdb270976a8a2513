ip link show dev docker-link >/dev/null 2>&1 || ip link add link enp3s0 name docker-link type macvlan mode bridge
ip link set dev docker-link alias flatnet:macvlan1
ip -o addr show dev docker-link scope global | while read -r _ _ _ addr _; do case $addr in 192.168.88.192/32) ;; *) ip addr del "$addr" dev docker-link ;; esac; done
ip addr replace 192.168.88.192/32 dev docker-link
ip link set dev docker-link up
ip route replace 192.168.88.192/27 dev docker-link
ip route show dev docker-link | while read -r dst rest; do case "$dst $rest " in '192.168.88.192/27 '*|*' proto kernel '*) ;; *) ip route del "$dst" dev docker-link ;; esac; done
ip -6 route show dev docker-link 2>/dev/null | while read -r dst rest; do case "$dst $rest " in *' proto kernel '*) ;; *) ip -6 route del "$dst" dev docker-link ;; esac; done
