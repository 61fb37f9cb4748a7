// An error the CLI reports as a plain message (no stack): bad input the user can fix.
export class CliError extends Error {
  override name = "CliError";
}
