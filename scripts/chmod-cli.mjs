// tsc does not keep the executable bit; the CLI needs it for `npx agentix` and package bins.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/kernel/cli.js', import.meta.url), 0o755);
