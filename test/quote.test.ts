import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { routerosProps, routerosQuote, shellQuote, uciName, uciQuote, UnsafeValueError } from '../src/quote.js';

describe('shellQuote', () => {
  it('leaves plain words bare', () => {
    expect(shellQuote('enp3s0.200')).toBe('enp3s0.200');
    expect(shellQuote('--aux-address=host=192.168.88.192')).toBe('--aux-address=host=192.168.88.192');
  });

  it('round-trips hostile strings through a real shell as one word', () => {
    for (const value of ['eth0;reboot', '$(reboot)', '`id`', "it's", 'a b', '*', '"x"', '\\', '&&', '|']) {
      const out = execFileSync('sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(out, value).toBe(value);
    }
  });

  it('refuses control characters', () => {
    expect(() => shellQuote('eth0\nreboot')).toThrow(UnsafeValueError);
  });
});

describe('uciQuote', () => {
  it('single-quotes values', () => {
    expect(uciQuote('br-lan.200')).toBe("'br-lan.200'");
    expect(uciQuote('tcp udp')).toBe("'tcp udp'");
  });
  it('refuses quotes and newlines, which uci cannot escape', () => {
    expect(() => uciQuote("a'b")).toThrow(UnsafeValueError);
    expect(() => uciQuote('a\nset network.lan.proto=none')).toThrow(UnsafeValueError);
  });
  it('allows only letters, digits and _ in names', () => {
    expect(uciName('flatnet_docker_demo')).toBe('flatnet_docker_demo');
    expect(() => uciName('flatnet-docker')).toThrow(UnsafeValueError);
  });
});

describe('routerosQuote', () => {
  it('leaves plain values bare and quotes the rest', () => {
    expect(routerosQuote('vlan200-docker-demo')).toBe('vlan200-docker-demo');
    expect(routerosQuote('established,related')).toBe('established,related');
    expect(routerosQuote('main bridge')).toBe('"main bridge"');
  });
  it('escapes what RouterOS would interpret inside double quotes', () => {
    expect(routerosQuote('a"b')).toBe('"a\\"b"');
    expect(routerosQuote('$x')).toBe('"\\$x"');
    expect(routerosQuote('a\\b')).toBe('"a\\\\b"');
    expect(routerosQuote('what?')).toBe('"what\\?"');
    expect(routerosQuote('x;/system reboot')).toBe('"x;/system reboot"');
  });
  it('refuses newlines', () => {
    expect(() => routerosQuote('x\n/system reboot')).toThrow(UnsafeValueError);
  });
  it('renders property lists', () => {
    expect(routerosProps([['name', 'vlan20-media'], ['comment', 'flatnet:media']])).toBe('name=vlan20-media comment=flatnet:media');
    expect(() => routerosProps([['bad key', 'x']])).toThrow(UnsafeValueError);
  });
});
