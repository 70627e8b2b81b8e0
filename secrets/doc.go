// Package secrets keeps credentials out of sight: it finds them, wraps them,
// and scrubs them from every line the library prints.
//
// # Finding a secret
//
// [GetSecret] asks a chain of [SecretManager]s in a fixed order and returns
// the first hit:
//
//  1. managers passed with [WithManager] for this call, then managers the
//     program registered process-wide with [RegisterManager] (a vault, a
//     cloud secret store, ...);
//  2. the environment ([EnvManager]);
//  3. a .env file in the working directory ([DotenvManager]);
//  4. an interactive prompt ([PromptManager]) — only when standard input is
//     a terminal and the CI variable is not set, so a pipeline never hangs.
//
// When no source has the secret, the error is a *[SecretNotFoundError] that
// lists every source tried.
//
// # Holding a secret
//
// A [SecretString] prints as **** whichever way it is printed: fmt verbs,
// JSON, text marshalling, slog. [SecretString.Reveal] is the one explicit way
// to get the value. Creating a SecretString registers its value for masking.
//
// # Masking
//
// The package keeps one process-wide set of known secret values (the
// documented default; there is no other mutable package state besides the
// managers registered with [RegisterManager]). [Mask] replaces each of them
// in a string by ****. Values enter the set through [Register], through every
// SecretString, through [ResolveReferences] (config values of the form
// secret_reference::NAME) and through [MaskSpecSecrets] (config fields that a
// connector's spec marks airbyte_secret). [MaskError] and [NewMaskingHandler]
// apply the same masking to errors and slog output.
package secrets
