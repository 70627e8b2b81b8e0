package secrets_test

import (
	"context"
	"fmt"
	"os"

	"github.com/x/goairbyte/secrets"
)

func ExampleSecretString() {
	token := secrets.NewSecretString("ghp_example_token_123")
	fmt.Printf("%v %s %q %#v\n", token, token, token, token)
	fmt.Println(secrets.Mask("connector echoed ghp_example_token_123 to stderr"))
	// Output:
	// **** **** "****" secrets.SecretString("****")
	// connector echoed **** to stderr
}

func ExampleResolveReferences() {
	os.Setenv("EXAMPLE_DB_PASSWORD", "example-db-password")
	defer os.Unsetenv("EXAMPLE_DB_PASSWORD")
	config := map[string]any{"host": "localhost", "password": "secret_reference::EXAMPLE_DB_PASSWORD"}
	resolved, err := secrets.ResolveReferences(context.Background(), config, secrets.WithPrompt(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(config["password"])                                                           // unchanged
	fmt.Println(resolved.(map[string]any)["password"] == "example-db-password")               // resolved
	fmt.Println(secrets.Mask(fmt.Sprint("password=", resolved.(map[string]any)["password"]))) // masked
	// Output:
	// secret_reference::EXAMPLE_DB_PASSWORD
	// true
	// password=****
}
