// Router passwords: from the environment variable named by password-env or the file named by password-file,
// never from the command line, never printed. Shared by every pushable router target.
import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** `~/x` → `$HOME/x`: the spec's file paths are written the way a shell user would. */
export const expandHome = (path: string, env: NodeJS.ProcessEnv) => (env.HOME ? path.replace(/^~(?=\/)/, env.HOME) : path);

/** The configured password, or undefined when the spec names neither source. Errors name the spec path. */
export function configuredPassword(router: { name: string; kind?: string; passwordEnv?: string; passwordFile?: string }, env: NodeJS.ProcessEnv): string | undefined {
  const where = `${router.kind === 'switch' ? 'switches' : 'routers'}.${router.name}`;
  if (router.passwordEnv !== undefined) {
    const value = env[router.passwordEnv];
    if (value === undefined) throw new UserError(`${where}.password-env: environment variable ${router.passwordEnv} is not set`);
    return value;
  }
  if (router.passwordFile !== undefined) {
    try {
      // one trailing newline is the file's, not the password's
      return readFileSync(expandHome(router.passwordFile, env), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UserError(`${where}.password-file: cannot read ${router.passwordFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return undefined;
}
