ip link show dev docker-link >/dev/null 2>&1 || ip link add link enp3s0 name docker-link type macvlan mode bridge
ip link set dev docker-link alias flatnet:macvlan1
ip addr replace 192.168.88.192/32 dev docker-link
ip link set dev docker-link up
ip route replace 192.168.88.192/27 dev docker-link
