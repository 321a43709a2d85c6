/** Access-key rules shared by every backend (branch keys). */
import { RegistryError } from './types.js';

/**
 * An account always keeps one ACTIVE FULL key: without one nobody could manage its keys
 * over the API any more, only the operator with the CLI. The refusal is the same for
 * deactivating and deleting; create (or activate) another FULL key first.
 */
export function lastFullKey(accountId: string, accessKeyId: string): RegistryError {
  return new RegistryError('LAST_FULL_ACCESS_KEY', 'LAST_FULL_ACCESS_KEY', { accessKeyId, accountId });
}
