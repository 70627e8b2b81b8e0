package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML reads one YAML document into manifest values (*Map, []any,
// string, int64, float64, bool, nil), resolving anchors, aliases and merge
// keys as PyYAML's safe loader does. Timestamps stay strings.
func parseYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, nil
	}
	c := converter{budget: maxValues}
	return c.fromNode(&doc, 0)
}

// converter turns YAML nodes into manifest values. An alias is expanded
// into a copy of what its anchor holds, so a few lines of anchors that alias
// each other ten times over ("billion laughs") would expand into billions of
// values: budget bounds what one document may expand to.
type converter struct {
	budget values
}

func (c *converter) fromNode(n *yaml.Node, depth int) (any, error) {
	if depth > 10000 {
		return nil, fmt.Errorf("line %d: nesting too deep", n.Line)
	}
	if err := c.budget.spend(1); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.fromNode(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.fromNode(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, child := range n.Content {
			v, err := c.fromNode(child, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		m := NewMap()
		var merges []*Map
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
				v, err := c.fromNode(vn, depth+1)
				if err != nil {
					return nil, err
				}
				switch v := v.(type) {
				case *Map:
					merges = append(merges, v)
				case []any:
					for _, e := range v {
						if em, ok := e.(*Map); ok {
							merges = append(merges, em)
						}
					}
				}
				continue
			}
			k, err := c.fromNode(kn, depth+1)
			if err != nil {
				return nil, err
			}
			v, err := c.fromNode(vn, depth+1)
			if err != nil {
				return nil, err
			}
			m.Set(keyString(k), v)
		}
		for _, mm := range merges {
			for _, k := range mm.Keys() {
				if !m.Has(k) {
					v, _ := mm.Get(k)
					m.Set(k, v)
				}
			}
		}
		return m, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// keyString renders a non-string mapping key the way Python's str() would
// once the mapping reaches JSON (keys are strings there).
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case nil:
		return "null"
	case bool:
		if k {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(k, 10)
	case float64:
		return strconv.FormatFloat(k, 'g', -1, 64)
	}
	return fmt.Sprint(k)
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		return f, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			switch strings.ToLower(n.Value) {
			case ".nan":
				return math.NaN(), nil
			}
			return nil, err
		}
		return f, nil
	}
	return n.Value, nil
}
