// The error invalid reweighting settings throw. The checks are zod schemas (terms.ts, config.ts),
// worded by core/schema.ts.
import { ConfigError, type ConfigIssue } from '../schema';

export type { ConfigIssue };

/** Thrown for invalid reweighting settings; `issues` lists every problem found, not just the first. */
export class ReweightConfigError extends ConfigError {
  constructor(issues: ConfigIssue[]) {
    super(issues);
    this.name = 'ReweightConfigError';
  }
}
