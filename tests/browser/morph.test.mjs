// The morph from the visitor's face to a celebrity's: opened from a card or the person's
// photos, live while the slider moves (keyboard too), saved as a GIF, made in a worker whose
// code a visit downloads only when it first opens a morph; and the photo still stays home.
//
// A built site has the celebrities' portraits where the dataset was there to cut them
// (`cfaces thumbnails`); where it was not, the portrait the test morphs with is one of the test
// photos, put in place for the test and removed after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, copyFile, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, DIST, siteAndBrowser, openPage, ready, givePhoto, photo } from "./browser.mjs";

const env = siteAndBrowser();
const catalog = JSON.parse(await readFile(join(DIST, "index-shards/catalog.json"), "utf8"));
const manifest = JSON.parse(await readFile(join(DIST, "index-shards/manifest.json"), "utf8"));
const portraitSide = manifest.catalog.thumbnails.portrait_size;

const portraitPath = (item) => join(DIST, "thumbnails", `${catalog.thumbs[item]}-${portraitSide}.jpg`);
const exists = (path) => access(path).then(() => true, () => false);

/** Makes sure `item` has a portrait; returns what undoes that. */
async function withPortrait(item) {
  const path = portraitPath(item);
  if (await exists(path)) return async () => {};
  await copyFile(photo("obama2.jpg"), path);
  return () => rm(path, { force: true });
}

