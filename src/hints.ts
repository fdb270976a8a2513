// "Did you mean" for names the live device does not have: the nearest name it does have, or a few of them.
import { editDistance } from './spec-file/load.js';

/** `; the router has main-bridge` (the nearest), or `; the router has: a, b, c` when none is near; '' when it has none. */
export function deviceHas(device: string, name: string, have: readonly string[]): string {
  const names = [...new Set(have.filter((h) => h !== name))];
  if (names.length === 0) return '';
  const ranked = names.map((h) => ({ h, d: editDistance(name.toLowerCase(), h.toLowerCase()) })).sort((a, b) => a.d - b.d || a.h.localeCompare(b.h));
  const best = ranked[0]!;
  if (best.d <= Math.max(2, Math.floor(name.length / 2)) || names.length === 1) return `; the ${device} has ${best.h}`;
  return `; the ${device} has: ${ranked.slice(0, 5).map((r) => r.h).sort().join(', ')}${names.length > 5 ? ', ...' : ''}`;
}
