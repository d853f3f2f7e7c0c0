import { defineConfig } from 'vite';

// The gateway serves the build at /console/ from its jar (classpath:console/). JSX is compiled by
// esbuild itself (React's automatic runtime), so no framework plugin is needed.
export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR || 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
