package testenv

import "testing"

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u@127.0.0.1:5432/t_x?sslmode=disable"},
		{"postgresql://u:p@h/other", "postgresql://u:p@h/t_x"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=t_x"},
	} {
		got, err := withDatabase(c.in, "t_x")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestDatabaseNameIsUniqueAndLegal(t *testing.T) {
	a, b := databaseName("TestX/sub-test with spaces"), databaseName("TestX/sub-test with spaces")
	if a == b {
		t.Fatalf("two names for one test are equal: %s", a)
	}
	if nonIdent.MatchString(a) || len(a) > 63 {
		t.Fatalf("%q is not a plain identifier of at most 63 bytes", a)
	}
}
