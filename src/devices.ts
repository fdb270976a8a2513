// Device kinds (router, switch, host) and types (routeros, openwrt, docker) register what they can do. The
// model and the targets ask this registry ("does this device route?", "can it carry access ports?") instead
// of branching on a kind or type, so a new kind or type is a registration, not a search for every `if`.

export type DeviceKind = 'router' | 'switch' | 'host';
export type DeviceType = 'routeros' | 'openwrt' | 'docker';

export interface Capabilities {
  /** VLAN interfaces with addresses, DHCP and firewall: the gateway of VLAN networks */
  layer3: boolean;
  /** a bridge VLAN table (RouterOS /interface/bridge/vlan, OpenWrt DSA bridge-vlan): carries VLANs tagged */
  bridgeVlans: boolean;
  /** ports that carry one VLAN untagged (PVID) */
  accessPorts: boolean;
  /** other devices are cabled to its ports (`connected-to: <device>:<port>` may name it) */
  cablePorts: boolean;
  /** an apply restores itself when flatnet cannot confirm it over a new connection */
  rollback: boolean;
  /** Docker networks and host shims */
  containers: boolean;
}

const registry = new Map<string, Capabilities>();

export function registerDevice(kind: DeviceKind, type: DeviceType, capabilities: Capabilities): void {
  registry.set(`${kind}/${type}`, capabilities);
}

export function capabilities(device: { kind: DeviceKind; type: DeviceType }): Capabilities {
  const found = registry.get(`${device.kind}/${device.type}`);
  if (!found) throw new Error(`internal: no device of kind ${device.kind} and type ${device.type} is registered`);
  return found;
}

/** Whether any device of this kind and type is registered (the spec's schema offers only those). */
export function isRegistered(kind: DeviceKind, type: DeviceType): boolean {
  return registry.has(`${kind}/${type}`);
}

const none: Capabilities = { layer3: false, bridgeVlans: false, accessPorts: false, cablePorts: false, rollback: false, containers: false };

registerDevice('router', 'routeros', { ...none, layer3: true, bridgeVlans: true, accessPorts: true, cablePorts: true, rollback: true });
registerDevice('router', 'openwrt', { ...none, layer3: true, bridgeVlans: true, accessPorts: true, cablePorts: true, rollback: true });
registerDevice('switch', 'routeros', { ...none, bridgeVlans: true, accessPorts: true, cablePorts: true, rollback: true });
registerDevice('switch', 'openwrt', { ...none, bridgeVlans: true, accessPorts: true, cablePorts: true, rollback: true });
registerDevice('host', 'docker', { ...none, containers: true });
