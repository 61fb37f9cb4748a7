// The machine's single-core SIMD128 ceiling: a register-only f32x4 multiply-add loop compiled
// from AssemblyScript at bench time. `lanes` independent chains hide the mul/add latency; the
// best count is taken, since too few chains are latency-bound and too many spill registers.
import asc from "assemblyscript/asc";

/** AS source with `chains` independent accumulators: acc = acc * m + c, 8 flops per chain per step. */
function probeSource(chains) {
  const ids = Array.from({ length: chains }, (_, i) => i);
  return `
export function probe(iters: i32, m: f32, c: f32): f32 {
  const vm = f32x4.splat(m);
  const vc = f32x4.splat(c);
${ids.map((i) => `  let a${i} = f32x4.splat(${(i + 1) / chains});`).join("\n")}
  for (let i = 0; i < iters; i++) {
${ids.map((i) => `    a${i} = f32x4.add(f32x4.mul(a${i}, vm), vc);`).join("\n")}
  }
  let s = a0;
${ids.slice(1).map((i) => `  s = f32x4.add(s, a${i});`).join("\n")}
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
`;
}

export const CHAIN_COUNTS = [8, 10, 12];

/** Compiles one probe per chain count: { chains, flopsPerIter, run(iters) }. */
export async function buildProbes() {
  const probes = [];
  for (const chains of CHAIN_COUNTS) {
    const { binary, error, stderr } = await asc.compileString(probeSource(chains), {
      optimizeLevel: 3,
      runtime: "stub",
      noAssert: true,
      enable: ["simd"],
    });
    if (error) throw new Error(`ceiling probe (chains ${chains}) failed to compile: ${error.message}\n${stderr}`);
    const { instance } = await WebAssembly.instantiate(binary, { env: { abort() {} } });
    const probe = instance.exports.probe;
    // m slightly below 1 and a small c keep every value near 1: no overflow, no denormals.
    probes.push({ chains, flopsPerIter: chains * 4 * 2, run: (iters) => probe(iters, 0.9999, 0.0001) });
  }
  return probes;
}
