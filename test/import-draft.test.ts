// The draft's text (src/import/draft.ts) on findings made by hand: what does not validate is left out, said in a
// comment and a warning, and never takes more with it than it must.
import { describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { draftText } from '../src/import/draft.js';
import type { FoundNetwork, ImportReport } from '../src/import/found.js';

const DEVICES = 'version: 1\nrouters:\n  core:\n    type: routeros\n    address: 192.0.2.1\nhosts:\n  nas:\n    parent: enp3s0\n';

function apps(ipv6: FoundNetwork['ipv6']): FoundNetwork {
  return {
    name: 'apps', router: 'core', vlan: 20, subnet: '10.20.0.0/24', gateway: '10.20.0.1', hosts: ['nas'], containerRange: '10.20.0.64/26',
    accessPorts: [], notes: [], sources: {}, ...(ipv6 ? { ipv6 } : {}),
  };
}
const report = (net: FoundNetwork): ImportReport => ({ networks: [net], trunkPorts: new Map(), notes: [], warnings: [] });

describe('import draft: an ipv6 that does not validate', () => {
  it("the hosts' IPv6 container-range outside the subnet goes alone: the router's IPv6 subnet and gateway stay", () => {
    const r = report(apps({ subnet: '2001:db8:20::/64', gateway: '2001:db8:20::1', containerRange: '2001:db8:99::/112' }));
    const model = modelFromText(draftText(DEVICES, r, ['test']), 'draft.yaml');
    expect(model.networks[0]!.ipv6).toMatchObject({ subnet: '2001:db8:20::/64', gateway: '2001:db8:20::1', containerRange: undefined });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^network apps: its hosts' IPv6 container-range 2001:db8:99::\/112 is left out of the draft \(flatnet's default instead\): ipv6\.container-range: /);
  });

  it("a router's IPv6 the spec cannot have takes the whole ipv6 block with it", () => {
    const r = report(apps({ subnet: '2001:db8:20::/64', gateway: '2001:db8:99::1' }));
    const model = modelFromText(draftText(DEVICES, r, ['test']), 'draft.yaml');
    expect(model.networks[0]!.ipv6).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(/^network apps: its IPv6 \(subnet 2001:db8:20::\/64, gateway 2001:db8:99::1\) is left out of the draft: ipv6\.gateway: /);
  });
});
