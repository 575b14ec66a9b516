#!/usr/bin/env node
/**
 * The bundle report: every chunk's raw and gzip size, and what the first visit to /login and
 * to /tasks downloads (the entry, the route's lazy chunks, and all their static imports, from
 * Vite's manifest). Writes frontend/bundle-report.json; exits 1 when a first load is over the
 * budget, or when the login screen would pull in task-list code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP_BYTES = 100 * 1024;
const DIST = fileURLToPath(new URL('../../src/taskwell/webapp/dist/', import.meta.url));
const REPORT = fileURLToPath(new URL('../bundle-report.json', import.meta.url));

// What a first visit to each route needs: the entry plus the lazy route chunks on its path.
const ROUTES = {
  '/login': ['index.html', 'src/routes/LoginPage.tsx'],
  '/tasks': ['index.html', 'src/routes/SignedInApp.tsx', 'src/routes/TasksPage.tsx'],
};
// Source that must never reach the login screen.
const TASK_CODE = /^src\/(tasks|offline|routes\/(TasksPage|TaskDetailPage|SignedInApp|SettingsPage))\b/;

const manifest = JSON.parse(readFileSync(`${DIST}.vite/manifest.json`, 'utf8'));
const chunkModules = JSON.parse(readFileSync(`${DIST}.vite/chunk-modules.json`, 'utf8'));

const sizes = new Map();
function sizeOf(file) {
  if (!sizes.has(file)) {
    const raw = readFileSync(DIST + file);
    sizes.set(file, { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length });
  }
  return sizes.get(file);
}

/** The files a manifest entry loads up front: itself, its static imports (recursively), CSS. */
function closure(key, seen = new Set()) {
  const entry = manifest[key];
  if (!entry) throw new Error(`Not in the Vite manifest: ${key}`);
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const imported of entry.imports ?? []) closure(imported, seen);
  return seen;
}

function firstLoad(keys) {
  const chunkKeys = new Set();
  for (const key of keys) closure(key, chunkKeys);
  const js = [...chunkKeys].map((key) => manifest[key].file);
  const css = [...new Set([...chunkKeys].flatMap((key) => manifest[key].css ?? []))];
  const total = (files) =>
    files.reduce((sum, file) => ({ raw: sum.raw + sizeOf(file).raw, gzip: sum.gzip + sizeOf(file).gzip }), {
      raw: 0,
      gzip: 0,
    });
  const modules = js.flatMap((file) => chunkModules[file] ?? []);
  return { js, css, jsTotal: total(js), cssTotal: total(css), modules };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const chunks = Object.values(manifest)
  .filter((entry) => entry.file.endsWith('.js'))
  .map((entry) => ({ file: entry.file, src: entry.src ?? entry.name ?? '', ...sizeOf(entry.file) }))
  .sort((a, b) => b.gzip - a.gzip);
const cssFiles = [...new Set(Object.values(manifest).flatMap((entry) => entry.css ?? []))].map((file) => ({
  file,
  ...sizeOf(file),
}));

console.log('\nChunks (raw / gzip):');
for (const chunk of [...chunks, ...cssFiles]) {
  console.log(
    `  ${chunk.file.padEnd(44)} ${kb(chunk.raw).padStart(9)} ${kb(chunk.gzip).padStart(9)}  ${chunk.src ?? ''}`,
  );
}

const routes = {};
const failures = [];
for (const [route, keys] of Object.entries(ROUTES)) {
  const load = firstLoad(keys);
  routes[route] = {
    js_files: load.js,
    css_files: load.css,
    js_raw_bytes: load.jsTotal.raw,
    js_gzip_bytes: load.jsTotal.gzip,
    css_gzip_bytes: load.cssTotal.gzip,
  };
  console.log(
    `\nFirst load of ${route}: ${load.js.length} JS files, ${kb(load.jsTotal.raw)} raw, ${kb(load.jsTotal.gzip)} gzip JS (+ ${kb(load.cssTotal.gzip)} gzip CSS)`,
  );
  if (load.jsTotal.gzip > BUDGET_GZIP_BYTES)
    failures.push(`${route}: first-load JS ${kb(load.jsTotal.gzip)} gzip is over the ${kb(BUDGET_GZIP_BYTES)} budget`);
  if (route === '/login') {
    const leaked = load.modules.filter((module) => TASK_CODE.test(module));
    if (leaked.length) failures.push(`/login loads task-list code: ${leaked.join(', ')}`);
  }
}

const report = {
  budget_gzip_bytes: BUDGET_GZIP_BYTES,
  routes,
  chunks: chunks.map(({ file, src, raw, gzip }) => ({ file, src, raw_bytes: raw, gzip_bytes: gzip })),
  css: cssFiles.map(({ file, raw, gzip }) => ({ file, raw_bytes: raw, gzip_bytes: gzip })),
  ok: failures.length === 0,
};
writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nWrote ${REPORT}`);
if (failures.length) {
  for (const failure of failures) console.error(`BUDGET FAILED: ${failure}`);
  process.exit(1);
}
console.log(`Budget OK: first-load JS <= ${kb(BUDGET_GZIP_BYTES)} gzip on every route.`);
