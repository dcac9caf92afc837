// The batch protocols of the IPC baselines that move bytes through a blocking byte stream (the raw ring in
// bench/workers/sab-ipc.ts, an operating-system FIFO in bench/workers/os-pipe.ts). The Agentix programs speak the
// same protocols over pipes (bench/programs/pipe-stream.js, pipe-sink.js, pipe-ping.js, pipe-pong.js), so every
// transport moves the same bytes in the same pattern and only the transport differs.
//
// Throughput: per batch the writer sends an 8-byte header (the batch's byte count, a little-endian float64), then
// `ops` writes of `size` bytes each, then waits for one acknowledgement byte that the sink sends once it has read
// every byte. The writer times header to acknowledgement, so a batch is over when the bytes have been read, not
// merely written. Latency: the pinger writes one byte and waits for the ponger to write it back, `ops` times.

/** What the host asks a baseline's driver (the side that times batches) to do: one batch of `ops` operations. */
export interface DriverRequest {
  readonly ops: number;
  /** Bytes per write, for throughput drivers; 0 for the others. */
  readonly size: number;
}

/** A blocking byte stream end, as each transport provides it. */
export interface ByteStream {
  /** Writes all of src, waiting for room as needed. */
  writeAll(src: Uint8Array): void;
  /** Reads at least one byte into dst (waiting for it) and returns the count, or 0 at end of stream. */
  read(dst: Uint8Array): number;
}

export const HEADER_BYTES = 8;
/** Reads of the sink and ponger ask for this much at most: the most one Agentix read returns (IO_MAX). */
export const READ_BYTES = 64 * 1024;

/** The writer's side of a throughput batch: header, `ops` writes of chunk, then the sink's acknowledgement. */
export class Feeder {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly ack = new Uint8Array(1);
  private chunk = new Uint8Array(0);

  constructor(
    private readonly out: ByteStream,
    private readonly back: ByteStream,
  ) {}

  /** Runs one batch and returns its time in ms. */
  batch(ops: number, size: number): number {
    // The chunk's content is irrelevant to every transport; it is made once per size, outside the timing.
    if (this.chunk.length !== size) this.chunk = new Uint8Array(size).fill(0x5a);
    const chunk = this.chunk;
    this.headerView.setFloat64(0, ops * size, true);
    const start = performance.now();
    this.out.writeAll(this.header);
    for (let i = 0; i < ops; i++) this.out.writeAll(chunk);
    if (this.back.read(this.ack) !== 1) throw new Error('the sink closed its acknowledgement stream');
    return performance.now() - start;
  }
}

/**
 * The sink: reads headers and the bytes they announce, acknowledging each batch with one byte, until end of
 * stream. A header may arrive split across reads or together with data, so the bytes are parsed as they come.
 */
export function sink(input: ByteStream, ack: ByteStream): void {
  const buf = new Uint8Array(READ_BYTES);
  const header = new Uint8Array(HEADER_BYTES);
  const headerView = new DataView(header.buffer);
  const ackByte = new Uint8Array([1]);
  let headerHave = 0;
  let remaining = 0;
  for (;;) {
    const n = input.read(buf);
    if (n === 0) return;
    let at = 0;
    while (at < n) {
      if (headerHave < HEADER_BYTES) {
        const k = Math.min(HEADER_BYTES - headerHave, n - at);
        header.set(buf.subarray(at, at + k), headerHave);
        headerHave += k;
        at += k;
        if (headerHave === HEADER_BYTES) remaining = headerView.getFloat64(0, true);
      } else {
        const k = Math.min(remaining, n - at);
        remaining -= k;
        at += k;
      }
      if (headerHave === HEADER_BYTES && remaining === 0) {
        headerHave = 0;
        ack.writeAll(ackByte);
      }
    }
  }
}

/** The pinger's side of a latency batch: `ops` one-byte round trips; returns their time in ms. */
export function ping(out: ByteStream, back: ByteStream, ops: number, byte: Uint8Array): number {
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    out.writeAll(byte);
    if (back.read(byte) !== 1) throw new Error('the ponger closed its stream');
  }
  return performance.now() - start;
}

/** The ponger: writes back every byte it reads, until end of stream. */
export function pong(input: ByteStream, output: ByteStream): void {
  const byte = new Uint8Array(1);
  for (;;) {
    const n = input.read(byte);
    if (n === 0) return;
    output.writeAll(byte);
  }
}
