package team

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/demo/dsroom"
)

const key = "developer-key-0123456789"

func env(k string) (string, bool) {
	return map[string]string{"S": strings.Repeat("s", 32), "K": key}[k], true
}

// setup runs the API stand-in and a config whose rooms section is rooms.
func setup(t *testing.T, rooms string) (*dsroom.API, *config.Config) {
	t.Helper()
	api := dsroom.NewAPI("team-1", key, nil)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	file := fmt.Sprintf(`server: {public_url: "https://meet.example.com"}
oidc: {issuer: "https://login.example.com", client_id: roomgate, client_secret: "${S}"}
session: {secret: "${S}"}
digitalsamba:
  team_id: team-1
  url: "https://acme.digitalsamba.com"
  api_url: %q
  developer_key: "${K}"
  roles: [moderator, speaker, attendee]
rooms:
%s`, srv.URL+"/api/v1", rooms)
	cfg, err := config.Parse("config.yaml", []byte(file), config.Options{LookupEnv: env})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return api, cfg
}

const twoRooms = `  - path: standup
    room: daily-standup
    rules:
      - {groups: [leads], role: moderator}
      - {groups: [eng], role: attendee}
  - path: town-hall
    room: town-hall
    allow_public: true
    rules:
      - {everyone: true, role: attendee}
`

// TestCheckFindings: each finding check -remote makes, at its room's line.
func TestCheckFindings(t *testing.T) {
	t.Parallel()
	api, cfg := setup(t, twoRooms)
	st, err := Read(context.Background(), Client(cfg))
	if err != nil {
		t.Fatal(err)
	}
	problems, warnings := Check(cfg, st)
	if !strings.Contains(problems.Error(), `config.yaml:11: rooms[0].room: the team has no room "daily-standup"`) ||
		!strings.Contains(problems.Error(), `config.yaml:16: rooms[1].room: the team has no room "town-hall"`) {
		t.Errorf("problems without the rooms:\n%v", problems)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %v; want none while no room exists", warnings)
	}

	api.AddRoom("daily-standup", "public", true, "attendee")
	api.AddRoom("town-hall", "public", false, "attendee", "speaker")
	st, _ = Read(context.Background(), Client(cfg))
	problems, warnings = Check(cfg, st)
	for _, want := range []string{
		`config.yaml:11: rooms[0]: the Digital Samba room "daily-standup" is public: anyone with its link enters as attendee without roomgate`,
		`config.yaml:14: rooms[0].rules[0].role: the room "daily-standup" does not allow the role "moderator" (it allows: attendee)`,
	} {
		if !strings.Contains(problems.Error(), want) {
			t.Errorf("problems:\n%v\nlack %q", problems, want)
		}
	}
	if strings.Contains(problems.Error(), "town-hall") {
		t.Errorf("allow_public: the public town-hall was reported:\n%v", problems)
	}
	for _, want := range []string{
		`config.yaml:16: rooms[1]: no rule gives a role that may start the session`,
	} {
		if !strings.Contains(warnings.Error(), want) {
			t.Errorf("warnings:\n%v\nlack %q", warnings, want)
		}
	}
	if strings.Contains(warnings.Error(), "rooms[0]: no rule gives a role that may start") {
		t.Errorf("rooms[0] gives moderator, which may start: %v", warnings)
	}

	api2, cfg2 := setup(t, "  - path: standup\n    room: daily-standup\n    rules:\n      - {groups: [eng], role: speaker}\n")
	api2.AddRoom("daily-standup", "private", true, "speaker")
	st2, _ := Read(context.Background(), Client(cfg2))
	_, warnings = Check(cfg2, st2)
	for _, want := range []string{"no rule gives a role that may start the session", "the room is locked, and no rule gives a role that may let people in", `the role "speaker" may rename itself`} {
		if !strings.Contains(warnings.Error(), want) {
			t.Errorf("warnings:\n%v\nlack %q", warnings, want)
		}
	}
}

// TestMissingTeamRole: a role of digitalsamba.roles the team lacks.
func TestMissingTeamRole(t *testing.T) {
	t.Parallel()
	api, cfg := setup(t, twoRooms)
	_ = api
	cfg.DigitalSamba.Roles = append(cfg.DigitalSamba.Roles, "host")
	st, _ := Read(context.Background(), Client(cfg))
	problems, _ := Check(cfg, st)
	if !strings.Contains(problems.Error(), `config.yaml:9: digitalsamba.roles: the team has no role "host"`) {
		t.Errorf("problems:\n%v", problems)
	}
}

