// Offline: after one visit the site works with the network cut (service worker, Cache API).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { hashedFiles } from "../../scripts/site-headers.mjs";
import { ARTIFACTS, DIST, siteAndBrowser, ready, givePhoto, photo } from "./browser.mjs";

const env = siteAndBrowser();

test("after a first visit the page works offline: reload with the network cut, get matches", async () => {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(env.site.url);
  await ready(page);
  const manifest = await page.evaluate(async () => {
    // `ready` resolves once a worker is active, which may still be "activating" (running its
    // activate handler); the state this test needs is the one after that.
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active;
    if (worker.state !== "activated") {
      await new Promise((resolve) => {
        const settled = () => worker.state !== "activating" && resolve();
        worker.addEventListener("statechange", settled);
        settled();
      });
    }
    const response = await fetch("manifest.webmanifest");
    return { active: worker.state, manifest: await response.json() };
  });
  assert.equal(manifest.active, "activated");
  assert.equal(manifest.manifest.display, "standalone", "installable: a web manifest");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  await page.reload();
  await ready(page);
  const offline = await givePhoto(page, photo("obama.jpg"));
  assert.ok(offline.length >= 10, "matches with the network off");
  await page.screenshot({ path: join(ARTIFACTS, "offline.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

/** A first visit, until the service worker controls the page (its copies are in). */
async function firstVisit(context) {
  const page = await context.newPage();
  await page.goto(env.site.url);
  await ready(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  return page;
}

/** The responses to the face worker's wasm while `visit` runs on `page`. */
async function workerWasmResponses(page, visit) {
  const responses = [];
  const listen = (response) => {
    if (/\/worker-[0-9a-f]{16}_bg\.wasm/.test(response.url())) responses.push(response);
  };
  page.on("response", listen);
  await visit();
  page.off("response", listen);
  return responses;
}

test("a return visit takes the face worker's wasm from the browser's HTTP cache, where V8 keeps its compiled code", async () => {
  const context = await env.browser.newContext();
  const page = await firstVisit(context);
  const responses = await workerWasmResponses(page, async () => {
    await page.reload();
    await ready(page);
  });
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller !== null), true, "the page is the service worker's");
  assert.deepEqual(
    responses.map((r) => [new URL(r.url()).search, r.status(), r.fromServiceWorker()]),
    [["", 200, false]],
    "one request, at the wasm's own address, answered without the service worker",
  );
  await context.close();
});

test("offline with the browser's HTTP cache emptied, the worker's wasm comes from the service worker's copy", async () => {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 1000 } });
  const page = await firstVisit(context);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.clearBrowserCache");
  await context.setOffline(true);
  const responses = await workerWasmResponses(page, async () => {
    await page.reload();
    await ready(page);
  });
  assert.deepEqual(
    responses.map((r) => [new URL(r.url()).search, r.status(), r.fromServiceWorker()]),
    [["?offline", 200, true]],
    "the plain request failed; the copy at ?offline came from the service worker",
  );
  const offline = await givePhoto(page, photo("obama.jpg"));
  assert.ok(offline.length >= 10, "matches with the network off");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a return visit downloads nothing again: files named by their hash kept, the others revalidated", async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(env.site.url);
  await ready(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  const mark = env.site.requests.length;
  await page.reload();
  await ready(page);
  const again = env.site.requests.slice(mark);
  const sent = again.reduce((sum, r) => sum + r.sentBytes, 0);
  console.log(`return visit: ${again.length} requests, ${sent} bytes sent, ${again.filter((r) => r.notModified).length} answered 304`);
  // Before (no validators, the worker's files not named by their hash) the worker's 6 MB wasm
  // was sent again on every visit, and its new 200 threw away V8's code cache of it.
  assert.deepEqual(again.filter((r) => r.path.endsWith(".wasm") && !r.notModified).map((r) => r.path), [], "no wasm sent again");
  assert.ok(sent < 100_000, `a return visit downloads under 0.1 MB (${sent} bytes)`);
  // The page's and the workers' files, named by their hash, are kept for a year.
  const headers = await readFile(join(DIST, "_headers"), "utf8");
  const loader = await readFile(join(DIST, "worker_loader.js"), "utf8");
  const hashed = hashedFiles(await readFile(join(DIST, "index.html"), "utf8"), loader);
  assert.equal(hashed.filter((name) => name.endsWith("_bg.wasm")).length, 2, `the page's and the worker's wasm: ${hashed}`);
  for (const name of hashed) {
    assert.match(headers, new RegExp(`^/${name.replace(/\./g, "\\.")}\\n  Cache-Control: public, max-age=31536000, immutable$`, "m"));
  }
  await context.close();
});
