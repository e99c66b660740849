// Launches Debian's chromium through playwright-core: headless, no sandbox (root), and no
// background networking, since this machine reaches nothing outside. Helpers shared by the
// browser tests: the test photos, opening the page, giving it a photo, waiting for matches.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve } from "../../scripts/serve.mjs";

export const ARTIFACTS = process.env.CF_ARTIFACTS ?? "artifacts";
export const DIST = process.env.CF_DIST ?? "dist";
/** face_recognition 1.3.0's test images (scripts/fetch-test-photos.sh prints the folder). */
export const PHOTOS = process.env.CF_TEST_PHOTOS;

const CHROMIUM = {
  executablePath: process.env.CF_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

export async function launch(extraArgs = []) {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({ ...CHROMIUM, args: [...CHROMIUM.args, ...extraArgs] });
}

/**
 * Chromium with a profile on disk in `folder`, as a visitor's browser has: `launch`'s contexts
 * are incognito ones, which keep no code cache of compiled wasm between visits.
 */
export function launchWithProfile(folder) {
  return chromium.launchPersistentContext(folder, CHROMIUM);
}

/**
 * The built site served, with the headers it asks of a static host (dist/_headers: its
 * Content-Security-Policy among them), and chromium launched around one test file:
 * `env.site`, `env.browser`. Every violation of the policy, by the page or its workers, is
 * reported to the server; a file whose tests caused one fails.
 */
export function siteAndBrowser() {
  const env = {};
  before(async () => {
    env.site = await serve(DIST, { cspReports: true });
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.site?.close();
    assert.deepEqual(env.site?.cspReports ?? [], [], "no Content-Security-Policy violation");
  });
  return env;
}

/** Native `cfaces query` on the built site's index and models, as JSON. */
export function nativeQuery(args) {
  return JSON.parse(
    execFileSync(process.env.CF_CFACES ?? "cfaces", ["query", `${DIST}/index-shards`, "--models", `${DIST}/models`, ...args], {
      encoding: "utf8",
    }),
  );
}

export function photo(name) {
  if (!PHOTOS) throw new Error("CF_TEST_PHOTOS is not set (scripts/fetch-test-photos.sh)");
  return join(PHOTOS, name);
}

/** A fresh context and page; page errors and console errors are collected. */
export async function openPage(browser, url, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 1000 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The browser says so on the console when the Content-Security-Policy refuses something.
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(url);
  return { context, page, errors };
}

export async function ready(page, network = "mobilefacenet192") {
  await page.locator(`#status[data-ready="${network}"]`).waitFor({ timeout: 60_000 });
}

/** The matches on the page: [{ item, person, similarity, name }]. */
export async function matches(page) {
  return page.locator("#matches .card").evaluateAll((cards) =>
    cards.map((c) => ({
      item: Number(c.dataset.item),
      person: Number(c.dataset.person),
      similarity: Number(c.dataset.similarity),
      name: c.querySelector(".name").textContent,
    })),
  );
}

/** Waits until the matches differ from `before` (a result of `matches`), and returns them. */
export async function changedMatches(page, before) {
  const key = JSON.stringify(before.map((m) => [m.item, m.similarity]));
  await page.waitForFunction(
    (previous) => {
      const cards = [...document.querySelectorAll("#matches .card")];
      const now = JSON.stringify(cards.map((c) => [Number(c.dataset.item), Number(c.dataset.similarity)]));
      return cards.length > 0 && now !== previous;
    },
    key,
    { timeout: 60_000 },
  );
  return matches(page);
}

export async function givePhoto(page, file) {
  // The previous photo's cards stay until this one's answer replaces them: wait for the answer
  // to this photo (a new `#timing` seq), not merely for cards on the page.
  const previous = await page.evaluate(() => document.querySelector("#timing")?.dataset.seq ?? null);
  await page.setInputFiles("#photo-input", file);
  await page.waitForFunction(
    (previous) => {
      const timing = document.querySelector("#timing");
      return timing && timing.dataset.seq !== previous && document.querySelector("#matches .card");
    },
    previous,
    { timeout: 60_000, polling: 20 },
  );
  await everyFace(page);
  return matches(page);
}

/** How many answers the page has shown (`#timing`'s seq; 0 before the first). */
export async function shownSeq(page) {
  return page.evaluate(() => Number(document.querySelector("#timing")?.dataset.seq ?? 0));
}

/**
 * Waits for an answer newer than `before` (a `shownSeq`), its matches shown and every face
 * boxed (exactly `faces` of them, when given): this photo's or box's own answer, not the last.
 */
export async function answerAfter(page, before, faces = null) {
  await page.waitForFunction(
    ({ before, faces }) =>
      Number(document.querySelector("#timing")?.dataset.seq ?? 0) > before &&
      document.querySelector("#matches .card") &&
      document.querySelector(
        faces === null ? '#photo-message[data-every-face="true"]' : `#photo-message[data-faces="${faces}"][data-every-face="true"]`,
      ),
    { before, faces },
    { timeout: 60_000, polling: 10 },
  );
}

/** Waits for the detector's second look (small faces) to have answered: every face is boxed. */
export async function everyFace(page) {
  await page.locator('#photo-message[data-every-face="true"]').waitFor({ timeout: 60_000 });
}

/**
 * A photo composed in the browser from the test photos: `draw(ctx, images)` runs there
 * on a canvas of `width` x `height`; resolves to { name, mimeType, buffer } for setInputFiles.
 */
export async function composePhoto(page, names, width, height, draw) {
  const sources = await Promise.all(
    names.map(async (n) => `data:image/jpeg;base64,${(await readFile(photo(n))).toString("base64")}`),
  );
  // Drawn in a blank page of its own: the site's Content-Security-Policy (rightly) refuses the
  // `new Function` that runs `draw`.
  const canvasContext = await page.context().browser().newContext();
  const blank = await canvasContext.newPage();
  const base64 = await blank.evaluate(
    async ({ sources, width, height, draw }) => {
      const images = await Promise.all(
        sources.map((src) => new Promise((ok) => {
          const image = new Image();
          image.onload = () => ok(image);
          image.src = src;
        })),
      );
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#d8d4cc";
      ctx.fillRect(0, 0, width, height);
      new Function("ctx", "images", draw)(ctx, images);
      return canvas.toDataURL("image/jpeg", 0.92).split(",")[1];
    },
    { sources, width, height, draw },
  );
  await canvasContext.close();
  return { name: "composed.jpg", mimeType: "image/jpeg", buffer: Buffer.from(base64, "base64") };
}

/** `jpeg` with an APP1 Exif segment holding only the orientation tag, right after its SOI. */
export function withExifOrientation(jpeg, orientation) {
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF, IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, // Orientation, SHORT, count 1
    0x00, orientation, 0x00, 0x00, // the value
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const app1 = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(app1.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, app1, jpeg.subarray(2)]);
}

/** The chosen box as fractions of the shown photo. */
export async function chosenBox(page) {
  const frame = await page.locator("#photo").boundingBox();
  const box = await page.locator(".face-box.chosen").boundingBox();
  return [(box.x - frame.x) / frame.width, (box.y - frame.y) / frame.height, box.width / frame.width, box.height / frame.height];
}
