// Property tests replay: in CI every fast-check run uses one fixed seed, locally a random one
// (FC_SEED=n replays a run). The seed is printed by each file that runs properties, so a red run
// can be replayed exactly.
import fc from "fast-check";
import { beforeAll, expect } from "vitest";

const CI_SEED = 20261129;
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? CI_SEED : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer (got ${process.env.FC_SEED})`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });

beforeAll(() => {
  if (/properties[\\/]/.test(expect.getState().testPath ?? "")) console.log(`fast-check seed ${seed} (replay: FC_SEED=${seed})`);
});
