package mapping

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// testOptions are the team settings every test runs with.
var testOptions = Options{
	Roles:    []string{"moderator", "speaker", "attendee"},
	Reserved: []string{"auth", "healthz", "readyz", "metrics", "static", "demo"},
}

// parseSource parses src, a YAML document with a rooms key, as config.yaml.
func parseSource(t testing.TB, src string) (*RuleSet, error) {
	t.Helper()
	rooms, err := roomsNode([]byte(src))
	if err != nil {
		t.Fatalf("test YAML does not parse: %v\n%s", err, src)
	}
	return Parse("config.yaml", rooms, testOptions)
}

// mustParse parses src and fails the test on any problem.
func mustParse(t testing.TB, src string) *RuleSet {
	t.Helper()
	rs, err := parseSource(t, src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rs
}

// roomsNode returns the value of the top-level rooms key of a YAML
// document, or nil when there is none.
func roomsNode(src []byte) (*yaml.Node, error) {
	var doc yaml.Node // as config.Parse reads a file
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return top, nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "rooms" {
			return top.Content[i+1], nil
		}
	}
	return nil, nil
}

// mustNode parses src, a rooms section, as a YAML node.
func mustNode(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}
