package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/testconfig"
)

var testConfig = testconfig.File(testconfig.Standup)

// lookup is the environment testConfig needs.
var lookup = testconfig.Env

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, LookupEnv: lookup})
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	t.Parallel()
	good := writeConfig(t, testConfig)
	google := writeConfig(t, strings.Replace(testConfig, "https://login.example.com", "https://accounts.google.com", 1))
	bad := writeConfig(t, strings.Replace(strings.Replace(testConfig, "role: moderator", "role: moderater", 1), "deny: true", "deny: true\n        colour: red", 1))
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"check valid", []string{"check", "-config", good}, 0, []string{"valid (1 rooms, 3 rules)"}, nil},
		{"check reports every problem", []string{"check", "-config", bad}, 1, nil, []string{
			bad + `:18: rooms[0].rules[0].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)`,
			bad + `:21: rooms[0].rules[1].colour: unknown field`,
			"2 problems",
		}},
		{"check warns of a Google issuer with group rules", []string{"check", "-config", google}, 0, []string{"valid", "warning: oidc.issuer is Google"}, nil},
		{"check missing file", []string{"check", "-config", "/nonexistent/config.yaml"}, 1, nil, []string{"no such file"}},
		{"explain allowed", []string{"explain", "-config", good, "-room", "standup", "-groups", "eng-platform,x"}, 0,
			[]string{"allowed as attendee", ":21"}, nil},
		{"explain denied by rule", []string{"explain", "-config", good, "-room", "standup", "-groups", "eng-platform", "-email", "Bob@Contractor.example"}, 2,
			[]string{"denied", ":19"}, nil},
		{"explain no rule", []string{"explain", "-config", good, "-room", "/standup", "-groups", "marketing"}, 2, []string{"denied"}, nil},
		{"explain unknown room", []string{"explain", "-config", good, "-room", "nope", "-groups", "a"}, 1, nil, []string{`no room "nope"`, "known: standup"}},
		{"explain every room", []string{"explain", "-config", good, "-groups", "a"}, 2, []string{"room standup", "denied"}, nil},
		{"explain bad -at", []string{"explain", "-config", good, "-groups", "a", "-at", "9:30"}, 1, nil, []string{"-at: want a moment"}},
		{"explain invalid config", []string{"explain", "-config", bad, "-room", "standup"}, 1, nil, []string{"moderater"}},
		{"version", []string{"version"}, 0, []string{"roomgate "}, nil},
		{"unknown command", []string{"frobnicate"}, 1, nil, []string{`unknown command "frobnicate"`}},
		{"bad flag", []string{"check", "-nope"}, 1, nil, []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestServeRefusesWeakSecret(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, strings.Replace(testConfig, `"${SESSION_SECRET}"`, `"too-short"`, 1))
	code, _, stderr := run(t, "serve", "-config", path)
	if code != 1 || !strings.Contains(stderr, "session.secret: too short") {
		t.Errorf("exit %d, stderr %q; want 1 and the reason", code, stderr)
	}
	if strings.Contains(stderr, "too-short") {
		t.Errorf("stderr shows the secret: %s", stderr)
	}
}

// TestExplainDecidesAsServe: explain reads the person the way a sign-in
// does (group_names: last), needs no secrets, and -format json is one
// object.
func TestExplainDecidesAsServe(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, strings.Replace(testConfig, "  client_secret:", "  claims: {group_names: last}\n  client_secret:", 1))
	var out, errb bytes.Buffer
	noSecrets := func(string) (string, bool) { return "", false }
	code := Run(context.Background(), []string{"explain", "-config", path, "-room", "standup", "-groups", "/eng/eng-leads", "-format", "json"},
		Env{Stdout: &out, Stderr: &errb, LookupEnv: noSecrets})
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (moderator through group_names: last)\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
	var got explainJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("-format json is not one JSON value: %v\n%s", err, out.String())
	}
	if len(got.Rooms) != 1 || got.Rooms[0].Role != "moderator" || got.Rooms[0].Rule != "rules[0]" || !strings.HasSuffix(got.Rooms[0].At, ":18") {
		t.Errorf("got %+v; want standup as moderator by rules[0] at line 18", got.Rooms)
	}
	if !slices.Equal(got.Person.Groups, []string{"eng-leads"}) {
		t.Errorf("person's groups %q; want them as the rules see them", got.Person.Groups)
	}
	// check, unlike explain, still needs every secret serve would.
	code = Run(context.Background(), []string{"check", "-config", path}, Env{Stdout: &out, Stderr: &errb, LookupEnv: noSecrets})
	if code != exitProblem || !strings.Contains(errb.String(), "OIDC_CLIENT_SECRET is not set") {
		t.Errorf("check without secrets: exit %d, %s; want 1 naming the variable", code, errb.String())
	}
}

