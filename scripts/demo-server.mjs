// `npm run demo`: serves demo/ on 127.0.0.1 with a strict Content-Security-Policy (no eval, no
// inline script, nothing from other origins) and cross-origin isolated (COOP/COEP: threads), the
// built bundle (with its thread worker, dist/tensorlane-worker.js), the chart library, and the
// built-in data set's IDX files (the page un-gzips them itself).
//   node scripts/demo-server.mjs [--port 8080]
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const DEMO_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const DATA_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

/** Where the Fashion-MNIST IDX files are: the CLI package's built-in subset, else Debian's dataset-fashion-mnist. */
export function findDataDir() {
  const candidates = [join(root, "cli", "data", "fashion-mnist-subset"), "/usr/share/datasets/fashion-mnist"];
  return candidates.find((dir) => DATA_FILES.every((f) => existsSync(join(dir, f)))) ?? null;
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".gz": "application/octet-stream", // served as bytes: the worker decompresses them
  ".svg": "image/svg+xml",
  ".onnx": "application/octet-stream", // the fine-tuning panel's pretrained model
};

/** Starts the server; resolves with { server, url, dataDir }. Port 0 picks a free one. */
export function startDemoServer({ port = 8080, host = "127.0.0.1" } = {}) {
  const dataDir = findDataDir();
  const mounts = [
    ["/dist/", join(root, "dist")],
    ["/vendor/uplot/", join(root, "node_modules", "uplot", "dist")],
    ["/data/", dataDir],
    ["/", join(root, "demo")],
  ];
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      path = "";
    }
    if (path === "/") path = "/index.html";
    const mount = mounts.find(([prefix, dir]) => dir && path.startsWith(prefix));
    const file = mount ? resolve(mount[1], `.${path.slice(mount[0].length - 1)}`) : "";
    const inside = mount && file.startsWith(mount[1] + sep);
    if (path === "/data/index.json") {
      send(res, 200, "application/json", JSON.stringify({ files: dataDir ? DATA_FILES : [], source: dataDir }));
    } else if (!inside || !existsSync(file) || !TYPES[extname(file)]) {
      send(res, 404, "text/plain", "not found");
    } else {
      send(res, 200, TYPES[extname(file)], readFileSync(file));
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolvePromise({ server, url: `http://${host}:${address.port}/`, dataDir });
    });
  });
}

// Cross-origin isolation (SharedArrayBuffer), so the demo's worker can train with threads.
export const ISOLATION_HEADERS = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-security-policy": DEMO_CSP, "cache-control": "no-store", ...ISOLATION_HEADERS }).end(body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--port");
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  if (!existsSync(join(root, "dist", "tensorlane.js"))) {
    console.error("dist/ is not built: run `npm run build` first");
    process.exit(1);
  }
  const { url, dataDir } = await startDemoServer({ port });
  console.log(`tensorlane demo: ${url}`);
  console.log(dataDir ? `data: ${dataDir}` : "data: none found (the page will say so); build the package's data set or apt-get install dataset-fashion-mnist");
}
