import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

/**
 * `npm run build:web` writes the app to dist/ (hashed file names under assets/, so the front doors
 * cache them for a year and index.html not at all). `npm run dev:web` serves it on :5173 with hot
 * reload and forwards the API, avatars and chat sockets to the cluster's front door on :8080
 * (`npm run up`), so the page talks to one origin as in production.
 */
const FRONT_DOOR = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: FRONT_DOOR, ws: true },
      '/uploads': FRONT_DOOR,
    },
  },
});
