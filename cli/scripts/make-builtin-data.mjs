#!/usr/bin/env node
// Makes the built-in data set: a seeded, class-balanced subset of Fashion-MNIST, written as IDX gz
// files with the original names, plus a README (how it was made, checksums) and the MIT licence.
//
//   apt-get install -y dataset-fashion-mnist        # Debian: /usr/share/datasets/fashion-mnist
//   node cli/scripts/make-builtin-data.mjs           # writes cli/data/fashion-mnist-subset/
//
// Options: --source DIR, --out DIR, --train N (default 10000), --test N (default 2000), --seed S.
// N must be a multiple of 10: every class gets N/10 images. The same inputs give the same files.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    source: { type: "string", default: "/usr/share/datasets/fashion-mnist" },
    out: { type: "string", default: join(root, "data", "fashion-mnist-subset") },
    train: { type: "string", default: "10000" },
    test: { type: "string", default: "2000" },
    seed: { type: "string", default: "20170825" }, // Fashion-MNIST's release date
  },
});
const CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
const seed = Number(args.seed) >>> 0;
const splits = [
  { name: "train", prefix: "train", count: Number(args.train) },
  { name: "test", prefix: "t10k", count: Number(args.test) },
];
for (const s of splits) {
  if (!Number.isInteger(s.count) || s.count <= 0 || s.count % CLASSES.length !== 0) {
    fail(`--${s.name} must be a positive multiple of ${CLASSES.length} (got ${s.count})`);
  }
}

function fail(message) {
  console.error(`make-builtin-data: ${message}`);
  process.exit(1);
}

// The same integer hash as src/core/random.ts deriveSeed: a pure function of (seed, index).
function hash(seed, index) {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

// Fisher-Yates driven by the hash, as src/data/dataset.ts shuffledIndices does.
function shuffle(values, seed) {
  const a = values.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor((hash(seed, i) / 4294967296) * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function readIdx(path, rank) {
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    fail(`cannot read ${path} (${error.code ?? error.message}); install it with: apt-get install -y dataset-fashion-mnist`);
  }
  const raw = gunzipSync(bytes);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (view.getUint16(0) !== 0 || raw[2] !== 0x08 || raw[3] !== rank) fail(`${path}: not an IDX ubyte file of rank ${rank}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const header = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (raw.length !== header + size) fail(`${path}: expected ${header + size} bytes, found ${raw.length}`);
  return { dims, data: raw.subarray(header), sha256: sha256(bytes) };
}

function writeIdx(path, dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  // Level 9; Node's gzip header carries no name and mtime 0, so the output depends only on the data.
  const gz = gzipSync(Buffer.concat([header, data]), { level: 9 });
  writeFileSync(path, gz);
  return { bytes: gz.length, sha256: sha256(gz) };
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

mkdirSync(args.out, { recursive: true });
const report = [];
for (const [k, s] of splits.entries()) {
  const images = readIdx(join(args.source, `${s.prefix}-images-idx3-ubyte.gz`), 3);
  const labels = readIdx(join(args.source, `${s.prefix}-labels-idx1-ubyte.gz`), 1);
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) fail(`${s.name}: ${n} images but ${labels.dims[0]} labels`);
  const perClass = s.count / CLASSES.length;
  // Per class: its indices in file order, shuffled with a seed per (split, class), first perClass kept.
  const chosen = [];
  for (let c = 0; c < CLASSES.length; c++) {
    const members = [];
    for (let i = 0; i < n; i++) if (labels.data[i] === c) members.push(i);
    if (members.length < perClass) fail(`${s.name}: class ${c} has ${members.length} images, fewer than ${perClass}`);
    chosen.push(...shuffle(members, hash(seed, k * 16 + c)).slice(0, perClass));
  }
  chosen.sort((a, b) => a - b); // keep the original file order (already mixed across classes)
  const pixels = h * w;
  const outImages = Buffer.alloc(chosen.length * pixels);
  const outLabels = Buffer.alloc(chosen.length);
  chosen.forEach((src, dst) => {
    outImages.set(images.data.subarray(src * pixels, (src + 1) * pixels), dst * pixels);
    outLabels[dst] = labels.data[src];
  });
  const imgFile = `${s.prefix}-images-idx3-ubyte.gz`;
  const lblFile = `${s.prefix}-labels-idx1-ubyte.gz`;
  const imgOut = writeIdx(join(args.out, imgFile), [chosen.length, h, w], outImages);
  const lblOut = writeIdx(join(args.out, lblFile), [chosen.length], outLabels);
  report.push({ s, n, perClass, h, w, files: [[imgFile, imgOut, images.sha256], [lblFile, lblOut, labels.sha256]] });
}

const fileRows = report.flatMap((r) =>
  r.files.map(([name, out, src]) => `| \`${name}\` | ${out.bytes} | \`${out.sha256}\` | \`${src}\` |`),
);
const readme = `# Built-in data set: a Fashion-MNIST subset

This folder is the data \`npm start\` trains on, so tensorlane works offline with no download. It
is a class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Zalando Research, MIT licence, see \`LICENSE\` here), in the original IDX format, gzip-compressed,
with the original file names:

| split | images | per class | source images | image size |
| --- | --- | --- | --- | --- |
${report.map((r) => `| ${r.s.name} (\`${r.s.prefix}-*\`) | ${r.s.count} | ${r.perClass} | ${r.n} | ${r.h}x${r.w}, 1 channel, 0-255 |`).join("\n")}

Labels 0-9: ${CLASSES.map((c, i) => `${i} ${c}`).join(", ")}.

## How it was made

From Debian's \`dataset-fashion-mnist\` package (\`/usr/share/datasets/fashion-mnist\`), by

\`\`\`sh
apt-get install -y dataset-fashion-mnist
node ${relative(join(root, ".."), fileURLToPath(import.meta.url))} --seed ${seed}
\`\`\`

For each split and class, the images of that class are shuffled (Fisher-Yates driven by an integer
hash of the seed: no \`Math.random\`) and the first ${report.map((r) => r.perClass).join(" / ")} are
kept; the kept images stay in their original order. Training images come only from the original
training set, test images only from the original test set. The same seed gives the same files.

| file | bytes | sha256 | sha256 of the source file |
| --- | --- | --- | --- |
${fileRows.join("\n")}

The full data set: \`tensorlane train --data /usr/share/datasets/fashion-mnist\`.
`;
writeFileSync(join(args.out, "README.md"), readme);

const license = `The data in this folder is a subset of Fashion-MNIST,
https://github.com/zalandoresearch/fashion-mnist, by Zalando Research.

The MIT License (MIT) Copyright © 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the “Software”), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED “AS IS”, WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;
writeFileSync(join(args.out, "LICENSE"), license);
for (const r of report) {
  console.log(`${r.s.name}: ${r.s.count} images (${r.perClass} per class) from ${r.n}`);
  for (const [name, out] of r.files) console.log(`  ${name}: ${out.bytes} bytes`);
}
console.log(`wrote ${relative(process.cwd(), args.out) || "."}`);