// TestCheckFormats: -format json is one object with every problem and
// warning, each with file, line, path and message; -format github prints
// one workflow annotation per finding, escaped.
func TestCheckFormats(t *testing.T) {
	t.Parallel()
	bad := writeConfig(t, strings.Replace(strings.Replace(testConfig, "role: moderator", "role: moderater", 1),
		`public_url: "https://meet.example.com"`, "public_url: \"https://meet.example.com\"\n  colour: red", 1))
	code, stdout, _ := run(t, "check", "-config", bad, "-format", "json")
	var r checkReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("-format json: %v\n%s", err, stdout)
	}
	if code != exitProblem || r.Valid || len(r.Problems) != 2 {
		t.Fatalf("exit %d, %+v; want 1 and two problems", code, r)
	}
	if p := r.Problems[0]; p.File != bad || p.Line != 3 || p.Path != "server.colour" || !strings.HasPrefix(p.Message, "unknown field") {
		t.Errorf("first problem %+v; want %s line 3 at server.colour", p, bad)
	}
	if p := r.Problems[1]; p.Line != 19 || p.Path != "rooms[0].rules[0].role" {
		t.Errorf("second problem %+v; want line 19 at rooms[0].rules[0].role", p)
	}
	code, stdout, _ = run(t, "check", "-config", bad, "-format", "github")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := "::error file=" + escapeProperty(bad) + ",line=3,title=server.colour::server.colour: unknown field"
	if code != exitProblem || len(lines) != 2 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("-format github: exit %d\n%s\nwant 2 lines, the first starting %q", code, stdout, want)
	}
	if got := escapeData("50% done\nnext"); got != "50%25 done%0Anext" {
		t.Errorf("escapeData: got %q", got)
	}
	good := writeConfig(t, strings.Replace(testConfig, `"https://meet.example.com"`, `"http://meet.example.com"`, 1))
	code, stdout, _ = run(t, "check", "-config", good, "-format", "json")
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != exitOK || !r.Valid || len(r.Warnings) != 1 || r.Warnings[0].Path != "server.public_url" {
		t.Errorf("valid file with a warning: exit %d, %+v, %v", code, r, err)
	}
}

// TestCheckOffline: check -offline validates a file in CI, where the
// secrets are not: it passes on a valid file without the environment,
// lists the variables, and still finds every problem that is not in their
// values. Without -offline, each missing variable is one problem.
func TestCheckOffline(t *testing.T) {
	t.Parallel()
	none := func(string) (string, bool) { return "", false }
	runEnv := func(lookup func(string) (string, bool), args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, LookupEnv: lookup})
		return code, out.String() + errb.String()
	}
	// A rotation list and a store URL from variables, as docs/security.md shows.
	file := strings.Replace(testConfig, `secret: "${SESSION_SECRET}"`, `secret: ["${SESSION_SECRET_NEW}", "${SESSION_SECRET_OLD}"]`, 1) +
		"store:\n  redis:\n    url: \"${REDIS_URL}\"\n"
	good := writeConfig(t, file)
	code, out := runEnv(none, "check", "-offline", "-config", good)
	if code != exitOK || !strings.Contains(out, "valid (1 rooms") ||
		!strings.Contains(out, "DS_DEVELOPER_KEY, OIDC_CLIENT_SECRET, REDIS_URL, SESSION_SECRET_NEW, SESSION_SECRET_OLD") {
		t.Errorf("check -offline without the environment: exit %d\n%s", code, out)
	}
	code, out = runEnv(none, "check", "-offline", "-format", "json", "-config", good)
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK || !r.Offline || len(r.Variables) != 5 {
		t.Errorf("check -offline -format json: exit %d, %v\n%s", code, err, out)
	}

	bad := writeConfig(t, strings.Replace(file, "role: moderator", "role: moderater", 1))
	if code, out := runEnv(none, "check", "-offline", "-config", bad); code != exitProblem || !strings.Contains(out, "moderater") || strings.Contains(out, "not set") {
		t.Errorf("check -offline of a file with a problem: exit %d\n%s", code, out)
	}

	code, out = runEnv(none, "check", "-config", good)
	if code != exitProblem || strings.Count(out, "is not set") != 5 || strings.Contains(out, "too short") || strings.Contains(out, "not a Redis URL") ||
		!strings.Contains(out, ": 5 problems") {
		t.Errorf("check without the environment: exit %d; want one problem per missing variable\n%s", code, out)
	}
	if code, out := runEnv(none, "check", "-offline", "-remote", "-config", good); code != exitProblem || !strings.Contains(out, "-offline") {
		t.Errorf("check -offline -remote: exit %d\n%s", code, out)
	}
}

