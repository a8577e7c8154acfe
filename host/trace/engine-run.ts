// What one engine's replay of a trace gave (./engines.ts): a file of its
// own, so that the engines (host/wasi/run.ts among them) and their caller
// share it without importing each other.

export interface EngineRun {
  /** 0: every answer agreed; 1: a difference (named in `error`); 2: the
   *  trace or the engine could not be used. */
  code: number;
  /** What the engine printed on stdout (the digest line among them). */
  lines: string[];
  error?: string;
}
