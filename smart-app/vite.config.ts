// Vite build of the SMART app: two pages (launch.html → index.html), served by the service under /smart/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './', // relative asset URLs: works under /smart/ and behind a path prefix
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/smart-app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // the CSP allows no inline script: no polyfill snippet, no inlined assets
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    rollupOptions: {
      input: { launch: fileURLToPath(new URL('launch.html', import.meta.url)), index: fileURLToPath(new URL('index.html', import.meta.url)) },
    },
  },
});
