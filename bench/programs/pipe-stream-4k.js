// Pipe throughput with writes of 4096 bytes (pipe-stream.js).
import { stream } from './pipe-stream.js';

export default function main() {
  return stream(4096);
}
