// A CLI run that starts on a signal: loads the built CLI, says "ready" over IPC, and calls its
// main() when the parent sends "go", so several runners start the same instant (faults.ts heldRunner).
// Usage: node faults-runner.js <dist/cli.js> <cli args...>
export {};

// The CLI runs migrations in a child process: tell the test its pid, which the lock row names.
// The module object itself (not an import's namespace copy), so the bundled CLI sees the wrapper.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = require('node:child_process') as typeof import('node:child_process');
const fork = childProcess.fork;
(childProcess as { fork: typeof fork }).fork = ((...args: Parameters<typeof fork>) => {
  const child = fork(...args);
  process.send!({ child: child.pid });
  return child;
}) as typeof fork;

const [cliPath, ...args] = process.argv.slice(2);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require(cliPath) as { main(argv: readonly string[]): Promise<number> };

process.once('message', () => {
  void main(args).then((code) => {
    process.exitCode = code;
    process.disconnect();
  });
});
process.send!('ready');
