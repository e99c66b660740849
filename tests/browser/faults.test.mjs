// Faults of the static files: a manifest, catalog, shard or model that is missing (404), cut
// short, damaged, or of another build of the site; the thumbnail host down; a download that
// stalls. Each gets its own plain sentence and a "Try again" that works once the file is back,
// and the page never shows matches made from a wrong file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, DIST, siteAndBrowser, openPage, ready, givePhoto, photo, matches } from "./browser.mjs";

const env = siteAndBrowser();
const manifest = JSON.parse(await readFile(join(DIST, "index-shards/manifest.json"), "utf8"));
const firstNetwork = manifest.networks[0];
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A request for `file` (under index-shards/ or models/), whatever its query. */
const addressOf = (folder, file) => new RegExp(`/${folder}/${escape(file)}(\\?.*)?$`);

const FILES = {
  manifest: { route: addressOf("index-shards", "manifest.json"), name: "manifest.json" },
  catalog: { route: addressOf("index-shards", manifest.catalog.file.file), name: manifest.catalog.file.file },
  shard: { route: addressOf("index-shards", firstNetwork.shards[0].file), name: firstNetwork.shards[0].file },
  model: { route: addressOf("models", manifest.pipeline_models[0].file), name: manifest.pipeline_models[0].file },
};

/** What each fault does to the file's answer. */
const FAULTS = {
  missing: async (route) => route.fulfill({ status: 404, contentType: "text/plain", body: "not found" }),
  "cut short": async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    await route.fulfill({ response, body: body.subarray(0, body.length >> 1) });
  },
  damaged: async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length >> 1] ^= 0x5a;
    await route.fulfill({ response, body });
  },
};

/** The words each fault of each file must bring. */
function expectedWords(file, fault) {
  if (fault === "missing") return new RegExp(`404.*${escape(FILES[file].name)}`);
  // A damaged manifest may still read as JSON, naming files that are not there as it says.
  if (file === "manifest" && fault === "damaged") return /could not be read|arrived damaged or belongs to another version/;
  if (file === "manifest") return /The index description could not be read/;
  return new RegExp(`${escape(FILES[file].name)} arrived damaged or belongs to another version`);
}

let reference;
async function referenceMatches() {
  if (!reference) {
    const { context, page } = await openPage(env.browser, env.site.url);
    await ready(page);
    reference = await givePhoto(page, photo("obama.jpg"));
    await context.close();
  }
  return reference;
}

/** Waits for the load's problem after `attempt` tries again; returns its sentence. "Try again"
 * must be offered. */
async function loadProblem(page, attempt = 0) {
  const problem = page.locator(`#status.error[data-attempt="${attempt}"]`);
  await problem.waitFor({ timeout: 60_000 });
  await page.locator("#retry").waitFor();
  return problem.locator(".message").textContent();
}

