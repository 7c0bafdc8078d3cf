/**
 * How each provider spells a device. Six record shapes, as different as real products are: field
 * names, nesting, MACs with colons, dashes, dots or nothing, host names with and without their
 * domain, serials with prefixes and stray blanks, IPs as strings, arrays or integers, and five
 * ways to write a timestamp. normalize.ts reads all of them back into one schema.
 */
import type { Device, Population, Provider } from './population.js';

export const FORMATS = 6;
const DOMAIN = 'corp.example.com';

const prettyOs: Readonly<Record<string, string>> = {
  windows: 'Windows',
  macos: 'macOS',
  ubuntu: 'Ubuntu',
  rhel: 'Red Hat Enterprise Linux',
  ios: 'iOS',
  android: 'Android',
};

function macWith(mac: string, separator: string, group: number): string {
  const parts: string[] = [];
  for (let i = 0; i < mac.length; i += group) parts.push(mac.slice(i, i + group));
  return parts.join(separator);
}

function ipAsInteger(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function sqlTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** One device as provider `provider` reports it. */
export function renderRecord(population: Population, provider: Provider, device: Device): unknown {
  const seen = population.lastSeen(device.index, provider.index);
  const fqdn = `${device.hostname}.${DOMAIN}`;
  const pretty = `${prettyOs[device.os]} ${device.osVersion}`;
  switch (provider.format) {
    case 0:
      return {
        serial_number: device.serial ?? null,
        mac_address: device.mac === undefined ? null : macWith(device.mac, ':', 2).toUpperCase(),
        hostname: fqdn,
        ip_address: device.ip,
        os_name: pretty,
        last_seen: new Date(seen * 1000).toISOString(),
      };
    case 1:
      return {
        SerialNumber: device.serial ?? '',
        MACAddress: device.mac === undefined ? '' : macWith(device.mac, '-', 2),
        ComputerName: device.hostname.toUpperCase(),
        IPAddress: device.ip,
        OperatingSystem: `${device.os}:${device.osVersion}`,
        LastContactTime: seen * 1000,
      };
    case 2:
      return {
        device: {
          serial: device.serial,
          hardware: device.mac === undefined ? {} : { mac: macWith(device.mac, '.', 4) },
        },
        name: device.hostname,
        network: { addresses: [device.ip] },
        platform: { name: device.os, version: device.osVersion },
        seen_at: seen,
      };
    case 3:
      return {
        sn: device.serial === undefined ? undefined : ` SN: ${device.serial.toLowerCase()} `,
        nic: device.mac?.toUpperCase(),
        fqdn: fqdn.toUpperCase(),
        ipv4: ipAsInteger(device.ip),
        updated: sqlTime(seen),
      };
    case 4:
      return {
        type: 'asset',
        id: `${provider.name}:${device.index.toString(16)}`,
        attributes: {
          'serial-number': device.serial ?? null,
          mac: device.mac === undefined ? null : macWith(device.mac, ':', 2),
          'host-name': fqdn,
          os: pretty,
          'last-check-in': new Date(seen * 1000).toUTCString(),
        },
      };
    default:
      return {
        asset_tag: `AT-${device.index.toString(36).toUpperCase()}`,
        identifiers: [
          ...(device.serial === undefined ? [] : [{ type: 'serial', value: device.serial }]),
          ...(device.mac === undefined ? [] : [{ type: 'mac', value: macWith(device.mac, ':', 2) }]),
          { type: 'hostname', value: device.hostname.toUpperCase() },
        ],
        ip: device.ip,
        os: { name: pretty },
        timestamps: { last_seen: new Date(seen * 1000).toISOString().replace('.000Z', '+00:00') },
      };
  }
}

/** Wraps a page's records in the provider's envelope; `page` counts from 0. */
export function renderEnvelope(provider: Provider, page: number, records: unknown[]): unknown {
  const last = page + 1 >= provider.pages;
  switch (provider.envelope) {
    case 0:
      return { data: records, next_cursor: last ? null : encodeCursor(provider, page + 1) };
    case 1:
      return { items: records, page: page + 1, total_pages: provider.pages };
    case 2:
      return { results: records, paging: last ? {} : { next: encodeCursor(provider, page + 1) } };
    default:
      return { assets: records, meta: { page: page + 1, pages: provider.pages } };
  }
}

/** Cursors are opaque to clients; this one hides a page number. */
export function encodeCursor(provider: Provider, page: number): string {
  return Buffer.from(`${provider.name}/${page}`).toString('base64url');
}

export function decodeCursor(provider: Provider, cursor: string): number | undefined {
  const [name, page] = Buffer.from(cursor, 'base64url').toString().split('/');
  const n = Number(page);
  return name === provider.name && Number.isInteger(n) && n >= 0 ? n : undefined;
}
