// Preloaded into every benchmarked child (NODE_OPTIONS="--require <this file>", which its own
// children inherit): on exit, appends the process's peak resident set size in KB
// (process.resourceUsage().maxRSS) to $BENCH_RSS_FILE, one line per process. A tool that runs
// migrations in a child process is charged both peaks, as if they coincided.
'use strict';
const file = process.env.BENCH_RSS_FILE;
// Threads share their process's peak: only the main thread writes it.
if (file && require('node:worker_threads').isMainThread) {
  process.on('exit', () => {
    try {
      require('node:fs').appendFileSync(file, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      /* measuring must never change the child's outcome */
    }
  });
}
