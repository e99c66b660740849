// The index in the page: the worker's search equals the native one, a network loads only when
// chosen, a second visit downloads nothing, and damaged files are refused with their reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, DIST, siteAndBrowser, nativeQuery, openPage, ready, givePhoto, photo } from "./browser.mjs";

const env = siteAndBrowser();

const catalog = JSON.parse(await readFile(join(DIST, "index-shards/catalog.json"), "utf8"));

async function queryItem(page, item) {
  await page.fill("#item", String(item));
  await page.click("#search");
  await page.locator(`#item-timing`).filter({ hasText: `to item ${item} ` }).waitFor();
  return page.locator("#results tbody tr").evaluateAll((trs) =>
    trs.map((tr) => ({ item: Number(tr.dataset.item), distance: Number(tr.querySelector(".distance").textContent) })),
  );
}

test("the worker's search of an item equals native cfaces query, in both networks", async () => {
  const { context, page, errors } = await openPage(env.browser, env.site.url);
  await ready(page);
  const status = await page.locator("#status").textContent();
  assert.match(status, new RegExp(`${catalog.person_of_item.length} photos of ${catalog.names.length} people`));
  await page.click("#dev summary");

  // The person with the most photos (in LFW, George W Bush): the nearest neighbours of one of
  // their photos are their other photos.
  const counts = new Map();
  for (const p of catalog.person_of_item) counts.set(p, (counts.get(p) ?? 0) + 1);
  const person = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const query = catalog.person_of_item.indexOf(person);
  const found = await queryItem(page, query);
  assert.equal(found.length, 10);
  assert.equal(found[0].item, query, "the query's own vector comes first");
  assert.ok(found[0].distance < 0.01);
  const samePerson = found.filter((f) => catalog.person_of_item[f.item] === person).length;
  assert.ok(samePerson >= 8, `only ${samePerson} of 10 of ${catalog.names[person]}`);
  const native = nativeQuery(["--item", String(query)]);
  assert.deepEqual(found.map((f) => f.item), native.map((n) => n.item), "wasm and native find the same items");
  native.forEach((n, i) => assert.ok(Math.abs(n.distance - found[i].distance) < 1e-4, `rank ${i + 1}`));

  await page.selectOption("#network", "faceplugin512");
  await ready(page, "faceplugin512");
  await page.waitForFunction((previous) => {
    const rows = [...document.querySelectorAll("#results tbody tr")].map((tr) => tr.dataset.item).join();
    return rows !== previous;
  }, found.map((f) => f.item).join());
  const second = await page.locator("#results tbody tr").evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.item)));
  const nativeSecond = nativeQuery(["--network", "faceplugin512", "--item", String(query)]);
  assert.deepEqual(second, nativeSecond.map((n) => n.item), "faceplugin512: wasm and native agree");

  await page.click("#bench");
  const speed = await page.locator("#speed").textContent({ timeout: 60_000 });
  assert.match(speed, /forest \d+ queries\/s/);
  console.log(`browser (wasm worker) search speed, faceplugin512 index: ${speed}`);
  await writeFile(join(ARTIFACTS, "wasm-speed.txt"), speed + "\n");
  await page.screenshot({ path: join(ARTIFACTS, "developer-tools.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("bad item numbers get a clear message and the page stays usable", async () => {
  const { context, page, errors } = await openPage(env.browser, env.site.url);
  await ready(page);
  await page.click("#dev summary");
  for (const bad of ["99999999", "-4", ""]) {
    await page.fill("#item", bad);
    await page.click("#search");
    await page.getByRole("alert").filter({ hasText: /Enter a whole number from 0 to \d+/ }).waitFor();
  }
  await queryItem(page, 7);
  assert.equal(await page.getByRole("alert").count(), 0, "the error goes away");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a damaged shard or model is refused with its reason", async () => {
  for (const damaged of [/\/index-shards\/[^/]+\.bin(\?.*)?$/, /\/models\/[^/]+(\?.*)?$/]) {
    const context = await env.browser.newContext();
    await context.route(damaged, async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length >> 1] ^= 0xff;
      await route.fulfill({ response, body });
    });
    const page = await context.newPage();
    await page.goto(env.site.url);
    const alert = page.locator("#status.error");
    await alert.waitFor({ timeout: 60_000 });
    assert.match(await alert.textContent(), /fails its checksum/);
    await page.screenshot({ path: join(ARTIFACTS, "damaged-file.png") });
    await context.close();
  }
});

test("start-up loads one network; a second visit downloads no model, shard or catalog", async () => {
  const context = await env.browser.newContext();
  const mark0 = env.site.requests.length;
  const first = await context.newPage();
  await first.goto(env.site.url);
  await ready(first);
  const heavy = (r) => r.path.endsWith(".bin") || r.path.endsWith("catalog.json") || r.path.startsWith("/models/");
  const firstVisit = env.site.requests.slice(mark0).filter(heavy).map((r) => r.path);
  assert.ok(firstVisit.some((p) => p.endsWith("catalog.json")), `${firstVisit}`);
  assert.ok(firstVisit.some((p) => p.startsWith("/index-shards/mobilefacenet192-")), `${firstVisit}`);
  assert.ok(firstVisit.some((p) => p === "/models/mobilefacenet.nnef.tar"), `${firstVisit}`);
  assert.ok(!firstVisit.some((p) => p.startsWith("/index-shards/faceplugin512-") || p.includes("fr_feature")), `the other network waits: ${firstVisit}`);
  await first.close();

  const mark = env.site.requests.length;
  const second = await context.newPage();
  const errors = [];
  second.on("pageerror", (e) => errors.push(String(e)));
  await second.goto(env.site.url);
  await ready(second);
  await givePhoto(second, photo("obama.jpg"));
  const again = env.site.requests.slice(mark).filter(heavy).map((r) => r.path);
  assert.deepEqual(again, [], "the second visit downloads no model, shard or catalog");
  assert.deepEqual(errors, []);
  await context.close();
});
