// `tensorlane/iife`: the plain <script> build. Loading it defines the global `tensorlane`, which
// holds the same API as `import * as tl from "tensorlane"`.
//   <script src=".../tensorlane.iife.js"></script>
//   <script>tensorlane.init().then(() => { ... })</script>
// Reference this file (`/// <reference types="tensorlane/iife" />`) to type the global.
import type * as api from "./index.js";

declare global {
  var tensorlane: typeof api;
}
export {};
