// A soak: 200 photos in a row in one page, then 200 moves of the box. Every answer must be the
// latest question's (a late answer to an older photo or box is never shown), and neither the
// face worker's wasm memory nor the tab's JS heap may grow once the caches are warm.
// The photos are LFW's (each person's first), 200 people spread over the alphabet: each is in
// the index, so its own person on top says the answer is that photo's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ARTIFACTS, answerAfter, openPage, ready, shownSeq, siteAndBrowser } from "./browser.mjs";

const LFW = resolve(process.env.CF_DATASET ?? "../shared/data/lfw");
const PHOTOS = Number(process.env.CF_SOAK_PHOTOS ?? 200);
const MOVES = Number(process.env.CF_SOAK_MOVES ?? 200);
/** Photos after which the caches (decoded models, the search's buffers) are warm. */
const WARM_AFTER = 20;
/** Every this many photos, another is given just before: only the second may be answered. */
const RACE_EVERY = 10;
const MIB = 1024 * 1024;

const env = siteAndBrowser();

/** Names compared as the catalog writes them ("George W Bush") and LFW's folders do. */
const key = (name) => name.toLowerCase().replace(/[^a-z0-9]/g, "");

/** What each answer showed, logged in the page as it happened: photos given, top cards shown. */
function watchAnswers() {
  window.__soak = { log: [], top: null };
  addEventListener("TrunkApplicationStarted", (e) => {
    window.__pageWasm = e.detail.wasm;
  });
  document.addEventListener(
    "change",
    (e) => {
      if (e.target.id === "photo-input") window.__soak.log.push({ given: e.target.files[0]?.name ?? null });
    },
    true,
  );
  new MutationObserver(() => {
    const top = document.querySelector("#matches .card .name")?.textContent ?? null;
    if (top !== window.__soak.top) {
      window.__soak.top = top;
      if (top !== null) window.__soak.log.push({ top });
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

/** The face worker's wasm memory, the page's, and the tab's JS heap after a full collection. */
async function memory(page, cdp) {
  const worker = page.workers().find((w) => /\/worker(_loader)?\.js$/.test(new URL(w.url()).pathname));
  assert.ok(worker, `the face worker is running (${page.workers().map((w) => w.url())})`);
  // trunk's loader initialises the no-modules build once; asking again returns its exports.
  const workerWasm = await worker.evaluate(async () => (await wasm_bindgen()).memory.buffer.byteLength);
  const pageWasm = await page.evaluate(() => window.__pageWasm.memory.buffer.byteLength);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  return { workerWasm, pageWasm, jsHeap: usedSize };
}

const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;

/** The cards shown, as a comparable string: items and similarities in order. */
async function shownCards(page) {
  return page.locator("#matches .card").evaluateAll((cards) =>
    JSON.stringify(cards.map((c) => [c.dataset.item, c.dataset.similarity])),
  );
}

test(`${PHOTOS} photos and ${MOVES} box moves in one page: only the latest answer shown, no memory growth`, async (t) => {
  const people = (await readdir(join(LFW, "lfw-deepfunneled"))).sort();
  const stride = Math.floor(people.length / PHOTOS);
  const chosen = Array.from({ length: PHOTOS }, (_, i) => people[i * stride]);
  const personOf = (file) => file.replace(/_\d{4}\.jpg$/, "");

  const { context, page, errors } = await openPage(env.browser, "about:blank");
  await context.addInitScript(watchAnswers);
  await page.goto(env.site.url);
  const cdp = await context.newCDPSession(page);
  await ready(page);
  const readings = { start: await memory(page, cdp) };

  const give = (person) => page.setInputFiles("#photo-input", join(LFW, "lfw-deepfunneled", person, `${person}_0001.jpg`));
  const started = Date.now();
  for (let i = 0; i < PHOTOS; i++) {
    const before = await shownSeq(page);
    if (i % RACE_EVERY === RACE_EVERY - 1 && i > 0) {
      // Another person's photo, at once replaced by this one.
      await give(people[i * stride + 1]);
    }
    await give(chosen[i]);
    await answerAfter(page, before);
    if (i + 1 === WARM_AFTER) readings.warm = await memory(page, cdp);
  }
  const photosMs = Date.now() - started;
  readings.afterPhotos = await memory(page, cdp);

  // The box of the last photo, moved right and left in turn by the keyboard: each move is
  // matched again, and each answer must be that of the box where it is now.
  const box = page.locator(".face-box.chosen");
  await box.focus();
  const atPlace = [];
  const movesStarted = Date.now();
  let wrongPlace = 0;
  for (let i = 0; i < MOVES; i++) {
    const before = await shownSeq(page);
    await page.keyboard.press(i % 2 === 0 ? "ArrowRight" : "ArrowLeft");
    await answerAfter(page, before);
    const cards = await shownCards(page);
    const place = i % 2;
    if (atPlace[place] === undefined) atPlace[place] = cards;
    else if (cards !== atPlace[place]) wrongPlace += 1;
  }
  const movesMs = Date.now() - movesStarted;
  assert.notEqual(atPlace[0], atPlace[1], "the two places of the box have different matches");
  // A burst without waiting: 21 moves end one step right; the last answer must be for there.
  for (let i = 0; i < 21; i++) await page.keyboard.press(i % 2 === 0 ? "ArrowRight" : "ArrowLeft");
  await page.waitForFunction(
    (expected) =>
      JSON.stringify(
        [...document.querySelectorAll("#matches .card")].map((c) => [c.dataset.item, c.dataset.similarity]),
      ) === expected,
    atPlace[0],
    { timeout: 30_000 },
  );
  readings.end = await memory(page, cdp);

  // Every top card shown after a photo was given is that photo's answer: its own person, or a
  // look-alike when the gender preset hides them, but never the person of an older photo.
  const log = await page.evaluate(() => window.__soak.log);
  const given = [];
  let ownOnTop = 0;
  let answers = 0;
  const stale = [];
  for (const entry of log) {
    if (entry.given) {
      given.push(personOf(entry.given));
      continue;
    }
    const current = given.at(-1);
    if (!current) continue;
    answers += 1;
    if (key(entry.top) === key(current)) ownOnTop += 1;
    else if (given.slice(0, -1).some((p) => key(p) === key(entry.top))) stale.push({ given: current, shown: entry.top });
  }

  const report = {
    photos: PHOTOS,
    races: Math.floor((PHOTOS - 1) / RACE_EVERY),
    photosSeconds: photosMs / 1000,
    moves: MOVES,
    movesSeconds: movesMs / 1000,
    answersShown: answers,
    ownPersonOnTop: ownOnTop,
    staleAnswersShown: stale.length,
    movesAnsweredForAnotherPlace: wrongPlace,
    memory: Object.fromEntries(
      Object.entries(readings).map(([when, m]) => [
        when,
        { workerWasm: mib(m.workerWasm), pageWasm: mib(m.pageWasm), jsHeap: mib(m.jsHeap) },
      ]),
    ),
  };
  await writeFile(join(ARTIFACTS, "soak.json"), JSON.stringify(report, null, 2));
  t.diagnostic(JSON.stringify(report));

  assert.deepEqual(stale, [], "no answer of an older photo is shown");
  assert.equal(wrongPlace, 0, "every move's answer is the box's where it is now");
  assert.ok(ownOnTop >= 0.9 * PHOTOS, `the photo's own person is on top for ${ownOnTop} of ${PHOTOS} photos`);
  // Wasm memory grows by whole pages and never shrinks: once warm it must not grow at all,
  // beyond the one larger buffer a box or photo may need (4 MiB).
  assert.ok(
    readings.end.workerWasm - readings.warm.workerWasm <= 4 * MIB,
    `the worker's wasm memory stays put: ${mib(readings.warm.workerWasm)} warm, ${mib(readings.end.workerWasm)} at the end`,
  );
  assert.ok(
    readings.end.pageWasm - readings.warm.pageWasm <= 4 * MIB,
    `the page's wasm memory stays put: ${mib(readings.warm.pageWasm)} warm, ${mib(readings.end.pageWasm)} at the end`,
  );
  assert.ok(
    readings.end.jsHeap <= readings.warm.jsHeap * 1.25 + 2 * MIB,
    `the tab's JS heap stays put: ${mib(readings.warm.jsHeap)} warm, ${mib(readings.end.jsHeap)} at the end`,
  );
  assert.deepEqual(errors, []);
  await context.close();
});
