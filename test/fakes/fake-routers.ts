// Fake RouterOS routers for a test file: each started with the default config and the file's password, and all
// stopped after each test. Call at the top level of the file. Test-only.
import { afterEach } from 'vitest';
import { FakeRouterOS } from './routeros-fake.js';

export function fakeRouters(password: string): () => Promise<{ fake: FakeRouterOS; port: number }> {
  const fakes: FakeRouterOS[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });
  return async () => {
    const fake = new FakeRouterOS({ password });
    fake.seedDefaults();
    fakes.push(fake);
    return { fake, port: await fake.start() };
  };
}
