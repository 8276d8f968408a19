package config

import (
	"net/url"
	"reflect"

	"github.com/roomgate/roomgate/yamlnode"
)

// keysOf returns the keys of a section of the file, in order: the yaml tags
// of T's fields. It is what Parse accepts, so a field added to a section is a
// key the file may carry, and no list elsewhere has to learn it.
func keysOf[T any]() []string {
	typ := reflect.TypeFor[T]()
	var keys []string
	for i := range typ.NumField() {
		if k := typ.Field(i).Tag.Get("yaml"); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// ChangedKeys returns the keys outside rooms and tests whose values differ between two
// configurations, in file order, such as ["server.listen",
// "oidc.client_secret"]. The running gateway was built from those values, so
// a reload that changes them says they take a restart. It names keys and
// never shows values: some of them are secrets.
func ChangedKeys(a, b *Config) []string {
	if a == nil || b == nil {
		return nil
	}
	var keys []string
	var walk func(x, y reflect.Value, prefix string)
	walk = func(x, y reflect.Value, prefix string) {
		typ := x.Type()
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := f.Tag.Get("yaml")
			if key == "" || key == "-" || (prefix == "" && (key == "rooms" || key == "tests")) {
				continue
			}
			key = prefix + key
			if key == "providers" {
				keys = append(keys, changedProviders(x.Field(i), y.Field(i))...)
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == typ.PkgPath() {
				walk(x.Field(i), y.Field(i), key+".")
				continue
			}
			if !sameValue(x.Field(i), y.Field(i)) {
				keys = append(keys, key)
			}
		}
	}
	walk(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "")
	return keys
}

// changedProviders names what changed in providers: beyond the first,
// which is oidc (a file with oidc: has it alone), each provider's changed
// keys, as providers[1].client_id; "providers" when they were added or
// removed.
func changedProviders(x, y reflect.Value) []string {
	if x.Len() != y.Len() {
		return []string{"providers"}
	}
	var keys []string
	for i := 1; i < x.Len(); i++ {
		a, b := x.Index(i), y.Index(i)
		for j := range a.NumField() {
			if !sameValue(a.Field(j), b.Field(j)) {
				keys = append(keys, yamlnode.Index("providers", i)+"."+a.Type().Field(j).Tag.Get("yaml"))
			}
		}
	}
	return keys
}

// Keys returns every key outside rooms and tests, dotted, in file order.
func Keys() []string {
	var keys []string
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := f.Tag.Get("yaml")
			if key == "" || key == "-" || (prefix == "" && (key == "rooms" || key == "tests")) {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == typ.PkgPath() {
				walk(f.Type, prefix+key+".")
				continue
			}
			keys = append(keys, prefix+key)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys
}

// sameValue compares two values of one configuration field: URLs by what
// they say, lists member by member, maps key by key, everything else with
// ==.
func sameValue(x, y reflect.Value) bool {
	if x.Kind() == reflect.Map {
		if x.Len() != y.Len() {
			return false
		}
		for _, k := range x.MapKeys() {
			if v := y.MapIndex(k); !v.IsValid() || !sameValue(x.MapIndex(k), v) {
				return false
			}
		}
		return true
	}
	if u, ok := x.Interface().(*url.URL); ok {
		v := y.Interface().(*url.URL)
		if u == nil || v == nil {
			return u == v
		}
		return u.String() == v.String()
	}
	if x.Kind() == reflect.Slice {
		if x.Len() != y.Len() {
			return false
		}
		for i := range x.Len() {
			if !sameValue(x.Index(i), y.Index(i)) {
				return false
			}
		}
		return true
	}
	if x.Kind() == reflect.Struct && x.Type().PkgPath() == reflect.TypeFor[Config]().PkgPath() { // a provider of providers:
		for i := range x.NumField() {
			if x.Type().Field(i).IsExported() && !sameValue(x.Field(i), y.Field(i)) {
				return false
			}
		}
		return true
	}
	return x.Equal(y)
}
