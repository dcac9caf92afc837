// jsfuzz entry point of the sequence fuzzer (bundled to CommonJS by scripts/build-fuzz.mjs, which jsfuzz instruments).
// An input that breaks an oracle in a way not known yet throws, and jsfuzz saves it as a crash.

import { jsfuzzEntry } from '../targets.js';

export const fuzz = jsfuzzEntry('sequence');
