// The suites `npm run bench` runs, in order. A new suite is one module here and one line in this list.

import type { Suite } from '../suite.js';
import { allocSuite } from './alloc.js';
import { ipcSuite } from './ipc.js';
import { manySuite } from './many.js';
import { schedSuite } from './sched.js';
import { spawnSuite } from './spawn.js';
import { syscallSuite } from './syscall.js';
import { traceSuite } from './trace.js';

export const SUITES: readonly Suite[] = [syscallSuite, spawnSuite, schedSuite, allocSuite, ipcSuite, traceSuite, manySuite];
