package config

import (
	"strings"
	"testing"

	"github.com/roomgate/roomgate/internal/rulegen"
)

// BenchmarkParseLargeFile reads and validates a whole configuration with
// 10,000 rooms of 20 rules (13.6 MB), as roomgate check, serve's start and
// a reload do: YAML, environment variables, every section, the rules.
// Floor: roomgate check on this file within 3 s (docs: performance).
//
//	go test -run '^$' -bench ParseLargeFile -benchmem ./config
func BenchmarkParseLargeFile(b *testing.B) {
	head, _, _ := strings.Cut(validFile, "rooms:\n")
	data := []byte(head + "rooms:\n" + rulegen.Rooms(10000, 20))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Parse("config.yaml", data, Options{LookupEnv: goodEnv})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(cfg.Rules.Rooms()); n != 10000 {
			b.Fatalf("%d rooms; want 10000", n)
		}
	}
}
