// Signing secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the installation's secret salt.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/**
 * The key never leaves the process and is derived, not stored: the installation's salt (`install_secrets`, kept by
 * `@cdp/privacy`) with a label of its own, so it is unrelated to the identifier hashes made from the same salt.
 * Sealed form: `v1:<iv hex>:<tag hex>:<ciphertext hex>`.
 */
export function secretBox(installSalt: Buffer): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', installSalt, Buffer.alloc(0), 'cdp destination secrets v1', 32));
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1:${iv.toString('hex')}:${cipher.getAuthTag().toString('hex')}:${sealed.toString('hex')}`;
    },
    open(sealed) {
      const [version, iv, tag, text] = sealed.split(':');
      if (version !== 'v1' || !iv || !tag || text === undefined) throw new Error('not a sealed destination secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'hex'));
      decipher.setAuthTag(Buffer.from(tag, 'hex'));
      return Buffer.concat([decipher.update(Buffer.from(text, 'hex')), decipher.final()]).toString('utf8');
    },
  };
}
