// The signed-in read key: kept in this tab's session storage only, never in a URL.
const storageKey = 'cdp.readKey';

export const storedKey = (): string | null => globalThis.sessionStorage?.getItem(storageKey) ?? null;
export const keepKey = (key: string): void => globalThis.sessionStorage?.setItem(storageKey, key);
export const forgetKey = (): void => globalThis.sessionStorage?.removeItem(storageKey);
