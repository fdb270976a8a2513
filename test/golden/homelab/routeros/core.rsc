# flatnet-router: RouterOS v7 script for router "core" (bridge bridge)
# Import with: /import file-name=core.rsc   (generate --out writes it as routeros/core.rsc)
# Every object this script creates carries a comment starting "flatnet:". It first removes the
# flatnet objects already there, then adds the desired ones: importing it again gives the same state,
# and nothing without a flatnet comment is ever changed or removed, but for the pvid of access ports (below).
# It fails closed: the flatnet VLAN interfaces are disabled before any rule is removed and enabled only
# after every new rule is in, so no flatnet VLAN is ever up without the rules that isolate it. The price:
# each import interrupts the flatnet networks briefly, and one that stops halfway leaves them down until
# an import succeeds. `flatnet-router apply` changes only what differs, with neither window nor interruption.
# Networks:
#   media: VLAN 20 on vlan20-media, 10.20.0.0/24
#   iot: VLAN 30 on vlan30-iot, 10.30.0.0/24
#   dmz: VLAN 40 on vlan40-dmz, 10.40.0.0/24, 2001:db8:40::/64

# Stop before changing anything when something this script relies on is missing or taken.
:if ([:len [/interface/find where name="bridge"]] = 0) do={ :error "flatnet: interface bridge not found" }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether2" and dynamic=no]] = 0) do={ :error "flatnet: ether2 is not a (static) port of bridge bridge" }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether3" and dynamic=no]] = 0) do={ :error "flatnet: ether3 is not a (static) port of bridge bridge" }
:if ([:len [/interface/list/find where name="WAN"]] = 0) do={ :error "flatnet: interface list WAN not found" }
:if ([:len [/interface/list/find where name="LAN"]] = 0) do={ :error "flatnet: interface list LAN not found" }
:if ([:len [/interface/vlan/find where interface="bridge" and vlan-id=20 and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :error "flatnet: VLAN 20 on bridge exists already and was not created by flatnet" }
:if ([:len [/interface/vlan/find where interface="bridge" and vlan-id=30 and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :error "flatnet: VLAN 30 on bridge exists already and was not created by flatnet" }
:if ([:len [/interface/vlan/find where interface="bridge" and vlan-id=40 and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :error "flatnet: VLAN 40 on bridge exists already and was not created by flatnet" }
:if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=20 and dynamic=no and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=20 and comment~"^flatnet:[a-z0-9-]+(\$|;)"]] = 0) do={ :error "flatnet: a bridge VLAN entry for VLAN 20 on bridge exists already and was not created by flatnet" } }
:if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=30 and dynamic=no and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=30 and comment~"^flatnet:[a-z0-9-]+(\$|;)"]] = 0) do={ :error "flatnet: a bridge VLAN entry for VLAN 30 on bridge exists already and was not created by flatnet" } }
:if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=40 and dynamic=no and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=40 and comment~"^flatnet:[a-z0-9-]+(\$|;)"]] = 0) do={ :error "flatnet: a bridge VLAN entry for VLAN 40 on bridge exists already and was not created by flatnet" } }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether5" and dynamic=no]] = 0) do={ :error "flatnet: ether5 is not a (static) port of bridge bridge" }

# Disable the flatnet VLAN interfaces before anything else changes: they stay down until the last line.
/interface/vlan/disable [/interface/vlan/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]

