// Builds the browser app into the Python package (src/taskwell/webapp/dist), which serves it.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const root = fileURLToPath(new URL('.', import.meta.url));

// Client routes the service worker answers with the app shell; anything else (the API,
// /metrics, /healthz, the API docs) always goes to the network. Workbox matches these
// against path + query string, hence the optional "?…".
const APP_ROUTES = [/^\/(login|register|settings|tasks(\/[^/?]+)?)?\/?(\?.*)?$/];

/** Writes .vite/chunk-modules.json (chunk file -> source modules) so that
 * scripts/report-bundle.mjs can prove the login screen ships no task-list code. */
function chunkModules(): Plugin {
  return {
    name: 'taskwell-chunk-modules',
    apply: 'build',
    generateBundle(_options, bundle) {
      const map: Record<string, string[]> = {};
      for (const item of Object.values(bundle)) {
        if (item.type !== 'chunk') continue;
        map[item.fileName] = item.moduleIds
          .filter((id) => !id.startsWith('\0'))
          .map((id) => relative(root, id).replaceAll('\\', '/'));
      }
      this.emitFile({
        type: 'asset',
        fileName: '.vite/chunk-modules.json',
        source: JSON.stringify(map, null, 1),
      });
    },
  };
}

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      // Registered from a bundled module (src/pwa/register.ts): the CSP forbids inline scripts.
      injectRegister: null,
      registerType: 'autoUpdate',
      strategies: 'generateSW',
      filename: 'sw.js',
      manifest: {
        name: 'Taskwell',
        short_name: 'Taskwell',
        description: 'Your tasks, online and offline.',
        start_url: '/tasks',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1d4ed8',
        // PNGs drawn by scripts/make_icons.py (installers want 192 and 512 px, and a maskable one).
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // Precache the shell only; the precompressed copies are written after this runs.
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        globIgnores: ['.vite/**'],
        navigateFallback: 'index.html',
        navigateFallbackAllowlist: APP_ROUTES,
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
    chunkModules(),
  ],
  build: {
    outDir: '../src/taskwell/webapp/dist',
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    // Every supported browser knows <link rel="modulepreload">; the polyfill is dead weight.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
});
