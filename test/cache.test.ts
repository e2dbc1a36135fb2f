import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResultCache } from '../src/core/sources/cache';
import { Discovery } from '../src/core';
import { cli, tempWorkspace, tsMigration } from './helpers';

test('the result cache is used across processes and an edit is a miss, never a stale hit', () => {
  const ws = tempWorkspace({ 'versions/migration_001_a.ts': tsMigration(1, 'a') });
  const cacheFile = path.join(tempWorkspace(), 'cache.json');
  const first = new ResultCache(cacheFile);
  assert.deepEqual(new Discovery(ws, [], first).discover()[0].migrations[0].problems, []);
  first.save();
  // Plant a problem in the stored analysis: if the next run shows it, it read the cache.
  const stored = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  const [key] = Object.keys(stored.analysis);
  stored.analysis[key].problems = [{ line: 1, column: 1, severity: 'error', code: 'syntax-error', message: 'planted' }];
  fs.writeFileSync(cacheFile, JSON.stringify(stored));
  const hit = new Discovery(ws, [], new ResultCache(cacheFile)).discover()[0].migrations[0];
  assert.deepEqual(hit.problems.map((p) => [p.message, p.file]), [['planted', path.join(ws, 'versions', 'migration_001_a.ts')]]);
  // Any change to the content changes the key: the planted entry is not used.
  fs.appendFileSync(path.join(ws, 'versions', 'migration_001_a.ts'), '\n// edited\n');
  const third = new ResultCache(cacheFile);
  assert.deepEqual(new Discovery(ws, [], third).discover()[0].migrations[0].problems, []);
  third.save();
  // Only entries the last run used are kept.
  assert.equal(Object.keys(JSON.parse(fs.readFileSync(cacheFile, 'utf8')).analysis).length, 1);
});

test('an unwritable cache location never fails discovery', () => {
  const ws = tempWorkspace({ 'versions/migration_001_a.ts': tsMigration(1, 'a') });
  const blocker = path.join(tempWorkspace({ 'file': 'x' }), 'file');
  const cache = new ResultCache(path.join(blocker, 'sub', 'cache.json'));
  assert.equal(new Discovery(ws, [], cache).discover()[0].migrations.length, 1);
  assert.doesNotThrow(() => cache.save());
});

test('a file whose size and mtime are unchanged is not read again; an edit, a racy mtime or a newly installed import is', () => {
  const file = 'versions/migration_001_a.ts';
  const ws = tempWorkspace({ [file]: `import pkg from 'some-pkg';\n${tsMigration(1, 'a')}` });
  const full = path.join(ws, file);
  const cacheFile = path.join(tempWorkspace(), 'cache.json');
  const hourAgo = new Date(Date.now() - 3_600_000);
  fs.utimesSync(full, hourAgo, hourAgo);
  const codes = (cache: ResultCache) => new Discovery(ws, [], cache).discover()[0].migrations[0].problems.map((p) => p.code);
  const run = () => {
    const cache = new ResultCache(cacheFile);
    const seen = codes(cache);
    cache.save();
    return seen;
  };
  // Files by path live beside the content-addressed results, so that a status parses only them.
  const indexFile = cacheFile.replace(/\.json$/, '.files.json');
  const plant = () => {
    const stored = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    stored.files[full].file.problems.push({ file: full, line: 1, column: 1, severity: 'warning', code: 'modified', message: 'planted' });
    fs.writeFileSync(indexFile, JSON.stringify(stored));
  };
  assert.deepEqual(run(), ['unresolved-import']);
  // Stored by path: the planted problem shows that the next process neither read nor checked the file.
  plant();
  assert.deepEqual(run(), ['unresolved-import', 'modified']);
  // The package installed since: its import is resolved again, so the file is checked again.
  fs.mkdirSync(path.join(ws, 'node_modules', 'some-pkg'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'node_modules', 'some-pkg', 'index.js'), 'module.exports = 1;\n');
  assert.deepEqual(run(), []);
  // The same size with another mtime is an edit: checked again.
  plant();
  fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replace("'some-pkg'", "'other-pk'"));
  fs.utimesSync(full, hourAgo, new Date(hourAgo.valueOf() + 1000));
  assert.deepEqual(run(), ['unresolved-import']);
  // Changed just before the cache was written: the mtime may not show a later edit, so it is not trusted.
  fs.writeFileSync(full, tsMigration(1, 'a'));
  assert.deepEqual(run(), []);
  plant();
  assert.deepEqual(run(), []);
});

