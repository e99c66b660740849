// The page's figures, measured in headless Chromium against the built site on 127.0.0.1, and
// beside them the peer's (bench/peer: face-api.js, CF_PEER_SITE, set up by scripts/bench-page.sh),
// the two run alternately in the same browser, with one table of both and the ratios:
//   cold   first visit (empty caches) to the first matches of a 1 MP photo;
//   warm   photo chosen to matches shown, models and index loaded, per stage: the 1 MP photo,
//          a 12 MP one (4032 x 3024, as a phone's camera gives; made by the browser's canvas
//          from obama.jpg, JPEG quality 0.92) and a 12 MP group of twelve portraits; then the
//          detector's second look for small faces and faces lying turned, after the matches
//          are shown;
//   first  a visitor's first photo, given 3 s after the page says it is ready (a new context
//          each time): file to result, the page's and the peer's;
//   visit  return visits to the first matches, in a browser profile on disk (as a visitor's
//          browser has: HTTP cache, Cache API, service worker, V8's code cache of the wasm),
//          the second and the third, each after the visit before it has finished its work;
//   bytes  what a first visit transfers, by type, uncompressed and as gzip/brotli would send it;
//   long   the longest main-thread task (PerformanceObserver 'longtask') during each search;
//   morph  its first opening to the first frame, each frame while the slider sweeps, the GIF;
//   huge   a 20000 x 20000 PNG given to the warm page: the time to its message, and the
//          browser's renderer and GPU memory before it, at the message and 10 s later.
// A figure to read, not a pass/fail: run with scripts/bench-page.sh after scripts/build-web.sh.
// CF_BENCH_CPUS=0.5 runs the browser (both sides) on half a CPU, a slower device (cpu-limit.mjs).
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { serve } from "../scripts/serve.mjs";
import { launch, launchWithProfile, DIST, photo, composePhoto } from "../tests/browser/browser.mjs";
import { blackRows, png } from "../tests/browser/png.mjs";
import { limitBrowserCpu } from "./cpu-limit.mjs";

const RUNS = Number(process.env.CF_RUNS ?? 5);
const PHOTO = photo("obama.jpg"); // 910 x 1137 = 1.03 MP
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const LONG_TASKS = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
`;

async function firstMatches(page) {
  // Time (ms since navigation start) at which the first card is on the page.
  await page.waitForFunction(() => document.querySelector("#matches .card"), null, { timeout: 120_000, polling: 5 });
  return page.evaluate(() => window.__firstCard);
}

const WATCH_CARDS = `
  new MutationObserver(() => {
    if (!window.__firstCard && document.querySelector("#matches .card")) window.__firstCard = performance.now();
  }).observe(document, { childList: true, subtree: true });
