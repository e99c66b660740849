// A static file server for the built site on 127.0.0.1, recording every request it answers
// (method, path, query, how many body bytes came with it, how many it sent back, and whether it
// was answered "304 Not Modified"). The README run command serves the page with it
// (`node scripts/serve.mjs DIR PORT`), and the browser tests and the page benchmark import
// `serve`, so that what is tested is what a visitor of the run command gets: the same files,
// with the headers the build wrote for static hosts (DIR/_headers, from
// scripts/site-headers.mjs), and the validators (ETag, Last-Modified) such a host sends.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parseHeadersFile } from "./site-headers.mjs";

/** Where browsers report Content-Security-Policy violations to, with `cspReports`. */
export const CSP_REPORTS = "/__csp-report";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".bin": "application/octet-stream",
  ".tar": "application/x-tar",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".webmanifest": "application/manifest+json",
};

/**
 * Serves `root` on an ephemeral port; resolves to { url, requests, close }. With `gzip`, answers
 * that the client accepts compressed are gzip-compressed, as a static host or CDN would.
 */
/**
 * `mounts` serves other folders under path prefixes: `{ "/index-shards/": "/tmp/index" }` makes
 * `/index-shards/x` the file `/tmp/index/x` (a test index in place of the built one).
 * `files` answers single paths with given bytes: `{ "/embedding.json": "..." }`.
 * `headers: false` sends no `_headers` (a host that ignores the file), a string sends those
 * instead (a `_headers` text); `cspReports` adds a report-uri to the Content-Security-Policy
 * and keeps the reports in `cspReports`.
 */
export async function serve(root, { gzip = false, port = 0, mounts = {}, files = {}, headers = true, cspReports = false } = {}) {
  const base = resolve(root);
  const requests = [];
  const reports = [];
  const headersText = typeof headers === "string" ? headers : headers ? await readFile(join(base, "_headers"), "utf8").catch(() => "") : "";
  const rules = parseHeadersFile(headersText);
  const headersFor = (path) => {
    const found = Object.assign({}, ...rules.filter((r) => r.pattern.test(path)).map((r) => r.headers));
    if (cspReports && found["Content-Security-Policy"]) found["Content-Security-Policy"] += `; report-uri ${CSP_REPORTS}`;
    return found;
  };
  const server = createServer(async (req, res) => {
    const address = new URL(req.url, "http://x");
    const path = decodeURIComponent(address.pathname);
    const record = { method: req.method, path, query: address.search, bodyBytes: 0, sentBytes: 0 };
    if (path === CSP_REPORTS && req.method === "POST") {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      reports.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(204).end();
      return;
    }
    requests.push(record);
    for await (const chunk of req) record.bodyBytes += chunk.length;
    if (Object.hasOwn(files, path)) {
      const body = Buffer.from(files[path]);
      record.sentBytes = body.length;
      res.writeHead(200, { ...headersFor(path), "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
      return;
    }
    // The headers file is for the host, not for visitors.
    if (path === "/_headers") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const [prefix, folder] = Object.entries(mounts).find(([p]) => path.startsWith(p)) ?? ["/", base];
    const from = resolve(folder);
    let file = normalize(join(from, path.slice(prefix.length - 1)));
    if (!file.startsWith(from)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const info = await stat(file);
      // Validators, as every static host sends them: a browser's second visit gets "304 Not
      // Modified" for what it has, which keeps V8's code cache of the worker's wasm valid (a
      // new 200 would throw it away and compile the wasm again).
      const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers = {
        ...headersFor(path),
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        etag,
        "last-modified": info.mtime.toUTCString(),
      };
      if (req.headers["if-none-match"] === etag) {
        record.notModified = true;
        res.writeHead(304, headers).end();
        return;
      }
      let body = await readFile(file);
      if (gzip && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
        body = gzipSync(body, { level: 9 });
        headers["content-encoding"] = "gzip";
      }
      record.sentBytes = body.length;
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404, { ...headersFor(path), "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return {
    url,
    requests,
    cspReports: reports,
    close: () =>
      new Promise((ok) => {
        server.close(ok);
        server.closeAllConnections();
      }),
  };
}

/** `node scripts/serve.mjs DIR [PORT]`: serves DIR until stopped; says where once it answers there. */
async function main([root = "dist", port = "8080"]) {
  const site = await serve(root, { port: Number(port) });
  // The address is printed only once a request to it has come back.
  const answer = await fetch(site.url);
  if (!answer.ok) throw new Error(`${site.url} answered HTTP ${answer.status}`);
  site.requests.length = 0;
  process.stderr.write(`serving CelebrityFaces on ${site.url} (Ctrl-C stops it)\n`);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => site.close().then(() => process.exit(0)));
  }
  // Requests are recorded for the tests; a long-running server forgets them.
  setInterval(() => (site.requests.length = 0), 60_000).unref();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((error) => {
    const why = error.code === "EADDRINUSE" ? `port ${error.port} is in use: choose another with PORT=...` : error.message;
    process.stderr.write(`error: cannot serve the page: ${why}\n`);
    process.exit(1);
  });
}
