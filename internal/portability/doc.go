// Package portability holds no code: its test type-checks the library and
// the connector commands, as the compiler would, for the other systems
// Go users develop on, Windows and macOS, with cgo off. Packages that import
// DuckDB are left out: DuckDB needs cgo, which cannot be cross-compiled here,
// so a user on those systems builds them with cgo on their own machine.
package portability
