docker network create -d macvlan --subnet=192.168.88.0/24 --gateway=192.168.88.1 --ip-range=192.168.88.192/27 --aux-address=host=192.168.88.192 -o parent=enp3s0 macvlan1
