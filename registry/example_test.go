package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/x/goairbyte/registry"
)

func ExampleParse() {
	doc := `{"sources": [{"sourceDefinitionId": "ef69ef6e-aa7f-4af1-a01d-ef775033524e", "name": "GitHub",
	  "dockerRepository": "airbyte/source-github", "dockerImageTag": "1.8.31", "language": "python",
	  "remoteRegistries": {"pypi": {"enabled": true, "packageName": "airbyte-source-github"}}}],
	  "destinations": []}`
	reg, err := registry.Parse(strings.NewReader(doc), "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	c := reg.Lookup("source-github")
	fmt.Println(c.Name, c.DockerImage(""), c.PipRequirement("1.8.0"), c.Supports(registry.InstallPython))
	// Output: source-github airbyte/source-github:1.8.31 airbyte-source-github==1.8.0 true
}

func ExampleChooseMethod() {
	faker := registry.Builtins().Lookup("source-faker")
	// A machine with Docker but without a source-faker executable.
	env := registry.Probes{
		LookPath:        func(string) (string, error) { return "", exec.ErrNotFound },
		FindPython:      func(context.Context) (string, error) { return "", errors.New("no python") },
		DockerAvailable: func(context.Context) error { return nil },
	}
	m, err := registry.ChooseMethod(context.Background(), faker, "", env)
	fmt.Println(m, err)
	// Output: docker image goairbyte/source-faker:0.1.0 <nil>
}
