/**
 * The demo's world: a fleet of devices and the providers (EDR, MDM, CMDB, scanners...) that each
 * see part of it. Everything is a pure function of the seed and the device's index, so a provider
 * can render any page on the fly, millions of devices use no memory, and the tests can ask which
 * providers list a device without running anything.
 *
 * Who lists whom: device `i` belongs to the residue class `i % providers`. Its home provider (the
 * one with the same number) always lists it; the next `OVERLAP.length - 1` providers list it too
 * with falling probability, so the same device reaches the loader from up to four providers in
 * four different shapes. A provider's listing walks the offsets `o` of its classes in order; page
 * `n` covers the offsets `[n * window, (n + 1) * window)`, so a page is found without scanning.
 */

/** Chance that provider `home + k` also lists a device, for k = 0, 1, 2, 3. */
export const OVERLAP = [1, 0.35, 0.15, 0.05] as const;

/** How a provider pages: an opaque cursor per page, or page numbers with a total. */
export type Paging = 'cursor' | 'page';

export interface Provider {
  readonly index: number;
  readonly name: string;
  /** Which record shape the provider answers with (0-5, see formats.ts). */
  readonly format: number;
  /** Which envelope wraps a page: 0 and 2 are cursor-paged, 1 and 3 page-numbered. */
  readonly envelope: number;
  readonly paging: Paging;
  /** Offsets of each residue class one page covers: about `pageSize` records. */
  readonly window: number;
  readonly pages: number;
  /** Milliseconds the provider takes to answer a page. */
  readonly latencyMs: number;
  /** Requests a second the provider accepts before it answers 429 with Retry-After. */
  readonly perSecond: number;
}

export interface PopulationOptions {
  readonly seed: number;
  /** Devices in the fleet. */
  readonly assets: number;
  /** @default 40 */
  readonly providers?: number;
}

export interface Device {
  readonly index: number;
  /** Canonical: upper-case letters and digits. Absent on devices without a readable serial. */
  readonly serial: string | undefined;
  /** Canonical: 12 lower-case hex digits. Absent on cloud instances. */
  readonly mac: string | undefined;
  /** Canonical: short, lower case. */
  readonly hostname: string;
  readonly ip: string;
  /** One of OS_NAMES' keys. */
  readonly os: string;
  readonly osVersion: string;
}

const categories = ['edr', 'mdm', 'cmdb', 'vuln', 'nac', 'cloud', 'dhcp', 'itam', 'siem', 'patch'];
const vendorCodes = ['C0', 'FV', 'PF', '5C', 'JX', 'MX', 'HV', 'DL', 'R9', 'ZA'];
const roles = ['ws', 'lt', 'srv', 'db', 'kiosk', 'vm', 'pos', 'lab'];
const ouis = ['3c22fb', '00155d', 'f0189f', 'a4bb6d', '001a2b', '8c8590', 'dca632', '70b3d5'];

/** Operating systems: canonical family, its versions. formats.ts and normalize.ts spell them out. */
export const OS_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  windows: ['10', '11'],
  macos: ['13', '14', '15'],
  ubuntu: ['20.04', '22.04', '24.04'],
  rhel: ['8', '9'],
  ios: ['17', '18'],
  android: ['13', '14'],
};
const osFamilies = Object.keys(OS_VERSIONS);

