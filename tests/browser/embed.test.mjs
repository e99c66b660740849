// Safe to host and to embed. The site is served with the headers it asks of a static host
// (dist/_headers, from scripts/site-headers.mjs), and inside another site's iframe (?embed=1)
// it posts its results only to a parent the operator allows (embedding.json, from
// CF_EMBED_PARENTS), to that parent's own origin, and takes no message but its parent's hello.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../scripts/serve.mjs";
import { headersFile, siteHeaders } from "../../scripts/site-headers.mjs";
import { ARTIFACTS, DIST, siteAndBrowser, photo } from "./browser.mjs";

const env = siteAndBrowser();

/**
 * Another site (another port: another origin) whose page embeds `siteUrl` in an iframe and
 * keeps every message it receives in `window.received`.
 */
async function parentSite() {
  const folder = await mkdtemp(join(tmpdir(), "cf-embed-"));
  const server = await serve(folder);
  return {
    origin: new URL(server.url).origin,
    url: server.url,
    /** Writes the parent page around `siteUrl`. */
    embedding: (siteUrl) =>
      writeFile(
        join(folder, "index.html"),
        `<!doctype html><meta charset="utf-8"><title>Embedding page</title>
         <h1>A blog post</h1>
         <iframe id="faces" src="${siteUrl}?embed=1" width="420" height="640" allow="camera" title="CelebrityFaces"></iframe>
         <pre id="received"></pre>
         <script>
           window.received = [];
           window.addEventListener("message", (event) => {
             window.received.push({ origin: event.origin, data: event.data });
             document.getElementById("received").textContent = JSON.stringify(event.data, null, 1);
           });
           window.sayHello = () => document.getElementById("faces").contentWindow
             .postMessage({ type: "celebrityfaces:hello" }, "*");
         </script>`,
      ),
    close: async () => {
      await server.close();
      await rm(folder, { recursive: true });
    },
  };
}

/** The site's headers as the build writes them for `parents`. */
async function headersFor(parents) {
  const html = await readFile(join(DIST, "index.html"), "utf8");
  const manifest = JSON.parse(await readFile(join(DIST, "index-shards/manifest.json"), "utf8"));
  return headersFile(siteHeaders({ html, thumbnailBase: manifest.catalog.thumbnails.base_url, parents }));
}

/** Opens the parent page in a new context; its console lines are kept. */
async function openParent(parentUrl) {
  const context = await env.browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const console = [];
  page.on("console", (m) => console.push(m.text()));
  await page.goto(parentUrl);
  const frame = page.frameLocator("#faces");
  return { context, page, frame, console };
}

async function matchesInFrame(frame) {
  await frame.locator('#status[data-ready="mobilefacenet192"]').waitFor({ timeout: 60_000 });
  await frame.locator("#photo-input").setInputFiles(photo("obama.jpg"));
  await frame.locator("#matches .card").first().waitFor({ timeout: 60_000 });
}

test("the site is served with its headers: a Content-Security-Policy without unsafe-inline, nosniff, no referrer", async () => {
  const workerWasm = (await readFile(join(DIST, "worker_loader.js"), "utf8")).match(/"\.\/([^"]+\.wasm)"/)[1];
  for (const path of ["", "worker_loader.js", workerWasm, "index-shards/manifest.json"]) {
    const response = await fetch(new URL(path, env.site.url));
    assert.equal(response.status, 200, path);
    const policy = response.headers.get("content-security-policy");
    assert.match(policy, /default-src 'self'/, path);
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/, path);
    assert.doesNotMatch(policy, /unsafe-inline|'unsafe-eval'/, path);
    for (const directive of ["worker-src 'self'", "manifest-src 'self'", "style-src 'self'", "frame-ancestors *"]) {
      assert.ok(policy.includes(directive), `${path}: ${directive}`);
    }
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(response.headers.get("referrer-policy"), "no-referrer", path);
  }
  assert.equal((await fetch(new URL("_headers", env.site.url))).status, 404, "the host's file is not served");
  // A thumbnail host of another origin is allowed where the page and its workers fetch from it.
  const policy = siteHeaders({ html: "", thumbnailBase: "https://cdn.example/faces/", parents: ["*"] })["Content-Security-Policy"];
  for (const directive of ["default-src 'self' https://cdn.example", "img-src 'self' blob: data: https://cdn.example", "connect-src 'self' https://cdn.example"]) {
    assert.ok(policy.includes(directive), directive);
  }
  // Every other browser test runs under these headers and fails on any violation reported.
});

