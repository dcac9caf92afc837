import { describe, expect, it } from 'vitest';
import { Kernel } from '../dist/kernel/index.js';

describe('smoke', () => {
  it('hello prints its greeting and exits 0', async () => {
    const k = await Kernel.boot();
    try {
      const r = await k.run('examples/hello.js', ['tests']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Hello, tests!');
    } finally {
      await k.shutdown();
    }
  });
});
