package reload

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/config"
)

func parse(t *testing.T, f file) *config.Config {
	t.Helper()
	cfg, err := config.Parse("config.yaml", []byte(f.String()), config.Options{LookupEnv: lookupEnv})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return cfg
}

// leaves returns every field of the configuration outside File and Rules,
// as Go paths such as "OIDC.Claims.Groups", with a way to reach it.
func leaves(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	var walk func(typ reflect.Type, prefix string, index []int)
	walk = func(typ reflect.Type, prefix string, index []int) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			path := prefix + f.Name
			idx := append(slices.Clone(index), i)
			if prefix == "" && (f.Name == "File" || f.Name == "Rules") {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == typ.PkgPath() {
				walk(f.Type, path+".", idx)
				continue
			}
			out[path] = idx
		}
	}
	walk(reflect.TypeFor[config.Config](), "", nil)
	return out
}

// change sets v to a different value of its type.
func change(t *testing.T, name string, v reflect.Value) {
	t.Helper()
	switch {
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "-changed")
	case v.Kind() == reflect.Int64: // time.Duration
		v.SetInt(v.Int() + 1)
	case v.Kind() == reflect.Slice:
		grown := reflect.MakeSlice(v.Type(), v.Len(), v.Len()+1)
		reflect.Copy(grown, v)
		v.Set(reflect.Append(grown, reflect.Zero(v.Type().Elem())))
	case v.Type() == reflect.TypeFor[*url.URL]():
		v.Set(reflect.ValueOf(&url.URL{Scheme: "https", Host: "changed.example.com"}))
	default:
		t.Fatalf("%s: the test cannot change a %s; teach it", name, v.Type())
	}
}

// TestEveryKeyIsCompared changes each field of the configuration outside
// rooms in turn and checks that exactly its key is reported, so a field
// added to config without a line in settings fails here.
func TestEveryKeyIsCompared(t *testing.T) {
	t.Parallel()
	base := parse(t, roomsFile("standup"))
	byField := map[string]string{}
	for _, s := range settings {
		byField[s.field] = s.key
	}
	fields := leaves(t)
	for field, idx := range fields {
		key, ok := byField[field]
		if !ok {
			t.Errorf("config field %s is not in settings: a change to it would go unnoticed", field)
			continue
		}
		loaded := *base
		change(t, field, reflect.ValueOf(&loaded).Elem().FieldByIndex(idx))
		if got := RestartNeeded(base, &loaded); !slices.Equal(got, []string{key}) {
			t.Errorf("changing %s: got %q; want %q", field, got, []string{key})
		}
	}
	for _, s := range settings {
		if _, ok := fields[s.field]; !ok {
			t.Errorf("settings lists %s (%s), which config no longer has", s.field, s.key)
		}
	}
}

func TestRestartNeeded(t *testing.T) {
	t.Parallel()
	base := roomsFile("standup")
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{name: "same file", edit: func(s string) string { return s }},
		{name: "rooms only", edit: func(s string) string {
			return strings.Replace(s, "path: standup", "path: retro", 1)
		}},
		{name: "comments and order", edit: func(s string) string {
			return strings.Replace(s, "  client_id: roomgate\n", "  # who we are\n  client_id: roomgate\n", 1)
		}},
		{name: "default written out", edit: func(s string) string {
			return strings.Replace(s, "session:\n", "session:\n  lifetime: 8h\n", 1)
		}},
		{name: "public_url trailing slash", edit: func(s string) string {
			return strings.Replace(s, `"https://meet.example.com"`, `"https://meet.example.com/"`, 1)
		}},
		{name: "secret and listen", edit: func(s string) string {
			s = strings.Replace(s, "${OIDC_CLIENT_SECRET}", "${OIDC_CLIENT_SECRET2}", 1)
			return strings.Replace(s, `":8080"`, `":9090"`, 1)
		}, want: []string{"server.listen", "oidc.client_secret"}},
		{name: "every section", edit: func(s string) string {
			s = strings.Replace(s, "https://meet.example.com", "https://meet2.example.com", 1)
			s = strings.Replace(s, "client_id: roomgate", "client_id: roomgate2", 1)
			s = strings.Replace(s, "session:\n", "session:\n  recheck: 5m\n", 1)
			return strings.Replace(s, "team_id: team-1", "team_id: team-2", 1)
		}, want: []string{"server.public_url", "oidc.client_id", "session.recheck", "digitalsamba.team_id"}},
	}
	running := parse(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := tt.edit(base.String())
			loaded, err := config.Parse("config.yaml", []byte(text), config.Options{LookupEnv: lookupEnv})
			if err != nil {
				t.Fatalf("config.Parse: %v", err)
			}
			if got := RestartNeeded(running, loaded); !slices.Equal(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestRestartNeededNil(t *testing.T) {
	t.Parallel()
	cfg := parse(t, roomsFile("standup"))
	if got := RestartNeeded(nil, cfg); got != nil {
		t.Errorf("got %q; want nil", got)
	}
}

func TestSections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
		want []string
	}{
		{name: "none"},
		{name: "one", keys: []string{"server.listen"}, want: []string{"server"}},
		{name: "each once, in order", keys: []string{"oidc.issuer", "oidc.claims.name", "server.listen", "oidc.scopes"}, want: []string{"oidc", "server"}},
	}
	for _, tt := range tests {
		if got := Sections(tt.keys); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q; want %q", tt.name, got, tt.want)
		}
	}
}