// TestExplainTakesLoggedGroups: the groups of an audit line, a JSON list,
// go to explain -groups as they are, names with commas included.
func TestExplainTakesLoggedGroups(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, strings.Replace(testConfig, "      - groups: [eng-leads]", "      - groups: [\"eng,leads\"]", 1))
	code, stdout, stderr := run(t, "explain", "-config", path, "-room", "standup", "-groups", `["eng,leads"]`, "-format", "json")
	var got explainJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitOK || got.Rooms[0].Role != "moderator" {
		t.Errorf("explain -groups '[\"eng,leads\"]': exit %d %v %+v\n%s", code, err, got, stderr)
	}
	if code, _, stderr := run(t, "explain", "-config", path, "-groups", `["unclosed"`); code != exitProblem || !strings.Contains(stderr, "-groups") {
		t.Errorf("a broken JSON list: exit %d\n%s", code, stderr)
	}
}

// TestHelp: -h, -help, --help and help print the command list and exit 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "-help", "--help", "help"} {
		code, stdout, _ := run(t, arg)
		if code != exitOK || !strings.Contains(stdout, "commands:") || !strings.Contains(stdout, "healthcheck") {
			t.Errorf("roomgate %s: exit %d\n%s", arg, code, stdout)
		}
	}
}

// TestBusyPortNamesTheKey: a listen address in use says which key moves
// it.
func TestBusyPortNamesTheKey(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := writeConfig(t, strings.Replace(testConfig, "server:\n", "server:\n  listen: \""+ln.Addr().String()+"\"\n  metrics_listen: \"127.0.0.1:0\"\n", 1))
	code, _, stderr := run(t, "serve", "-config", path)
	if code != exitProblem || !strings.Contains(stderr, "server.listen") || !strings.Contains(stderr, path) {
		t.Errorf("serve on a busy port: exit %d\n%s", code, stderr)
	}
}

// TestLogDurationsAreText: no log line carries a duration as bare
// nanoseconds.
func TestLogDurationsAreText(t *testing.T) {
	t.Parallel()
	var errb bytes.Buffer
	logger, err := newLogger(Env{Stderr: &errb}, "info")
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("shutting down", "grace", shutdownGrace)
	logger.With("retry_in", 5*time.Second).Info("with an attribute")
	if got := errb.String(); !strings.Contains(got, `"grace":"20s"`) || !strings.Contains(got, `"retry_in":"5s"`) {
		t.Errorf("durations in the log: %s", got)
	}
}

// TestExplainAndDiffKnowProviders: explain -provider decides for that
// provider's person, whose group names are its own; diff names the
// provider of a person whose outcome changes; -provider must be one.
func TestExplainAndDiffKnowProviders(t *testing.T) {
	t.Parallel()
	oidc := "oidc:\n  issuer: \"https://login.example.com/realms/acme\"\n  client_id: roomgate\n  client_secret: \"${OIDC_CLIENT_SECRET}\"\n"
	if !strings.Contains(testConfig, oidc) {
		t.Fatal("testConfig's oidc: changed")
	}
	two := strings.Replace(testConfig, oidc, `providers:
  - id: acme
    issuer: "https://login.example.com/realms/acme"
    client_id: roomgate
    client_secret: "${OIDC_CLIENT_SECRET}"
    email_domains: [example.com]
  - id: partner
    issuer: "https://login.partner.example"
    client_id: roomgate
    client_secret: "${OIDC_CLIENT_SECRET}"
    email_domains: [partner.example, contractor.example]
`, 1)
	path := writeConfig(t, two)
	code, stdout, stderr := run(t, "explain", "-config", path, "-room", "standup", "-groups", "eng-leads", "-provider", "partner")
	if code != exitDenied || !strings.Contains(stdout, "provider partner") || !strings.Contains(stdout, "partner:eng-leads") {
		t.Errorf("explain -provider partner -groups eng-leads: exit %d; want denied, naming partner:eng-leads\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "explain", "-config", path, "-room", "standup", "-groups", "eng-leads"); code != exitOK {
		t.Errorf("explain -groups eng-leads (the primary's): exit %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, "explain", "-config", path, "-groups", "x", "-provider", "nobody"); code != exitProblem || !strings.Contains(stderr, `no provider "nobody"`) {
		t.Errorf("explain -provider nobody: exit %d\n%s", code, stderr)
	}

	// The new file lets the partner's eng-leads moderate.
	newer := writeConfig(t, strings.Replace(two, "      - groups: [eng-leads]", "      - groups: [eng-leads, \"partner:eng-leads\"]", 1))
	code, stdout, stderr = run(t, "diff", path, newer)
	if code != 3 || !strings.Contains(stdout, "provider partner, groups [partner:eng-leads]") {
		t.Errorf("diff: exit %d; want the partner's eng-leads named\n%s%s", code, stdout, stderr)
	}
}
