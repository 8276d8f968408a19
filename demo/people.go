package demo

import "github.com/roomgate/roomgate/demo/idp"

// People are the sample people of the demo's sign-in page. Each About says
// what config.yaml's rules do with them; the tests hold the two together.
var People = []idp.Person{
	{
		Subject: "ada", Name: "Ada Lovelace", Email: "ada@example.com",
		Groups: []string{"eng-leads", "engineering"},
		About:  "Engineering lead: moderator in the stand-up (the first matching rule wins), where she may invite guests; attendee at all-hands.",
	},
	{
		Subject: "ben", Name: "Ben Okafor", Email: "ben@example.com",
		Groups: []string{"eng-backend"},
		About:  `Backend engineer: the glob "eng-*" makes him an attendee in the stand-up; attendee at all-hands.`,
	},
	{
		Subject: "cleo", Name: "Cleo Martin", Email: "cleo@example.com",
		Groups: []string{"marketing"},
		About:  "Marketing: no stand-up rule admits her, so she gets the 403 page; all-hands lets everyone in.",
	},
	{
		Subject: "dan", Name: "Dan Reyes", Email: "dan@contractor.example",
		Groups: []string{"engineering"},
		About:  "Contractor in engineering: an e-mail rule keeps him out of the stand-up; attendee at all-hands.",
	},
	{
		Subject: "eve", Name: "Eve Adams", Email: "eve@example.com",
		Groups: []string{"leadership"},
		About:  "Leadership: moderator at all-hands; no stand-up rule admits her. She runs the helpdesk console at /admin.",
	},
}

// PartnerPeople are the partner company's directory, the demo's second
// provider. Its group eng-leads has the name of ACME's, and is not it.
var PartnerPeople = []idp.Person{
	{
		Subject: "pia", Name: "Pia Schmidt", Email: "pia@partner.example",
		Groups: []string{"eng-leads"},
		About:  "The partner's engineering lead. Her directory's eng-leads is not ACME's: she attends the stand-up (partner:eng-leads), moderates the partner sync, and all-hands (everyone: true, ACME's people) keeps her out.",
	},
	{
		Subject: "max", Name: "Max Weber", Email: "max@partner.example",
		Groups: []string{"sales"},
		About:  "The partner's sales: the partner sync lets everyone of both companies in; no stand-up rule names him.",
	},
}
