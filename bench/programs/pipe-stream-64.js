// Pipe throughput with writes of 64 bytes (pipe-stream.js).
import { stream } from './pipe-stream.js';

export default function main() {
  return stream(64);
}