`;

async function searchOnce(page, file = PHOTO) {
  const mark = await page.evaluate(() => performance.now());
  const seq = await page.evaluate(() => document.querySelector("#timing")?.dataset.seq ?? null);
  await page.setInputFiles("#photo-input", file);
  await page.waitForFunction((previous) => {
    const timing = document.querySelector("#timing");
    return timing && timing.dataset.seq !== previous && document.querySelector("#matches .card");
  }, seq, { timeout: 60_000, polling: 5 });
  // The detector's second look (small and turned faces) ends before the next photo is given, so that
  // its time is not counted in the next photo's (an older page has none: it passes at once).
  await page.waitForFunction(() => !document.querySelector('#photo-message[data-every-face="false"]'), null, { timeout: 60_000, polling: 5 });
  await page.waitForTimeout(100);
  return page.evaluate((mark) => {
    const t = document.querySelector("#timing").dataset;
    const longest = Math.max(0, ...window.__longTasks.filter((l) => l.start >= mark).map((l) => l.duration));
    const secondLook = document.querySelector("#photo-message")?.dataset.secondLook;
    return { ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Number(v)])), longest, "second look": secondLook ? Number(secondLook) : NaN };
  }, mark);
}

/**
 * The morph on a warm page: its first opening (the morph worker's download and compile, the
 * portrait, the faces cut), each frame while the slider sweeps, and the GIF.
 */
async function morphFigures(page) {
  await searchOnce(page);
  const button = page.locator("#matches .card .morph-open").first();
  if ((await button.count()) === 0) {
    console.log("morph: this index has no portraits (cfaces thumbnails cuts them)");
    return;
  }
  const opened = performance.now();
  await button.click();
  const dialog = page.locator("#morph");
  await page.locator('#morph[data-stage="ready"][data-frame-t="0.50"], #morph[data-stage="failed"]').waitFor({ timeout: 60_000 });
  if ((await dialog.getAttribute("data-stage")) === "failed") {
    console.log(`morph: failed (${await dialog.locator(".morph-problem").textContent()}); is the portrait there?`);
    return;
  }
  const firstFrame = performance.now() - opened;
  const prepare = Number(await dialog.getAttribute("data-prepare-ms"));
  const frames = [];
  for (let percent = 0; percent <= 100; percent += 5) {
    await page.locator("#morph-t").evaluate((input, value) => {
      input.value = String(value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }, percent);
    await page.locator(`#morph[data-frame-t="${(percent / 100).toFixed(2)}"]`).waitFor();
    frames.push(Number(await dialog.getAttribute("data-frame-ms")));
  }
  const gifs = [];
  for (let run = 0; run < 3; run++) {
    const download = page.waitForEvent("download");
    await page.click("#morph-gif");
    await download;
    await page.locator("#morph-gif:not([disabled])").waitFor();
    gifs.push(Number(await dialog.getAttribute("data-gif-ms")));
  }
  console.log(`morph: first opening to its first frame ${firstFrame.toFixed(0)} ms (faces cut in the worker, portrait included: ${prepare.toFixed(0)} ms)`);
  console.log(`  one 256 x 256 frame in the morph worker: median ${median(frames).toFixed(1)} ms, slowest ${Math.max(...frames).toFixed(1)} ms (${frames.length} frames)`);
  console.log(`  the GIF of 20 frames: median ${median(gifs).toFixed(0)} ms (${gifs.map((g) => g.toFixed(0)).join(", ")})`);
  await page.keyboard.press("Escape");
}

/** What a first visit transferred, by kind: { kind: { files, raw, gzip, brotli } }. */
async function bytesByKind(requests, root, kinds) {
  const totals = Object.fromEntries(kinds.map(([k]) => [k, { files: 0, raw: 0, gzip: 0, brotli: 0 }]));
  const seen = new Set();
  for (const request of requests) {
    if (seen.has(request.path) || request.sentBytes === 0) continue;
    seen.add(request.path);
    const file = join(root, request.path.endsWith("/") ? request.path + "index.html" : request.path);
    if (!(await stat(file).catch(() => null))?.isFile()) continue;
    const body = await readFile(file);
    const [kind] = kinds.find(([, match]) => match(request.path));
    const t = totals[kind];
    t.files += 1;
    t.raw += body.length;
    t.gzip += gzipSync(body, { level: 9 }).length;
    t.brotli += brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }).length;
  }
  return totals;
}

const mb = (b) => (b / 1e6).toFixed(2);
function printBytes(title, totals) {
  console.log(`${title}, bytes by type (MB): files, uncompressed, gzip -9, brotli 9`);
  const sum = { raw: 0, gzip: 0, brotli: 0 };
  for (const [kind, t] of Object.entries(totals)) {
    if (!t.files) continue;
    console.log(`  ${kind.padEnd(10)} ${String(t.files).padStart(3)} ${mb(t.raw).padStart(7)} ${mb(t.gzip).padStart(7)} ${mb(t.brotli).padStart(7)}`);
    for (const k of Object.keys(sum)) sum[k] += t[k];
  }
  console.log(`  ${"total".padEnd(10)}     ${mb(sum.raw).padStart(7)} ${mb(sum.gzip).padStart(7)} ${mb(sum.brotli).padStart(7)}`);
}

/**
 * Three visits to `url` in a new browser profile on disk: the first matches of the second and
 * the third (ms), each visit left open 5 s after its matches (the service worker installs, V8
 * finishes compiling the wasm and writes its code cache) and closed before the next.
 */
