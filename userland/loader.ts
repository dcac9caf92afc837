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
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { kLife } from '../abi/layout.js';

/** What the kernel hands a worker to start a process (kernel/host.ts builds it). */
export interface ProcessTask {
  readonly channel: SharedArrayBuffer;
  readonly path: string;
  readonly argv: string;
  readonly env: string;
}

interface Crt0 {
  attach(sab: SharedArrayBuffer): void;
  boot(): void;
  start(main: unknown, argvJson: string, envJson: string): void;
  fail(err: unknown): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const SDK = path.join(here, 'sdk.js');
const CRT0 = path.join(here, 'crt0.js');
const MSGPACK = path.join(path.dirname(createRequire(import.meta.url).resolve('@msgpack/msgpack/package.json')), 'dist.esm', 'index.mjs');
const SANDBOX_SPECIFIERS = new Set(['agentix/userland']);

const DIST = path.dirname(here);
const MSGPACK_DIR = path.dirname(MSGPACK);
const ours = (file: string): boolean => file.startsWith(DIST) || file.startsWith(MSGPACK_DIR);

/** Our own modules are read once per worker; a program is read afresh at each exec, as a binary would be. */
const sourceCache = new Map<string, string>();
function source(file: string): string {
  let text = sourceCache.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8');
    if (ours(file)) sourceCache.set(file, text);
  }
  return text;
}

class Sandbox {
  readonly context: vm.Context;
  readonly modules = new Map<string, vm.SourceTextModule>();
  readonly ContextError: ErrorConstructor;
  crt0!: Crt0;

  constructor() {
    this.context = vm.createContext({}, { name: 'agentix-process', codeGeneration: { strings: true, wasm: true } });
    this.ContextError = vm.runInContext('Error', this.context) as ErrorConstructor;
  }

  /** Resolves an import the way the sandbox allows, or throws an error built in the context. */
  resolve(specifier: string, from: string): string {
    if (SANDBOX_SPECIFIERS.has(specifier)) return SDK;
    if (specifier === '@msgpack/msgpack' && ours(from)) return MSGPACK;
    if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:')) {
      const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : path.resolve(path.dirname(from), specifier);
      if (/\.(m?js)$/.test(file)) return file;
      throw new this.ContextError(`Cannot import '${specifier}': only .js and .mjs modules load in an Agentix process`);
    }
    throw new this.ContextError(
      `Cannot import '${specifier}': an Agentix process can import only 'agentix/userland' and its own .js files`,
    );
  }

  module(file: string): vm.SourceTextModule {
    let m = this.modules.get(file);
    if (m !== undefined) return m;
    let text: string;
    try {
      text = source(file);
    } catch {
      throw new this.ContextError(`Cannot find module '${file}'`);
    }
    m = new vm.SourceTextModule(text, {
      context: this.context,
      identifier: pathToFileURL(file).href,
      importModuleDynamically: ((specifier: string) => this.load(this.resolve(specifier, file))) as never,
      // A string is all that crosses: import.meta itself is the context's object.
      initializeImportMeta: (meta) => {
        meta.url = pathToFileURL(file).href;
      },
    });
    this.modules.set(file, m);
    return m;
  }

  async load(file: string): Promise<vm.SourceTextModule> {
    const m = this.module(file);
    if (m.status === 'unlinked') {
      await m.link((specifier, referencing) => this.module(this.resolve(specifier, fileURLToPath(referencing.identifier))));
    }
    if (m.status === 'linked') await m.evaluate();
    return m;
  }

  async prepare(): Promise<this> {
    const crt0 = await this.load(CRT0);
    const ns = crt0.namespace as Record<string, unknown>;
    this.crt0 = { attach: ns.attach, boot: ns.boot, start: ns.start, fail: ns.fail } as Crt0;
    return this;
  }
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
  crt0.attach(channel);
  try {
    crt0.boot();
    let program: vm.SourceTextModule | undefined;
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
  next = new Sandbox().prepare();
}

export default next.then(() => runProcess);
