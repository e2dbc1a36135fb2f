// A CLI run that starts on a signal: loads the built CLI, says "ready" over IPC, and calls its
// main() when the parent sends "go", so several runners start the same instant (faults.ts heldRunner).
// Usage: node faults-runner.js <dist/cli.js> <cli args...>
export {};

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
