// trunk names the page's own script, wasm and styles by a hash of their content, but not its
// workers' files (worker.js, worker_bg.wasm). `node scripts/hash-workers.mjs DIST` (run by
// scripts/build-web.sh after trunk) names those so too, and rewrites each worker's loader (the
// one file the page starts by name, `worker_loader.js`) to load them. A file named by its hash
// is never stale: hosts keep it a year (DIST/_headers) and the service worker keeps a copy, so
// a return visit neither downloads the worker's 6 MB of wasm again nor compiles it (V8's code
// cache of it stays valid).
import { createHash } from "node:crypto";
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What trunk's loader shim for worker `name` says: import the glue, start the wasm. */
export function trunkLoaderText(script, wasm) {
  return `importScripts("./${script}");wasm_bindgen("./${wasm}");`;
}

/**
 * The loader written instead. The wasm is asked for before the glue is imported, so that the
 * two downloads overlap. It is asked for at its own address, which the service worker leaves
 * to the browser's HTTP cache (www/sw.js says why); when that fails (offline with that cache
 * emptied, or an HTTP error), at `?offline`, which the service worker answers from its copy.
 */
export function loaderText(script, wasm) {
  return (
    `{const wasm="./${wasm}";` +
    "const response=fetch(wasm).then((r)=>(r.ok?r:Promise.reject(r))).catch(()=>fetch(`${wasm}?offline`));" +
    `importScripts("./${script}");wasm_bindgen({module_or_path:response});}`
  );
}

async function hashWorker(dist, name) {
  const loader = join(dist, `${name}_loader.js`);
  const [script, wasm] = [`${name}.js`, `${name}_bg.wasm`];
  const text = (await readFile(loader, "utf8")).trim();
  if (text !== trunkLoaderText(script, wasm)) {
    throw new Error(`${loader} is not trunk's loader of ${script} (it says ${JSON.stringify(text.slice(0, 120))}): trunk's output changed`);
  }
  const hash = createHash("sha256");
  for (const file of [script, wasm]) hash.update(await readFile(join(dist, file)));
  const tag = hash.digest("hex").slice(0, 16);
  const [hashedScript, hashedWasm] = [`${name}-${tag}.js`, `${name}-${tag}_bg.wasm`];
  await rename(join(dist, script), join(dist, hashedScript));
  await rename(join(dist, wasm), join(dist, hashedWasm));
  await writeFile(loader, loaderText(hashedScript, hashedWasm));
  return [hashedScript, hashedWasm];
}

async function main([dist = "dist"]) {
  const loaders = (await readdir(dist)).filter((file) => file.endsWith("_loader.js"));
  if (loaders.length === 0) throw new Error(`${dist} has no worker loader (*_loader.js): build it with trunk first`);
  for (const loader of loaders) {
    const named = await hashWorker(dist, loader.slice(0, -"_loader.js".length));
    process.stderr.write(`${loader}: ${named.join(", ")}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  });
}
