import base from "./as-pect.f64.config.js"; export default { ...base, entries: ["assembly/__tests__/winograd-dw.spec.ts"] };
