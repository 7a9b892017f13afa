// Summarizes the CPU profiles a `BENCH_PROFILE_DIR=… npm run bench` writes: for each profiled
// optgraph server, only the samples taken while it was under measured load (the windows the
// harness recorded), as shares of its busy (non-idle) time — by package or source file (self
// time), by function (self time), and by optgraph function including what it calls.
//   npx tsx bench/profile-summary.ts <profile dir> [top]
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = new URL("../", import.meta.url).href;

/**
 * tsx runs optgraph's TypeScript with whitespace minified (every function on "line 1"); its cache
 * (<tmpdir>/tsx-<uid>) keeps each transformed file with its source map, so positions can be mapped
 * back. The newest cached transform of a file is taken: the one a just-finished run used.
 */
function tsxSourceMaps(): Map<string, SourceMap> {
  const maps = new Map<string, { map: SourceMap; mtime: number }>();
  const dirs = readdirSync(tmpdir()).filter((d) => /^tsx-\d+$/.test(d));
  for (const dir of dirs) {
    for (const file of readdirSync(join(tmpdir(), dir))) {
      const path = join(tmpdir(), dir, file);
      try {
        const mtime = statSync(path).mtimeMs;
        const entry = JSON.parse(readFileSync(path, "utf8")) as { map?: unknown };
        const payload = typeof entry.map === "string" ? JSON.parse(entry.map) : entry.map;
        const source: string | undefined = payload?.sources?.[0];
        if (!source || !source.startsWith(new URL(ROOT).pathname)) continue;
        const known = maps.get(source);
        if (!known || known.mtime < mtime) maps.set(source, { map: new SourceMap(payload), mtime });
      } catch {
        // not a transform entry
      }
    }
  }
  return new Map([...maps].map(([source, { map }]) => [source, map]));
}

const sourceMaps = tsxSourceMaps();

function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  if (url.startsWith("node:")) return url.split("/")[0];
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  let line = lineNumber + 1;
  const map = url.startsWith("file://") ? sourceMaps.get(new URL(url).pathname) : undefined;
  if (map) {
    const entry = map.findEntry(lineNumber, columnNumber) as { originalLine?: number };
    if (entry.originalLine !== undefined) line = entry.originalLine + 1;
  }
  const where = url ? `${moduleOf(url, functionName)}:${line}` : "";
  return `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
}

function top(map: Map<string, number>, total: number, count: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, samples]) => `${((samples * 100) / total).toFixed(1).padStart(5)}%  ${key}`);
}

function summarize(name: string, profile: Profile, windows: [number, number][], count: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (windows.length > 0 && !windows.some(([start, end]) => t >= start && t <= end)) continue;
    const node = byId.get(profile.samples[i])!;
    if (node.callFrame.functionName === "(idle)") {
      idle++;
      continue;
    }
    busy++;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + 1);
    const mod = moduleOf(node.callFrame.url, node.callFrame.functionName);
    modules.set(mod, (modules.get(mod) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!;
      if (!frame.callFrame.url.startsWith(`${ROOT}src/`)) continue;
      const k = label(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
    }
  }
  const total = busy + idle;
  console.log(
    `\n## ${name}: ${busy} busy samples in the measured windows (${((busy * 100) / Math.max(1, total)).toFixed(0)}% of the time busy)`,
  );
  console.log("\nself time by package / source file:");
  for (const line of top(modules, busy, count)) console.log(`  ${line}`);
  console.log("\nself time by function:");
  for (const line of top(self, busy, count)) console.log(`  ${line}`);
  console.log("\noptgraph functions, including what they call:");
  for (const line of top(inclusive, busy, count)) console.log(`  ${line}`);
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: npx tsx bench/profile-summary.ts <profile dir> [top]");
  process.exit(2);
}
const count = Number(process.argv[3] ?? 15);
for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
  const name = entry.name;
  // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main thread (tsx's loader
  // thread writes a profile too)
  const main = readdirSync(join(dir, name)).find((f) =>
    /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f),
  );
  if (!main) continue;
  const windowsFile = join(dir, `${name}.windows.json`);
  const windows: [number, number][] = existsSync(windowsFile)
    ? JSON.parse(readFileSync(windowsFile, "utf8"))
    : [];
  summarize(
    name,
    JSON.parse(readFileSync(join(dir, name, main), "utf8")) as Profile,
    windows,
    count,
  );
}