async function returnVisits(url) {
  const profile = await mkdtemp(join(tmpdir(), "cf-bench-profile-"));
  const context = await launchWithProfile(profile);
  try {
    const times = [];
    for (let visit = 0; visit < 3; visit++) {
      const page = await context.newPage();
      await page.addInitScript(WATCH_CARDS + LONG_TASKS);
      await page.goto(url);
      await page.setInputFiles("#photo-input", PHOTO);
      times.push(await firstMatches(page));
      await page.waitForTimeout(5_000);
      await page.close();
    }
    return times.slice(1);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * A visitor's first photo: the page opened in a new context, the photo given 3 s after the
 * page says it is ready (`ready`: a selector), as a person takes a moment to choose one; the
 * time from the file to the result, by the page's own `#timing`. The code that runs a photo is
 * still in V8's baseline tier unless the page has run it already.
 */
async function firstPhotoAfterReady(browser, url, ready) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator(ready).waitFor({ timeout: 120_000 });
    await page.waitForTimeout(3_000);
    await page.setInputFiles("#photo-input", PHOTO);
    await page.waitForFunction(() => document.querySelector("#timing")?.dataset.total && document.querySelector("#matches .card"), null, { timeout: 60_000, polling: 5 });
    return await page.evaluate(() => Number(document.querySelector("#timing").dataset.total));
  } finally {
    await context.close();
  }
}

/**
 * Resident memory (MB) of the browser's renderer and GPU processes together: a page's pictures
 * are decoded there, outside the JS heap and the wasm memories.
 */
async function tabMemory(cdp) {
  const { processInfo } = await cdp.send("SystemInfo.getProcessInfo");
  let kilobytes = 0;
  for (const process of processInfo.filter((p) => p.type === "renderer" || p.type === "GPU")) {
    const status = await readFile(`/proc/${process.id}/status`, "utf8").catch(() => "");
    kilobytes += Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  }
  return kilobytes / 1024;
}

/**
 * A 20000 x 20000 PNG (1.2 GB of pixels as RGB) given to the warm page, `runs` times after a
 * real photo each: the time from the file's choice to the page's message, and the memory.
 */
async function hugeFigures(browser, page, file, runs) {
  const cdp = await browser.newBrowserCDPSession();
  const answered = [];
  const memory = [];
  for (let run = 0; run < runs; run++) {
    await searchOnce(page);
    const before = await tabMemory(cdp);
    const message = page.evaluate(() => new Promise((resolve) => {
      document.querySelector("#photo-input").addEventListener("change", () => {
        const given = performance.now();
        const poll = () => (document.querySelector("#photo-message.error") ? resolve(performance.now() - given) : setTimeout(poll, 5));
        poll();
      }, { once: true, capture: true });
    }));
    await page.setInputFiles("#photo-input", file);
    answered.push(await message);
    const atMessage = await tabMemory(cdp);
    await page.waitForTimeout(10_000);
    memory.push([before, atMessage, await tabMemory(cdp)]);
  }
  await cdp.detach();
  console.log(`a 20000 x 20000 PNG, chosen to the page's message, ${runs} runs: median ${median(answered).toFixed(0)} ms (${answered.map((a) => a.toFixed(0)).join(", ")})`);
  console.log("  the browser's renderer + GPU memory (MB), before / at the message / 10 s later: " + memory.map((m) => m.map((mb) => mb.toFixed(0)).join(" / ")).join(", "));
}

// The peer (bench/peer, set up by scripts/bench-page.sh): face-api.js with each of its two
// detectors, served from a server of its own, without the page's headers.
const PEERS = process.env.CF_PEER_SITE
  ? [
      { name: "face-api tiny (416)", query: "?detector=tiny" },
      { name: "face-api SSD", query: "?detector=ssd" },
    ]
  : [];
