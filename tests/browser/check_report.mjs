// Drives a fishscore report.html in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) and prints what a person
// would see, as JSON, for tests/report_browser.rs to check:
//   node check_report.mjs REPORT.html PLAN.json
// PLAN: {"toggle": ["0:17", ...], "reviewer": "name", "review_out": "path",
//        "screenshot": "path" (optional, before the toggles),
//        "shots": [{"selector": "css", "path": "png"}] (optional, after)}
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [html, planPath] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, "utf8"));
const executablePath = process.env.FISHSCORE_CHROMIUM || "/usr/bin/chromium";
// playwright-core starts Chromium with a fresh temporary profile
// (its own --user-data-dir) on every launch.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const out = { console_errors: [], page_errors: [], requests: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") out.console_errors.push(m.type() + ": " + m.text()); });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("request", (r) => out.requests.push(r.url().slice(0, 80)));
  await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
  await page.waitForFunction(() => window.fishscoreReady === true, null, { timeout: 60000 });
  const read = async () => page.evaluate(() => ({
    call: document.getElementById("call").textContent,
    ratio_text: document.getElementById("ratio").textContent,
    ratio_value: document.getElementById("ratio").dataset.value,
    ci_text: document.getElementById("ci").textContent,
    ci_value: document.getElementById("ci").dataset.value,
    nscored: document.getElementById("nscored").textContent,
    tiles_enumerated: document.querySelectorAll("#g-enumerated .tile").length,
    tiles_reserve: document.querySelectorAll("#g-reserve .tile").length,
    tiles_excluded: document.querySelectorAll("#g-excluded .tile").length,
    tiles_total: document.querySelectorAll(".tile").length,
    outlines: document.querySelectorAll("polygon.ol").length,
    verify: document.getElementById("verify").className,
    verify_text: document.getElementById("verify").textContent,
    plots: document.querySelectorAll("#plots svg").length,
    score: window.fishscoreScore,
  }));
  out.before = await read();
  if (plan.screenshot) await page.screenshot({ path: plan.screenshot, fullPage: false });
  const t0 = Date.now();
  for (const key of plan.toggle || []) {
    await page.click('.tile[data-key="' + key + '"]');
  }
  out.toggle_ms = Date.now() - t0;
  out.after = await read();
  if (plan.review_out) {
    await page.fill("#reviewer", plan.reviewer || "");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    await dl.saveAs(plan.review_out);
    out.review_name = dl.suggestedFilename();
  }
  // Extra screenshots after the toggles: [{"selector": css, "path": png}].
  for (const shot of plan.shots || []) {
    await page.locator(shot.selector).first().scrollIntoViewIfNeeded();
    await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: "start" }), shot.selector);
    await page.waitForTimeout(1500); // let Chromium finish rasterising the images
    const jpeg = /\.jpe?g$/i.test(shot.path);
    await page.screenshot({ path: shot.path, fullPage: false, ...(jpeg ? { quality: 82 } : {}) });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
