// Package secrets keeps credentials out of sight: it finds them, wraps them,
// and scrubs them from every line the library prints.
//
// # Finding a secret
//
// [GetSecret] asks a chain of [SecretManager] values in a fixed order and returns
// the first hit:
//
//  1. managers passed with [WithManager], in order (a vault, a cloud secret
//     store, ...; a connector.Environment passes its own this way);
//  2. environment variables of the same name;
//  3. a .env file in the working directory ([WithDotenvFile] names
//     another), in dotenv syntax (export, quotes, comments);
//  4. an interactive prompt, without echo — only when standard input is a
//     terminal and the CI variable is not set, so a pipeline never hangs.
//
// When no source has the secret, the error is a *[SecretNotFoundError] that
// lists every source tried.
//
// Sources 2–4 are the process's: connector.DefaultEnvironment, the
// program's own, asks them after its managers, but an Environment made by
// connector.NewEnvironment — a tenant's, in a server — asks its managers
// only, so that a tenant's secret_reference::NAME never reads the server's
// variables, .env or terminal: with its SecretOptions, a secret none of the
// managers has is a SecretNotFoundError that says so.
//
// # Holding a secret
//
// A [SecretString] prints as **** whichever way it is printed: fmt verbs,
// JSON, text marshalling, slog. [SecretString.Reveal] is the one explicit way
// to get the value. Creating a SecretString registers its value for masking.
//
// # Masking
//
// The package keeps one process-wide set of known secret values, its only
// mutable state, on purpose: a secret is masked in every text the process
// writes, whichever tenant or Environment resolved it. That hides no
// secret, but it tells: a tenant who sees its own errors or logs, and can
// put text in them (a URL in its config, an API of its own), sees **** where
// that text is a secret of another tenant, so it can confirm guesses of
// others' secrets, and an airbyte_secret value it chooses ("Unauthorized")
// blanks that word in everyone's output while its connector lives. Show
// tenants such text only where their secrets are long and random.
// [Mask] replaces each of them in a string by ****,
// in the forms connectors print them too (JSON-escaped as Go and Python
// write it, in a Python repr, URL-encoded, base64). Values enter the set through [Register], through every
// SecretString, through [ResolveReferences] (config values of the form
// secret_reference::NAME) for good and, when package connector runs a
// connector, through the config fields that its spec marks airbyte_secret,
// while its Connector lives: a server making Connectors for many tenants
// over months does not mask, and pay for, every such value it was ever
// given. What a secret manager returns is a SecretString, held for good:
// a server resolving many distinct secrets (rotated tokens from tenants'
// vaults) pays for every one it ever resolved — a new one cost about
// 0.3 ms with 1,000 held and 4 ms with 10,000, and Mask 1.4 µs a line
// with none held against 12 µs with 15,000.
// [MaskError] and [NewMaskingHandler] apply the same masking to errors and
// slog output; MaskError masks when it wraps, so an error kept after its
// Connector is gone still hides what was secret when it was made.
// A value shorter than 4 bytes is never masked (it would hide every "id" or
// "1" in the text): such a secret shows as it is.
package secrets
