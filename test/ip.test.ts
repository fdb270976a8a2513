import { describe, expect, it } from 'vitest';
import { contains, ipv4RangeText, netmaskOf, overlaps, parseCidr, parseIp, parseIpRange } from '../src/ip.js';
import { importRouterOSLive, routerosLive } from './fakes/routeros-live.js';

describe('ip', () => {
  it('parses IPv4 and IPv6 addresses to canonical text', () => {
    expect(parseIp('192.168.88.1')).toMatchObject({ family: 4, text: '192.168.88.1' });
    expect(parseIp('2001:0db8:abc8:0000::0010')).toMatchObject({ family: 6, text: '2001:db8:abc8::10' });
  });

  it('rejects what is not a bare address', () => {
    for (const bad of ['192.168.88', '192.168.088.1', '256.1.1.1', '1.2.3.4/24', 'fe80::1%eth0', 'nas', '', '1.2.3.4 ']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });

  it('computes the first and last address of a prefix', () => {
    const c = parseCidr('192.168.88.192/27')!;
    expect(c.text).toBe('192.168.88.192/27');
    expect(parseIp('192.168.88.192')!.value).toBe(c.first);
    expect(parseIp('192.168.88.223')!.value).toBe(c.last);
    const v6 = parseCidr('2001:db8:abc8::10/64')!;
    expect(v6.text).toBe('2001:db8:abc8::/64');
    expect(v6.address.text).toBe('2001:db8:abc8::10');
  });

  it('keeps host bits visible so checks can refuse 192.168.200.1/24 as a subnet', () => {
    const c = parseCidr('192.168.200.1/24')!;
    expect(c.address.value).not.toBe(c.first);
    expect(c.text).toBe('192.168.200.0/24');
  });

  it('rejects bad prefixes', () => {
    for (const bad of ['192.168.1.0/33', '192.168.1.0/', '192.168.1.0', '2001:db8::/129', '10.0.0.0/8/8', '10.0.0.0/x']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('answers containment and overlap', () => {
    const subnet = parseCidr('192.168.88.0/24')!;
    const range = parseCidr('192.168.88.192/27')!;
    const other = parseCidr('192.168.89.0/24')!;
    expect(contains(subnet, range)).toBe(true);
    expect(contains(range, subnet)).toBe(false);
    expect(contains(subnet, parseIp('192.168.88.255')!.value)).toBe(true);
    expect(contains(subnet, parseIp('192.168.89.0')!.value)).toBe(false);
    expect(overlaps(subnet, range)).toBe(true);
    expect(overlaps(subnet, other)).toBe(false);
    expect(overlaps(parseCidr('10.0.0.0/8')!, parseCidr('10.20.0.0/24')!)).toBe(true);
  });

  it('derives netmasks', () => {
    expect(netmaskOf(24)).toBe('255.255.255.0');
    expect(netmaskOf(27)).toBe('255.255.255.224');
    expect(netmaskOf(0)).toBe('0.0.0.0');
    expect(netmaskOf(32)).toBe('255.255.255.255');
  });

  it('parses address ranges', () => {
    const r = parseIpRange('192.168.88.64-192.168.88.127')!;
    expect(r.first.text).toBe('192.168.88.64');
    expect(r.last.text).toBe('192.168.88.127');
    expect(parseIpRange('192.168.88.64')).toBeUndefined();
    expect(parseIpRange('192.168.88.64-2001:db8::1')).toBeUndefined();
  });

  it('a range that ends before it starts is none: parseIpRange and ipv4RangeText say undefined; one address is a range', () => {
    expect(parseIpRange('192.168.88.127-192.168.88.64')).toBeUndefined();
    expect(parseIpRange('2001:db8::10-2001:db8::1')).toBeUndefined();
    expect(parseIpRange('192.168.88.64-192.168.88.64')!.last.text).toBe('192.168.88.64');
    expect(ipv4RangeText('192.168.88.127-192.168.88.64')).toBeUndefined();
    expect(ipv4RangeText('192.168.88.64')).toBe('192.168.88.64-192.168.88.64');
    expect(ipv4RangeText('192.168.88.64/26')).toBe('192.168.88.64-192.168.88.127');
  });

  it("import copes: a RouterOS pool written backwards is no dhcp-pool (a comment and a warning), not a reversed one the draft would refuse", () => {
    const report = importRouterOSLive(
      routerosLive([], {
        '/ip/pool': [{ name: 'p30', ranges: '10.30.0.199-10.30.0.100' }],
        '/ip/dhcp-server': [{ name: 'd30', interface: 'vlan30', 'address-pool': 'p30' }],
      }),
    );
    expect(report.networks[0]!.dhcpPool).toBeUndefined();
    expect(report.warnings).toEqual(['router core: DHCP server d30 on vlan30 has pool p30 (10.30.0.199-10.30.0.100), not one range inside 10.30.0.0/24: dhcp-pool not imported']);
  });
});
