// Floor for the allocator suite: the least a segregated-fit allocator can do. Sizes round up to a power of two
// (at least 16 B); each class is a plain array used as a stack of free addresses; an empty class takes fresh
// space from a bump pointer. No splitting, no coalescing, no lookup by address (free is told the size), no
// limit on the address space: whatever the real allocator does beyond this is its price for exact sizes,
// bounded memory and coalescing.

const MIN_LOG2 = 4;

export class SegregatedFloor {
  private readonly stacks: number[][] = Array.from({ length: 53 }, () => []);
  private top = 0;

  alloc(size: number): number {
    const log2 = Math.max(MIN_LOG2, 32 - Math.clz32(size - 1));
    const stack = this.stacks[log2]!;
    if (stack.length > 0) return stack.pop()!;
    const addr = this.top;
    this.top += 2 ** log2;
    return addr;
  }

  free(addr: number, size: number): void {
    this.stacks[Math.max(MIN_LOG2, 32 - Math.clz32(size - 1))]!.push(addr);
  }
}
