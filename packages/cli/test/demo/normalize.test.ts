import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  identityOf,
  normalize,
  normalizeHostname,
  normalizeIp,
  normalizeMac,
  normalizeOs,
  normalizeSerial,
  normalizeTime,
} from '../../src/demo/normalize.js';

test('normalizeMac() - colons, dashes, dots and bare hex read the same', () => {
  for (const mac of ['3C:22:FB:00:12:AB', '3c-22-fb-00-12-ab', '3c22.fb00.12ab', '3C22FB0012AB'])
    assert.equal(normalizeMac(mac), '3c:22:fb:00:12:ab', mac);
  assert.equal(normalizeMac('3c:22:fb'), null);
  assert.equal(normalizeMac(''), null);
});

test('normalizeSerial() - prefixes, blanks and case are dropped', () => {
  assert.equal(normalizeSerial(' SN: c02xk1abc '), 'C02XK1ABC');
  assert.equal(normalizeSerial('C02-XK1-ABC'), 'C02XK1ABC');
  assert.equal(normalizeSerial(''), null);
  assert.equal(normalizeSerial(null), null);
});

test('normalizeHostname() - lower case, without the domain', () => {
  assert.equal(normalizeHostname('WS-00K3F.corp.example.com'), 'ws-00k3f');
  assert.throws(() => normalizeHostname(undefined), TypeError);
});

test('normalizeIp() - strings, arrays and 32-bit integers', () => {
  assert.equal(normalizeIp('10.1.2.3'), '10.1.2.3');
  assert.equal(normalizeIp(['10.1.2.3', '10.9.9.9']), '10.1.2.3');
  assert.equal(normalizeIp(167_838_211), '10.1.2.3');
  assert.equal(normalizeIp('not an ip'), null);
});

test('normalizeOs() - product names, family:version and split fields agree', () => {
  assert.equal(normalizeOs('Windows 11'), 'windows 11');
  assert.equal(normalizeOs('windows:11'), 'windows 11');
  assert.equal(normalizeOs('Red Hat Enterprise Linux 9'), 'rhel 9');
  assert.equal(normalizeOs('ubuntu', '22.04'), 'ubuntu 22.04');
  assert.equal(normalizeOs(undefined), null);
});

test('normalizeTime() - ISO, HTTP dates, SQL-style UTC, epoch seconds and milliseconds', () => {
  const expected = '2026-01-16T00:19:42Z';
  for (const value of [
    '2026-01-16T00:19:42.000Z',
    '2026-01-16T00:19:42+00:00',
    'Fri, 16 Jan 2026 00:19:42 GMT',
    '2026-01-16 00:19:42',
    1_768_522_782,
    1_768_522_782_000,
  ])
    assert.equal(normalizeTime(value), expected, String(value));
  assert.throws(() => normalizeTime('yesterday'), TypeError);
});

test('identityOf() - the serial wins over the MAC, the MAC over the host name', () => {
  assert.equal(identityOf('ABC', '3c:22:fb:00:12:ab', 'h'), identityOf('ABC', null, 'other'));
  assert.equal(identityOf(null, '3c:22:fb:00:12:ab', 'h'), identityOf(null, '3c:22:fb:00:12:ab', 'other'));
  assert.notEqual(identityOf(null, null, 'h'), identityOf(null, null, 'i'));
});

test('normalize() - two providers shapes of one device get one id', () => {
  const a = normalize({
    provider: 'edr-01',
    format: 0,
    raw: {
      serial_number: 'FV0A1B2C3',
      mac_address: '3C:22:FB:00:12:AB',
      hostname: 'lt-00001.corp.example.com',
      ip_address: '10.0.0.1',
      os_name: 'macOS 14',
      last_seen: '2026-01-16T00:19:42.000Z',
    },
  });
  const b = normalize({
    provider: 'vuln-01',
    format: 3,
    raw: {
      sn: ' SN: fv0a1b2c3 ',
      nic: '3C22FB0012AB',
      fqdn: 'LT-00001.CORP.EXAMPLE.COM',
      ipv4: 167_772_161,
      updated: '2026-01-02 03:04:05',
    },
  });
  assert.equal(a.id, b.id);
  assert.deepEqual([a.hostname, a.os, b.os, b.ip], ['lt-00001', 'macos 14', null, '10.0.0.1']);
});
