// Durable small-file writes (temp, fsync, rename, fsync dir) and the one-process lock on a log directory.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** Makes a directory's entries (new files, renames) durable; a file's own fsync does not cover them. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` so a crash leaves either the old or the new content, never a mix. Callers serialize
 * writes to one file, so a fixed temp name is safe and a leftover temp is simply overwritten.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  await fsyncDir(path.dirname(file));
}

export async function readJsonIfExists(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/*
 * Directories locked by this process. A lock file naming our own PID is only live if it is in here:
 * in a container the restarted process often gets the same PID as the one that crashed.
 */
const lockedByThisProcess = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): Promise<void>;
}

async function createLockFile(file: string, dir: string, logger: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number.parseInt((await readFile(file, 'utf8').catch(() => '')).trim(), 10);
    // Our own PID in the file is a previous incarnation: this process holds no lock on the directory.
    const live = Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder);
    if (live) {
      throw new Error(`embedded log directory ${dir} is locked by process ${holder}; only one process may open it`);
    }
    logger.warn({ dir, stalePid: Number.isNaN(holder) ? null : holder }, 'taking over a stale embedded log lock');
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/**
 * Takes `<dir>/LOCK` (created exclusively, holding our PID). A lock whose PID is dead is stale and
 * taken over. Two processes taking over the same stale lock at the same instant can both win; the
 * window is a few syscalls at start-up, which we accept over a native flock dependency.
 */
export async function acquireDirLock(dir: string, logger: Logger): Promise<DirLock> {
  const file = path.join(dir, 'LOCK');
  const key = path.resolve(dir);
  if (lockedByThisProcess.has(key)) {
    throw new Error(`embedded log directory ${dir} is already open in this process`);
  }
  // Reserved before the first await, so a concurrent open in this process is refused above.
  lockedByThisProcess.add(key);
  try {
    await createLockFile(file, dir, logger);
    await fsyncDir(dir);
  } catch (error) {
    lockedByThisProcess.delete(key);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      lockedByThisProcess.delete(key);
      const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
      if (holder === String(process.pid)) await unlink(file);
    },
  };
}