# Bridge VLAN entries and access ports. An access port is a bridge port (the router's, not flatnet's) that
# carries one flatnet VLAN untagged: flatnet sets its pvid to the VLAN, and the comment of the VLAN's bridge
# VLAN entry records the PVID it had before: "flatnet:<network>; was-pvid <port>=<pvid>,...". This block
# reads those records first (its variables carry them from the old entries to the new), then updates each
# network's entry in place, and removes the entries no network keeps only after that:
# - a port an earlier import made an access port and this spec does not list gets its recorded PVID back,
#   unless its pvid is no longer the VLAN flatnet set (someone changed it since: left as it is);
# - a port this spec lists keeps the PVID recorded for it (else its pvid now is recorded) and its pvid: it
#   joins its VLAN near the end, once the rules are in, and never goes back to its old PVID in between.
{
  :local pvidBefore0 [/interface/bridge/port/get [/interface/bridge/port/find where bridge="bridge" and interface="ether5" and dynamic=no] pvid]
  :foreach entry in=[/interface/bridge/vlan/find where comment~"^flatnet:[a-z0-9-]+; was-pvid "] do={
    :local entryBridge [/interface/bridge/vlan/get $entry bridge]
    :local entryComment [/interface/bridge/vlan/get $entry comment]
    :local entryVlans [/interface/bridge/vlan/get $entry vlan-ids]
    :foreach recorded in=[:toarray [:pick $entryComment ([:find $entryComment "; was-pvid "] + 11) [:len $entryComment]]] do={
      :local recordedPort [:pick $recorded 0 [:find $recorded "="]]
      :local recordedPvid [:pick $recorded ([:find $recorded "="] + 1) [:len $recorded]]
      :if ($recordedPort = "ether5") do={ :set pvidBefore0 $recordedPvid }
      :foreach entryVlan in=$entryVlans do={
        /interface/bridge/port/set [/interface/bridge/port/find where bridge=$entryBridge and interface=$recordedPort and pvid=$entryVlan and dynamic=no and !(interface="ether5")] pvid=$recordedPvid
      }
    }
  }
  :local entry1 [/interface/bridge/vlan/find where comment="flatnet:iot" or comment~"^flatnet:iot; was-pvid "]
  :if ([:len $entry1] > 0) do={
    /interface/bridge/vlan/set [:pick $entry1 0] bridge=bridge vlan-ids=30 tagged=bridge,ether2,ether3 untagged=ether5 comment=("flatnet:iot; was-pvid " . "ether5=" . $pvidBefore0)
    /interface/bridge/vlan/remove [:pick $entry1 1 [:len $entry1]]
  } else={
    /interface/bridge/vlan/add bridge=bridge vlan-ids=30 tagged=bridge,ether2,ether3 untagged=ether5 comment=("flatnet:iot; was-pvid " . "ether5=" . $pvidBefore0)
  }
  :local entry0 [/interface/bridge/vlan/find where comment="flatnet:media" or comment~"^flatnet:media; was-pvid "]
  :if ([:len $entry0] > 0) do={
    /interface/bridge/vlan/set [:pick $entry0 0] bridge=bridge vlan-ids=20 tagged=bridge,ether2,ether3 untagged="" comment=flatnet:media
    /interface/bridge/vlan/remove [:pick $entry0 1 [:len $entry0]]
  } else={
    /interface/bridge/vlan/add bridge=bridge vlan-ids=20 tagged=bridge,ether2,ether3 comment=flatnet:media
  }
  :local entry2 [/interface/bridge/vlan/find where comment="flatnet:dmz" or comment~"^flatnet:dmz; was-pvid "]
  :if ([:len $entry2] > 0) do={
    /interface/bridge/vlan/set [:pick $entry2 0] bridge=bridge vlan-ids=40 tagged=bridge,ether2,ether3 untagged="" comment=flatnet:dmz
    /interface/bridge/vlan/remove [:pick $entry2 1 [:len $entry2]]
  } else={
    /interface/bridge/vlan/add bridge=bridge vlan-ids=40 tagged=bridge,ether2,ether3 comment=flatnet:dmz
  }
  /interface/bridge/vlan/remove [/interface/bridge/vlan/find where comment~"^flatnet:[a-z0-9-]+(\$|;)" and !(comment="flatnet:iot" or comment~"^flatnet:iot; was-pvid ") and !(comment="flatnet:media" or comment~"^flatnet:media; was-pvid ") and !(comment="flatnet:dmz" or comment~"^flatnet:dmz; was-pvid ")]
}

