// The trivial program: returns 0 at once. What spawn benchmarks start.
export default function main() {
  return 0;
}
