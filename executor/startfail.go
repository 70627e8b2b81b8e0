package executor

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
)

// whyNotStarted explains why the system would not start the program at
// path, given the error of the start, as "; " and a sentence; "" when it
// has nothing to add. The errno alone misleads: "exec format error" for a
// script without a #! line (which a shell runs anyway, so it worked by
// hand) and "no such file or directory" for a file that is there, whose
// interpreter or dynamic loader is not.
func whyNotStarted(path string, err error) string {
	if !errors.Is(err, syscall.ENOEXEC) && !errors.Is(err, syscall.ENOENT) {
		return ""
	}
	f, openErr := os.Open(path)
	if openErr != nil {
		return "" // really missing, or unreadable: the error says so
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	here := runtime.GOOS + "/" + runtime.GOARCH
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return "; its #! line names no interpreter"
		}
		interp := fields[0]
		if bytes.HasSuffix(line, []byte("\r")) {
			return fmt.Sprintf("; its #! line ends with a carriage return (Windows line ends), so the interpreter it names is %q: convert the file to Unix line ends (dos2unix)", firstWord(string(line)))
		}
		if errors.Is(err, syscall.ENOENT) {
			return fmt.Sprintf("; its interpreter %s, named on its #! line, does not exist: install it or change the #! line", interp)
		}
		return fmt.Sprintf("; its interpreter %s, named on its #! line, is not a program this machine can run", interp)
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		ef, err2 := elf.NewFile(f)
		if err2 != nil {
			return fmt.Sprintf("; it is a damaged ELF file (%v)", err2)
		}
		defer ef.Close()
		if errors.Is(err, syscall.ENOENT) {
			for _, p := range ef.Progs {
				if p.Type != elf.PT_INTERP {
					continue
				}
				b, _ := io.ReadAll(p.Open())
				loader := string(bytes.TrimRight(b, "\x00"))
				return fmt.Sprintf("; its dynamic loader %s does not exist on this system (it was built for another one, against another C library such as musl): install the connector's build for this system, or a statically linked one", loader)
			}
			return ""
		}
		return fmt.Sprintf("; it is an ELF program for %s (%s), and this machine runs %s programs: install the connector's build for %s",
			ef.Machine, ef.Class, here, here)
	case bytes.HasPrefix(head, []byte("MZ")):
		return fmt.Sprintf("; it is a Windows program, and this machine runs %s programs: install the connector's build for %s", here, here)
	case len(head) >= 4 && isMachO(head[:4]):
		return fmt.Sprintf("; it is a macOS program, and this machine runs %s programs: install the connector's build for %s", here, here)
	case errors.Is(err, syscall.ENOEXEC):
		return "; it is neither a program for this machine nor a script with a #! line (a shell runs such a script anyway; goairbyte does not guess): " +
			"add a first line naming its interpreter, such as #!/bin/sh or #!/usr/bin/env python3"
	}
	return ""
}

// isMachO reports whether magic starts a Mach-O file, thin or universal.
func isMachO(magic []byte) bool {
	for _, m := range [][]byte{{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}} {
		if bytes.Equal(magic, m) {
			return true
		}
	}
	return false
}

// firstWord is s up to its first space or tab, leading ones skipped: the
// interpreter of a #! line, a carriage return included.
func firstWord(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}
