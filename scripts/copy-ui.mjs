// The live view's page (kernel/ui/: plain HTML, JS and CSS, no build step of its own) goes beside the compiled
// kernel/ui.js, which serves it from there.
import { cpSync } from 'node:fs';
cpSync(new URL('../kernel/ui/', import.meta.url), new URL('../dist/kernel/ui/', import.meta.url), { recursive: true });
