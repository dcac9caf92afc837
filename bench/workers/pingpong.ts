// The worker side of the raw round-trip baselines (the host side is bench/pingpong.ts). It plays a process with
// nothing of Agentix in it: no sandbox, no stubs, no marshalling, no kernel. Each batch request from the host
// names a transport and an operation count; the worker makes that many round trips, times them itself with
// performance.now(), and posts the time back, the same batching the Agentix programs use (bench/programs/batch.js).
//
// The SharedArrayBuffer round trip mirrors userland/trap.ts step for step, so that the baseline differs from a
// real syscall only by what the ABI layers add: the same frame words are written; the request is published with
// an Atomics.store of kState and a notify only if the kernel side announced it sleeps (kKernelWaiting); then the
// caller spins as many polls as the last reply's kSpin allowed, announces its own sleep (kUserWaiting), looks
// again, and sleeps in Atomics.wait (sync) or Atomics.waitAsync (async, one promise per call as sysAsync makes).

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  ARG_SLOTS, kArgc, kArgsByte, kInt32Words, kKernelWaiting, kNr, kPayloadLen, kSeq, kSpin, kState, kUserWaiting,
  STATE_REQUEST,
} from '../../abi/layout.js';
import { attachChannel, sys, sysAsync } from '../../userland/sdk.js';

/**
 * sab-*: the raw handshake written out here. sdk-*: the real userland stubs and trap (dist/userland/sdk.js,
 * loaded in this plain worker instead of a sandbox) against the same raw server, so that the difference from
 * sab-* is what the userland layer adds and the difference from a real syscall is what the kernel adds.
 */
export type Transport = 'sab-sync' | 'sab-async' | 'sdk-sync' | 'sdk-async' | 'postmessage';

export interface PingPongData {
  readonly sab: SharedArrayBuffer;
  /** The echo port for the postMessage baseline; the host answers every message with the same value. */
  readonly port: MessagePort;
  /** The syscall number the frames carry (getpid's), so the frame is the one a real null syscall writes. */
  readonly nr: number;
}

export interface BatchRequest {
  readonly transport: Transport;
  readonly ops: number;
}

const RET0 = ARG_SLOTS;

const { sab, port, nr } = workerData as PingPongData;
const i32 = new Int32Array(sab, 0, kInt32Words);
const f64 = new Float64Array(sab, kArgsByte, ARG_SLOTS + 2);
/** Polls allowed before sleeping; the host's reply sets it, as the kernel's does (0 until the first reply). */
let spin = 0;
let seq = 0;
// The SDK binds to one channel per realm, and this worker's realm has only this one. Its trap keeps its own spin
// hint and sequence number; batches never overlap, so the two users of the channel never interleave.
attachChannel(sab, () => undefined); // no grants: this bench maps no memory

function send(): void {
  i32[kNr] = nr;
  i32[kArgc] = 0;
  i32[kPayloadLen] = 0;
  i32[kSeq] = ++seq;
  Atomics.store(i32, kState, STATE_REQUEST);
  if (Atomics.load(i32, kKernelWaiting) !== 0) Atomics.notify(i32, kState);
}

function receive(): number {
  spin = i32[kSpin]!;
  return f64[RET0]!;
}

function callSync(): number {
  send();
  let st = Atomics.load(i32, kState);
  for (let k = spin; st === STATE_REQUEST && k > 0; k--) st = Atomics.load(i32, kState);
  while (st === STATE_REQUEST) {
    Atomics.store(i32, kUserWaiting, 1);
    if (Atomics.load(i32, kState) === STATE_REQUEST) Atomics.wait(i32, kState, STATE_REQUEST);
    Atomics.store(i32, kUserWaiting, 0);
    st = Atomics.load(i32, kState);
  }
  return receive();
}

function awaitReply(resolve: (v: number) => void, polls: number): void {
  let st = Atomics.load(i32, kState);
  for (let k = polls; st === STATE_REQUEST && k > 0; k--) st = Atomics.load(i32, kState);
  if (st === STATE_REQUEST) {
    Atomics.store(i32, kUserWaiting, 1);
    st = Atomics.load(i32, kState);
  }
  if (st !== STATE_REQUEST) {
    Atomics.store(i32, kUserWaiting, 0);
    return resolve(receive());
  }
  const w = Atomics.waitAsync(i32, kState, STATE_REQUEST);
  const again = (): void => awaitReply(resolve, 0);
  if (w.async) void w.value.then(again);
  else again();
}

function callAsync(): Promise<number> {
  return new Promise((resolve) => {
    send();
    awaitReply(resolve, spin);
  });
}

let echoed: ((v: unknown) => void) | null = null;
port.on('message', (v: unknown) => echoed?.(v));

function postRoundTrip(i: number): Promise<unknown> {
  return new Promise((resolve) => {
    echoed = resolve;
    port.postMessage(i);
  });
}

async function runBatch(req: BatchRequest): Promise<number> {
  const start = performance.now();
  switch (req.transport) {
    case 'sab-sync':
      for (let i = 0; i < req.ops; i++) callSync();
      break;
    case 'sab-async':
      for (let i = 0; i < req.ops; i++) await callAsync();
      break;
    case 'sdk-sync':
      for (let i = 0; i < req.ops; i++) sys.getpid();
      break;
    case 'sdk-async':
      for (let i = 0; i < req.ops; i++) await sysAsync.getpid();
      break;
    case 'postmessage':
      for (let i = 0; i < req.ops; i++) await postRoundTrip(i);
      break;
    default: {
      const never: never = req.transport;
      throw new Error(`unknown transport ${String(never)}`);
    }
  }
  return performance.now() - start;
}

parentPort!.on('message', (req: BatchRequest) => {
  void runBatch(req).then((ms) => parentPort!.postMessage(ms));
});
parentPort!.postMessage('ready');
