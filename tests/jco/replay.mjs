// Replay framed records through the crowsnest component under Node, with jco.
//
//   node replay.mjs <component.wasm> <out-dir> <records.json>
//
// Transpiles the component into <out-dir> (an ES module, its core wasm and types),
// loads it with @bytecodealliance/preview2-shim as the WASI host, and sends each input's
// records to `process` in batches of 256, then calls `finish` for the input, as
// `crowsnest replay` does. <records.json> is `[{"file", "records": [text], "lines":
// [number]}]`: the inputs already framed, so both hosts see the same records.
//
// Prints one JSON line per alert on stdout, `{"file","line","record_index","rule_id",
// "document"}`, with `line` the line of the record that completed it (the input's last
// line for alerts raised by `finish`), and the time spent per record on stderr.

import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { transpile } from "@bytecodealliance/jco";

const BATCH = 256;

const [componentPath, outDir, recordsPath] = process.argv.slice(2);
if (!recordsPath) {
  console.error("usage: node replay.mjs <component.wasm> <out-dir> <records.json>");
  process.exit(2);
}

const { files } = await transpile(await readFile(componentPath), {
  name: "crowsnest",
  quiet: true,
});
await mkdir(outDir, { recursive: true });
for (const [name, bytes] of Object.entries(files)) {
  const path = join(outDir, name);
  await mkdir(resolve(path, ".."), { recursive: true });
  await writeFile(path, bytes);
}
await writeFile(join(outDir, "package.json"), '{"type":"module"}\n');
// The generated module imports the WASI shims by package name: let it find ours.
const modules = join(outDir, "node_modules");
await rm(modules, { force: true, recursive: true });
await symlink(fileURLToPath(new URL("./node_modules", import.meta.url)), modules, "dir");

const component = await import(pathToFileURL(join(outDir, "crowsnest.js")).href);
const detector = component.detector ?? component["crowsnest:detect/detector"];
if (!detector) {
  console.error(`no detector export; the module exports ${Object.keys(component)}`);
  process.exit(1);
}

// The first call builds the engine and compiles the built-in pack: not per-record cost.
detector.stats();

const inputs = JSON.parse(await readFile(recordsPath, "utf8"));
const encoder = new TextEncoder();
let records = 0;
let busy = 0n;

function emit(file, line, alert) {
  const out = {
    file,
    line,
    record_index: alert.recordIndex,
    rule_id: alert.ruleId,
    document: alert.document,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

for (const input of inputs) {
  for (let start = 0; start < input.records.length; start += BATCH) {
    const batch = input.records.slice(start, start + BATCH);
    const lines = input.lines.slice(start, start + BATCH);
    const bytes = encoder.encode(batch.join("\n"));
    const origin = { file: input.file, firstLine: lines[0], lines };
    const began = process.hrtime.bigint();
    const result = detector.process(bytes, origin);
    busy += process.hrtime.bigint() - began;
    records += batch.length;
    if (result.outcomes.length !== batch.length) {
      console.error(`${input.file}: ${result.outcomes.length} outcomes for ${batch.length} records`);
      process.exit(1);
    }
    for (const alert of result.alerts) {
      emit(input.file, lines[alert.recordIndex], alert);
    }
  }
  const last = input.lines.length ? input.lines[input.lines.length - 1] : 1;
  const finished = detector.finish({ file: input.file, firstLine: last, lines: [] });
  for (const alert of finished.alerts) {
    emit(input.file, last, alert);
  }
}

const micros = Number(busy) / 1000 / Math.max(records, 1);
console.error(`jco: ${records} records, ${micros.toFixed(1)} µs per record in process()`);
