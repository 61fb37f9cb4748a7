// as-pect runs the kernel specs in assembly/__tests__ against their scalar twins, with real = f32
// (as-pect.asconfig.json); as-pect.f64.config.js runs them again with real = f64.
export default {
  entries: ["assembly/__tests__/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
