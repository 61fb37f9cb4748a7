import base from "./as-pect.config.js"; export default { ...base, entries: ["assembly/__tests__/winograd-dw.spec.ts"] };