test('an import is resolved once per folder in one discovery, not once per workspace: a package installed beside one source resolves there only', () => {
  const files = ['a/versions/migration_001_a.ts', 'a/versions/migration_002_b.ts', 'z/versions/migration_001_a.ts'];
  const ws = tempWorkspace(Object.fromEntries(files.map((f, i) => [f, `import pkg from 'some-pkg';\n${tsMigration(i === 1 ? 2 : 1, 'a')}`])));
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const f of files) fs.utimesSync(path.join(ws, f), hourAgo, hourAgo);
  const cacheFile = path.join(tempWorkspace(), 'cache.json');
  const run = () => {
    const cache = new ResultCache(cacheFile);
    const seen = new Discovery(ws, [], cache).discover().map((s) => [s.id, s.migrations.map((m) => m.problems.map((p) => p.code).join(','))]);
    cache.save();
    return seen;
  };
  assert.deepEqual(run(), [['a/versions', ['unresolved-import', 'unresolved-import']], ['z/versions', ['unresolved-import']]]);
  fs.mkdirSync(path.join(ws, 'z', 'node_modules', 'some-pkg'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'z', 'node_modules', 'some-pkg', 'index.js'), 'module.exports = 1;\n');
  // Stored results checked against resolution from each file's own folder.
  assert.deepEqual(run(), [['a/versions', ['unresolved-import', 'unresolved-import']], ['z/versions', ['']]]);
});

test('a process that looked at no file (the parent of a verify, whose child discovers) leaves the index as it was', () => {
  const ws = tempWorkspace({ 'versions/migration_001_a.ts': tsMigration(1, 'a'), 'versions/migration_002_b.ts': tsMigration(2, 'b') });
  const cacheFile = path.join(tempWorkspace(), 'cache.json');
  const first = new ResultCache(cacheFile);
  new Discovery(ws, [], first).discover();
  first.save();
  const indexFile = cacheFile.replace(/\.json$/, '.files.json');
  const stored = fs.readFileSync(indexFile, 'utf8');
  assert.equal(Object.keys(JSON.parse(stored).files).length, 2);
  new ResultCache(cacheFile).save();
  assert.equal(fs.readFileSync(indexFile, 'utf8'), stored, 'the index is untouched');
});

test('a cache file of the wrong shape, wrong types or garbage is discarded and rebuilt: every command still works', () => {
  const ws = tempWorkspace({ 'versions/migration_001_a.ts': tsMigration(1, 'a'), 'versions/migration_002_b.ts': tsMigration(2, 'b') });
  const cacheHome = tempWorkspace();
  const env = { XDG_CACHE_HOME: cacheHome };
  const folder = path.join(cacheHome, 'migration-manager');
  assert.equal(cli(['status', '--dir', ws], { env }).code, 0);
  const [results, index] = ['.json', '.files.json'].map((ext) => fs.readdirSync(folder).map((f) => path.join(folder, f)).find((f) => f.endsWith(ext) && (ext === '.files.json' || !f.endsWith('.files.json')))!);
  const good = { results: JSON.parse(fs.readFileSync(results, 'utf8')), index: JSON.parse(fs.readFileSync(index, 'utf8')) };
  const [file] = Object.keys(good.index.files);
  const [key] = Object.keys(good.results.analysis);
  const damages: [string, string, unknown][] = [
    ['files: null', index, { ...good.index, files: null }],
    ['files: a list', index, { ...good.index, files: [1, 2] }],
    ['an entry of the wrong types', index, { ...good.index, files: { ...good.index.files, [file]: { key: 7, mtimeMs: 'x', size: null, file: { problems: 'none' }, imports: {} } } }],
    ['an entry whose file has no problems list', index, { ...good.index, files: { ...good.index.files, [file]: { ...good.index.files[file], file: { ...good.index.files[file].file, problems: null } } } }],
    ['an index that is a number', index, 42],
    ['null', index, null],
    ['analysis: null', results, { ...good.results, analysis: null, code: null }],
    ['an analysis of the wrong types', results, { ...good.results, analysis: { ...good.results.analysis, [key]: { exports: 3, problems: {}, imports: null } } }],
    ['code that is not text', results, { ...good.results, code: Object.fromEntries(Object.keys(good.results.analysis).map((k) => [k, { not: 'code' }])) }],
  ];
  for (const [what, target, content] of damages) {
    for (const garbage of [JSON.stringify(content), '{"format": 4, "files": {', '\u0000\u0001 not json']) {
      fs.writeFileSync(results, JSON.stringify(good.results));
      fs.writeFileSync(index, JSON.stringify(good.index));
      fs.writeFileSync(target, garbage);
      for (const args of [['status'], ['validate'], ['status', '--json']]) {
        const r = cli([...args, '--dir', ws], { env });
        assert.equal(r.code, 0, `${what} (${garbage.slice(0, 20)}), ${args.join(' ')}: ${r.stderr}`);
        assert.doesNotMatch(r.stdout + r.stderr, /Cannot read|TypeError|is not|undefined/, what);
      }
      // Rebuilt: the next run stores sound entries again.
      assert.equal(typeof JSON.parse(fs.readFileSync(index, 'utf8')).files[file].key, 'string', what);
    }
  }
  const r = cli(['up', '--dir', ws], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 migration\(s\) done/);
});