test("embedded by default: any parent gets the matches, posted to its own origin", async () => {
  const parent = await parentSite();
  await parent.embedding(env.site.url);
  const { context, page, frame } = await openParent(parent.url);
  try {
    assert.equal(await frame.locator(".lede").count(), 0, "compact: no introduction");
    await matchesInFrame(frame);
    await page.waitForFunction(() => window.received.length > 0, null, { timeout: 60_000 });
    const [received] = await page.evaluate(() => window.received);
    assert.equal(received.origin, new URL(env.site.url).origin);
    assert.equal(received.data.type, "celebrityfaces:matches");
    assert.equal(received.data.network, "mobilefacenet192");
    assert.equal(received.data.matches.length, 5);
    for (const m of received.data.matches) {
      assert.equal(typeof m.name, "string");
      assert.ok(m.similarity > 0 && m.similarity <= 1);
    }
    assert.deepEqual(Object.keys(received.data).sort(), ["filter", "matches", "network", "type"], "names and similarities only");
    assert.deepEqual(received.data.filter, { gender: "men", well_known_only: false }, "the filter in force");
    // Another filter is told to the parent too.
    await frame.locator('#gender-filter input[value="everyone"]').check();
    await page.waitForFunction(() => window.received.at(-1).data.filter.gender === "everyone", null, { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, "embedded.png"), fullPage: true });
  } finally {
    await context.close();
    await parent.close();
  }
});

test("an operator's list: an allowed parent gets the matches; a refused one cannot frame the page, nor hear it where the host ignores the headers", async () => {
  const [allowed, refused] = [await parentSite(), await parentSite()];
  const parents = [allowed.origin, "https://blog.example"];
  const files = { "/embedding.json": JSON.stringify({ parent_origins: parents }) };
  // As the build writes the site for CF_EMBED_PARENTS="<allowed> https://blog.example".
  const site = await serve(DIST, { files, headers: await headersFor(parents), cspReports: true });
  // The same files on a host that sends no headers (the page's own check is all there is).
  const bare = await serve(DIST, { files, headers: false });
  const opened = [];
  try {
    await allowed.embedding(site.url);
    const ok = await openParent(allowed.url);
    opened.push(ok.context);
    await matchesInFrame(ok.frame);
    await ok.page.waitForFunction(() => window.received.length > 0, null, { timeout: 60_000 });
    const [received] = await ok.page.evaluate(() => window.received);
    assert.equal(received.origin, new URL(site.url).origin);
    assert.equal(received.data.matches.length, 5);
    assert.deepEqual(site.cspReports, [], "no violation on the allowed parent");

    // With the headers, the browser itself refuses to show the page in another site's frame.
    await refused.embedding(site.url);
    const blocked = await openParent(refused.url);
    opened.push(blocked.context);
    await blocked.page.waitForTimeout(1500);
    assert.equal(await blocked.frame.locator("#status").count(), 0, "the page is not shown in the refused parent");
    assert.ok(
      blocked.console.some((line) => /frame-ancestors/.test(line)),
      `the browser says why: ${blocked.console.join(" | ")}`,
    );

    // Without them the page runs there, and tells that parent nothing, even when it asks.
    await refused.embedding(bare.url);
    const unheard = await openParent(refused.url);
    opened.push(unheard.context);
    await matchesInFrame(unheard.frame);
    await unheard.page.evaluate(() => window.sayHello());
    await unheard.frame.locator('#gender-filter input[value="everyone"]').check();
    await unheard.frame.locator('#gender-filter input[value="everyone"]:checked').waitFor();
    await unheard.page.waitForTimeout(1500);
    assert.deepEqual(await unheard.page.evaluate(() => window.received), [], "nothing posted to a refused parent");
  } finally {
    for (const context of opened) await context.close();
    await Promise.all([site.close(), bare.close(), allowed.close(), refused.close()]);
  }
});

test("an unreadable list refuses every parent; a parent that says hello is heard once it is allowed", async () => {
  const parent = await parentSite();
  const broken = await serve(DIST, { files: { "/embedding.json": "{ parent_origins: oops" }, headers: false });
  const listed = await serve(DIST, { files: { "/embedding.json": JSON.stringify({ parent_origins: [parent.origin] }) }, headers: false });
  const opened = [];
  try {
    await parent.embedding(broken.url);
    const refused = await openParent(parent.url);
    opened.push(refused.context);
    await matchesInFrame(refused.frame);
    await refused.page.evaluate(() => window.sayHello());
    await refused.page.waitForTimeout(1500);
    assert.deepEqual(await refused.page.evaluate(() => window.received), [], "a typo in the list closes, never opens");

    await parent.embedding(listed.url);
    const heard = await openParent(parent.url);
    opened.push(heard.context);
    await matchesInFrame(heard.frame);
    await heard.page.waitForFunction(() => window.received.length > 0, null, { timeout: 60_000 });
    const before = await heard.page.evaluate(() => window.received.length);
    // A hello is answered with the latest results, to the origin that said it.
    await heard.page.evaluate(() => window.sayHello());
    await heard.page.waitForFunction((n) => window.received.length > n, before, { timeout: 10_000 });
    const last = await heard.page.evaluate(() => window.received.at(-1));
    assert.equal(last.origin, new URL(listed.url).origin);
    assert.equal(last.data.type, "celebrityfaces:matches");
  } finally {
    for (const context of opened) await context.close();
    await Promise.all([broken.close(), listed.close(), parent.close()]);
  }
});
