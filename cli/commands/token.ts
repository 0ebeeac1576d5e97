// `ledgerhub token new`: makes an API token and prints the hashed entry for LEDGERHUB_API_TOKENS.
import { newToken, SCOPES, type Scope } from '../../api/auth.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';

export const summary = 'create an API token (prints the token once and its hashed config entry)';

const help = `usage: ledgerhub token new --name NAME [--scope audit:read|audit:admin]...

Prints a new random token (keep it; it is not stored anywhere) and the JSON entry to add to
LEDGERHUB_API_TOKENS, which holds only its SHA-256.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseOptions(
    rest,
    {
      help: { type: 'boolean', short: 'h' },
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    help,
  );
  if (values.help || sub !== 'new') {
    console.log(help);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  if (!values.name || !/^[\w.-]{1,64}$/.test(values.name))
    throw new UsageError('--name must be 1-64 of [A-Za-z0-9_.-]');
  const scopes = (values.scope ?? ['audit:read']) as Scope[];
  const bad = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad) throw new UsageError(`unknown scope ${bad}; scopes: ${SCOPES.join(', ')}`);
  const { token, entry } = newToken(values.name, scopes);
  console.log(`token: ${token}`);
  console.log(`entry: ${JSON.stringify(entry)}`);
  return ExitCode.ok;
}
