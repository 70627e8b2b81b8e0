package duckdb

import (
	"database/sql"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"
)

// TestMemoryLimitSyntax holds checkMemoryLimit to DuckDB: each limit, and
// limits made at random from the pieces of the syntax, is refused by
// checkMemoryLimit exactly when DuckDB's SET memory_limit refuses it.
func TestMemoryLimitSyntax(t *testing.T) {
	t.Parallel()
	limits := []string{"banana", "1GB", "1 GB", " 1GB", "1GB ", "1gb", "1g", "1", "1.5GB", "1e3MB", "-1", "-1GB", "--1", "-x", "-",
		"null", "none", "NONE", "Null", " null", "null ", "", " ", "GB", "1 G B", "1 GB GB", "1GB 2", "1 2", "1 KB x",
		"1KiB", "1kib", "1KIB", "1ki", "1k", "1m", "1t", "1tb", "1pb", "1PiB", "50%", "1 %", "50 percent", "50pct",
		"1b", "1byte", "1bytes", "1 bytess", "1 kilobytes", "1 kilobyte", "1 megabytes", "1 gigabyte", "1 terabytes", "1 tebibyte",
		"1.", ".5GB", "1..2GB", "1-2GB", "1e", "e", "1.5e", "5e", "1e+3MB", "1.0.0GB", "1ee3MB", "1e-3GB", "1E3MB", "1e-", "1.e3MB",
		"1GBx", "0", "0GB", "1e30GB", "1e19b", "1.8e19b", "1.85e19b", "18446744073709551615b", "18446744073709551616b", "16777216TiB",
		"1e400GB", "1e-400GB", "nan", "inf", "1x", "+1GB", "1,5GB", "0x10GB", "1_000MB", "1GB;", "1\tGB", "1\vGB", "1\fGB", "1\rGB",
		"1G\nB", "\n1GB", "1GB\n", "\t1GB", "1\u00a0GB", "1GB%", "nullx", "-banana",
		"50%", "1 %", " 50%", "50% ", "50 % x", "150%", "100%", "101%", "0%", "1e1%", "-5%", "-0%", "50%%", "x%", "5.5%", "%", " %", "50\t%",
		".5%", "5.%", "50%x", "1e3%", "null%", "1 GB %", "100.0001%", "+5%", "nan%", "NaN%", "inf%", "-inf%", "0x10%", "1_0%", "0x1p3%", "infinity%"}
	pieces := []string{"", " ", "\t", "1", "0", "5", ".", "e", "E", "-", "+", "x", "k", "K", "b", "B", "i", "m", "g", "t", "p", "%", "byte", "kilo", "s", "9e18", "1e30"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		limits = append(limits, b.String())
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, l := range limits {
		if l == "" {
			continue // WithMemoryLimit refuses it before checkMemoryLimit
		}
		_, duckErr := conn.ExecContext(t.Context(), "SET memory_limit = "+literal(l))
		var de *duckdbdriver.Error
		if duckErr != nil && !(errors.As(duckErr, &de) && (de.Type == duckdbdriver.ErrorTypeParser || de.Type == duckdbdriver.ErrorTypeInvalidInput)) {
			t.Fatalf("%q: DuckDB: %v", l, duckErr)
		}
		if err := checkMemoryLimit(l); (err == nil) != (duckErr == nil) {
			t.Errorf("%q: checkMemoryLimit says %v, DuckDB %v", l, err, duckErr)
		}
		// A small limit left set would stop the next statement.
		if _, err := conn.ExecContext(t.Context(), "SET memory_limit = '1GB'"); err != nil {
			t.Fatal(err)
		}
	}
}