/** Moves the slider to `percent` as a pointer would (an input event), and waits for its frame. */
async function slideTo(page, percent) {
  await page.locator("#morph-t").evaluate((input, value) => {
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, percent);
  return frameShown(page, percent / 100);
}

async function frameShown(page, t) {
  await page.locator(`#morph[data-frame-t="${t.toFixed(2)}"]`).waitFor({ timeout: 30_000 });
  return page.locator("#morph").evaluate((m) => Number(m.dataset.frameMs));
}

/** The frame on the canvas, as grey levels. */
async function frameGreys(page) {
  return page.locator("#morph-frame").evaluate((canvas) => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const greys = new Array(data.length / 4);
    for (let i = 0; i < greys.length; i++) greys[i] = (data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / 3;
    return greys;
  });
}

const meanDifference = (a, b) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

test("a card's Morph: live frames from you to the celebrity, keyboard, a GIF; its code loads only then", async () => {
  const { context, page, errors } = await openPage(env.browser, env.site.url);
  await ready(page);
  const found = await givePhoto(page, photo("obama.jpg"));
  const item = found[0].item;
  const undoes = [await withPortrait(item)];
  try {
    const before = env.site.requests.length;
    assert.ok(
      env.site.requests.every((r) => !r.path.includes("morph-worker")),
      "a visit that does not morph never downloads the morph's code",
    );
    await page.locator(`#matches .card[data-item="${item}"] .morph-open`).click();
    const dialog = page.locator("#morph");
    await dialog.waitFor();
    await page.locator('#morph[data-stage="ready"]').waitFor({ timeout: 30_000 });
    // It opens on the "average face"; the slider has the focus.
    const times = [await frameShown(page, 0.5)];
    // "ready" means both faces are cut; the morph worker may still be loading then. Once a
    // frame is shown it has run, so its code has come.
    const fetched = env.site.requests.slice(before).map((r) => r.path);
    assert.ok(fetched.some((p) => /\/morph-worker-[0-9a-f]{16}_bg\.wasm$/.test(p)), `${fetched}`);
    assert.ok(fetched.includes(`/thumbnails/${catalog.thumbs[item]}-${portraitSide}.jpg`), `${fetched}`);
    assert.ok(await page.locator("#morph-t").evaluate((e) => e === document.activeElement), "the slider has the focus");
    await page.screenshot({ path: join(ARTIFACTS, "morph-dialog.png") });
    const frames = {};
    for (const percent of [0, 25, 50, 75, 100]) {
      times.push(await slideTo(page, percent));
      frames[percent] = await frameGreys(page);
      await dialog.screenshot({ path: join(ARTIFACTS, `morph-1-t${String(percent).padStart(3, "0")}.png`) });
    }
    // One face changes into the other: the ends differ, and the middle lies between them.
    const ends = meanDifference(frames[0], frames[100]);
    assert.ok(ends > 8, `the two faces differ: ${ends}`);
    for (const percent of [25, 50, 75]) {
      const [fromStart, fromEnd] = [meanDifference(frames[percent], frames[0]), meanDifference(frames[percent], frames[100])];
      assert.ok(fromStart > 1 && fromEnd > 1 && fromStart < ends && fromEnd < ends, `t = ${percent}: ${fromStart} ${fromEnd} of ${ends}`);
    }
    // The keyboard moves it as any slider: Home, End, the arrows.
    await page.keyboard.press("Home");
    await frameShown(page, 0);
    await page.keyboard.press("End");
    await frameShown(page, 1);
    await page.keyboard.press("ArrowLeft");
    await frameShown(page, 0.99);
    // Dragged quickly, the frame shown catches up with the slider, never a stale one last.
    for (let percent = 10; percent <= 90; percent += 4) {
      await page.locator("#morph-t").evaluate((input, value) => {
        input.value = String(value);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }, percent);
    }
    await frameShown(page, 0.9);
    times.sort((a, b) => a - b);
    console.log(`morph frames in the worker: median ${times[times.length >> 1].toFixed(1)} ms, slowest ${times.at(-1).toFixed(1)} ms`);

    // The GIF: made in the worker, there and back.
    const download = page.waitForEvent("download");
    await page.click("#morph-gif");
    const saved = await download;
    assert.match(saved.suggestedFilename(), /^morph-.+\.gif$/);
    const gif = await readFile(await saved.path());
    assert.equal(gif.subarray(0, 6).toString("latin1"), "GIF89a");
    assert.deepEqual([gif.readUInt16LE(6), gif.readUInt16LE(8)], [256, 256]);
    assert.ok(gif.includes(Buffer.from("NETSCAPE2.0")), "it loops");
    assert.ok(gif.length > 100_000, `${gif.length} bytes`);
    await writeFile(join(ARTIFACTS, "morph.gif"), gif);
    await page.locator("#morph-gif:not([disabled])").waitFor();
    console.log(`morph GIF of 20 frames: ${await dialog.getAttribute("data-gif-ms")} ms, ${gif.length} bytes`);

    // Escape closes it; the focus is back on the button that opened it.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.ok(await page.evaluate(() => document.activeElement.classList.contains("morph-open")), "focus returns");

    // Two more pairs, to look at: the slider at its quarters.
    for (const rank of [2, 3]) {
      const other = found[rank - 1].item;
      undoes.push(await withPortrait(other));
      await page.locator(`#matches .card[data-item="${other}"] .morph-open`).click();
      await page.locator('#morph[data-stage="ready"]').waitFor({ timeout: 30_000 });
      for (const percent of [0, 25, 50, 75, 100]) {
        await slideTo(page, percent);
        await dialog.screenshot({ path: join(ARTIFACTS, `morph-${rank}-t${String(percent).padStart(3, "0")}.png`) });
      }
      await page.click("#morph-close");
      await dialog.waitFor({ state: "detached" });
    }
    assert.deepEqual(errors, []);
  } finally {
    for (const undo of undoes) await undo();
    await context.close();
  }
});

test("the morph from the person's photos, a portrait that cannot be had, and privacy", async () => {
  const { context, page, errors } = await openPage(env.browser, env.site.url);
  await ready(page);
  const seen = [];
  context.on("request", (r) => seen.push({ url: r.url(), method: r.method(), body: r.postDataBuffer()?.length ?? 0 }));
  const found = await givePhoto(page, photo("obama.jpg"));
  const [withOne, without] = [found[0].item, found[1].item];
  const undo = await withPortrait(withOne);
  // The other card's portrait is away (a CDN that lost a file).
  const away = `${portraitPath(without)}.away`;
  const hadIt = await exists(portraitPath(without));
  if (hadIt) await rename(portraitPath(without), away);
  try {
    await page.locator(`#matches .card[data-item="${without}"] .morph-open`).click();
    const problem = page.locator("#morph .morph-problem");
    await problem.waitFor({ timeout: 30_000 });
    const name = catalog.names[catalog.person_of_item[without]];
    const words = await problem.locator("p").first().textContent();
    assert.ok(words.startsWith(`The photo of ${name} could not be downloaded.`), words);
    await page.screenshot({ path: join(ARTIFACTS, "morph-missing-portrait.png") });
    await page.click("#morph-close");
    // The same person's photos, from the card: each has its Morph.
    const person = catalog.person_of_item[withOne];
    await page.locator(`#matches .card[data-item="${withOne}"] .card-open`).click();
    await page.locator(`#gallery li[data-item="${withOne}"] .morph-open`).click();
    await page.locator('#morph[data-stage="ready"]').waitFor({ timeout: 30_000 });
    await frameShown(page, 0.5);
    assert.equal(await page.locator("#morph-title").textContent(), `You and ${catalog.names[person]}`);
    // Nothing of the photo left the page: only GETs of this site's files.
    const origin = new URL(env.site.url).origin;
    for (const r of seen) {
      const url = new URL(r.url);
      assert.ok(["blob:", "data:"].includes(url.protocol) || url.origin === origin, `stays home: ${r.url}`);
      assert.equal(r.method, "GET", r.url);
      assert.equal(r.body, 0, r.url);
      assert.ok(r.url.length < 300, `no data in the address: ${r.url.slice(0, 80)}…`);
    }
    assert.ok(env.site.requests.every((r) => r.method === "GET" && r.bodyBytes === 0), "the server received no bytes");
    assert.deepEqual(errors, []);
  } finally {
    if (hadIt) await rename(away, portraitPath(without));
    await undo();
    await context.close();
  }
});
