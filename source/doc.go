// Package source runs an Airbyte source connector and gets data out of it
// without any cache.
//
// A [Source] is one connector (run as a local executable, a Docker image or
// a Python package, see [New] and its options), its config and the streams
// selected to read. Nothing runs until a method needs the connector:
//
//	src, err := source.New(ctx, "source-faker",
//		connector.WithDockerImage(""), // airbyte/source-faker:latest
//		connector.WithConfig(map[string]any{"count": 100}))
//	if err != nil { ... }
//	if err := src.Check(ctx); err != nil { ... } // *CheckFailedError on a bad config
//	for rec, err := range src.Records(ctx, "users", source.Limit(10)) {
//		if err != nil { ... }
//		name, _ := rec.Get("name")
//		fmt.Println(name)
//	}
//
// The connector's answers are remembered: [Source.Spec] runs spec once,
// [Source.DiscoveredCatalog] runs discover once per config. Records streams
// one stream in full refresh; breaking out of the loop stops the connector
// at once. Records keep their data as raw JSON until a field is asked for,
// which is what makes Records fast.
//
// Every command goes through one message loop, in which a CONTROL
// CONNECTOR_CONFIG message from the connector (say, a refreshed OAuth token)
// replaces the config and calls the WithConfigChangeCallback function.
//
// Errors are typed: [*CheckFailedError], [*ConfigValidationError],
// [*StreamNotFoundError], [*IncompleteStreamError], [*NoConfigError],
// [*ExecutionMethodError], and from the executor package
// *executor.ConnectorError, *executor.NotInstalledError and
// *executor.DockerUnavailableError, and *registry.NoMethodError when New
// finds no way to run a connector.
//
// Config values of the form secret_reference::NAME are resolved (package
// secrets) each time the connector runs, never stored: Config returns the
// references. Every secret value — resolved references, the fields the
// spec marks airbyte_secret, SecretStrings — is masked as **** in every
// error, log line and connector log file (the one place that does it is
// secrets.go).
package source
