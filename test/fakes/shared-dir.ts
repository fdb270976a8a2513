// Where the tests find ../shared (OpenWrt's uci sources, the fw4 lab): beside the clone, or
// $FLATNET_SHARED_DIR (FLATNET_SHARED_DIR=/nonexistent shows what a fresh clone without it skips).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sharedDir = process.env.FLATNET_SHARED_DIR ? resolve(process.env.FLATNET_SHARED_DIR) : join(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared');
