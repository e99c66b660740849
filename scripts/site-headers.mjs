// The HTTP headers the site asks of whatever host serves it, and the list of pages allowed to
// embed it. `node scripts/site-headers.mjs DIST` (run by scripts/build-web.sh after trunk)
// writes:
//   DIST/_headers        the headers for every path, in the `_headers` format that Netlify and
//                        Cloudflare Pages read (README, "Hosting it"); scripts/serve.mjs, the run
//                        command's and the tests' server, applies the same file;
//   DIST/embedding.json  the allowed parent origins, read by the page when it is in an iframe.
// Settings, from the environment:
//   CF_EMBED_PARENTS  the origins allowed to embed the page and receive its results, separated by
//                     spaces (https://blog.example https://news.example); "*" (the default):
//                     any page may.
// The thumbnail host comes from the index's manifest (`catalog.thumbnails.base_url`).
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The origin of an absolute http(s) address, or null (a relative address is the site's own). */
function originOf(address) {
  try {
    const url = new URL(address);
    return ["http:", "https:"].includes(url.protocol) ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The parents setting, checked: ["*"] or a list of origins. Throws with a sentence that says
 * which word is wrong.
 */
export function parseParents(setting = "*") {
  const words = setting.split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.includes("*")) return ["*"];
  for (const word of words) {
    if (originOf(word) !== word.replace(/\/$/, "")) {
      throw new Error(`CF_EMBED_PARENTS: "${word}" is not an origin such as https://blog.example (scheme and host, no path)`);
    }
  }
  return words.map((word) => word.replace(/\/$/, ""));
}

/**
 * The site's headers: `html` is the built index.html (its inline scripts are allowed by their
 * hashes), `thumbnailBase` the manifest's thumbnail address, `parents` from parseParents.
 */
export function siteHeaders({ html, thumbnailBase, parents }) {
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    ([, body]) => `'sha256-${createHash("sha256").update(body, "utf8").digest("base64")}'`,
  );
  const thumbs = originOf(thumbnailBase ?? "");
  const withThumbs = (...sources) => [...sources, ...(thumbs ? [thumbs] : [])].join(" ");
  const policy = [
    `default-src ${withThumbs("'self'")}`,
    // 'wasm-unsafe-eval' lets the page and its workers compile their WebAssembly, nothing more.
    `script-src 'self' 'wasm-unsafe-eval' ${inline.join(" ")}`.trim(),
    "style-src 'self'",
    // blob: the visitor's own photo and the saved card; data: the crop the network sees.
    `img-src ${withThumbs("'self'", "blob:", "data:")}`,
    // The morph's worker fetches the celebrity's portrait from the thumbnail host.
    `connect-src ${withThumbs("'self'")}`,
    "media-src 'self' blob:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${parents.includes("*") ? "*" : parents.join(" ")}`,
  ].join("; ");
  return {
    "Content-Security-Policy": policy,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

/**
 * The files named in `texts` (index.html, the workers' loaders) by a hash of their content:
 * trunk's names of the page's script, wasm and styles, scripts/hash-workers.mjs's of the
 * workers'. A copy of one is never stale.
 */
export function hashedFiles(...texts) {
  const names = texts.flatMap((text) => [...text.matchAll(/["'](?:\.\/)?([\w.-]+-[0-9a-f]{16}(?:_bg)?\.(?:js|wasm|css))["']/g)]);
  return [...new Set(names.map(([, name]) => name))].sort();
}

/**
 * The `_headers` file: `headers` for every path, and each of `hashed` kept by browsers for a
 * year without asking again. Every other file is left to the host's own validators (ETag,
 * Last-Modified), so that a return visit is answered "304 Not Modified" for what has not
 * changed (index.html, the workers' loaders).
 */
export function headersFile(headers, hashed = []) {
  const rule = (path, entries) => [path, ...Object.entries(entries).map(([name, value]) => `  ${name}: ${value}`)];
  const immutable = { "Cache-Control": "public, max-age=31536000, immutable" };
  return [...rule("/*", headers), ...hashed.flatMap((name) => rule(`/${name}`, immutable)), ""].join("\n");
}

/** Reads a `_headers` file into [{ pattern: RegExp, headers: {name: value} }]. */
export function parseHeadersFile(text) {
  const rules = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      const pattern = new RegExp(`^${line.trim().replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
      rules.push({ pattern, headers: {} });
    } else if (rules.length) {
      const colon = line.indexOf(":");
      if (colon > 0) rules.at(-1).headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
  }
  return rules;
}

async function main([dist = "dist"]) {
  const html = await readFile(join(dist, "index.html"), "utf8");
  const manifest = JSON.parse(await readFile(join(dist, "index-shards", "manifest.json"), "utf8"));
  const parents = parseParents(process.env.CF_EMBED_PARENTS);
  const headers = siteHeaders({ html, thumbnailBase: manifest.catalog?.thumbnails?.base_url, parents });
  const loaders = (await readdir(dist)).filter((file) => file.endsWith("_loader.js"));
  const loaderTexts = await Promise.all(loaders.map((file) => readFile(join(dist, file), "utf8")));
  await writeFile(join(dist, "_headers"), headersFile(headers, hashedFiles(html, ...loaderTexts)));
  await writeFile(join(dist, "embedding.json"), `${JSON.stringify({ parent_origins: parents })}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  });
}
