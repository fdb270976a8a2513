// The spec v1 schema (../shared/design.md). Keys are kebab-case as users write them; every object is strict
// so that a typo is an error instead of a silently ignored setting. Cross-field rules live in checks.ts.
import { z } from 'zod';

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
const NAME_HINT = 'must match [a-z][a-z0-9-]{0,30} (lower case letter, then letters, digits or dashes)';

const name = z.string().regex(NAME_PATTERN, { error: NAME_HINT });

// A control character (newline included) can end a command in every syntax we emit, so none is accepted anywhere.
const CONTROL = /[\u0000-\u001f\u007f]/;
const noControl = (s: string) => !CONTROL.test(s);

/** A label printed into router config (user names). Quoted per target on output. */
const label = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(64, { error: 'must be at most 64 characters' })
  .refine(noControl, { error: 'must not contain control characters or newlines' });

/**
 * A RouterOS interface or interface-list name. Quoted on output all the same; "," is refused because it
 * separates list items (tagged=bridge,ether2), and quotes, "$" and "\\" because no interface needs them.
 */
export const ROS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@+ -]{0,63}$/;
const rosName = z.string().regex(ROS_NAME, {
  error: 'must be 1-64 characters: letters, digits, "_", ".", ":", "@", "+", "-" or spaces, starting with a letter, digit or "_"',
});

/** An interface or zone name on OpenWrt: UCI values are single-quoted, so no quote may appear in them. */
export const UCI_WORD = /^[A-Za-z0-9_.@-]{1,32}$/;
const uciWord = z.string().regex(UCI_WORD, {
  error: 'must be 1-32 characters of letters, digits, ".", "_", "@" or "-"',
});

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME, { error: 'must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)' });
const filePath = z
  .string()
  .min(1)
  .refine(noControl, { error: 'must not contain control characters or newlines' });

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IP_LIKE = /^[0-9a-fA-F:.]+$/;
const endpoint = z
  .string()
  .refine((s) => HOSTNAME.test(s) || (IP_LIKE.test(s) && s.includes(':')), {
    error: 'must be an IP address or a host name',
  });
const port = z.number({ error: 'must be a port number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be a port from 1 to 65535' }).max(65535, { error: 'must be a port from 1 to 65535' });
const vlanId = z.number({ error: 'must be a VLAN id (a number from 1 to 4094)' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be a VLAN id from 1 to 4094' }).max(4094, { error: 'must be a VLAN id from 1 to 4094' });

const routerCommon = (portHelp: string, userHelp: string) => ({
  address: endpoint.describe('The router\'s address or host name, used by plan and apply (not by generate)'),
  port: port.optional().describe(portHelp),
  user: label.optional().describe(userHelp),
  'password-env': envName.optional().describe('Environment variable holding the router password (an inline password is refused)'),
  'password-file': filePath.optional().describe('File holding the router password (instead of password-env)'),
});

/** The RouterOS API connection keys, shared by routers and switches ("router's" / "switch's" in descriptions). */
const routerosApi = (device: 'router' | 'switch') => ({
  ...routerCommon('API port (default 8728, or 8729 with tls)', 'API user (default admin)'),
  tls: z.boolean().default(false).describe('Use the encrypted API (api-ssl)'),
  'tls-insecure': z.boolean().default(false).describe('With tls: accept any certificate (not verified)'),
  'ca-file': filePath.optional().describe(`With tls: verify the ${device}'s certificate against this CA file (PEM) instead of the system's`),
});

/** An SSH host key pin, as ssh-keygen -lf prints it. */
export const hostKeyPin = (whose: string) =>
  z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: 'must be a SHA256 fingerprint as printed by ssh-keygen -lf (SHA256:...)' })
    .optional()
    .describe(`Pin ${whose} SSH host key: its SHA256 fingerprint as printed by ssh-keygen -lf`);

/** The OpenWrt SSH connection keys, shared by routers and switches. */
const openwrtSsh = (device: 'router' | 'switch') => ({
  ...routerCommon('SSH port (default 22)', 'SSH user (default root)'),
  'key-file': filePath.optional().describe('SSH private key file'),
  'host-key': hostKeyPin(`the ${device}'s`),
});

const uciSectionName = z.string().regex(/^[A-Za-z0-9_]{1,32}$/, { error: 'must be a UCI section name (letters, digits, "_")' });

