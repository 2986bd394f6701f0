// `facesets` command dispatcher: each sub-command lives in its own module under ./commands.
export interface Command {
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  embed: () => import('./commands/embed'),
  submit: () => import('./commands/submit'),
  status: () => import('./commands/status'),
};

function help(): string {
  return [
    'usage: facesets <command> [options]',
    '',
    'commands:',
    '  embed <file|dir>... [--files-from F]  detect, align, embed faces; one JSON line per file (no database)',
    '  submit <bucket> [--output-root DIR] [--mode M] [--param k=v]... [--force] [--watch]',
    '                                        submit a job to the API (FACESETS_URL) and optionally watch it',
    '  status <id>                           show a job',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`facesets: unknown command "${name}"\n${help()}\n`);
    return 2;
  }
  const { command } = await load();
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`facesets ${name}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    throw err;
  }
}
