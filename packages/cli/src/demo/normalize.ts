/**
 * Reads any provider's record into the inventory's one schema and gives it a stable identity:
 * the SHA-256 of its strongest identifier, the serial number, else the MAC, else the host name.
 * Two providers reporting the same device in different shapes end up with the same id, which is
 * what lets the loader merge them. Runs on the worker pool (normalize.task.ts): parsing and
 * hashing hundreds of thousands of records is CPU work.
 */
import { createHash } from 'node:crypto';

/** A record as it left the provider, with what the loader knows of where it came from. */
export interface RawRecord {
  readonly provider: string;
  readonly format: number;
  readonly raw: unknown;
}

/** A device in the common schema, as one provider saw it. */
export interface Asset {
  /** Hex SHA-256 of `serial:<S>`, `mac:<M>` or `host:<H>`, whichever is the strongest present. */
  readonly id: string;
  readonly serial: string | null;
  /** `aa:bb:cc:dd:ee:ff` */
  readonly mac: string | null;
  /** Short and lower case, without the domain. */
  readonly hostname: string;
  readonly ip: string | null;
  /** `<family> <version>`, e.g. `windows 11`, `rhel 9`. */
  readonly os: string | null;
  /** ISO 8601, whole seconds, UTC. */
  readonly lastSeen: string;
  readonly provider: string;
}

type Fields = Record<string, unknown>;

export function normalizeSerial(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const serial = value
    .trim()
    .replace(/^s\/?n\s*[:#]?\s*/i, '')
    .replace(/[^0-9a-z]/gi, '')
    .toUpperCase();
  return serial === '' ? null : serial;
}

export function normalizeMac(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const hex = value.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return hex.length === 12 ? hex.replace(/(..)(?!$)/g, '$1:') : null;
}

export function normalizeHostname(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError('record has no host name');
  return value.trim().toLowerCase().split('.')[0]!;
}

export function normalizeIp(value: unknown): string | null {
  if (Array.isArray(value)) return normalizeIp(value[0]);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff)
    return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
  return typeof value === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(value) ? value : null;
}

const osFamilies: readonly [RegExp, string][] = [
  [/^(microsoft )?win(dows)?\b/i, 'windows'],
  [/^(mac ?os|os ?x|darwin)/i, 'macos'],
  [/^ubuntu/i, 'ubuntu'],
  [/^(red ?hat|rhel)/i, 'rhel'],
  [/^(ios|iphone ?os)/i, 'ios'],
  [/^android/i, 'android'],
];

/** `Windows 11`, `windows:11` or (`windows`, `11`) all read as `windows 11`. */
export function normalizeOs(name: unknown, version?: unknown): string | null {
  if (typeof name !== 'string') return null;
  const text = version === undefined ? name : `${name} ${String(version)}`;
  for (const [pattern, family] of osFamilies) {
    if (!pattern.test(text)) continue;
    const number = /(\d+(\.\d+)*)\s*$/.exec(text.replace(pattern, ''))?.[1];
    return number === undefined ? family : `${family} ${number}`;
  }
  return text.trim().toLowerCase();
}

/** ISO strings, HTTP dates, `YYYY-MM-DD HH:MM:SS` (UTC), epoch seconds or milliseconds. */
export function normalizeTime(value: unknown): string {
  let ms: number;
  if (typeof value === 'number') ms = value < 1e11 ? value * 1000 : value;
  else if (typeof value === 'string')
    ms = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(value) ? `${value.replace(' ', 'T')}Z` : value);
  else ms = Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`unreadable timestamp: ${String(value)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The identity hash: the same device gets the same id from every provider. */
export function identityOf(serial: string | null, mac: string | null, hostname: string): string {
  const key = serial !== null ? `serial:${serial}` : mac !== null ? `mac:${mac}` : `host:${hostname}`;
  return createHash('sha256').update(key).digest('hex');
}

function fields(raw: unknown): Fields {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('record is not an object');
  return raw as Fields;
}

function identifier(list: unknown, type: string): unknown {
  return Array.isArray(list) ? (list as Fields[]).find((entry) => entry?.type === type)?.value : undefined;
}

/** Reads the fields of one record shape (see formats.ts) into the schema's raw parts. */
function read(format: number, raw: Fields): [unknown, unknown, unknown, unknown, unknown, unknown] {
  switch (format) {
    case 0:
      return [
        raw.serial_number,
        raw.mac_address,
        raw.hostname,
        raw.ip_address,
        normalizeOs(raw.os_name),
        raw.last_seen,
      ];
    case 1:
      return [
        raw.SerialNumber,
        raw.MACAddress,
        raw.ComputerName,
        raw.IPAddress,
        normalizeOs(raw.OperatingSystem),
        raw.LastContactTime,
      ];
    case 2: {
      const device = fields(raw.device);
      const platform = raw.platform as Fields | undefined;
      return [
        device.serial,
        (device.hardware as Fields | undefined)?.mac,
        raw.name,
        (raw.network as Fields | undefined)?.addresses,
        normalizeOs(platform?.name, platform?.version),
        raw.seen_at,
      ];
    }
    case 3:
      return [raw.sn, raw.nic, raw.fqdn, raw.ipv4, null, raw.updated];
    case 4: {
      const a = fields(raw.attributes);
      return [a['serial-number'], a.mac, a['host-name'], undefined, normalizeOs(a.os), a['last-check-in']];
    }
    case 5:
      return [
        identifier(raw.identifiers, 'serial'),
        identifier(raw.identifiers, 'mac'),
        identifier(raw.identifiers, 'hostname'),
        raw.ip,
        normalizeOs((raw.os as Fields | undefined)?.name),
        (raw.timestamps as Fields | undefined)?.last_seen,
      ];
    default:
      throw new RangeError(`unknown record format ${format}`);
  }
}

export function normalize(record: RawRecord): Asset {
  const [serialRaw, macRaw, hostRaw, ipRaw, os, seenRaw] = read(record.format, fields(record.raw));
  const serial = normalizeSerial(serialRaw);
  const mac = normalizeMac(macRaw);
  const hostname = normalizeHostname(hostRaw);
  return {
    id: identityOf(serial, mac, hostname),
    serial,
    mac,
    hostname,
    ip: normalizeIp(ipRaw),
    os: os as string | null,
    lastSeen: normalizeTime(seenRaw),
    provider: record.provider,
  };
}
