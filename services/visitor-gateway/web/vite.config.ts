// The operator console: a single-page app served by the gateway at /console/.
import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [preact()],
  base: "/console/",
  root: "console",
  publicDir: false,
  build: { outDir: "../dist/console", emptyOutDir: true, sourcemap: true },
  test: { root: ".", environment: "node", include: ["src/**/*.test.ts"] },
});
