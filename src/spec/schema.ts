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
const rosName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:@+ -]{0,63}$/, {
  error: 'must be 1-64 characters: letters, digits, "_", ".", ":", "@", "+", "-" or spaces, starting with a letter, digit or "_"',
});

/** An interface or zone name on OpenWrt: UCI values are single-quoted, so no quote may appear in them. */
const uciWord = z.string().regex(/^[A-Za-z0-9_.@-]{1,32}$/, {
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

const routerCommon = {
  address: endpoint,
  port: port.optional(),
  user: label.optional(),
  'password-env': envName.optional(),
  'password-file': filePath.optional(),
};

export const SERVICES = ['dns', 'dhcp', 'ntp', 'icmp', 'ssh', 'http', 'https'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const routerosRouterSchema = z.strictObject({
  type: z.literal('routeros'),
  ...routerCommon,
  tls: z.boolean().default(false),
  'tls-insecure': z.boolean().default(false),
  'ca-file': filePath.optional(),
  bridge: rosName.default('bridge'),
  wan: rosName.default('WAN'),
  lan: rosName.default('LAN'),
  'trunk-ports': z.array(rosName).default([]),
});

export const openwrtRouterSchema = z.strictObject({
  type: z.literal('openwrt'),
  ...routerCommon,
  'key-file': filePath.optional(),
  'host-key': z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: 'must be a SHA256 fingerprint as printed by ssh-keygen -lf (SHA256:...)' })
    .optional(),
  device: uciWord.default('br-lan'),
  'wan-zone': uciWord.default('wan'),
  'lan-zone': uciWord.default('lan'),
  'trunk-ports': z.array(uciWord).default([]),
  // Needed only with trunk-ports: turning on bridge VLAN filtering must keep the untagged LAN on these ports.
  'lan-ports': z.array(uciWord).optional(),
  'lan-vlan': vlanId.default(1),
  'lan-interface': z.string().regex(/^[A-Za-z0-9_]{1,32}$/, { error: 'must be a UCI section name (letters, digits, "_")' }).optional(),
});

export const routerSchema = z.discriminatedUnion('type', [routerosRouterSchema, openwrtRouterSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'type must be "routeros" or "openwrt"' : undefined,
});

export const PERSIST_MODES = ['systemd', 'networkd', 'none'] as const;

export const hostSchema = z.strictObject({
  parent: z.string(),
  address: z.string().optional(),
  // how apply makes the shim survive a reboot
  persist: z.enum(PERSIST_MODES, { error: `must be one of ${PERSIST_MODES.join(', ')}` }).default('systemd'),
});

export const firewallSchema = z.strictObject({
  internet: z.boolean().default(true),
  from: z.array(name).default(['lan']),
  to: z.array(name).default([]),
  'allow-input': z.array(z.enum(SERVICES, { error: `must be one of ${SERVICES.join(', ')}` })).default(['dns']),
});

export const ipv6Schema = z.strictObject({
  subnet: z.string(),
  gateway: z.string(),
  'container-range': z.string().optional(),
  'shim-address': z.string().optional(),
});

export const networkSchema = z.strictObject({
  router: name.optional(),
  host: z.union([name, z.array(name).min(1)]),
  vlan: vlanId.refine((v) => v !== 1, { error: 'VLAN 1 is the default untagged VLAN (PVID) of bridges and most switches; use another id' }).optional(),
  subnet: z.string(),
  gateway: z.string(),
  'container-range': z.string(),
  'shim-address': z.string().optional(),
  'shim-name': z.string().optional(),
  'dhcp-pool': z.string().optional(),
  driver: z.enum(['macvlan', 'ipvlan'], { error: 'must be macvlan or ipvlan' }).default('macvlan'),
  ipv6: ipv6Schema.optional(),
  firewall: firewallSchema.optional(),
});

export const specSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  routers: z.record(name, routerSchema).default({}),
  hosts: z.record(name, hostSchema),
  networks: z.record(name, networkSchema),
});

export type Spec = z.infer<typeof specSchema>;
export type RouterSpec = z.infer<typeof routerSchema>;
export type RouterOSRouterSpec = z.infer<typeof routerosRouterSchema>;
export type OpenWrtRouterSpec = z.infer<typeof openwrtRouterSchema>;
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
