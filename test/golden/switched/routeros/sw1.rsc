# flatnet-router: RouterOS v7 script for switch "sw1" (bridge bridge)
# Import with: /import file-name=sw1.rsc   (generate --out writes it as routeros/sw1.rsc)
# A switch carries the flatnet VLANs between its ports; their router routes them. This script changes only
# the bridge VLAN entries whose comment starts "flatnet:" and the pvid of the access ports (below), nothing
# else; importing it again gives the same state. The PVID and untagged membership of the uplink and of host
# ports are never changed: the untagged LAN, and the switch's own management on it, keeps flowing.
# Networks:
#   media: VLAN 20, tagged on ether5, ether1
#   cams: VLAN 30, tagged on ether5, ether1; access ports (untagged, pvid 30): ether7

# Stop before changing anything when something this script relies on is missing or taken.
:if ([:len [/interface/find where name="bridge"]] = 0) do={ :error "flatnet: interface bridge not found" }
:if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=20 and dynamic=no and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=20 and comment~"^flatnet:[a-z0-9-]+(\$|;)"]] = 0) do={ :error "flatnet: a bridge VLAN entry for VLAN 20 on bridge exists already and was not created by flatnet" } }
:if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=30 and dynamic=no and !(comment~"^flatnet:[a-z0-9-]+(\$|;)")]] > 0) do={ :if ([:len [/interface/bridge/vlan/find where bridge="bridge" and vlan-ids=30 and comment~"^flatnet:[a-z0-9-]+(\$|;)"]] = 0) do={ :error "flatnet: a bridge VLAN entry for VLAN 30 on bridge exists already and was not created by flatnet" } }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether5" and dynamic=no]] = 0) do={ :error "flatnet: ether5 is not a (static) port of bridge bridge" }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether1" and dynamic=no]] = 0) do={ :error "flatnet: ether1 is not a (static) port of bridge bridge" }
:if ([:len [/interface/bridge/port/find where bridge="bridge" and interface="ether7" and dynamic=no]] = 0) do={ :error "flatnet: ether7 is not a (static) port of bridge bridge" }

# Bridge VLAN entries and access ports. An access port is a bridge port (the switch's, not flatnet's) that
# carries one flatnet VLAN untagged: flatnet sets its pvid to the VLAN, and the comment of the VLAN's bridge
# VLAN entry records the PVID it had before: "flatnet:<network>; was-pvid <port>=<pvid>,...". This block
# reads those records first (its variables carry them from the old entries to the new), then updates each
# network's entry in place, and removes the entries no network keeps only after that:
# - a port an earlier import made an access port and this spec does not list gets its recorded PVID back,
#   unless its pvid is no longer the VLAN flatnet set (someone changed it since: left as it is);
# - a port this spec lists keeps the PVID recorded for it (else its pvid now is recorded) and its pvid: it
#   joins its VLAN at the end, once its entry lists it, and never goes back to its old PVID in between.
{
  :local pvidBefore0 [/interface/bridge/port/get [/interface/bridge/port/find where bridge="bridge" and interface="ether7" and dynamic=no] pvid]
  :foreach entry in=[/interface/bridge/vlan/find where comment~"^flatnet:[a-z0-9-]+; was-pvid "] do={
    :local entryBridge [/interface/bridge/vlan/get $entry bridge]
    :local entryComment [/interface/bridge/vlan/get $entry comment]
    :local entryVlans [/interface/bridge/vlan/get $entry vlan-ids]
    :foreach recorded in=[:toarray [:pick $entryComment ([:find $entryComment "; was-pvid "] + 11) [:len $entryComment]]] do={
      :local recordedPort [:pick $recorded 0 [:find $recorded "="]]
      :local recordedPvid [:pick $recorded ([:find $recorded "="] + 1) [:len $recorded]]
      :if ($recordedPort = "ether7") do={ :set pvidBefore0 $recordedPvid }
      :foreach entryVlan in=$entryVlans do={
        /interface/bridge/port/set [/interface/bridge/port/find where bridge=$entryBridge and interface=$recordedPort and pvid=$entryVlan and dynamic=no and !(interface="ether7")] pvid=$recordedPvid
      }
    }
  }
  :local entry1 [/interface/bridge/vlan/find where comment="flatnet:cams" or comment~"^flatnet:cams; was-pvid "]
  :if ([:len $entry1] > 0) do={
    /interface/bridge/vlan/set [:pick $entry1 0] bridge=bridge vlan-ids=30 tagged=ether5,ether1 untagged=ether7 comment=("flatnet:cams; was-pvid " . "ether7=" . $pvidBefore0)
    /interface/bridge/vlan/remove [:pick $entry1 1 [:len $entry1]]
  } else={
    /interface/bridge/vlan/add bridge=bridge vlan-ids=30 tagged=ether5,ether1 untagged=ether7 comment=("flatnet:cams; was-pvid " . "ether7=" . $pvidBefore0)
  }
  :local entry0 [/interface/bridge/vlan/find where comment="flatnet:media" or comment~"^flatnet:media; was-pvid "]
  :if ([:len $entry0] > 0) do={
    /interface/bridge/vlan/set [:pick $entry0 0] bridge=bridge vlan-ids=20 tagged=ether5,ether1 untagged="" comment=flatnet:media
    /interface/bridge/vlan/remove [:pick $entry0 1 [:len $entry0]]
  } else={
    /interface/bridge/vlan/add bridge=bridge vlan-ids=20 tagged=ether5,ether1 comment=flatnet:media
  }
  /interface/bridge/vlan/remove [/interface/bridge/vlan/find where comment~"^flatnet:[a-z0-9-]+(\$|;)" and !(comment="flatnet:cams" or comment~"^flatnet:cams; was-pvid ") and !(comment="flatnet:media" or comment~"^flatnet:media; was-pvid ")]
}

# The access ports join their VLAN now that its entry lists them (the PVID each had before is recorded above).
/interface/bridge/port/set [/interface/bridge/port/find where bridge="bridge" and interface="ether7" and dynamic=no] pvid=30
