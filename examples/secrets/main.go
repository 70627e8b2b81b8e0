// Command secrets shows how a config names a secret instead of holding it,
// and how goairbyte keeps the secret's value out of sight.
//
//	FAKER_API_KEY=my-very-secret-key go run ./examples/secrets
//
// The config says "api_key": "secret_reference::FAKER_API_KEY".
// secrets.ResolveReferences replaces every such value with the secret of
// that name — looked up, as goairbyte.GetSecret does, in the environment,
// then a .env file in the working directory, then (on a terminal, never
// when CI is set) a prompt — and registers the value for masking. From
// then on secrets.Mask, the masking slog handler and goab's error output
// print **** in its place, and a SecretString prints as **** whichever way
// it is formatted. (The faker ignores api_key; a real connector would use
// it.)
//
// Values shorter than 4 characters are not masked in text (they would
// garble every line); a SecretString still prints as ****.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/secrets"
)

func main() {
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := mainErr(); err != nil {
		log.Fatal(err)
	}
}

func mainErr() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, os.Stdout)
}

// run resolves a config with a secret reference, runs the faker with it and
// prints the config, a log line and the secret, all masked.
func run(ctx context.Context, w io.Writer) error {
	config := map[string]any{"count": 10, "seed": 42, "api_key": "secret_reference::FAKER_API_KEY"}
	resolved, err := secrets.ResolveReferences(ctx, config)
	if err != nil {
		return err // a *secrets.SecretNotFoundError says where it looked
	}
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(resolved))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "the connection check passed with the resolved config\n")
	fmt.Fprintf(w, "config as written: api_key = %s\n", config["api_key"])

	// A logger behind secrets.NewMaskingHandler never prints a registered
	// secret, whatever the attribute holds (the time is left out here only
	// to keep the output stable).
	logger := slog.New(secrets.NewMaskingHandler(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	logger.Info("config as the connector got it", "config", src.Config())

	key, err := goairbyte.GetSecret(ctx, "FAKER_API_KEY")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the secret: %v, %q, %+v (%d characters; Reveal returns them)\n", key, key, key, len(key.Reveal()))
	fmt.Fprintln(w, secrets.Mask("an error message that quotes "+key.Reveal()))
	return nil
}
