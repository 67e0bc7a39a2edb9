// Pseudonyms: the name the identity graph and its link log give an identifier, so neither holds the identifier itself.
import type { Identifier } from '@cdp/schemas';
import { hashIdentifier } from './suppressions';

/** Maps a normalised identifier to its pseudonym: the same type, and a keyed hash of the identifier as the value. */
export type Pseudonymise = (identifier: Identifier) => Identifier;

/**
 * HMAC-SHA256 of the identifier under the installation's salt (the key of the suppression list too), its first 128
 * bits in hex: as short as an email, so the graph needs no more memory, and no collision in any real number of
 * customers. Without the salt (in ClickHouse's `install_secrets`) a pseudonym cannot be tested against a guessed email.
 */
export function pseudonymiser(salt: Buffer): Pseudonymise {
  return (identifier) => ({ type: identifier.type, value: hashIdentifier(salt, identifier).slice(0, 32) });
}
