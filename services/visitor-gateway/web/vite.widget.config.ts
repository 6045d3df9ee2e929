// The visitor widget: one self-contained script (an IIFE that defines no global name), plus the
// demo page that embeds it. Both land in dist/ beside the console.
import { copyFileSync } from "node:fs";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    preact(),
    {
      name: "widget-demo-page",
      closeBundle() {
        copyFileSync("widget/demo.html", "dist/widget-demo.html");
      },
    },
  ],
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: false,
    lib: { entry: "src/widget/main.tsx", formats: ["iife"], name: "LivechatWidget", fileName: () => "widget.js" },
    minify: true,
  },
});
