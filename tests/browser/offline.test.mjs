// Offline: after one visit the site works with the network cut (service worker, Cache API).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
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
