// Vite build of the web client: served by the platform from client/dist (hash routing, so one index.html).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const clientRoot = fileURLToPath(new URL('.', import.meta.url));
const devTarget = process.env.AGENT_HOST_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: clientRoot,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': devTarget,
      '/v1': devTarget,
      '/socket.io': { target: devTarget, ws: true },
    },
  },
});
