/**
 * Optional peer dependencies, loaded only by the feature that needs them. The library has no
 * runtime dependencies: a user who never calls `sluice/log` never installs pino.
 */
import { createRequire } from 'node:module';
import { MissingPeerError } from './errors.js';

/** Made by the first feature that loads a peer: creating it costs every import of sluice about 0.5 ms. */
let require: NodeJS.Require | undefined;

/**
 * Loads the CommonJS package `name` for `feature`, or throws SLUICE_ERR_MISSING_PEER naming the
 * package to install. Resolved from sluice's own folder, which finds the application's copy.
 */
export function requirePeer<T>(name: string, feature: string): T {
  try {
    require ??= createRequire(import.meta.url);
    return require(name) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    throw missingPeer(name, feature, error);
  }
}

/** SLUICE_ERR_MISSING_PEER for `feature`, naming the package to install. */
export function missingPeer(name: string, feature: string, cause?: unknown): Error {
  return new MissingPeerError(`${feature} needs the package ${name}: npm install ${name}`, {
    cause,
    peer: name,
  });
}
