// The sandbox runtime: everything evaluated inside a process's context, bundled into one module at build time
// (scripts/bundle-runtime.mjs) so that preparing a sandbox compiles and links one module instead of ~27.
// Programs see only the SDK ('agentix/userland'); the loader alone uses crt0.

export * from './sdk.js';
export * as __crt0 from './crt0.js';
