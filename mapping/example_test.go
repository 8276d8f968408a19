package mapping_test

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/mapping"
)

// The example of the package documentation: who gets which role in standup.
func Example() {
	const file = `
- path: standup
  room: daily-standup
  title: "Daily stand-up"
  rules:
    - groups: [eng-leads]
      role: moderator
    - emails: ["*@contractor.example"]
      deny: true
    - groups: [engineering, "eng-*", "/eng/*"]
      emails: [ceo@example.com]
      role: attendee
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(file), &doc); err != nil {
		panic(err)
	}
	rules, err := mapping.Parse("rooms.yaml", doc.Content[0], mapping.Options{
		Roles: []string{"moderator", "speaker", "attendee"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	standup, _ := rules.Lookup("standup")
	for _, p := range []*mapping.Person{
		mapping.NewPerson([]string{"eng-leads"}, "lea@contractor.example"),
		mapping.NewPerson([]string{"eng-platform"}, "carl@contractor.example"),
		mapping.NewPerson([]string{"/eng/web"}, "ann@example.com"),
		mapping.NewPerson(nil, "CEO@example.com"),
		mapping.NewPerson([]string{"sales"}, "sam@example.com"),
	} {
		fmt.Println(standup.Decide(p).Reason())
	}
	// Output:
	// rules[0] (rooms.yaml:6) admits group "eng-leads" as moderator
	// rules[1] (rooms.yaml:8) denies email "carl@contractor.example" (matches "*@contractor.example")
	// rules[2] (rooms.yaml:10) admits group "/eng/web" (matches "/eng/*") as attendee
	// rules[2] (rooms.yaml:10) admits email "CEO@example.com" (matches "ceo@example.com") as attendee
	// no rule of this room covers this person
}

// A file with mistakes: every problem comes out at once, with its line.
func ExampleParse_problems() {
	const file = `
- path: healthz
  room: all-hands
  rules:
    - everyone: true
      role: attendee
    - groups: [leadership]
      role: moderater
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(file), &doc); err != nil {
		panic(err)
	}
	_, err := mapping.Parse("config.yaml", doc.Content[0], mapping.Options{
		Roles:    []string{"moderator", "speaker", "attendee"},
		Reserved: []string{"auth", "healthz"},
	})
	fmt.Println(err)
	// Output:
	// config.yaml:2: rooms[0].path: "healthz" is one of roomgate's own routes; choose another path (taken: auth, healthz)
	// config.yaml:7: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) has everyone: true and decides for every person first
	// config.yaml:8: rooms[0].rules[1].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)
}
