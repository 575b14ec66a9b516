#!/usr/bin/env node
// Writes .br and .gz copies next to every text asset of the build, so the server can send a
// precompressed file (Content-Encoding) instead of compressing on each request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const DIST = fileURLToPath(new URL('../../src/taskwell/webapp/dist/', import.meta.url));
const TEXT = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== '.vite') yield* files(path);
    } else if (TEXT.test(name)) {
      yield path;
    }
  }
}

let count = 0;
for (const path of files(DIST)) {
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gz);
  count += 1;
  if (process.env.VERBOSE) console.log(`${relative(DIST, path)}: ${raw.length} -> br ${br.length}, gz ${gz.length}`);
}
console.log(`compress: wrote .br and .gz for ${count} files in ${relative(process.cwd(), DIST)}`);
