package config

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/mapping"
	"go.yaml.in/yaml/v3"
)

// TestEveryKeyIsRead gives each key of Keys, in turn, a value of the wrong
// shape and wants a problem at that key: a field added to Config but not
// read by Parse fails here.
func TestEveryKeyIsRead(t *testing.T) {
	t.Parallel()
	keys := Keys()
	if len(keys) < 20 {
		t.Fatalf("Keys: got %d keys; want every key outside rooms", len(keys))
	}
	for _, key := range keys {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(validFile), &doc); err != nil {
			t.Fatal(err)
		}
		m := doc
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			next, _ := m[p].(map[string]any)
			if next == nil {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = map[string]any{"wrong": "shape"}
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse("config.yaml", data, Options{LookupEnv: goodEnv})
		ps := problemsOf(t, err)
		// A mapping of names (role_titles) finds "wrong" an unknown name.
		if !slices.ContainsFunc(ps, func(p string) bool {
			return strings.Contains(p, ": "+key+": ") || strings.Contains(p, ": "+key+".wrong: ")
		}) {
			t.Errorf("%s given a mapping: got problems %q; want one at %s", key, ps, key)
		}
	}
}

// TestChangedKeys changes each field outside rooms in turn and wants
// exactly its key back.
func TestChangedKeys(t *testing.T) {
	t.Parallel()
	base, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got := ChangedKeys(base, base); got != nil {
		t.Errorf("ChangedKeys(same): got %q; want none", got)
	}
	seen := 0
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			key := f.Tag.Get("yaml")
			if key == "-" || key == "rooms" || key == "tests" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == v.Type().PkgPath() {
				walk(v.Field(i), prefix+key+".")
				continue
			}
			changed := *base
			changed.Server, changed.OIDC, changed.Session, changed.DigitalSamba = base.Server, base.OIDC, base.Session, base.DigitalSamba
			fv := reflect.ValueOf(&changed).Elem().FieldByIndex(indexOf(t, reflect.TypeFor[Config](), prefix+key))
			alter(t, prefix+key, fv)
			if got, want := ChangedKeys(base, &changed), []string{prefix + key}; !slices.Equal(got, want) {
				t.Errorf("changing %s: got %q; want %q", prefix+key, got, want)
			}
			seen++
		}
	}
	walk(reflect.ValueOf(base).Elem(), "")
	if seen != len(Keys()) {
		t.Errorf("changed %d fields; Keys lists %d", seen, len(Keys()))
	}
}

// indexOf finds the field of typ at a dotted key.
func indexOf(t *testing.T, typ reflect.Type, key string) []int {
	t.Helper()
	var index []int
	for _, part := range strings.Split(key, ".") {
		found := false
		for i := range typ.NumField() {
			if typ.Field(i).Tag.Get("yaml") == part {
				index = append(index, i)
				typ = typ.Field(i).Type
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("no field for %s", key)
		}
	}
	return index
}

// alter sets v to a different value of its type, without touching what v
// shares with the original (slices are copied).
func alter(t *testing.T, key string, v reflect.Value) {
	t.Helper()
	switch {
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "-changed")
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	case v.Kind() == reflect.Int64: // time.Duration
		v.SetInt(v.Int() + 1)
	case v.Kind() == reflect.Slice:
		grown := reflect.MakeSlice(v.Type(), v.Len(), v.Len()+1)
		reflect.Copy(grown, v)
		v.Set(reflect.Append(grown, reflect.Zero(v.Type().Elem())))
	case v.Kind() == reflect.Map:
		grown := reflect.MakeMap(v.Type())
		for _, k := range v.MapKeys() {
			grown.SetMapIndex(k, v.MapIndex(k))
		}
		grown.SetMapIndex(reflect.ValueOf("changed"), reflect.Zero(v.Type().Elem()))
		v.Set(grown)
	case v.Type() == reflect.TypeFor[*url.URL]():
		v.Set(reflect.ValueOf(&url.URL{Scheme: "https", Host: "changed.example.com"}))
	default:
		t.Fatalf("%s: the test cannot change a %s; teach it", key, v.Type())
	}
}

// problemsOf returns the problems err carries, as text, failing the test
// when it carries none.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	ps := mapping.AsProblems(err)
	if ps == nil {
		t.Fatalf("got %v; want problems", err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}