# Remove what flatnet created before (rules first, interfaces last).
/ipv6/firewall/filter/remove [/ipv6/firewall/filter/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ip/firewall/filter/remove [/ip/firewall/filter/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ip/dhcp-server/network/remove [/ip/dhcp-server/network/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ip/dhcp-server/remove [/ip/dhcp-server/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ip/pool/remove [/ip/pool/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ipv6/address/remove [/ipv6/address/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/ip/address/remove [/ip/address/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
/interface/vlan/remove [/interface/vlan/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]

/interface/vlan/add name=vlan20-media vlan-id=20 interface=bridge comment=flatnet:media disabled=yes
/interface/vlan/add name=vlan30-iot vlan-id=30 interface=bridge comment=flatnet:iot disabled=yes
/interface/vlan/add name=vlan40-dmz vlan-id=40 interface=bridge comment=flatnet:dmz disabled=yes

/ip/address/add address=10.20.0.1/24 interface=vlan20-media comment=flatnet:media
/ip/address/add address=10.30.0.1/24 interface=vlan30-iot comment=flatnet:iot
/ip/address/add address=10.40.0.1/24 interface=vlan40-dmz comment=flatnet:dmz

/ipv6/address/add address=2001:db8:40::1/64 interface=vlan40-dmz advertise=no comment=flatnet:dmz

/ip/pool/add name=flatnet-media ranges=10.20.0.200-10.20.0.250 comment=flatnet:media
/ip/pool/add name=flatnet-iot ranges=10.30.0.200-10.30.0.250 comment=flatnet:iot

/ip/dhcp-server/add name=flatnet-media interface=vlan20-media address-pool=flatnet-media lease-time=1h comment=flatnet:media disabled=no
/ip/dhcp-server/add name=flatnet-iot interface=vlan30-iot address-pool=flatnet-iot lease-time=1h comment=flatnet:iot disabled=no

/ip/dhcp-server/network/add address=10.20.0.0/24 gateway=10.20.0.1 dns-server=10.20.0.1 comment=flatnet:media
/ip/dhcp-server/network/add address=10.30.0.0/24 gateway=10.30.0.1 dns-server=10.30.0.1 comment=flatnet:iot

# /ip/firewall/filter forward: flatnet rules go before the router's own first drop/reject rule of the chain
# (after its drop of invalid packets, which keeps applying to flatnet's traffic).
{
  :local drops [/ip/firewall/filter/find where chain="forward" and (action=drop or action=reject) and dynamic=no and disabled=no and !(connection-state~"invalid") and !(comment~"^flatnet:")]
  :if ([:len $drops] > 0) do={
    :local before [:pick $drops 0]
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan20-media out-interface-list=WAN comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan20-media out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface-list=WAN comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface=vlan30-iot comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
  } else={
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan20-media out-interface-list=WAN comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan20-media out-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=accept connection-nat-state=dstnat out-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface-list=WAN comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface=vlan30-iot comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=forward action=drop in-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=forward action=drop out-interface=vlan40-dmz comment=flatnet:dmz
  }
}

# /ip/firewall/filter input: flatnet rules go before the router's own first drop/reject rule of the chain
# (after its drop of invalid packets, which keeps applying to flatnet's traffic).
{
  :local drops [/ip/firewall/filter/find where chain="input" and (action=drop or action=reject) and dynamic=no and disabled=no and !(connection-state~"invalid") and !(comment~"^flatnet:")]
  :if ([:len $drops] > 0) do={
    :local before [:pick $drops 0]
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=udp dst-port=53 comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=tcp dst-port=53 comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=udp dst-port=67 comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=icmp comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=53 comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=tcp dst-port=53 comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=67 comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=123 comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=udp dst-port=53 comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=tcp dst-port=53 comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=icmp comment=flatnet:dmz place-before=$before
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
  } else={
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=udp dst-port=53 comment=flatnet:media
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=tcp dst-port=53 comment=flatnet:media
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=udp dst-port=67 comment=flatnet:media
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan20-media protocol=icmp comment=flatnet:media
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=53 comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=tcp dst-port=53 comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=67 comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan30-iot protocol=udp dst-port=123 comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=udp dst-port=53 comment=flatnet:dmz
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=tcp dst-port=53 comment=flatnet:dmz
    /ip/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=icmp comment=flatnet:dmz
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan20-media comment=flatnet:media
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan30-iot comment=flatnet:iot
    /ip/firewall/filter/add chain=input action=drop in-interface=vlan40-dmz comment=flatnet:dmz
  }
}

# /ipv6/firewall/filter forward: flatnet rules go before the router's own first drop/reject rule of the chain
# (after its drop of invalid packets, which keeps applying to flatnet's traffic).
{
  :local drops [/ipv6/firewall/filter/find where chain="forward" and (action=drop or action=reject) and dynamic=no and disabled=no and !(connection-state~"invalid") and !(comment~"^flatnet:")]
  :if ([:len $drops] > 0) do={
    :local before [:pick $drops 0]
    /ipv6/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface-list=WAN comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan20-media comment=flatnet:media place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
  } else={
    /ipv6/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked out-interface=vlan40-dmz comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=forward action=accept in-interface=vlan40-dmz out-interface-list=WAN comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=forward action=accept in-interface-list=LAN out-interface=vlan40-dmz comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan20-media comment=flatnet:media
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan20-media comment=flatnet:media
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan30-iot comment=flatnet:iot
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan30-iot comment=flatnet:iot
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=vlan40-dmz comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=forward action=drop out-interface=vlan40-dmz comment=flatnet:dmz
  }
}

# /ipv6/firewall/filter input: flatnet rules go before the router's own first drop/reject rule of the chain
# (after its drop of invalid packets, which keeps applying to flatnet's traffic).
{
  :local drops [/ipv6/firewall/filter/find where chain="input" and (action=drop or action=reject) and dynamic=no and disabled=no and !(connection-state~"invalid") and !(comment~"^flatnet:")]
  :if ([:len $drops] > 0) do={
    :local before [:pick $drops 0]
    /ipv6/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=udp dst-port=53 comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=tcp dst-port=53 comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=icmpv6 comment=flatnet:dmz place-before=$before
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan20-media comment=flatnet:media place-before=$before
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan30-iot comment=flatnet:iot place-before=$before
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan40-dmz comment=flatnet:dmz place-before=$before
  } else={
    /ipv6/firewall/filter/add chain=input action=accept connection-state=established,related,untracked in-interface=vlan40-dmz comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=udp dst-port=53 comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=tcp dst-port=53 comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=input action=accept in-interface=vlan40-dmz protocol=icmpv6 comment=flatnet:dmz
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan20-media comment=flatnet:media
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan30-iot comment=flatnet:iot
    /ipv6/firewall/filter/add chain=input action=drop in-interface=vlan40-dmz comment=flatnet:dmz
  }
}

# The access ports join their VLAN now that its rules are in (the PVID each had before is recorded above).
/interface/bridge/port/set [/interface/bridge/port/find where bridge="bridge" and interface="ether5" and dynamic=no] pvid=30

# Enable the VLAN interfaces last, every rule is in now: if the import stopped above, they carry no traffic.
/interface/vlan/enable [/interface/vlan/find where comment~"^flatnet:[a-z0-9-]+(\$|;)"]