export const SERVICES = ['dns', 'dhcp', 'ntp', 'icmp', 'ssh', 'http', 'https'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const routerosRouterSchema = z.strictObject({
  type: z.literal('routeros').describe('A MikroTik RouterOS router, managed through its API'),
  ...routerosApi('router'),
  bridge: rosName.default('bridge').describe('The bridge that carries the LAN; VLAN interfaces are created on it (default bridge)'),
  wan: rosName.default('WAN').describe('Interface list of the uplinks, used for internet: true (default WAN)'),
  lan: rosName.default('LAN').describe('Interface list of the trusted LAN, used for firewall from/to "lan" (default LAN)'),
  'trunk-ports': z.array(rosName).default([]).describe('Bridge ports that carry the VLANs tagged (bridge VLAN table entries; the bridge itself is tagged too)'),
});

export const openwrtRouterSchema = z.strictObject({
  type: z.literal('openwrt').describe('An OpenWrt router, managed over SSH with uci'),
  ...openwrtSsh('router'),
  device: uciWord.default('br-lan').describe('The LAN bridge device; a network\'s VLAN device is <device>.<vlan> (default br-lan)'),
  'wan-zone': uciWord.default('wan').describe('Firewall zone of the uplink, used for internet: true (default wan)'),
  'lan-zone': uciWord.default('lan').describe('Firewall zone of the trusted LAN, used for firewall from/to "lan" (default lan)'),
  'trunk-ports': z.array(uciWord).default([]).describe('DSA ports that carry the VLANs tagged (bridge-vlan sections; turns on bridge VLAN filtering)'),
  // Needed only with trunk-ports: turning on bridge VLAN filtering must keep the untagged LAN on these ports.
  'lan-ports': z
    .array(uciWord)
    .optional()
    .describe('With trunk-ports: the ports of the untagged LAN (its own bridge-vlan, untagged + PVID); plan/apply read them from the router when left out, generate needs them'),
  'lan-vlan': vlanId.default(1).describe('With trunk-ports: the VLAN id the untagged LAN uses inside the bridge (default 1)'),
  'lan-interface': uciSectionName
    .optional()
    .describe('With trunk-ports: the UCI interface of the LAN, moved onto <device>.<lan-vlan>; plan/apply read it from the router when left out, generate needs it'),
});

export const routerSchema = z.discriminatedUnion('type', [routerosRouterSchema, openwrtRouterSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'type must be "routeros" or "openwrt"' : undefined,
});

/** `<device>:<port>`: a router's or switch's port, where a cable ends. The port is checked per device type. */
export const CONNECTED_TO = /^([a-z][a-z0-9-]{0,30}):(.+)$/;
const connectedTo = z.string().regex(CONNECTED_TO, { error: 'must be <device>:<port>, e.g. sw1:ether5 (a router or switch of the spec and its port)' });

const switchPath = {
  uplink: z.string().optional().describe('This switch\'s port towards its router (or an upstream switch); it carries the VLANs of the path tagged, its untagged LAN and PVID are never changed'),
  'connected-to': connectedTo.optional().describe('The upstream device and its port the uplink is cabled to: <router|switch>:<port>; that port carries the VLANs of the path tagged'),
};

export const routerosSwitchSchema = z.strictObject({
  type: z.literal('routeros').describe('A RouterOS switch (a bridge with VLAN filtering, e.g. CRS3xx or hEX), managed through its API'),
  ...routerosApi('switch'),
  bridge: rosName.default('bridge').describe('The bridge whose VLAN table carries the VLANs (default bridge)'),
  ...switchPath,
});

export const openwrtSwitchSchema = z.strictObject({
  type: z.literal('openwrt').describe('An OpenWrt switch (DSA bridge), managed over SSH with uci'),
  ...openwrtSsh('switch'),
  device: uciWord.default('br-lan').describe('The bridge device whose bridge-vlan sections carry the VLANs (default br-lan)'),
  'lan-ports': z
    .array(uciWord)
    .optional()
    .describe('The ports of the untagged LAN (its own bridge-vlan, untagged + PVID); plan/apply read them from the switch when left out, generate needs them'),
  'lan-vlan': vlanId.default(1).describe('The VLAN id the untagged LAN uses inside the bridge (default 1)'),
  'lan-interface': uciSectionName
    .optional()
    .describe('The UCI interface of the switch\'s management LAN, moved onto <device>.<lan-vlan>; plan/apply read it from the switch when left out, generate needs it'),
  ...switchPath,
});

export const switchSchema = z.discriminatedUnion('type', [routerosSwitchSchema, openwrtSwitchSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be "routeros" or "openwrt"' : undefined),
});

/** `user@address` of a host reached over SSH: a login name, then an IP address or a host name. */
export const SSH_TARGET = /^([A-Za-z_][A-Za-z0-9_.-]{0,31})@(.+)$/;
const sshTarget = z.string().refine(
  (s) => {
    const m = SSH_TARGET.exec(s);
    return m !== null && (HOSTNAME.test(m[2]!) || (IP_LIKE.test(m[2]!) && m[2]!.includes(':')));
  },
  { error: 'must be user@address: a login name (letters, digits, "_", ".", "-") and an IP address or host name' },
).meta({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,31}@[A-Za-z0-9:.-]+$' });

export const PERSIST_MODES = ['systemd', 'networkd', 'none'] as const;
export type PersistMode = (typeof PERSIST_MODES)[number];

export const hostSchema = z.strictObject({
  parent: z.string().describe('The host\'s network interface towards the router (e.g. enp3s0)'),
  address: z.string().optional().describe('The host\'s own address with prefix length (e.g. 192.168.88.9/24); checked against container ranges and gateways'),
  // how apply makes the shim survive a reboot
  persist: z
    .enum(PERSIST_MODES, { error: `must be one of ${PERSIST_MODES.join(', ')}` })
    .default('systemd')
    .describe('How apply --host makes the shim survive a reboot: systemd (default), networkd or none'),
  'connected-to': connectedTo.optional().describe('The router or switch port the parent NIC is cabled to: <device>:<port>; the path up to the router then carries the host\'s VLANs tagged'),
  ssh: sshTarget
    .optional()
    .describe('Reach this host over SSH as user@address: plan, apply and status then work from anywhere, over one connection that carries the Docker Engine API (docker system dial-stdio), the ip reads and changes and the boot files; without it the host is local (plan/apply --host NAME on the host itself)'),
  'ssh-port': port.optional().describe('With ssh: the SSH port (default 22)'),
  'key-file': filePath.optional().describe('With ssh: the private key file (default: the SSH agent, SSH_AUTH_SOCK)'),
  'host-key': hostKeyPin("the host's")
    .describe('With ssh: pin the host\'s SSH host key (its SHA256 fingerprint as printed by ssh-keygen -lf); otherwise ~/.ssh/known_hosts, and an unknown key is refused unless --accept-new-host-key'),
  sudo: z
    .boolean()
    .optional()
    .describe('With ssh: run the privileged commands (ip changes, docker system dial-stdio, the boot files) through sudo -n, which must not ask for a password (default false: the SSH user is root)'),
});

export const firewallSchema = z.strictObject({
  internet: z.boolean().default(true).describe('May open connections to the WAN (default true)'),
  from: z.array(name).default(['lan']).describe('"lan" or networks on the same router that may open connections into this one (default [lan])'),
  to: z.array(name).default([]).describe('"lan" or networks on the same router this one may open connections to (default [])'),
  'allow-input': z
    .array(z.enum(SERVICES, { error: `must be one of ${SERVICES.join(', ')}` }))
    .default(['dns'])
    .describe(`Services on the router the network may use: ${SERVICES.join(', ')} (default [dns])`),
});

export const ipv6Schema = z.strictObject({
  subnet: z.string().describe('The IPv6 prefix of the network (usually a /64)'),
  gateway: z.string().describe('The router\'s IPv6 address in the subnet'),
  'container-range': z.string().optional().describe('IPv6 prefix Docker allocates container addresses from (default: the whole subnet); required for an untagged network'),
  'shim-address': z.string().optional().describe('The host shim\'s IPv6 address (default: first address of the range that is not the gateway)'),
});

export const networkSchema = z.strictObject({
  router: name.optional().describe('The router that is the network\'s gateway (required with a vlan)'),
  host: z
    .union([name, z.array(name).min(1)])
    .optional()
    .describe('The Docker host that runs containers on the network, or a list of hosts; left out on a VLAN network without containers (cameras or IoT devices on access ports: the router side only, with gateway, DHCP and firewall)'),
  vlan: vlanId
    .refine((v) => v !== 1, { error: 'VLAN 1 is the default untagged VLAN (PVID) of bridges and most switches; use another id' })
    .optional()
    .describe('VLAN id (2-4094); left out, the network is the router\'s existing untagged LAN and the router is left untouched'),
  subnet: z.string().describe('The network\'s IPv4 prefix (e.g. 192.168.200.0/24)'),
  gateway: z.string().describe('The router\'s IPv4 address in the subnet'),
  'container-range': z
    .string()
    .optional()
    .describe('IPv4 prefix Docker allocates container addresses from (docker --ip-range); split between the hosts of a shared network; required with host, refused without one'),
  'shim-address': z.string().optional().describe('The host shim\'s IPv4 address (default: first address of the container range that is not the network address or gateway)'),
  'shim-name': z.string().optional().describe('Name of the host\'s shim interface (default fn-<vlan>, or fn-<network> without a vlan)'),
  'vlan-device': z.string().optional().describe('Name of the host\'s 802.1Q VLAN device (default <parent>.<vlan>); set it when that is longer than 15 bytes'),
  'access-ports': z
    .array(rosName)
    .default([])
    .describe('Ports that carry this VLAN untagged (PVID), for devices that know nothing of VLANs: <port> is a port of the network\'s router, <switch>:<port> a port of a switch; their previous PVID is recorded and put back when a port leaves the list'),
  'dhcp-pool': z
    .string()
    .optional()
    .describe('DHCP pool as first-last, clear of the containers: on a VLAN network the router serves DHCP from it; on an untagged network it is the router\'s existing pool (checked)'),
  'dhcp-lease-time': z
    .string()
    .regex(/^(\d+[wdhms])+$/, { error: 'must be a duration such as 30m, 1h, 12h or 1d' })
    .optional()
    .describe('Lease time of the DHCP server on a VLAN network with dhcp-pool (default 1h), e.g. 30m, 12h, 1d'),
  driver: z.enum(['macvlan', 'ipvlan'], { error: 'must be macvlan or ipvlan' }).default('macvlan').describe('Docker network driver: macvlan (default) or ipvlan (L2 mode)'),
  ipv6: ipv6Schema.optional().describe('Optional IPv6 (dual stack)'),
  firewall: firewallSchema.optional().describe('Who may talk to the network, only for networks with a vlan'),
});

export const specSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }).describe('Spec format version: 1'),
  owner: name
    .refine((v) => v !== 'none', { error: '"none" is reserved (--from-owner none means objects without an owner); choose another owner name' })
    .optional()
    .describe(
      'Who owns what this spec creates ([a-z][a-z0-9-]{0,30}), e.g. the host the spec is for: recorded on every object flatnet creates (RouterOS comment flatnet:<network>@<owner>, UCI option flatnet_owner, Docker label flatnet.owner, link alias flatnet:<network>@<owner>). plan/apply never change or remove objects of another owner (without owner: only objects without one), and refuse a network name or VLAN id they hold. Give each spec pointed at the same router its own owner',
    ),
  routers: z.record(name, routerSchema).default({}).describe('Routers by name ([a-z][a-z0-9-]{0,30}): the gateways of VLAN networks'),
  switches: z.record(name, switchSchema).default({}).describe('Managed switches between routers and hosts by name (one name space with routers and hosts): they carry the VLANs of the path'),
  hosts: z.record(name, hostSchema).default({}).describe('Docker hosts by name (may be left out when no network has containers)'),
  networks: z
    .record(name, networkSchema)
    .default({})
    .describe('Networks by name, also the Docker network name ("lan" and "wan" are reserved); may be empty or left out, e.g. for import'),
});

export type Spec = z.infer<typeof specSchema>;
export type RouterSpec = z.infer<typeof routerSchema>;
export type RouterOSRouterSpec = z.infer<typeof routerosRouterSchema>;
export type OpenWrtRouterSpec = z.infer<typeof openwrtRouterSchema>;
export type SwitchSpec = z.infer<typeof switchSchema>;
export type RouterOSSwitchSpec = z.infer<typeof routerosSwitchSchema>;
export type OpenWrtSwitchSpec = z.infer<typeof openwrtSwitchSchema>;
export type HostSpec = z.infer<typeof hostSchema>;
export type NetworkSpec = z.infer<typeof networkSchema>;

/** JSON Schema (draft 2020-12) of the spec, for editors (`# yaml-language-server: $schema=...`). */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'flatnet-router network spec, version 1',
  };
}
