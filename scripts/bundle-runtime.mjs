// Bundles the sandbox runtime (userland/runtime.ts as compiled to dist/) and its dependencies into one ES module.
// platform 'neutral': the result runs in a bare vm context, so nothing Node-specific may be pulled in.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/userland/runtime.js', import.meta.url).pathname],
  outfile: new URL('../dist/userland/runtime.bundle.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