for (const file of Object.keys(FILES)) {
  test(`the ${file} missing, cut short, damaged: a plain sentence each, and "Try again" once it is back`, async () => {
    const expected = await referenceMatches();
    const { context, page, errors } = await openPage(env.browser, "about:blank");
    try {
      let attempt = 0;
      for (const [fault, answer] of Object.entries(FAULTS)) {
        await context.unrouteAll();
        await context.route(FILES[file].route, answer);
        if (attempt === 0) await page.goto(env.site.url);
        else await page.click("#retry");
        const words = await loadProblem(page, attempt++);
        assert.match(words, expectedWords(file, fault), `${file} ${fault}: ${words}`);
        assert.equal(await page.locator("#matches .card").count(), 0, "no matches from a wrong file");
        if (fault === "damaged") await page.screenshot({ path: join(ARTIFACTS, `fault-${file}.png`) });
      }
      // The file is back: one click, and the page works as if nothing had happened.
      await context.unrouteAll();
      await page.click("#retry");
      await ready(page);
      const found = await givePhoto(page, photo("obama.jpg"));
      assert.deepEqual(found, expected, "the same matches as a page that never failed");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

test("another build's manifest over this build's cached files: refused, and fine once the deploy is whole", async () => {
  const expected = await referenceMatches();
  const { context, page, errors } = await openPage(env.browser, env.site.url);
  try {
    // A first visit: every file verified and kept in the Cache API, the page in the service worker.
    await ready(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    // A deploy half done: the new manifest is up, its first shard not yet (the old one is
    // served at that address). The old shard in the cache is under the old checksum's address.
    const newer = structuredClone(manifest);
    newer.networks[0].shards[0].sha256 = "0".repeat(64);
    await context.route(FILES.manifest.route, (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(newer) }),
    );
    await page.reload();
    const words = await loadProblem(page);
    assert.match(words, new RegExp(`${escape(FILES.shard.name)} arrived damaged or belongs to another version`), words);
    assert.equal(await page.locator("#matches .card").count(), 0, "no matches from mixed builds");
    // The deploy completes (here: the manifest and its files agree again).
    await context.unrouteAll();
    await page.click("#retry");
    await ready(page);
    assert.deepEqual(await givePhoto(page, photo("obama.jpg")), expected);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the thumbnail host down: the cards keep their names and initials, and the page goes on", async () => {
  const { context, page, errors } = await openPage(env.browser, "about:blank");
  try {
    await context.route(/\/thumbnails\//, (route) => route.abort("connectionrefused"));
    await page.goto(env.site.url);
    await ready(page);
    const found = await givePhoto(page, photo("obama.jpg"));
    assert.ok(found.length >= 10);
    const cards = page.locator("#matches .card");
    for (let i = 0; i < 3; i++) {
      const card = cards.nth(i);
      assert.ok((await card.locator(".name").textContent()).length > 0);
      assert.match(await card.locator(".initials").textContent(), /^\p{Lu}{1,2}$/u);
      assert.ok(await card.locator(".initials").isVisible(), "the initials show");
    }
    // Every image that failed is hidden, none shows a broken-image icon.
    await page.waitForFunction(() => [...document.querySelectorAll("#matches .thumb img")].every((img) => img.hidden || (img.complete && img.naturalWidth > 0)));
    await page.screenshot({ path: join(ARTIFACTS, "thumbnails-down.png") });
    // Another photo: the cards are drawn again over the hidden images, and the page lives.
    const again = await givePhoto(page, photo("biden.jpg"));
    assert.notDeepEqual(again.map((m) => m.item), found.map((m) => m.item));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a download that stalls: the page says so, and the worker asks for the file again", async () => {
  // A host whose first answer for the first shard sends half the file and then nothing.
  const stalled = FILES.shard.route;
  let asked = 0;
  const held = [];
  const seen = [];
  const host = createServer(async (req, res) => {
    seen.push(`${(performance.now() / 1000).toFixed(1)} ${req.url}`);
    const upstream = await fetch(new URL(req.url, env.site.url));
    const body = Buffer.from(await upstream.arrayBuffer());
    const headers = Object.fromEntries(upstream.headers);
    delete headers["content-encoding"];
    if (stalled.test(new URL(req.url, "http://x").pathname) && asked++ === 0) {
      res.writeHead(upstream.status, { ...headers, "content-length": body.length });
      res.write(body.subarray(0, body.length >> 1));
      held.push(res);
      return;
    }
    res.writeHead(upstream.status, { ...headers, "content-length": body.length });
    res.end(body);
  });
  await new Promise((ok) => host.listen(0, "127.0.0.1", ok));
  const { context, page, errors } = await openPage(env.browser, `http://127.0.0.1:${host.address().port}/`);
  try {
    const notice = page.locator("#stalled");
    await notice.waitFor({ timeout: 30_000 });
    assert.match(await notice.textContent(), /has not moved for \d+ s/);
    await page.screenshot({ path: join(ARTIFACTS, "download-stalled.png") });
    await ready(page);
    // Once more at least (the browser may send a repeated request twice on its own).
    assert.ok(asked >= 2, `asked again after the silence: ${seen.join("\n")}`);
    assert.equal(await notice.count(), 0, "the notice goes with the stall");
    assert.ok((await givePhoto(page, photo("obama.jpg"))).length >= 10);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    for (const res of held) res.destroy();
    host.closeAllConnections();
    await new Promise((ok) => host.close(ok));
  }
});
