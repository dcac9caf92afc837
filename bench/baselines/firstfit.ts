// Baseline for the allocator suite: the textbook first-fit allocator over one address-sorted, coalescing free
// list (K&R malloc without the headers). alloc walks the list to the first hole that fits and carves the block
// from its front; free walks to the freed block's place in address order and merges it with adjacent holes.
// Both are O(free holes). The caller passes the size back to free, which only makes the baseline cheaper.

interface Hole {
  addr: number;
  size: number;
  next: Hole | null;
}

export class FirstFit {
  private head: Hole | null;
  private readonly align: number;

  constructor(total: number, align = 16) {
    this.align = align;
    this.head = { addr: 0, size: total, next: null };
  }

  /** The address of `size` bytes rounded up to the alignment, or -1. */
  alloc(size: number): number {
    const need = Math.ceil(size / this.align) * this.align;
    for (let prev: Hole | null = null, h = this.head; h !== null; prev = h, h = h.next) {
      if (h.size < need) continue;
      const addr = h.addr;
      h.addr += need;
      h.size -= need;
      if (h.size === 0) {
        if (prev === null) this.head = h.next;
        else prev.next = h.next;
      }
      return addr;
    }
    return -1;
  }

  /** Returns a block of `size` requested bytes at `addr` (not checked: a baseline trusts its caller). */
  free(addr: number, size: number): void {
    const need = Math.ceil(size / this.align) * this.align;
    let prev: Hole | null = null;
    let next = this.head;
    while (next !== null && next.addr < addr) {
      prev = next;
      next = next.next;
    }
    if (prev !== null && prev.addr + prev.size === addr) {
      prev.size += need;
      if (next !== null && prev.addr + prev.size === next.addr) {
        prev.size += next.size;
        prev.next = next.next;
      }
      return;
    }
    if (next !== null && addr + need === next.addr) {
      next.addr = addr;
      next.size += need;
      return;
    }
    const hole: Hole = { addr, size: need, next };
    if (prev === null) this.head = hole;
    else prev.next = hole;
  }
}
