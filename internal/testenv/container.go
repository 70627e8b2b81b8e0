package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ContainerRun describes one run of a container by RunContainer.
type ContainerRun struct {
	Image string   // image to run
	Args  []string // arguments after the image's entrypoint
	Stdin []byte   // fed to the container's stdin, then closed
	Binds []string // bind mounts, "host:container[:ro]"
	User  string   // optional user[:group] inside the container
	// Entrypoint, when set, replaces the image's (as the Airbyte
	// platform's sh -c does); WorkingDir likewise.
	Entrypoint []string
	WorkingDir string
}

// ContainerResult is what a finished container left behind.
type ContainerResult struct {
	Stdout, Stderr []byte
	ExitCode       int64
}

// RunContainer runs r to completion in a real container through the engine
// API (create with stdin open, attach, start, feed stdin, wait) and removes
// the container. It is the plain reference runner for tests that check
// images themselves; the library's own Docker executor lives in executor/.
// The container's logging is off (LogConfig "none"), as in the executor,
// since attach delivers the output.
func RunContainer(ctx context.Context, t testing.TB, cli *client.Client, r ContainerRun) ContainerResult {
	t.Helper()
	res, err := runContainer(ctx, cli, r)
	if err != nil {
		t.Fatalf("testenv: running %s %v: %v", r.Image, r.Args, err)
	}
	return res
}

func runContainer(ctx context.Context, cli *client.Client, r ContainerRun) (res ContainerResult, err error) {
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:        r.Image,
			Cmd:          r.Args,
			Entrypoint:   r.Entrypoint,
			WorkingDir:   r.WorkingDir,
			User:         r.User,
			AttachStdin:  true,
			AttachStdout: true,
			AttachStderr: true,
			OpenStdin:    true,
			StdinOnce:    true,
		},
		HostConfig: &container.HostConfig{
			Binds:     r.Binds,
			LogConfig: container.LogConfig{Type: "none"},
		},
	})
	if err != nil {
		return res, err
	}
	defer func() {
		// Removal must happen even when ctx is cancelled.
		_, rerr := cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
		if err == nil && rerr != nil {
			err = fmt.Errorf("removing container: %w", rerr)
		}
	}()
	att, err := cli.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return res, err
	}
	defer att.Close()
	// Wait is registered before start so a fast exit cannot be missed.
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return res, err
	}
	stdinErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(att.Conn, bytes.NewReader(r.Stdin))
		if cerr := att.CloseWrite(); err == nil {
			err = cerr
		}
		stdinErr <- err
	}()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		return res, fmt.Errorf("reading output: %w", err)
	}
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	select {
	case w := <-wait.Result:
		if w.Error != nil && w.Error.Message != "" {
			return res, errors.New(w.Error.Message)
		}
		res.ExitCode = w.StatusCode
	case err := <-wait.Error:
		return res, err
	}
	// A container that exits without reading all its stdin breaks the pipe;
	// that is the container's choice, not a failure of the run.
	<-stdinErr
	return res, nil
}