/** A well-mixed 32-bit hash of a few integers (murmur3's finaliser over a running mix). */
export function hash32(a: number, b: number, c = 0, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = step(h, b);
  h = step(h, c);
  h = step(h, d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function step(h: number, x: number): number {
  h ^= Math.imul(x | 0, 0xcc9e2d51);
  return Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
}

/** A number in [0, 1) drawn from the same inputs, always the same. */
export function unit(a: number, b: number, c = 0, d = 0): number {
  return hash32(a, b, c, d) / 0x1_0000_0000;
}

/** The most devices the identifiers below keep unique (24 bits of MAC and IP). */
export const MAX_ASSETS = 0xff_ffff;

export class Population {
  readonly seed: number;
  readonly assets: number;
  readonly providers: readonly Provider[];
  /** The page of one page-numbered provider that always answers 500, to show a dead letter. */
  readonly deadPage: { readonly provider: number; readonly page: number };

  constructor(options: PopulationOptions) {
    this.seed = options.seed >>> 0;
    this.assets = options.assets;
    const count = options.providers ?? 40;
    const offsets = Math.ceil(this.assets / count);
    const expectedPerOffset = OVERLAP.reduce((sum, f) => sum + f, 0);
    this.providers = Array.from({ length: count }, (_, index) => {
      const pageSize = [100, 200, 250, 500][hash32(this.seed, index, 1) % 4]!;
      const window = Math.max(1, Math.round(pageSize / expectedPerOffset));
      const envelope = index % 4;
      return {
        index,
        name: `${categories[index % categories.length]}-${String(Math.floor(index / categories.length) + 1).padStart(2, '0')}`,
        format: index % 6,
        envelope,
        paging: envelope % 2 === 0 ? 'cursor' : 'page',
        window,
        pages: Math.max(1, Math.ceil(offsets / window)),
        latencyMs: 5 + (hash32(this.seed, index, 2) % 40),
        perSecond: [8, 15, 25, 50][hash32(this.seed, index, 3) % 4]!,
      } satisfies Provider;
    });
    const paged = this.providers.filter((p) => p.paging === 'page');
    const dead = paged[hash32(this.seed, 4) % paged.length]!;
    this.deadPage = { provider: dead.index, page: Math.min(1, dead.pages - 1) };
  }

  device(index: number): Device {
    const s = this.seed;
    const kind = unit(s, index, 10);
    // Scrambled, still one-to-one: an odd multiplier is a bijection on 24 bits.
    const tag = (Math.imul(index, 0x9e3779b1) + s) & 0xff_ffff;
    const family = osFamilies[hash32(s, index, 11) % osFamilies.length]!;
    const versions = OS_VERSIONS[family]!;
    return {
      index,
      serial:
        kind < 0.78
          ? `${vendorCodes[hash32(s, index, 12) % vendorCodes.length]}${tag.toString(36).toUpperCase().padStart(5, '0')}${(hash32(s, index, 13) % 1296).toString(36).toUpperCase().padStart(2, '0')}`
          : undefined,
      mac:
        kind < 0.93
          ? `${ouis[hash32(s, index, 14) % ouis.length]}${tag.toString(16).padStart(6, '0')}`
          : undefined,
      hostname: `${roles[hash32(s, index, 15) % roles.length]}-${index.toString(36).padStart(5, '0')}`,
      ip: `10.${(index >>> 16) & 0xff}.${(index >>> 8) & 0xff}.${index & 0xff}`,
      os: family,
      osVersion: versions[hash32(s, index, 16) % versions.length]!,
    };
  }

  /** When `provider` last saw the device, in whole seconds since the epoch. */
  lastSeen(device: number, provider: number): number {
    return 1_767_225_600 + (hash32(this.seed, device, provider, 17) % (30 * 86_400));
  }

  /** Whether provider `home + k` lists the device (k = 0 always does). */
  #lists(device: number, k: number): boolean {
    return k === 0 || unit(this.seed, device, k, 18) < OVERLAP[k]!;
  }

  /** The devices on a page of a provider, in listing order; `page` counts from 0. */
  *page(provider: Provider, page: number): Generator<number> {
    const count = this.providers.length;
    const end = Math.min((page + 1) * provider.window, Math.ceil(this.assets / count));
    for (let o = page * provider.window; o < end; o++) {
      for (let k = 0; k < OVERLAP.length; k++) {
        const device = ((provider.index - k + count) % count) + o * count;
        if (device < this.assets && this.#lists(device, k)) yield device;
      }
    }
  }

  /** Which providers list a device, and on which page: the ground truth for tests. */
  listings(device: number): { provider: number; page: number }[] {
    const count = this.providers.length;
    const o = Math.floor(device / count);
    const found: { provider: number; page: number }[] = [];
    for (let k = 0; k < OVERLAP.length && k < count; k++) {
      if (!this.#lists(device, k)) continue;
      const provider = this.providers[((device % count) + k) % count]!;
      found.push({ provider: provider.index, page: Math.floor(o / provider.window) });
    }
    return found;
  }

  isDeadPage(provider: number, page: number): boolean {
    return provider === this.deadPage.provider && page === this.deadPage.page;
  }
}
