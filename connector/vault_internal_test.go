package connector

import (
	"testing"

	"github.com/x/goairbyte/secrets"
)

// A program that sets the same config again and again (a server that
// applies each request's config) must not grow the vault with each call:
// one value, one entry, and one reference for it.
func TestVaultKeepsAValueOnce(t *testing.T) {
	var c Connector
	type config struct {
		Token secrets.SecretString `json:"token"`
		Other secrets.SecretString `json:"other"`
	}
	for range 100 {
		if err := c.SetConfig(config{Token: secrets.NewSecretString("tok-vault-1"), Other: secrets.NewSecretString("other-vault-1")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.vault.values); n != 2 {
		t.Fatalf("the vault holds %d entries for 2 values", n)
	}
}
