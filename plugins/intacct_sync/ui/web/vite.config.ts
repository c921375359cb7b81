// The page is a library bundle the Airflow UI imports at run time (react_apps, Airflow >= 3.1).
// React, the JSX runtime, Chakra UI and Emotion are NOT bundled: they are the UI's own copies,
// which it exposes as globals, so the page renders with the UI's theme, colour mode and
// component versions, and the bundle stays small.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const globals = {
  react: "React",
  "react-dom": "ReactDOM",
  "react/jsx-runtime": "ReactJSXRuntime",
  "@chakra-ui/react": "ChakraUI",
  "@emotion/react": "EmotionReact",
};

export default defineConfig({
  build: {
    emptyOutDir: true,
    lib: {
      entry: "src/main.tsx",
      fileName: () => "main.umd.js",
      formats: ["umd"],
      name: "AirflowPlugin",
    },
    outDir: "dist",
    rollupOptions: { external: Object.keys(globals), output: { globals } },
    sourcemap: false,
  },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  plugins: [react()],
});
