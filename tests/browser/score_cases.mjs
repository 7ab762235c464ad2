// Runs the report's scoring port (src/report/assets/score.js) on cases
// written by tests/report_js.rs and prints the scores as JSON:
//   node score_cases.mjs SCORE_JS CASES.json
// CASES: [{"input": ScoreInput, "decisions": [["field:id", "exclude"|"include"], ...]}]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const [scoreJs, casesPath] = process.argv.slice(2);
const FS = createRequire(import.meta.url)(resolve(scoreJs));
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const t0 = Date.now();
const out = cases.map((c) => FS.applyReview(c.input, new Map(c.decisions)));
process.stdout.write(JSON.stringify({ scores: out, ms: Date.now() - t0 }) + "\n");
