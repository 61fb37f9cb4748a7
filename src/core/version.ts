// The package version, written into checkpoints (a test keeps it equal to package.json's).
/** The package version ("major.minor.patch"), as in package.json; written into checkpoints. */
export const VERSION = "0.1.0";
