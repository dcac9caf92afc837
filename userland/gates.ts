// Closing the sandbox's own timers when its process ends. A worker outlives its process and serves the next one,
// so nothing an exited program scheduled may run there later. Plain ECMAScript plus WebAssembly has three ways to
// get called back from a later task: Atomics.waitAsync (it takes a timeout), FinalizationRegistry, and
// WebAssembly's async compile and instantiate. Each is wrapped, before any program code runs, so that its
// continuation is dropped once the process is gone. (Microtasks cannot outlive the process's task: the kernel
// terminates a worker that does not hand itself back soon after its process exited.)

export function closeTimersWhenGone(gone: () => boolean): void {
  const g = globalThis as unknown as {
    Atomics: { waitAsync: typeof Atomics.waitAsync };
    FinalizationRegistry: FinalizationRegistryConstructor;
    WebAssembly?: { compile: (...a: never[]) => Promise<unknown>; instantiate: (...a: never[]) => Promise<unknown> };
  };
  const gate = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      p.then(
        (v) => {
          if (!gone()) resolve(v);
        },
        (e: unknown) => {
          if (!gone()) reject(e);
        },
      );
    });

  const waitAsync = g.Atomics.waitAsync;
  g.Atomics.waitAsync = function (...args: Parameters<typeof Atomics.waitAsync>) {
    const r = waitAsync.apply(Atomics, args);
    return r.async ? { async: true, value: gate(r.value) } : r;
  } as typeof Atomics.waitAsync;

  const Registry = g.FinalizationRegistry;
  g.FinalizationRegistry = class<T> extends Registry<T> {
    constructor(cleanup: (held: T) => void) {
      super((held: T) => {
        if (!gone()) cleanup(held);
      });
    }
  } as FinalizationRegistryConstructor;

  const wasm = g.WebAssembly;
  if (wasm !== undefined) {
    const { compile, instantiate } = wasm;
    wasm.compile = (...a: never[]) => gate(compile.apply(wasm, a));
    wasm.instantiate = (...a: never[]) => gate(instantiate.apply(wasm, a));
  }
}
