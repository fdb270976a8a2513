docker network create -d macvlan --subnet=192.168.200.0/24 --gateway=192.168.200.1 --ip-range=192.168.200.192/27 --aux-address=host=192.168.200.192 -o parent=enp3s0.200 docker-demo
