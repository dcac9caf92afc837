// The program loader: runs in the worker thread's own (host) realm, as exec and ld.so do for a Unix process.
// Each process gets a fresh vm context holding only ECMAScript built-ins and the SDK; the program's modules are
// compiled into it. The rules that keep the host out of reach:
//   - nothing but primitives and the process's own channel crosses into the context, and the channel's
//     prototype is swapped for the context's own, so no host constructor is reachable from it;
//   - host errors never cross: a failure is passed in as a string, and the context builds its own Error;
//   - the loader calls only crt0 functions captured before any program code ran.
// Imports resolve to 'agentix/userland' or to files; every other specifier (node:*, packages) is refused.
// A vm context is not a defence against V8 bugs (docs/sandbox.md says what this does and does not promise).

import vm from 'node:vm';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { kLife } from '../abi/layout.js';

/** What the kernel hands a worker to start a process (kernel/host.ts builds it). */
export interface ProcessTask {
  readonly channel: SharedArrayBuffer;
  readonly path: string;
  readonly argv: string;
  readonly env: string;
  /** Where the kernel posts the SharedArrayBuffers of regions it maps for the process (kernel/host.ts). */
  readonly grants: MessagePort;
}

interface Crt0 {
  attach(sab: SharedArrayBuffer, takeGrant: () => unknown): void;
  boot(): void;
  start(main: unknown, argvJson: string, envJson: string): void;
  fail(err: unknown): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The SDK, crt0, the ABI and msgpack in one module (scripts/bundle-runtime.mjs). */
const RUNTIME = path.join(here, 'runtime.bundle.js');
const SDK_SPECIFIER = 'agentix/userland';

/** The runtime's source and V8 code cache, read once per worker; programs are read afresh at each exec. */
const runtimeSource = readFileSync(RUNTIME, 'utf8');
let runtimeCode: Buffer | undefined;

export class Sandbox {
  readonly context: vm.Context;
  readonly modules = new Map<string, vm.SourceTextModule>();
  readonly ContextError: ErrorConstructor;
  crt0!: Crt0;
  private sdk!: vm.SyntheticModule;

  constructor() {
    // The contextified object must not come from the host realm: with a host `{}`, globalThis.constructor would
    // be the host's Object, one `.constructor` away from the host's Function (and so `process`).
    this.context = vm.createContext(Object.create(null) as object, { name: 'agentix-process', codeGeneration: { strings: true, wasm: true } });
    this.ContextError = vm.runInContext('Error', this.context) as ErrorConstructor;
  }

  /** Evaluates the runtime and exposes its SDK part as 'agentix/userland'; crt0 stays the loader's. */
  async prepare(): Promise<this> {
    const runtime = new vm.SourceTextModule(runtimeSource, {
      context: this.context,
      identifier: pathToFileURL(RUNTIME).href,
      ...(runtimeCode === undefined ? {} : { cachedData: runtimeCode }),
    });
    // The cache can only be taken before evaluation; taken once, it serves every later sandbox of this worker.
    runtimeCode ??= (runtime as unknown as { createCachedData(): Buffer }).createCachedData();
    await runtime.link(() => {
      throw new Error('the runtime bundle has no imports');
    });
    await runtime.evaluate();
    const ns = runtime.namespace as Record<string, unknown>;
    const crt0 = ns.__crt0 as Record<string, unknown>;
    this.crt0 = { attach: crt0.attach, boot: crt0.boot, start: crt0.start, fail: crt0.fail } as Crt0;
    const names = Object.keys(ns).filter((n) => n !== '__crt0');
    this.sdk = new vm.SyntheticModule(
      names,
      function (this: vm.SyntheticModule) {
        for (const n of names) this.setExport(n, ns[n]);
      },
      { context: this.context, identifier: SDK_SPECIFIER },
    );
    await this.sdk.link(() => {
      throw new Error('the SDK module has no imports');
    });
    await this.sdk.evaluate();
    return this;
  }

