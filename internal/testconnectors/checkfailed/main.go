// Command checkfailed is a test connector whose check reports FAILED and
// still exits 0.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
)

type checkFailed struct{ base.Items }

func (checkFailed) Check(context.Context, json.RawMessage) error {
	return errors.New("invalid api key")
}

func main() { kit.Serve(checkFailed{}) }
