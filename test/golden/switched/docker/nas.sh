# Creates the Docker networks of the spec that do not exist yet, so this can run again after the spec
# changes. A network that exists must have the settings of the spec; otherwise this stops and says what differs.
flatnet_compare() {
  # $1 the network, $2 the settings wanted; stdin: its settings as docker network inspect prints them
  read -r flatnet_have || flatnet_have=
  [ "$flatnet_have" = "$2" ] && return 0
  flatnet_only_have= flatnet_only_want=
  set -f # the words are matched, never expanded
  for w in $flatnet_have; do case " $2 " in *" $w "*) ;; *) flatnet_only_have="$flatnet_only_have $w" ;; esac; done
  for w in $2; do case " $flatnet_have " in *" $w "*) ;; *) flatnet_only_want="$flatnet_only_want $w" ;; esac; done
  if [ -z "$flatnet_only_have$flatnet_only_want" ]; then flatnet_only_have=" $flatnet_have" flatnet_only_want=" $2"; fi
  printf 'flatnet: Docker network %s exists with other settings (have:%s; want:%s); remove it with: docker network rm %s (its containers must be stopped or disconnected first), then run this again\n' \
    "$1" "${flatnet_only_have:- (not set)}" "${flatnet_only_want:- (not set)}" "$1" >&2
  return 1
}
flatnet_network() {
  # $1 the network, $2 the settings wanted; the rest: the arguments of docker network create
  if ! docker network inspect "$1" >/dev/null 2>&1; then
    shift 2
    docker network create "$@"
  elif ! docker network inspect -f 'driver={{.Driver}}{{range $k, $v := .Options}}{{if eq $k "parent" "ipvlan_mode"}} {{$k}}={{$v}}{{end}}{{end}} ipv6={{.EnableIPv6}}{{range .IPAM.Config}}{{range $k, $v := .}}{{if eq $k "AuxiliaryAddresses"}}{{range $name, $ip := $v}} aux-address={{$name}}={{$ip}}{{end}}{{else if eq $k "Gateway"}} gateway={{$v}}{{else if eq $k "IPRange"}} ip-range={{$v}}{{else if eq $k "Subnet"}} subnet={{$v}}{{end}}{{end}}{{end}}{{range $k, $v := .Labels}}{{if eq $k "flatnet.network"}} label={{$k}}={{$v}}{{end}}{{end}}' "$1" | flatnet_compare "$1" "$2"; then
    exit 1
  fi
}
flatnet_network media 'driver=macvlan parent=enp3s0.20 ipv6=false aux-address=host=10.20.0.64 gateway=10.20.0.1 ip-range=10.20.0.64/26 subnet=10.20.0.0/24 label=flatnet.network=media' -d macvlan --subnet=10.20.0.0/24 --gateway=10.20.0.1 --ip-range=10.20.0.64/26 --aux-address=host=10.20.0.64 -o parent=enp3s0.20 --label=flatnet.network=media media
flatnet_network cams 'driver=macvlan parent=enp3s0.30 ipv6=false aux-address=host=10.30.0.128 gateway=10.30.0.1 ip-range=10.30.0.128/26 subnet=10.30.0.0/24 label=flatnet.network=cams' -d macvlan --subnet=10.30.0.0/24 --gateway=10.30.0.1 --ip-range=10.30.0.128/26 --aux-address=host=10.30.0.128 -o parent=enp3s0.30 --label=flatnet.network=cams cams
