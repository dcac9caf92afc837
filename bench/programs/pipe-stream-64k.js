// Pipe throughput with writes of 65536 bytes (pipe-stream.js).
import { stream } from './pipe-stream.js';

export default function main() {
  return stream(65536);
}
