// `import { Kernel } from 'agentix'`: the host-facing API.

export { Kernel, ProcessHandle, parseSize } from './api.js';
export type { KernelOptions, SpawnOptions, ExitResult, ProcInfo, IpcInfo, StdinOption, OutputOption } from './api.js';
export { AgentixError, ERROR_CODES, type ErrorCode } from './errors.js';
export { EVENT_KINDS, EVENT_SCHEMA, eachEvent, matcher } from './events.js';
export type { KernelEvent, Stamped, ExitHow, EventKind, EventFilter, Lost, TapConsumer, EventRing } from './events.js';
export type { ProcState } from './proc.js';
export type { MemInfo } from './mm.js';
export { PARAM } from './param.js';
