// The CLI's shape: one file per command, registered in one list, the usage generated from that list.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringFlag, UsageError, type CliCommand } from '../src/cli/command';
import { COMMANDS } from '../src/cli/commands';
import { parseCli } from '../src/cli/parse';
import { usage } from '../src/cli/usage';
import { cli, ROOT } from './helpers';

const CLI_DIR = path.join(ROOT, 'src', 'cli');
const COMMANDS_DIR = path.join(CLI_DIR, 'commands');
const names = COMMANDS.map((c) => c.name);

/** The command names the usage's Commands section lists, in order, each once. */
function listedCommands(text: string): string[] {
  const section = text.split('\nCommands:\n')[1].split('\n\n')[0];
  const firstWords = section.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s/)[0]);
  return firstWords.filter((w, i) => w !== firstWords[i - 1]);
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

test('the usage lists exactly the registered commands, in their order, and the built CLI prints that usage', () => {
  assert.equal(new Set(names).size, names.length, `a name registered twice: ${names.join(', ')}`);
  assert.deepEqual(listedCommands(usage()), names);
  for (const c of COMMANDS) {
    assert.ok(c.usage.length > 0 && c.usage.every(([synopsis, summary]) => (synopsis === c.name || synopsis.startsWith(`${c.name} `)) && summary.trim() !== ''), `${c.name}: each usage line starts with its name and says what it does`);
  }
  const help = cli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stdout, usage() + '\n');
});

test('each command is one file under src/cli/commands named for it, and every such file is registered', () => {
  const files = fs.readdirSync(COMMANDS_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'shared.ts');
  assert.deepEqual(files.map((f) => f.replace(/\.ts$/, '')).sort(), names.map(camel).sort());
  for (const name of names) {
    const text = fs.readFileSync(path.join(COMMANDS_DIR, `${camel(name)}.ts`), 'utf8');
    assert.deepEqual([...text.matchAll(/^\s*name: '([^']+)',$/gm)].map((m) => m[1]), [name], `${camel(name)}.ts declares the one command ${name}`);
  }
});

test("a command's name is written in its own file only: no list, switch or set elsewhere in the CLI names it", () => {
  // The commands' own files may use the words otherwise (sql's direction 'up'); terms.ts words the
  // engine's advice ("run migrations forget 3"): it names commands to type and registers none.
  const central = [path.join(ROOT, 'src', 'cli.ts'), ...tsFiles(CLI_DIR)].filter((f) => path.basename(f) !== 'terms.ts' && (path.dirname(f) !== COMMANDS_DIR || ['index.ts', 'shared.ts'].includes(path.basename(f))));
  assert.ok(central.length >= 8, central.join(', '));
  const wrong: string[] = [];
  for (const name of names) {
    const literal = new RegExp(`(['"\`])${name}\\1`);
    for (const file of central) if (literal.test(withoutComments(fs.readFileSync(file, 'utf8')))) wrong.push(`${path.relative(ROOT, file)} names "${name}"`);
  }
  assert.deepEqual(wrong, []);
});

test('a command added to the list is in the usage, parsed with its own flag, and that flag is refused elsewhere', () => {
  const GREETING = stringFlag('greeting', (raw) => raw.toUpperCase(), { onlyWithItsCommands: 'says how to greet', help: ['--greeting <word>', 'the word to greet with'] });
  const hello: CliCommand<{ who: string; greeting?: string }> = {
    name: 'hello',
    usage: [['hello <who>', 'greet someone']],
    flags: [GREETING],
    args(positionals, flags) {
      if (positionals.length !== 1) throw new UsageError('hello needs one name: migrations hello ann');
      return { who: positionals[0], greeting: flags.get(GREETING) };
    },
    run: async () => 0,
  };
  const commands = [...COMMANDS, hello];
  const text = usage(commands);
  assert.deepEqual(listedCommands(text), [...names, 'hello']);
  assert.match(text, /\n {2}hello <who> {12}greet someone\n/);
  assert.match(text, /\n {2}--greeting <word> {6}hello: the word to greet with\n/);
  assert.doesNotMatch(usage(), /hello|greeting/);

  const call = parseCli(['hello', 'ann', '--greeting', 'hi', '--json'], '/work', commands);
  assert.ok(call !== 'help');
  assert.equal(call.command, hello);
  assert.deepEqual(call.args, { who: 'ann', greeting: 'HI' });
  assert.equal(call.json, true);
  assert.equal(call.dir, '/work');
  assert.throws(() => parseCli(['status', '--greeting', 'hi'], '/work', commands), { message: '--greeting says how to greet; it goes with hello only.' });
  assert.throws(() => parseCli(['hello'], '/work', commands), { message: 'hello needs one name: migrations hello ann' });
  assert.throws(() => parseCli(['hello', 'ann'], '/work'), { message: /^Unknown command "hello"\. Commands: status, up, .*, shadows\.$/ });
});

test("README's command-line reference is the generated usage, word for word", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /```\n(Usage: migrations[\s\S]*?)\n```/.exec(readme)?.[1];
  assert.equal(block, usage());
});
