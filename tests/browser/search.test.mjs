// The built page, in a real browser: it loads the sharded index, answers a query, reports
// search speed, rejects bad input, and says clearly when the index is damaged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { serve } from "./server.mjs";
import { launch, ARTIFACTS } from "./browser.mjs";

const DIST = process.env.CF_DIST ?? "dist";
let site;
let browser;

before(async () => {
  site = await serve(DIST);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await site?.close();
});

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(site.url);
  return { page, errors };
}

test("the page loads the index and answers a nearest-neighbour query", async () => {
  const { page, errors } = await openPage();
  await page.getByRole("status").filter({ hasText: "loaded" }).waitFor({ timeout: 30_000 });
  const status = await page.locator("#status").textContent();
  const catalog = JSON.parse(await readFile(join(DIST, "index-shards/catalog.json"), "utf8"));
  assert.match(status, new RegExp(`${catalog.person_of_item.length} items`));

  // The person with the most photos (in LFW, George W Bush): the nearest neighbours of one of
  // their photos are their other photos.
  const counts = new Map();
  for (const p of catalog.person_of_item) counts.set(p, (counts.get(p) ?? 0) + 1);
  const person = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const query = catalog.person_of_item.indexOf(person);
  await page.fill("#item", String(query));
  await page.click("#search");
  const rows = page.locator("#results tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 10);
  const items = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.item)));
  assert.equal(items[0], query, "the query's own vector comes first");
  const firstDistance = Number(await rows.first().locator("td.distance").textContent());
  assert.equal(await rows.first().locator(".person .name").textContent(), catalog.names[person]);
  assert.ok(firstDistance < 0.01, `distance to itself is ${firstDistance}`);
  const samePerson = items.filter((i) => catalog.person_of_item[i] === person).length;
  assert.ok(samePerson >= 8, `only ${samePerson} of 10 of ${catalog.names[person]}: ${items}`);
  // The browser's answer is the native one: same items, same distances.
  const distances = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector(".distance").textContent)));
  const native = JSON.parse(
    execFileSync(process.env.CF_CFACES ?? "cfaces", ["query", `${DIST}/index-shards`, "--item", String(query)], {
      encoding: "utf8",
    }),
  );
  assert.deepEqual(items, native.map((n) => n.item), "wasm and native find the same items");
  native.forEach((n, i) => assert.ok(Math.abs(n.distance - distances[i]) < 1e-4, `rank ${i + 1}`));

  // The network switch: the same item searched in the look index gives that index's answer.
  await page.selectOption("#network", "look");
  await page.getByRole("status").filter({ hasText: "Index “look” loaded" }).waitFor({ timeout: 30_000 });
  await page.locator("#results tbody tr").first().waitFor();
  const lookItems = await page
    .locator("#results tbody tr")
    .evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.item)));
  const nativeLook = JSON.parse(
    execFileSync(
      process.env.CF_CFACES ?? "cfaces",
      ["query", `${DIST}/index-shards`, "--network", "look", "--item", String(query)],
      { encoding: "utf8" },
    ),
  );
  assert.deepEqual(lookItems, nativeLook.map((n) => n.item), "look: wasm and native agree");
  assert.notDeepEqual(lookItems, items, "the look network ranks differently");
  await page.screenshot({ path: join(ARTIFACTS, "search-results-look.png"), fullPage: true });
  await page.selectOption("#network", "mobilefacenet192");
  await page.getByRole("status").filter({ hasText: "Index “mobilefacenet192” loaded" }).waitFor();

  const timing = await page.locator("#timing").textContent();
  assert.match(timing, /in \d+\.\d\d ms/);
  await page.screenshot({ path: join(ARTIFACTS, "search-results.png"), fullPage: true });

  await page.click("#bench");
  const speed = await page.locator("#speed").textContent({ timeout: 60_000 });
  assert.match(speed, /forest \d+ queries\/s/);
  console.log(`browser (wasm) search speed: ${speed}`);
  await writeFile(join(ARTIFACTS, "wasm-speed.txt"), speed + "\n");
  assert.deepEqual(errors, []);
  await page.close();
});

test("bad input gets a clear message and the page stays usable", async () => {
  const { page, errors } = await openPage();
  await page.getByRole("status").filter({ hasText: "loaded" }).waitFor({ timeout: 30_000 });
  for (const bad of ["99999999", "-4", ""]) {
    await page.fill("#item", bad);
    await page.click("#search");
    await page.getByRole("alert").filter({ hasText: /Enter a whole number from 0 to \d+/ }).waitFor();
  }
  await page.fill("#item", "7");
  await page.click("#search");
  await page.locator('#results tbody tr[data-item="7"]').first().waitFor();
  assert.equal(await page.getByRole("alert").count(), 0, "the error goes away");
  assert.deepEqual(errors, []);
  await page.close();
});

test("a damaged shard is refused with its reason, not searched", async () => {
  const page = await browser.newPage();
  await page.route(/\/index-shards\/[^/]+\.bin(\?.*)?$/, async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await page.goto(site.url);
  const alert = page.getByRole("alert");
  await alert.waitFor({ timeout: 30_000 });
  assert.match(await alert.textContent(), /fails its checksum/);
  await page.screenshot({ path: join(ARTIFACTS, "damaged-shard.png") });
  await page.close();
});

test("a second visit takes the index from the Cache API and downloads no shard", async () => {
  const context = await browser.newContext();
  const mark0 = site.requests.length;
  const first = await context.newPage();
  await first.goto(site.url);
  await first.getByRole("status").filter({ hasText: "loaded" }).waitFor({ timeout: 30_000 });
  const index = (r) => r.path.endsWith(".bin") || r.path.endsWith("catalog.json");
  const firstVisit = site.requests.slice(mark0).filter(index).map((r) => r.path);
  assert.ok(
    firstVisit.some((p) => p.endsWith("catalog.json")) && firstVisit.some((p) => p.startsWith("/index-shards/mobilefacenet192-")),
    `the first visit downloads the catalog and the default network: ${firstVisit}`,
  );
  assert.ok(
    !firstVisit.some((p) => p.startsWith("/index-shards/look-")),
    `the other network waits until it is chosen: ${firstVisit}`,
  );
  await first.close();

  const mark = site.requests.length;
  const second = await context.newPage();
  const errors = [];
  second.on("pageerror", (e) => errors.push(String(e)));
  await second.goto(site.url);
  await second.getByRole("status").filter({ hasText: "loaded" }).waitFor({ timeout: 30_000 });
  const again = site.requests.slice(mark).filter(index).map((r) => r.path);
  assert.deepEqual(again, [], "the second visit downloads no shard or catalog");
  assert.deepEqual(errors, []);
  await context.close();
});
