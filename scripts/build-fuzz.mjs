// Bundles each jsfuzz entry point (fuzz/jsfuzz/*.ts, as compiled to dist/) with the kernel and the ABI into one
// CommonJS file, dist/fuzz-cjs/<target>.cjs. jsfuzz instruments for coverage only what `require` loads as
// CommonJS: ES modules reached through require(esm) would run uninstrumented, and the fuzzer would be blind.
// Packages in node_modules stay external (plain require; jsfuzz instruments them too).
//
// `import.meta` does not exist in CommonJS. The one module in the bundle that reads import.meta.url
// (kernel/host.ts, to find the process loader) gets the URL of its compiled file in dist/ instead, so a worker
// started from the bundle still loads dist/userland/loader.js. Fuzz targets drive worker-less harness processes
// and boot with warmWorkers 0, so the pool starts no thread unless a spawn finds a real program.
import { build } from 'esbuild';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const outdir = path.join(dist, 'fuzz-cjs');
const entries = (await readdir(path.join(dist, 'fuzz', 'jsfuzz'))).filter((f) => f.endsWith('.js'));
if (entries.length === 0) throw new Error('no fuzz entry points in dist/fuzz/jsfuzz: run tsc -p . first');

/** Replaces import.meta.url in files under dist/ with the file URL of the file itself, computed at run time. */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(dist + path.sep)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const rel = JSON.stringify(path.relative(outdir, args.path));
      const url = `require("node:url").pathToFileURL(require("node:path").join(__dirname, ${rel})).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

await build({
  entryPoints: entries.map((f) => path.join(dist, 'fuzz', 'jsfuzz', f)),
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  plugins: [importMetaUrl],
  logLevel: 'warning',
});
