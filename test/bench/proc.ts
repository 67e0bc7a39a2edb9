// What a benchmark reads of another process from Linux's /proc: its memory and the CPU it has used (NaN elsewhere).
import { readFileSync } from 'node:fs';

/** A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB. */
export const memoryOf = (pid: number, field: 'VmRSS' | 'VmHWM') => {
  try {
    return (
      Number(
        new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN,
      ) / 1024
    );
  } catch {
    return Number.NaN;
  }
};

/** Clock ticks of 1/100 s (USER_HZ, 100 on Linux) in two fields of /proc/PID/stat, as seconds; NaN elsewhere. */
const ticksOf = (pid: number, first: number) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[first]) + Number(fields[first + 1])) / 100;
  } catch {
    return Number.NaN;
  }
};

/**
 * CPU seconds (user and system, every thread) a process has used so far: each side's own cost, whatever else runs on
 * the machine, so steadier than a rate when the machine is shared.
 */
export const cpuOf = (pid: number) => ticksOf(pid, 11);

/** CPU seconds of a process's children that have exited and were waited for (a server's finished workers). */
export const exitedChildrenCpuOf = (pid: number) => ticksOf(pid, 13);