if (process.env.CF_BENCH_CPUS) {
  limitBrowserCpu(Number(process.env.CF_BENCH_CPUS));
  console.log(`the browser held to ${process.env.CF_BENCH_CPUS} CPUs in all (CF_BENCH_CPUS, a cgroup quota)`);
}
const site = await serve(DIST);
const peerSite = PEERS.length ? await serve(process.env.CF_PEER_SITE, { headers: false }) : null;
const browser = await launch();
const closing = [];
let folder = null;
try {
  // Cold first visits, the page's and each peer's one after the other in every round.
  const cold = [];
  const coldStages = [];
  let firstVisit = [];
  let again = null;
  for (const peer of PEERS) Object.assign(peer, { cold: [], coldStages: [], firstVisit: [], page: null, warm: {} });
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(WATCH_CARDS + LONG_TASKS);
    const mark = site.requests.length;
    await page.goto(site.url);
    await page.setInputFiles("#photo-input", PHOTO);
    cold.push(await firstMatches(page));
    coldStages.push(await page.evaluate(() => {
      const status = document.querySelector("#status").dataset;
      const timing = document.querySelector("#timing").dataset;
      return [status.workerUp, status.download, status.preparePipeline, status.prepareNetwork, status.prepareIndex, timing.total].map(Number);
    }));
    if (run === 0) {
      firstVisit = site.requests.slice(mark);
      // A second page in the same context, for the warm figures.
      again = await context.newPage();
      await again.addInitScript(WATCH_CARDS + LONG_TASKS);
      await again.goto(site.url);
      await again.setInputFiles("#photo-input", PHOTO);
      await firstMatches(again);
      closing.push(context);
    } else {
      await context.close();
    }
    for (const peer of PEERS) {
      const peerContext = await browser.newContext();
      const peerPage = await peerContext.newPage();
      await peerPage.addInitScript(WATCH_CARDS + LONG_TASKS);
      const peerMark = peerSite.requests.length;
      await peerPage.goto(peerSite.url + peer.query);
      await peerPage.setInputFiles("#photo-input", PHOTO);
      peer.cold.push(await firstMatches(peerPage));
      peer.coldStages.push(await peerPage.evaluate(() => {
        const status = document.querySelector("#status").dataset;
        return [status.backendReady, status.modelsLoaded, document.querySelector("#timing").dataset.total].map(Number);
      }));
      if (run === 0) {
        peer.firstVisit = peerSite.requests.slice(peerMark);
        peer.page = peerPage;
        closing.push(peerContext);
      } else {
        await peerContext.close();
      }
    }
  }

  // A visitor's first photo, a few seconds after the page is ready: the page and each peer in turn.
  const firstPhoto = [];
  for (const peer of PEERS) peer.firstPhoto = [];
  for (let run = 0; run < RUNS; run++) {
    firstPhoto.push(await firstPhotoAfterReady(browser, site.url, "#status[data-ready]"));
    for (const peer of PEERS) peer.firstPhoto.push(await firstPhotoAfterReady(browser, peerSite.url + peer.query, "#status[data-models-loaded]"));
  }
  console.log(`a visitor's first photo, given 3 s after the page is ready, file to result, ${RUNS} runs: median ${median(firstPhoto).toFixed(0)} ms (${firstPhoto.map((t) => t.toFixed(0)).join(", ")})`);
  for (const peer of PEERS) console.log(`  ${peer.name}: median ${median(peer.firstPhoto).toFixed(0)} ms (${peer.firstPhoto.map((t) => t.toFixed(0)).join(", ")})`);

  // Return visits, the page's only: the table sets them against the peer's cold first visit.
  const returns = [];
  for (let run = 0; run < Math.min(RUNS, 3); run++) returns.push(await returnVisits(site.url));
  const secondVisit = median(returns.map((r) => r[0]));
  const thirdVisit = median(returns.map((r) => r[1]));
  console.log(`return visits to first matches, a profile on disk, ${returns.length} profiles: second ${secondVisit.toFixed(0)} ms, third ${thirdVisit.toFixed(0)} ms (${returns.map((r) => r.map((t) => t.toFixed(0)).join(" / ")).join(", ")})`);

  const phone = await composePhoto(again, ["obama.jpg"], 4032, 3024, `
    ctx.drawImage(images[0], 0, 0, 910, 1137, 1400, 500, 1200, 1500);
  `);
  // A detailed 12 MP group: twelve portraits in a 4 x 3 grid, every pixel photo (a phone's
  // file is 2 to 5 MB: the decoder's entropy pass grows with the bytes, whatever the scale).
  const group = await composePhoto(again, ["obama.jpg", "biden.jpg", "obama2.jpg"], 4032, 3024, `
    const crops = [[0, 0, 910, 1137], [0, 200, 970, 1212], [0, 0, 626, 782]];
    for (let i = 0; i < 12; i++) {
      const [sx, sy, sw, sh] = crops[i % 3];
      ctx.drawImage(images[i % 3], sx, sy, sw, sh, (i % 4) * 1008, Math.floor(i / 4) * 1008, 1008, 1008);
    }
  `);
  // Given from files on disk, as a visitor's are: a buffer given to setInputFiles is turned
  // into a File by Playwright's own script in the page, a main-thread task of about 130 ms
  // per MB that the page never runs.
  folder = await mkdtemp(join(tmpdir(), "cf-bench-"));
  const phoneFile = join(folder, "phone.jpg");
  const groupFile = join(folder, "group.jpg");
  await writeFile(phoneFile, phone.buffer);
  await writeFile(groupFile, group.buffer);
  // "second look": the detector's look for small and turned faces, after the matches are shown.
  const stages = ["decode", "detect", "landmarks", "align", "embed", "estimate", "search", "render", "total", "second look", "longest"];
  const peerStages = ["decode", "detect", "landmarks", "embed", "total", "longest"];
  // A stage an older page does not time (bench/page.mjs measures older builds side by side) reads "-".
  const shown = (values) => (values.every(Number.isFinite) ? median(values).toFixed(1) : "-");
  const photos = {
    "1 MP (910 x 1137)": PHOTO,
    [`12 MP (4032 x 3024, ${(phone.buffer.length / 1e6).toFixed(1)} MB)`]: phoneFile,
    [`12 MP group of 12 (4032 x 3024, ${(group.buffer.length / 1e6).toFixed(1)} MB)`]: groupFile,
  };
  const warm = Object.fromEntries(Object.keys(photos).map((name) => [name, []]));
  for (const peer of PEERS) peer.warm = Object.fromEntries(Object.keys(photos).map((name) => [name, []]));
  // The photos alternate, so that none is always answered right after itself, and each photo
  // goes to the page and then to each peer, so that the machine's slow moments fall on both.
  for (let i = 0; i < RUNS + 2; i++) {
    for (const [name, file] of Object.entries(photos)) {
      warm[name].push(await searchOnce(again, file));
      for (const peer of PEERS) peer.warm[name].push(await searchOnce(peer.page, file));
    }
  }
  for (const name of Object.keys(photos)) {
    const w = warm[name].slice(2);
    console.log(`warm, ${name} photo chosen to matches shown, medians of ${w.length} (ms):`);
    console.log("  " + stages.map((s) => `${s} ${shown(w.map((r) => r[s]))}`).join(", "));
    console.log(`  longest main-thread task during a search: ${Math.max(...w.map((r) => r.longest)).toFixed(0)} ms (0 = none over 50 ms)`);
    for (const peer of PEERS) {
      const p = peer.warm[name].slice(2);
      console.log(`  ${peer.name}, the file to its descriptor: ` + peerStages.map((s) => `${s} ${s === "longest" ? Math.max(...p.map((r) => r[s])).toFixed(0) : shown(p.map((r) => r[s]))}`).join(", "));
    }
  }
  await morphFigures(again);
  const hugeFile = join(folder, "huge.png");
  await writeFile(hugeFile, png(20000, 20000, 2, 8, await blackRows(20000, 20000)));
  await hugeFigures(browser, again, hugeFile, 3);

  console.log(`cold first visit to first matches, ${RUNS} runs: median ${median(cold).toFixed(0)} ms (${cold.map((c) => c.toFixed(0)).join(", ")})`);
  const coldNames = ["worker running at", "download + verify", "prepare detector + landmarks", "prepare network", "decode index", "photo given at the start to its matches (includes the wait)"];
  console.log("  the page's own timings, medians (ms): " + coldNames.map((n, i) => `${n} ${median(coldStages.map((c) => c[i])).toFixed(0)}`).join(", "));
  for (const peer of PEERS) {
    console.log(`${peer.name}, cold first visit to its first descriptor: median ${median(peer.cold).toFixed(0)} ms (${peer.cold.map((c) => c.toFixed(0)).join(", ")})`);
    const names = ["wasm backend ready at", "models loaded at", "the photo's analysis"];
    console.log("  its timings, medians (ms): " + names.map((n, i) => `${n} ${median(peer.coldStages.map((c) => c[i])).toFixed(0)}`).join(", "));
  }

  const ownKinds = [
    ["wasm", (p) => p.endsWith(".wasm")],
    ["js", (p) => p.endsWith(".js")],
    ["models", (p) => p.startsWith("/models/")],
    ["index", (p) => p.startsWith("/index-shards/")],
    ["thumbnails", (p) => p.startsWith("/thumbnails/")],
    ["other", () => true],
  ];
  const own = await bytesByKind(firstVisit, DIST, ownKinds);
  printBytes("first visit", own);
  const morphFiles = firstVisit.filter((r) => r.path.includes("morph-worker") || /-\d+\.jpg$/.test(r.path));
  console.log(`  of which the morph's code and portraits: ${morphFiles.length} files`);
  const peerKinds = [
    ["wasm", (p) => p.endsWith(".wasm")],
    ["js", (p) => p.endsWith(".js")],
    ["models", (p) => p.startsWith("/model/")],
    ["other", () => true],
  ];
  for (const peer of PEERS) {
    peer.bytes = await bytesByKind(peer.firstVisit, process.env.CF_PEER_SITE, peerKinds);
    printBytes(`${peer.name}, first visit`, peer.bytes);
  }

  if (PEERS.length) {
    // One table: the page beside each peer, with the page's time (or bytes) over the peer's.
    const sum = (totals, kinds, key) => kinds.reduce((s, k) => s + (totals[k]?.[key] ?? 0), 0);
    const pipeline = (totals) => sum(totals, Object.keys(totals).filter((k) => k !== "index" && k !== "thumbnails"), "brotli");
    const warmTotal = (runs) => median(runs.slice(2).map((r) => r.total));
    const longest = (byPhoto) => Math.max(...Object.values(byPhoto).flatMap((runs) => runs.slice(2).map((r) => r.longest)));
    const rows = [
      ["cold first visit to first result (ms)", median(cold), (p) => median(p.cold)],
      ["second visit to first result (ms), against the peer's cold", secondVisit, (p) => median(p.cold)],
      ["third visit to first result (ms), against the peer's cold", thirdVisit, (p) => median(p.cold)],
      ["a visitor's first photo, given 3 s after the page is ready (ms)", median(firstPhoto), (p) => median(p.firstPhoto)],
      ...Object.keys(photos).map((name) => [`warm, ${name}, file to result (ms)`, warmTotal(warm[name]), (p) => warmTotal(p.warm[name])]),
      ["bytes of the pipeline, brotli (MB), everything but the index", pipeline(own) / 1e6, (p) => pipeline(p.bytes) / 1e6],
      ["longest main-thread task while working (ms; 0: none over 50)", longest(warm), (p) => longest(p.warm)],
    ];
    const cell = (v) => (Number.isFinite(v) ? (v > 0 && v < 20 ? v.toFixed(2) : v.toFixed(0)) : "-");
    console.log("\nside by side, one run (medians; ratio = this page / the peer):");
    console.log(`  ${"".padEnd(72)} ${"this page".padStart(10)}` + PEERS.map((p) => ` ${p.name.padStart(20)} ${"ratio".padStart(6)}`).join(""));
    for (const [label, ours, theirs] of rows) {
      const cells = PEERS.map((p) => {
        const t = theirs(p);
        return ` ${cell(t).padStart(20)} ${(ours > 0 && t > 0 ? (ours / t).toFixed(2) : "-").padStart(6)}`;
      });
      console.log(`  ${label.padEnd(72)} ${cell(ours).padStart(10)}` + cells.join(""));
    }
    console.log(`  ${"the index, brotli (MB), the page's alone".padEnd(72)} ${cell(sum(own, ["index"], "brotli") / 1e6).padStart(10)}`);
  }
} finally {
  if (folder) await rm(folder, { recursive: true, force: true });
  for (const context of closing) await context.close().catch(() => {});
  await browser.close();
  await site.close();
  await peerSite?.close();
}
