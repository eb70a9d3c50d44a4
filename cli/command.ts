/** A `tilt` subcommand: cli/main.ts loads it by name, lazily. */
export interface Command {
  summary: string;
  usage: string;
  /** Returns the exit status. */
  run(args: string[]): Promise<number>;
}
