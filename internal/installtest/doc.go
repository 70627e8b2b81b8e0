// Package installtest holds the installation tests of goairbyte, run for
// real: a connector image pushed to a private container registry on
// 127.0.0.1 and pulled back by source.New, with an explicit image and
// through a registry entry; a Python connector installed into its own
// virtualenv from a local path or a local wheel, reinstalled when another
// version is asked for, and uninstalled. It has no code of its own, only
// tests; they skip (or fail under GOAIRBYTE_REQUIRE_DOCKER=1) where Docker
// or the registry server is missing.
package installtest
