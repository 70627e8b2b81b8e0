package registry_test

import (
	"context"
	"fmt"

	"github.com/x/goairbyte/registry"
)

// ExampleLoader_Lookup reads a local registry file (AIRBYTE_LOCAL_REGISTRY
// for one Loader), with no network and no disk cache.
func ExampleLoader_Lookup() {
	l := registry.NewLoader(registry.WithLocalRegistry("testdata/oss_registry.json"),
		registry.WithOffline(true), registry.WithCacheDir(""))
	c, err := l.Lookup(context.Background(), "source-github")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.DockerRepository+":"+c.DockerImageTag, c.PyPIPackage, c.Supports(registry.InstallPython))
	// Output: source-github airbyte/source-github:1.8.31 airbyte-source-github true
}
