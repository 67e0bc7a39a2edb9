// Where the built console lives on disk, for the query API to serve; the browser code is under src/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder `vite build` writes (index.html and hashed assets). */
export const consoleFilesDir = fileURLToPath(new URL('./dist/', import.meta.url));

/** Whether the console has been built (`pnpm install` builds it; `pnpm --filter @cdp/console build` again). */
export const consoleBuilt = (): boolean => existsSync(fileURLToPath(new URL('./dist/index.html', import.meta.url)));
