import { defineConfig } from 'vite'

// The build lands in web/dist, which web/embed.go embeds into the truss
// binary. Assets are referenced from the root (/assets/...), so the same
// build serves both / and the read-only demo under /demo/.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    // web/dist/README.txt is committed (go:embed needs the directory without
    // Node); it is copied back from web/public/README.txt on every build.
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  oxc: {
    jsx: { runtime: 'automatic' },
  },
})
