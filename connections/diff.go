package connections

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/secrets"
)

// Diff is what differs in one group of fields, in the shape of Dagster's
// managed-elements diff: additions, deletions and changes, a change being
// either an old and a new value or a nested Diff.
type Diff struct {
	// Additions are the keys that only the new side has.
	Additions []Entry
	// Deletions are the keys that only the old side has.
	Deletions []Entry
	// Changes are the keys whose values differ on the two sides.
	Changes []Entry
}

// Entry is one line of a Diff (or a nested group).
type Entry struct {
	// Key is the field at this level, such as "type", "config", a config
	// key or a stream's name.
	Key string
	// Old and New are the values as printed; secrets never get here, and
	// a secret's value within another value is masked (****).
	Old, New string
	// Note replaces the values of a secret: "(secret)", "(secret:
	// changed)", "(secret: not comparable)".
	Note string
	// Nested is set for a group (an object, a stream, a config).
	Nested *Diff
}

// empty reports whether nothing differs.
func (d *Diff) empty() bool {
	return d == nil || len(d.Additions)+len(d.Deletions)+len(d.Changes) == 0
}

// add, del and change record values masked (secrets.Mask): a field that
// is no secret may still hold one's value, such as a path naming a key.
func (d *Diff) add(key, v string) {
	d.Additions = append(d.Additions, Entry{Key: key, New: secrets.Mask(v)})
}
func (d *Diff) del(key, v string) {
	d.Deletions = append(d.Deletions, Entry{Key: key, Old: secrets.Mask(v)})
}
func (d *Diff) change(key, old, v string) {
	d.Changes = append(d.Changes, Entry{Key: key, Old: secrets.Mask(old), New: secrets.Mask(v)})
}

// group adds a nested diff under key when it is not empty; kind says
// where: '+' additions, '-' deletions, '~' changes.
func (d *Diff) group(kind byte, key string, nested *Diff) {
	if nested.empty() {
		return
	}
	d.put(kind, Entry{Key: key, Nested: nested})
}

// put adds e on a side: '+' additions, '-' deletions, '~' changes; 0
// drops it.
func (d *Diff) put(side byte, e Entry) {
	switch side {
	case '+':
		d.Additions = append(d.Additions, e)
	case '-':
		d.Deletions = append(d.Deletions, e)
	case '~':
		d.Changes = append(d.Changes, e)
	}
}

// sort orders every level by key, so that the same state prints the same.
func (d *Diff) sort() {
	if d == nil {
		return
	}
	for _, l := range [][]Entry{d.Additions, d.Deletions, d.Changes} {
		slices.SortStableFunc(l, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
		for _, e := range l {
			e.Nested.sort()
		}
	}
}

// write prints the diff at an indentation level: additions, then
// deletions, then changes. Keys and values are escaped as Plan.String
// says: a connector's config may hold anything.
func (d *Diff) write(b *strings.Builder, indent int) {
	pad := strings.Repeat("  ", indent)
	for _, e := range d.Additions {
		writeEntry(b, pad, "+", e, e.New, indent)
	}
	for _, e := range d.Deletions {
		writeEntry(b, pad, "-", e, e.Old, indent)
	}
	for _, e := range d.Changes {
		if e.Nested != nil || e.Note != "" {
			writeEntry(b, pad, "~", e, "", indent)
			continue
		}
		fmt.Fprintf(b, "%s~ %s: %s -> %s\n", pad, termsafe.String(e.Key), termsafe.String(e.Old), termsafe.String(e.New))
	}
}

func writeEntry(b *strings.Builder, pad, sign string, e Entry, v string, indent int) {
	if e.Nested != nil {
		fmt.Fprintf(b, "%s%s %s:\n", pad, sign, termsafe.String(e.Key))
		e.Nested.write(b, indent+1)
		return
	}
	if e.Note != "" {
		v = e.Note
	}
	fmt.Fprintf(b, "%s%s %s: %s\n", pad, sign, termsafe.String(e.Key), termsafe.String(v))
}

// String prints the diff.
func (d *Diff) String() string {
	var b strings.Builder
	d.write(&b, 0)
	return b.String()
}

// show prints a value the way the diff does: strings as they are (quoted
// only when they would read as something else), the rest as JSON.
func show(v any) string {
	if s, ok := v.(string); ok {
		if s == "" || strings.ContainsAny(s, "\n\" ") {
			b, _ := json.Marshal(s)
			return string(b)
		}
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// secretJudge decides about a value at path: whether it is a secret, and
// if so on which side of the diff it shows ('+', '-', '~', or 0 for not at
// all) with which note.
type secretJudge func(path []string, old, new any) (isSecret bool, side byte, note string)

// diffValues compares two JSON values under key into d: objects become
// nested groups, everything else is compared whole; secrets only as judge
// says, never by value.
func diffValues(d *Diff, key string, old, new any, path []string, secret secretJudge) {
	p := append(slices.Clone(path), key)
	if ok, side, note := secret(p, old, new); ok {
		d.put(side, Entry{Key: key, Note: note})
		return
	}
	om, oOK := old.(map[string]any)
	nm, nOK := new.(map[string]any)
	switch {
	case old == nil && new == nil:
	case old == nil:
		if nested := objectDiff(nil, nm, p, secret); nOK && !nested.empty() {
			d.group('+', key, nested)
		} else {
			d.add(key, show(new))
		}
	case new == nil:
		if nested := objectDiff(om, nil, p, secret); oOK && !nested.empty() {
			d.group('-', key, nested)
		} else {
			d.del(key, show(old))
		}
	case oOK && nOK:
		d.group('~', key, objectDiff(om, nm, p, secret))
	case !equalJSON(old, new):
		d.change(key, show(old), show(new))
	}
}

// objectDiff compares two objects key by key (for a whole addition or
// deletion, one of them is nil).
func objectDiff(old, new map[string]any, path []string, secret secretJudge) *Diff {
	d := &Diff{}
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		diffValues(d, k, old[k], new[k], path, secret)
	}
	return d
}

// equalJSON compares two values as JSON (1 and 1.0 alike).
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var xa, yb any
	_ = json.Unmarshal(x, &xa)
	_ = json.Unmarshal(y, &yb)
	x, _ = json.Marshal(xa)
	y, _ = json.Marshal(yb)
	return string(x) == string(y)
}
