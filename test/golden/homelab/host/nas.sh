ip link show dev lan-shim >/dev/null 2>&1 || ip link add link enp3s0 name lan-shim type macvlan mode bridge
ip link set dev lan-shim alias flatnet:lan-apps
ip addr replace 192.168.88.192/32 dev lan-shim
ip link set dev lan-shim up
ip route replace 192.168.88.192/27 dev lan-shim
ip link show dev enp3s0.20 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.20 type vlan id 20 && ip link set dev enp3s0.20 alias flatnet:enp3s0.20; }
ip link set dev enp3s0.20 up
ip link show dev fn-20 >/dev/null 2>&1 || ip link add link enp3s0.20 name fn-20 type macvlan mode bridge
ip link set dev fn-20 alias flatnet:media
ip addr replace 10.20.0.64/32 dev fn-20
ip link set dev fn-20 up
ip route replace 10.20.0.64/26 dev fn-20
ip link show dev enp3s0.40 >/dev/null 2>&1 || { ip link add link enp3s0 name enp3s0.40 type vlan id 40 && ip link set dev enp3s0.40 alias flatnet:enp3s0.40; }
ip link set dev enp3s0.40 up
ip link show dev fn-40 >/dev/null 2>&1 || ip link add link enp3s0.40 name fn-40 type macvlan mode bridge
ip link set dev fn-40 alias flatnet:dmz
ip addr replace 10.40.0.128/32 dev fn-40
ip -6 addr replace 2001:db8:40::1000/128 dev fn-40 nodad
ip link set dev fn-40 up
ip route replace 10.40.0.128/25 dev fn-40
ip -6 route replace 2001:db8:40::1000/116 dev fn-40
