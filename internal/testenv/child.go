package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Child is the test binary run again, as another process, for one test of
// its own: a test of what two processes do at once. The child prints a
// line when it is ready and waits for one from the parent on stdin.
type Child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    Buffer        // its stdout and stderr
	copied chan struct{} // closed when its stdout ends
}

// StartChild runs the test named test in a new process of this test
// binary, with env added to its environment, and returns once the child
// printed the line ready. The child is killed when t ends.
func StartChild(t testing.TB, test, ready string, env ...string) *Child {
	t.Helper()
	c := &Child{cmd: exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v"), copied: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stderr = &c.out
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != ready {
		io.WriteString(&c.out, sc.Text()+"\n")
	}
	go func() { io.Copy(&c.out, stdout); close(c.copied) }()
	return c
}

// Send writes line to the child's stdin.
func (c *Child) Send(line string) { io.WriteString(c.stdin, line+"\n") }

// Wait waits for the child's output to end and the child to exit.
func (c *Child) Wait() error {
	<-c.copied
	return c.cmd.Wait()
}

// Kill kills the child with SIGKILL, as a crash would end it.
func (c *Child) Kill() error { return c.cmd.Process.Kill() }

// Output is what the child printed, on stdout and stderr.
func (c *Child) Output() string { return c.out.String() }
