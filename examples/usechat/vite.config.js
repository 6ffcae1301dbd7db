// Builds the useChat page into the examples' embedded static tree, where every example serves
// it at /usechat/. The build is committed (the examples run with only Go installed); CI
// rebuilds it and fails when the committed files differ (.ci/browser.sh).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/usechat/",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "../internal/demo/static/usechat",
    emptyOutDir: true,
    target: "es2022",
    minify: true,
    sourcemap: false,
    rollupOptions: {
      // chatwire.js is served by every example at /chatwire.js; the page uses that file instead
      // of a copy, so the page and the demo always run the same client.
      external: ["/chatwire.js"],
      output: {
        // Fixed names: a rebuild of unchanged sources writes byte-identical files.
        entryFileNames: "assets/usechat.js",
        chunkFileNames: "assets/[name].js",
        assetFileNames: "assets/[name][extname]",
      },
    },
  },
});
