// Package registry answers "what is connector X and how can it run?" from
// Airbyte's connector registry.
//
// The registry is the JSON document Airbyte publishes at
// https://connectors.airbyte.com/files/registries/v0/oss_registry.json: two
// arrays, sources and destinations, one entry per connector with its Docker
// repository and tag, language, PyPI package, documentation URL and tags.
// Unknown fields of that format are ignored, and a malformed entry is
// skipped, and logged by the [Loader], leaving the others usable; a
// connector's name is the last part of its Docker repository
// (airbyte/source-faker → source-faker).
//
// A [Loader] fetches the registry with a timeout and keeps a copy on disk
// (under os.UserCacheDir()/goairbyte/registry: $XDG_CACHE_HOME, else
// $HOME/.cache; with neither set, no copy, and each download warns so)
// for a TTL of 24 hours. When
// the network fails, a stale copy is used and a warning logged. Two
// environment variables, the same as PyAirbyte's, change where it comes
// from:
//
//   - AIRBYTE_LOCAL_REGISTRY: a file path or URL to read instead of the
//     standard registry;
//   - AIRBYTE_OFFLINE_MODE (1, true, yes): no network access at all; only
//     the built-in entries, a local registry file and the disk cache.
//
// Built-in entries describe goairbyte's own connectors, source-faker,
// destination-local-json and source-declarative-manifest, so they resolve
// with no network and no cache.
// Airbyte's registry has a source-faker too (airbyte/source-faker, a Python
// connector); the built-in one wins for the bare name, because goairbyte's
// tests, examples and documentation are written against it. Airbyte's entry
// stays reachable by its Docker repository: Lookup(ctx, "airbyte/source-faker").
//
// # Manifest-only connectors
//
// About 400 of Airbyte's sources are manifest-only: their registry entry
// says language manifest-only (the YAML install type) and the whole
// connector is a manifest.yaml, which goairbyte runs natively (package
// declarative). [Loader.Manifest] finds one as PyAirbyte does: downloaded
// from https://connectors.airbyte.com/files/metadata/airbyte/<name>/<version>/manifest.yaml
// (version latest or a pinned one), then components.zip beside it (a 404
// means the connector has no Python code), with the loader's timeout, and
// kept in the disk cache by name and version. AIRBYTE_OFFLINE_MODE reads
// only that cache; two more variables change where manifests come from:
//
//   - GOAIRBYTE_MANIFEST_DIR: a directory of manifests,
//     <dir>/<name>/manifest.yaml (the layout of Airbyte's monorepo), used
//     instead of any download; a pinned version must be the one the
//     metadata.yaml beside the manifest names. It serves the connectors
//     the registry lists as manifest-only, and a name the registry does
//     not list at all (your own connector for a private API) that has a
//     <dir>/<name>/manifest.yaml: [Loader.Lookup] makes it a manifest-only
//     source with no image, which the engine runs natively (a component
//     it does not run is refused, as with connector.WithManifest), also
//     when the registry cannot be loaded, and [Loader.Available] lists it.
//     A name in neither place is a [NotFoundError] naming both;
//   - GOAIRBYTE_MANIFEST_URL: another base URL for the downloads (a mirror).
//
// [NewLoader] builds a [Loader] from the environment; [Loader.Lookup] and
// [Loader.Available] answer from it. A connector.Environment makes one on
// first use (Environment.Registry), or takes yours with
// Environment.SetRegistry. Package connector turns a [Connector] into a way
// to run it: a local executable, a Python package or a Docker image.
package registry
