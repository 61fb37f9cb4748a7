// IDX and CIFAR-10 readers on small files the tests write, every error case, and the folder loaders.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { FileFormatError } from "../src/index.js";
import { cifar10Dataset, decodeIdx, gunzip, idxDataset, parseCifar10, parseCifar10Meta, parseIdx, readIdxDataset } from "../src/data/index.js";
import { builtinDataDir, loadBuiltinData } from "../cli/src/builtin-data.js";
import { loadCifar10Folder, loadDataFolder, loadIdxFolder } from "../src/node/index.js";

/** IDX ubyte bytes: 00 00 08 rank, big-endian dims, data. */
function idxBytes(dims: number[], data: ArrayLike<number>, { type = 0x08 } = {}): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

// 3 images of 2x2 with distinct pixels, labels 2, 0, 1.
const PIXELS = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
const IMAGES = idxBytes([3, 2, 2], PIXELS);
const LABELS = idxBytes([3], [2, 0, 1]);

function cifarRecord(label: number, fill: (i: number) => number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let i = 0; i < 3072; i++) r[1 + i] = fill(i);
  return r;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("IDX", () => {
  it("parses raw image and label files", () => {
    const images = parseIdx(IMAGES);
    expect(images.dims).toEqual([3, 2, 2]);
    expect(Array.from(images.data)).toEqual(Array.from(PIXELS));
    const ds = idxDataset(images, parseIdx(LABELS));
    expect(ds.shape).toEqual([1, 2, 2]);
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
    expect(ds.numClasses).toBe(3);
  });

  it("decodes gzip and raw alike", async () => {
    const raw = await readIdxDataset(IMAGES, LABELS);
    const gz = await readIdxDataset(gzipSync(IMAGES), gzipSync(LABELS));
    expect(Array.from(gz.images)).toEqual(Array.from(raw.images));
    expect(Array.from(gz.labels)).toEqual(Array.from(raw.labels));
    expect((await decodeIdx(gzipSync(LABELS))).dims).toEqual([3]);
  });

  it("wrong magic number names what it found and what is expected", () => {
    const bad = IMAGES.slice();
    bad[0] = 0x12;
    const e = thrown(() => parseIdx(bad, "x.idx"));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toContain("x.idx");
    expect(e.message).toContain("wrong magic number 12 00 08 03");
    expect(e.message).toContain("00 00 08 03");
  });

  it("unsupported element type is named", () => {
    const e = thrown(() => parseIdx(idxBytes([1], [0, 0, 0, 0], { type: 0x0d })));
    expect(e.message).toMatch(/0x0d \(float32\) is not supported/);
  });

  it("gzip data given to the raw parser says to decompress", () => {
    expect(thrown(() => parseIdx(gzipSync(IMAGES))).message).toMatch(/gzip-compressed; use decodeIdx/);
  });

  it("truncated data says how many bytes were declared and found", () => {
    const e = thrown(() => parseIdx(IMAGES.subarray(0, IMAGES.length - 1), "imgs"));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toContain("imgs: truncated");
    expect(e.message).toContain("[3, 2, 2] = 12 bytes");
    expect(e.message).toContain("only 11 bytes");
  });

  it("every truncation of a raw file is a clear error", () => {
    for (let n = 0; n < IMAGES.length; n++) {
      const e = thrown(() => parseIdx(IMAGES.subarray(0, n)));
      expect(e, `cut at ${n}`).toBeInstanceOf(FileFormatError);
      expect(e.message, `cut at ${n}`).toMatch(/truncated/);
    }
  });

  it("every truncation of a gzip file is a clear error", async () => {
    const gz = gzipSync(IMAGES);
    for (let n = 0; n < gz.length; n++) {
      const e = await rejection(decodeIdx(gz.subarray(0, n), "imgs.gz"));
      expect(e, `cut at ${n}`).toBeInstanceOf(FileFormatError);
      expect(e.message, `cut at ${n}`).toMatch(/imgs\.gz: (truncated|corrupt|not gzip|wrong magic)/);
    }
  });

  it("trailing bytes after the declared data are rejected", () => {
    expect(thrown(() => parseIdx(concat(LABELS, new Uint8Array(2)))).message).toMatch(/2 unexpected bytes after the data/);
  });

  it("a huge declared size in a tiny file is rejected without allocating", () => {
    const e = thrown(() => parseIdx(idxBytes([0xffffffff, 0xffffffff, 0xffffffff], [1, 2, 3])));
    expect(e.message).toMatch(/truncated/);
  });

  it("label/image count mismatch says both counts", () => {
    const e = thrown(() => idxDataset(parseIdx(IMAGES), parseIdx(idxBytes([2], [0, 1])), { imagesName: "a", labelsName: "b" }));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toContain("a has 3 images but b has 2 labels");
  });

  it("swapped image and label files are recognised", () => {
    expect(thrown(() => idxDataset(parseIdx(LABELS), parseIdx(IMAGES))).message).toMatch(/3 dimensions.*is it a label file/);
  });

  it("labels outside numClasses are rejected", () => {
    expect(thrown(() => idxDataset(parseIdx(IMAGES), parseIdx(LABELS), { numClasses: 2 })).message).toMatch(/label 0 is 2, outside \[0, 2\)/);
  });

  it("gunzip refuses output over its cap (gzip bomb)", async () => {
    const bomb = gzipSync(new Uint8Array(1 << 20)); // ~1 KB that inflates to 1 MiB
    const e = await rejection(gunzip(bomb, { maxBytes: 1000 }));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toMatch(/more than 1000 bytes/);
  });
});

