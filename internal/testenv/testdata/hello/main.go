// Command hello is the smallest main package: testenv's own tests build it
// into a binary and a FROM scratch image. It prints its arguments and what
// it reads on stdin, so a test can see that both reached it.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	fmt.Printf("hello args=%s stdin=%s\n", strings.Join(os.Args[1:], ","), in)
}