  /** Resolves an import the way the sandbox allows, or throws an error built in the context. */
  private resolve(specifier: string, from: string): vm.Module {
    if (specifier === SDK_SPECIFIER) return this.sdk;
    if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:')) {
      const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : path.resolve(path.dirname(from), specifier);
      if (/\.(m?js)$/.test(file)) return this.module(file);
      throw new this.ContextError(`Cannot import '${specifier}': only .js and .mjs modules load in an Agentix process`);
    }
    throw new this.ContextError(
      `Cannot import '${specifier}': an Agentix process can import only '${SDK_SPECIFIER}' and its own .js files`,
    );
  }

  private module(file: string): vm.SourceTextModule {
    let m = this.modules.get(file);
    if (m !== undefined) return m;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new this.ContextError(`Cannot find module '${file}'`);
    }
    m = new vm.SourceTextModule(text, {
      context: this.context,
      identifier: pathToFileURL(file).href,
      importModuleDynamically: ((specifier: string) => this.loaded(this.resolve(specifier, file))) as never,
      // A string is all that crosses: import.meta itself is the context's object.
      initializeImportMeta: (meta) => {
        meta.url = pathToFileURL(file).href;
      },
    });
    this.modules.set(file, m);
    return m;
  }

  private async loaded(m: vm.Module): Promise<vm.Module> {
    if (m.status === 'unlinked') {
      await m.link((specifier, referencing) => this.resolve(specifier, fileURLToPath(referencing.identifier)));
    }
    if (m.status === 'linked') await m.evaluate();
    return m;
  }

  /** Loads and evaluates a program file (its top-level code runs now). */
  async load(file: string): Promise<vm.Module> {
    return this.loaded(this.module(file));
  }
}

/**
 * The sandbox's way to take a granted buffer: a function made in the context (so its `constructor` chain stays
 * there) around a host function that reads the grant port synchronously, swaps the buffer's prototype for the
 * context's, and never throws (a host error would carry the host's constructors in).
 */
function grantReader(sandbox: Sandbox, port: MessagePort): () => unknown {
  const proto = vm.runInContext('SharedArrayBuffer.prototype', sandbox.context) as object;
  const take = (): SharedArrayBuffer | undefined => {
    try {
      const m = receiveMessageOnPort(port);
      const sab: unknown = m?.message;
      if (!(sab instanceof SharedArrayBuffer)) return undefined;
      Object.setPrototypeOf(sab, proto);
      return sab;
    } catch {
      return undefined;
    }
  };
  const wrap = vm.runInContext('(take) => function takeGrant() { return take(); }', sandbox.context) as (f: () => unknown) => () => unknown;
  return wrap(take);
}

/** Host-side message for a failure the loader caught: a string, so no host object crosses into the context. */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return 'Error: the program failed to load';
}

let next: Promise<Sandbox> = new Sandbox().prepare();

/** Runs one process to its end. Resolves once the kernel has marked the channel dead. */
async function runProcess(task: ProcessTask): Promise<void> {
  const sandbox = await next;
  const { crt0, ContextError } = sandbox;
  const channel = task.channel;
  Object.setPrototypeOf(channel, vm.runInContext('SharedArrayBuffer.prototype', sandbox.context) as object);
  const words = new Int32Array(channel, 0, kLife + 1);
  crt0.attach(channel, grantReader(sandbox, task.grants));
  try {
    crt0.boot();
    let program: vm.Module | undefined;
    try {
      program = await sandbox.load(path.resolve(task.path));
    } catch (e: unknown) {
      // Errors from the program's own code are context values and go in as they are; anything else becomes text.
      crt0.fail(e instanceof Error ? new ContextError(describe(e)) : e);
    }
    if (program !== undefined) {
      crt0.start((program.namespace as Record<string, unknown>).default, task.argv, task.env);
    }
  } catch {
    // ExitUnwind out of boot: the process was killed before it ran.
  }
  // The program runs on from here through its own promises; the kernel says when it is over.
  for (;;) {
    const w = Atomics.waitAsync(words, kLife, 0);
    if (!w.async) break;
    await w.value;
  }
  task.grants.close();
  // Prepare the next process's sandbox before handing the worker back, so piscina gives the next spawn a worker
  // whose sandbox is ready (an idle one) rather than this one mid-preparation.
  next = new Sandbox().prepare();
  await next;
}

export default next.then(() => runProcess);
