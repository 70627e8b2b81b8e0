package goairbyte

import (
	"context"

	"github.com/x/goairbyte/secrets"
)

// SecretNotFoundError says that no secret source had the secret asked for.
type SecretNotFoundError = secrets.SecretNotFoundError

// GetSecret returns the secret called name from, in order: custom managers
// (secrets.WithManager, then the default Environment's AddSecretManager),
// environment variables, a
// .env file in the working directory and an interactive prompt (only on a
// terminal, never when CI is set). The value is registered for masking.
// Not found is a *[SecretNotFoundError] listing the sources tried. A config's
// reference, "secret_reference::NAME", names the secret NAME.
func GetSecret(ctx context.Context, name string, opts ...secrets.Option) (secrets.SecretString, error) {
	return secrets.GetSecret(ctx, name, append(opts, DefaultEnvironment().SecretOptions()...)...)
}