describe("CIFAR-10", () => {
  const batch = concat(
    cifarRecord(3, (i) => i % 256),
    cifarRecord(9, (i) => 255 - (i % 256)),
  );

  it("parses records: label byte then the CHW planes", () => {
    const { images, labels } = parseCifar10(batch);
    expect(Array.from(labels)).toEqual([3, 9]);
    expect(images.length).toBe(2 * 3072);
    expect(images[0]).toBe(0);
    expect(images[1024]).toBe(0); // green plane starts at 1024: 1024 % 256 = 0
    expect(images[1025]).toBe(1);
    expect(images[3072]).toBe(255);
    const ds = cifar10Dataset([batch, batch]);
    expect(ds.shape).toEqual([3, 32, 32]);
    expect(ds.labels.length).toBe(4);
    expect(ds.classes?.[3]).toBe("cat");
  });

  it("truncated file says records and leftover bytes", () => {
    const e = thrown(() => parseCifar10(batch.subarray(0, 3073 + 100), "b.bin"));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toContain("b.bin");
    expect(e.message).toContain("1 whole 3073-byte records");
    expect(e.message).toContain("plus 100 bytes");
  });

  it("every truncation is a clear error", () => {
    for (const n of [0, 1, 3072, 3074, 6145]) {
      expect(
        thrown(() => parseCifar10(batch.subarray(0, n))),
        `cut at ${n}`,
      ).toBeInstanceOf(FileFormatError);
    }
  });

  it("labels above 9 are rejected with the record", () => {
    const bad = batch.slice();
    bad[3073] = 42;
    expect(thrown(() => parseCifar10(bad)).message).toMatch(/record 1 \(byte 3073\) has label 42/);
  });

  it("meta file gives class names", () => {
    expect(parseCifar10Meta("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")).toHaveLength(10);
    expect(thrown(() => parseCifar10Meta("a\nb")).message).toMatch(/expected 10 class names/);
  });
});

describe("folders", () => {
  const root = mkdtempSync(join(tmpdir(), "tensorlane-data-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("loadIdxFolder reads raw and .gz names", async () => {
    const dir = join(root, "idx");
    mkdirSync(dir);
    writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(IMAGES));
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), LABELS);
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idxBytes([1, 2, 2], [1, 2, 3, 4]));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), gzipSync(idxBytes([1], [4])));
    const data = await loadIdxFolder(dir);
    expect(data.format).toBe("idx");
    expect(data.train.labels.length).toBe(3);
    expect(data.test.labels.length).toBe(1);
    expect(data.train.numClasses).toBe(5); // the largest label over both splits, + 1
    expect(data.test.numClasses).toBe(5);
    expect((await loadDataFolder(dir)).format).toBe("idx");
  });

  it("a missing file is named, with what the folder holds", async () => {
    const dir = join(root, "partial");
    mkdirSync(dir);
    writeFileSync(join(dir, "train-images-idx3-ubyte"), IMAGES);
    const e = await rejection(loadIdxFolder(dir));
    expect(e.message).toMatch(/no training labels: looked for train-labels-idx1-ubyte/);
    expect(e.message).toContain("train-images-idx3-ubyte");
  });

  it("a corrupt file in a folder names its path", async () => {
    const dir = join(root, "corrupt");
    mkdirSync(dir);
    writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(IMAGES).subarray(0, 20));
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), LABELS);
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), IMAGES);
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), LABELS);
    const e = await rejection(loadIdxFolder(dir));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toContain(join(dir, "train-images-idx3-ubyte.gz"));
  });

  it("loadCifar10Folder reads batches, meta, and the parent folder too", async () => {
    const dir = join(root, "cifar", "cifar-10-batches-bin");
    mkdirSync(dir, { recursive: true });
    const rec = (l: number) => cifarRecord(l, (i) => (i * 7 + l) % 256);
    writeFileSync(join(dir, "data_batch_1.bin"), concat(rec(0), rec(1)));
    writeFileSync(join(dir, "data_batch_2.bin"), rec(2));
    writeFileSync(join(dir, "test_batch.bin"), rec(9));
    writeFileSync(join(dir, "batches.meta.txt"), "p\nq\nr\ns\nt\nu\nv\nw\nx\ny\n");
    const data = await loadCifar10Folder(join(root, "cifar"));
    expect(data.format).toBe("cifar10");
    expect(Array.from(data.train.labels)).toEqual([0, 1, 2]);
    expect(Array.from(data.test.labels)).toEqual([9]);
    expect(data.train.classes?.[9]).toBe("y");
    expect((await loadDataFolder(dir)).format).toBe("cifar10");
  });

  it("a folder with no data set says what was expected", async () => {
    const dir = join(root, "empty");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "hi");
    const e = await rejection(loadDataFolder(dir));
    expect(e.message).toMatch(/holds no data set tensorlane can read/);
    expect(e.message).toContain("notes.txt");
    expect((await rejection(loadDataFolder(join(root, "nope")))).message).toMatch(/data folder not found/);
  });

  it("the built-in data set (CLI package): 10,000 + 2,000 Fashion-MNIST images, 1,000 / 200 per class", async () => {
    expect(await builtinDataDir()).toMatch(/cli[\\/]data[\\/]fashion-mnist-subset$/);
    const { train, test } = await loadBuiltinData();
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.labels.length).toBe(10000);
    expect(test.labels.length).toBe(2000);
    expect(train.classes?.[9]).toBe("Ankle boot");
    for (const [ds, per] of [
      [train, 1000],
      [test, 200],
    ] as const) {
      const counts = new Array(10).fill(0);
      for (const l of ds.labels) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(per));
    }
  });
});