// TestSyncPlansAppliesAndIsIdempotent: the plan creates what is missing,
// adds roles, makes public rooms private (not allow_public ones), never
// deletes; applied, a second run plans nothing; stopped halfway by a
// failing API, a second run finishes the job.
func TestSyncPlansAppliesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	api, cfg := setup(t, twoRooms+`  - path: retro
    room: retro
    rules:
      - {groups: [leads], role: moderator}
`)
	api.AddRoom("town-hall", "public", false, "speaker")
	api.AddRoom("retro", "public", false, "attendee")
	api.AddRoom("not-ours", "public", false, "attendee")
	ctx := context.Background()
	st, _ := Read(ctx, Client(cfg))
	plan := MakePlan(cfg, st)
	var got []string
	for _, s := range plan.Steps {
		got = append(got, s.Kind+" "+s.Room)
	}
	want := []string{"create daily-standup", "add roles town-hall", "add roles retro", "make private retro"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan %q; want %q", got, want)
	}
	if c := plan.Steps[0].Create; c.Privacy != "private" || fmt.Sprint(c.Roles) != "[moderator attendee]" || c.DefaultRole != "attendee" || c.ExternalID != ExternalID || c.PrivateGroupChatRoles == nil {
		t.Errorf("create %+v; want private, moderator and attendee, default attendee, marked roomgate's", c)
	}
	if r := plan.Steps[1].Change.Roles; fmt.Sprint(r) != "[speaker attendee]" {
		t.Errorf("town-hall's roles after: %q; want the ones it had, then the new", r)
	}

	// The first step done, then stopped by an API that refuses.
	client := Client(cfg)
	done, err := Apply(ctx, client, &Plan{Steps: plan.Steps[:1]})
	if len(done) != 1 || err != nil {
		t.Fatalf("first step: done %d, %v", len(done), err)
	}
	api.FailNext(http.StatusForbidden, "", 1)
	done, err = Apply(ctx, client, &Plan{Steps: plan.Steps[1:]})
	if len(done) != 0 || err == nil {
		t.Fatalf("a refused step: done %d, %v; want it stopped at once", len(done), err)
	}
	st, _ = Read(ctx, client)
	plan = MakePlan(cfg, st)
	if len(plan.Steps) != 3 {
		t.Fatalf("after stopping: plan %+v; want the three steps not done", plan.Steps)
	}
	if _, err := Apply(ctx, client, plan); err != nil {
		t.Fatal(err)
	}
	st, _ = Read(ctx, client)
	if again := MakePlan(cfg, st); len(again.Steps)+len(again.Problems) != 0 {
		t.Errorf("a second run plans %+v; want nothing", again)
	}
	if privacy, roles, _, _ := api.Room("not-ours"); privacy != "public" || fmt.Sprint(roles) != "[attendee]" {
		t.Errorf("a room the file does not name was changed: %s %v", privacy, roles)
	}
	if privacy, _, _, _ := api.Room("town-hall"); privacy != "public" {
		t.Errorf("allow_public town-hall made %s", privacy)
	}
	problems, _ := Check(cfg, st)
	if len(problems) != 0 {
		t.Errorf("after sync, check -remote finds %v", problems)
	}
}

// TestTenThousandRooms: a team of 10,000 rooms is read in a hundred pages,
// well within the 1,000-requests-a-minute limit.
func TestTenThousandRooms(t *testing.T) {
	t.Parallel()
	var rooms strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&rooms, "  - {path: r%d, room: room-%05d, rules: [{everyone: true, role: moderator}]}\n", i, i)
	}
	api, cfg := setup(t, rooms.String())
	for i := range 10000 {
		api.AddRoom(fmt.Sprintf("room-%05d", i), "private", false, "moderator", "attendee")
	}
	before := api.Requests()
	st, err := Read(context.Background(), Client(cfg))
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := Check(cfg, st)
	if len(problems) != 0 {
		t.Errorf("problems %v", problems[:min(3, len(problems))])
	}
	if n := api.Requests() - before; n > 110 {
		t.Errorf("%d requests for 10,000 rooms; want about 104 (100 pages of rooms, the roles)", n)
	}
}

// TestMissingRoomAdviceAgrees: for a room the team lacks, check -remote and
// sync say the same thing: sync creates a room named by a friendly URL,
// and for a room named by id says plainly that it cannot.
func TestMissingRoomAdviceAgrees(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t, `  - path: standup
    room: daily-standup
    rules: [{groups: [leads], role: moderator}]
  - path: all-hands
    room: 7f9c2b1e-0000-4000-8000-000000000001
    rules: [{everyone: true, role: attendee}]
`)
	st, err := Read(context.Background(), Client(cfg))
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := Check(cfg, st)
	plan := MakePlan(cfg, st)
	checkSays := problems.Error()
	syncSays := strings.Join(plan.Problems, "\n")
	if !strings.Contains(checkSays, `"daily-standup" (by friendly URL or id); roomgate sync creates it`) {
		t.Errorf("check -remote on a room sync can create:\n%s", checkSays)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Room != "daily-standup" {
		t.Errorf("sync plans %+v; want to create daily-standup alone", plan.Steps)
	}
	advice := missingRoom("7f9c2b1e-0000-4000-8000-000000000001")
	for name, said := range map[string]string{"check -remote": checkSays, "sync": syncSays} {
		for _, line := range strings.Split(said, "\n") {
			if strings.Contains(line, "7f9c2b1e") && (!strings.Contains(line, advice) || strings.Contains(line, "sync creates it")) {
				t.Errorf("%s on a room named by id: %s\nwant %q", name, line, advice)
			}
		}
		if !strings.Contains(said, "7f9c2b1e") {
			t.Errorf("%s says nothing of the room named by id:\n%s", name, said)
		}
	}
}

// TestGuestsRole: guests whose role may start the session could open the
// room before any employee is there: a warning at guests; a role that may
// not is fine.
func TestGuestsRole(t *testing.T) {
	t.Parallel()
	for role, warns := range map[string]bool{"moderator": true, "attendee": false} {
		api, cfg := setup(t, "  - path: standup\n    room: daily-standup\n    guests: {role: "+role+"}\n    rules:\n      - {groups: [leads], role: moderator, invite: true}\n")
		api.AddRoom("daily-standup", "private", false, "moderator", "attendee")
		st, err := Read(context.Background(), Client(cfg))
		if err != nil {
			t.Fatal(err)
		}
		problems, warnings := Check(cfg, st)
		if len(problems) != 0 {
			t.Errorf("guests as %s: problems %v", role, problems)
		}
		want := `config.yaml:13: rooms[0].guests.role: the guests' role "moderator" may start the session (start_session)`
		if got := strings.Contains(warnings.Error(), want); got != warns {
			t.Errorf("guests as %s: warnings %v; want the start_session warning: %v", role, warnings, warns)
		}
	}
}
