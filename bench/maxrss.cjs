// Preloaded into every benchmarked child (NODE_OPTIONS="--require <this file>"): on exit, writes
// the process's peak resident set size in KB (process.resourceUsage().maxRSS) to $BENCH_RSS_FILE.
'use strict';
const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      /* measuring must never change the child's outcome */
    }
  });
}
