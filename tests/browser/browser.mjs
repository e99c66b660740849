// Launches Debian's chromium through playwright-core: headless, no sandbox (root), and no
// background networking, since this machine reaches nothing outside.
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";

export const ARTIFACTS = process.env.CF_ARTIFACTS ?? "artifacts";

export async function launch() {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
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
  });
}
