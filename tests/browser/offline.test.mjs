// Offline and embedded: after one visit the site works with the network cut (service worker,
// Cache API), and inside another page's iframe it posts its matches to that page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../scripts/serve.mjs";
import { ARTIFACTS, siteAndBrowser, ready, givePhoto, photo } from "./browser.mjs";

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

test("?embed=1 in an iframe: a compact page that posts its matches to the parent", async () => {
  // The parent is another site (another port), as for anyone embedding the page.
  const folder = await mkdtemp(join(tmpdir(), "cf-embed-"));
  await writeFile(
    join(folder, "index.html"),
    `<!doctype html><meta charset="utf-8"><title>Embedding page</title>
     <h1>A blog post</h1>
     <iframe id="faces" src="${env.site.url}?embed=1" width="420" height="640" allow="camera" title="CelebrityFaces"></iframe>
     <pre id="received"></pre>
     <script>
       window.addEventListener("message", (event) => {
         if (event.data?.type !== "celebrityfaces:matches") return;
         window.lastMatches = { origin: event.origin, data: event.data };
         document.getElementById("received").textContent = JSON.stringify(event.data, null, 1);
       });
     </script>`,
  );
  const parent = await serve(folder);
  try {
    const context = await env.browser.newContext({ viewport: { width: 900, height: 900 } });
    const page = await context.newPage();
    await page.goto(parent.url);
    const frame = page.frameLocator("#faces");
    await frame.locator('#status[data-ready="mobilefacenet192"]').waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator(".lede").count(), 0, "compact: no introduction");
    await frame.locator("#photo-input").setInputFiles(photo("obama.jpg"));
    await page.waitForFunction(() => window.lastMatches, null, { timeout: 60_000 });
    const received = await page.evaluate(() => window.lastMatches);
    assert.equal(received.origin, new URL(env.site.url).origin);
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
    await page.waitForFunction(() => window.lastMatches?.data.filter.gender === "everyone", null, { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, "embedded.png"), fullPage: true });
    await context.close();
  } finally {
    await parent.close();
    await rm(folder, { recursive: true });
  }
});
