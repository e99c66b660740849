// A slower device for the benchmark (CF_BENCH_CPUS): every browser process this one starts is
// held to that many of this machine's CPUs together, by a cgroup CPU quota. Chrome's own CPU
// throttling (DevTools' Emulation.setCPUThrottlingRate) slows the page's main thread only, not
// the worker that does the page's work, so it cannot stand in for a phone. A quota slows every
// thread; a phone's cores are also each slower, so this is a floor on what a phone meets, not
// a model of one. Needs a writable cgroup CPU controller (root; cgroup v2 cpu.max or v1 cpu).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const PERIOD_US = 10_000; // short periods: a 40 ms task is slowed evenly, not stopped whole

/** Starts holding this process's descendants to `cpus` CPUs; returns a function that stops. */
export function limitBrowserCpu(cpus) {
  if (!(cpus > 0)) throw new Error(`CF_BENCH_CPUS must be a positive number of CPUs, not ${cpus}`);
  const quota = Math.round(cpus * PERIOD_US);
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const group = v2 ? "/sys/fs/cgroup/celebrityfaces-bench" : "/sys/fs/cgroup/cpu/celebrityfaces-bench";
  try {
    mkdirSync(group, { recursive: true });
    if (v2) writeFileSync(`${group}/cpu.max`, `${quota} ${PERIOD_US}`);
    else {
      writeFileSync(`${group}/cpu.cfs_period_us`, String(PERIOD_US));
      writeFileSync(`${group}/cpu.cfs_quota_us`, String(quota));
    }
  } catch (error) {
    throw new Error(`CF_BENCH_CPUS needs a writable cgroup CPU controller (${group}): ${error.message}`);
  }
  const moved = new Set();
  const move = () => {
    for (const pid of descendants(process.pid)) {
      if (moved.has(pid)) continue;
      try {
        writeFileSync(`${group}/cgroup.procs`, String(pid));
        moved.add(pid);
      } catch {
        // gone already
      }
    }
  };
  move();
  // Renderers start with each new page: looked for often, so each runs under the quota from
  // its first milliseconds.
  const timer = setInterval(move, 20);
  timer.unref();
  return () => clearInterval(timer);
}

/** Every live process whose chain of parents reaches `root`. */
function descendants(root) {
  const parent = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name, in parentheses, may hold spaces: the fields after its last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone already
    }
  }
  const found = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p; p = parent.get(p)) {
      if (p === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}
