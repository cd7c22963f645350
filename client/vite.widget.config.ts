// Vite build of the embeddable chat (client/src/widget): one self-contained IIFE, client/dist/widget/widget.js,
// served by the platform at /widget.js. Built after the app (which empties client/dist).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const clientRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: clientRoot,
  publicDir: false,
  build: {
    outDir: 'dist/widget',
    emptyOutDir: false,
    target: 'es2020',
    minify: true,
    lib: { entry: fileURLToPath(new URL('./src/widget/widget.ts', import.meta.url)), name: 'AgentHostChat', formats: ['iife'], fileName: () => 'widget.js' },
  },
});
