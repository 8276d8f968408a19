package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/team"
	"github.com/roomgate/roomgate/mapping"
)

// check validates the configuration file, runs its rule tests, and reports
// every problem and warning, as text for people, as one JSON object for
// tools, or as GitHub workflow annotations on the lines they are about.
func check(ctx context.Context, args []string, env Env) int {
	fs := newFlags("check", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	format := fs.String("format", "text", "output: text, json or github")
	remote := fs.Bool("remote", false, "also check the file against the Digital Samba team (digitalsamba.api_url)")
	offline := fs.Bool("offline", false, "check everything but the values of ${VAR}s, without the environment (for CI without secrets); their names are listed")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	if *offline && *remote {
		fmt.Fprintln(env.Stderr, "roomgate check: -remote needs the developer key, which -offline does not read; use one or the other")
		return exitProblem
	}
	if *format != "text" && *format != "json" && *format != "github" {
		fmt.Fprintf(env.Stderr, "roomgate check: -format: want text, json or github, found %q\n", *format)
		return exitProblem
	}
	opts := configOptions(env)
	opts.Offline = *offline
	cfg, err := config.Load(*path, opts)
	r := checkReport{File: *path, Offline: *offline, Problems: []finding{}, Warnings: []finding{}}
	switch ps := mapping.AsProblems(err); {
	case ps != nil:
		for _, p := range ps {
			r.Problems = append(r.Problems, findingOf(p))
		}
	case err != nil:
		r.Problems = append(r.Problems, finding{File: *path, Message: err.Error()})
	default:
		r.Valid = true
		r.Rooms = len(cfg.Rules.Rooms())
		for _, room := range cfg.Rules.Rooms() {
			r.Rules += len(room.Rules)
		}
		r.Tests = len(cfg.Tests)
		r.Variables = cfg.Variables
		for _, w := range cfg.Warnings {
			r.Warnings = append(r.Warnings, findingOf(w))
		}
		for _, w := range gateway.ProviderWarnings(cfg) {
			r.Warnings = append(r.Warnings, finding{File: *path, Message: w})
		}
		if *remote {
			r.checkRemote(ctx, cfg)
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	case "github":
		r.writeGitHub(env.Stdout)
	default:
		r.writeText(env.Stdout, env.Stderr)
	}
	if !r.Valid {
		return exitProblem
	}
	return exitOK
}

// checkRemote adds what the Digital Samba team says of the file. An API
// that cannot be read is a problem: the file is then not known to be right.
func (r *checkReport) checkRemote(ctx context.Context, cfg *config.Config) {
	ctx, cancel := context.WithTimeout(ctx, remoteDeadline)
	defer cancel()
	st, err := team.Read(ctx, team.Client(cfg))
	if err != nil {
		r.Valid = false
		r.Problems = append(r.Problems, finding{File: r.File, Path: "digitalsamba.api_url",
			Message: "cannot check against the Digital Samba team: " + err.Error()})
		return
	}
	problems, warnings := team.Check(cfg, st)
	for _, p := range problems {
		r.Problems = append(r.Problems, findingOf(p))
	}
	for _, w := range warnings {
		r.Warnings = append(r.Warnings, findingOf(w))
	}
	r.Remote = true
	r.Valid = len(r.Problems) == 0
}

// checkReport is check's outcome; -format json prints it as it is.
type checkReport struct {
	File    string `json:"file"`
	Valid   bool   `json:"valid"`
	Rooms   int    `json:"rooms"`
	Rules   int    `json:"rules"`
	Tests   int    `json:"tests"`
	Remote  bool   `json:"remote,omitempty"` // checked against the team too
	Offline bool   `json:"offline,omitempty"`
	// Variables are the environment variables the file reads; offline,
	// their values were not checked.
	Variables []string  `json:"variables,omitempty"`
	Problems  []finding `json:"problems"`
	Warnings  []finding `json:"warnings"`
}

// finding is one problem or warning: where, and what.
type finding struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func findingOf(p mapping.Problem) finding {
	return finding{File: p.File, Line: p.Line, Path: p.Path, Message: p.Msg}
}

// text is the finding as file:line: path: message, or the message alone
// when it has no place in the file.
func (f finding) text() string {
	if f.Line == 0 && f.Path == "" {
		return f.Message
	}
	return mapping.Problem{File: f.File, Line: f.Line, Path: f.Path, Msg: f.Message}.Error()
}

func (r *checkReport) writeText(out, errw io.Writer) {
	for _, p := range r.Problems {
		fmt.Fprintln(errw, p.text())
	}
	if !r.Valid {
		fmt.Fprintf(errw, "%s: %d problem%s\n", r.File, len(r.Problems), plural(len(r.Problems)))
		return
	}
	tests := ""
	if r.Tests > 0 {
		tests = fmt.Sprintf(", %d test%s passed", r.Tests, plural(r.Tests))
	}
	remote := ""
	if r.Remote {
		remote = ", and with the Digital Samba team"
	}
	fmt.Fprintf(out, "%s: valid (%d rooms, %d rules%s)%s\n", r.File, r.Rooms, r.Rules, tests, remote)
	if r.Offline && len(r.Variables) > 0 {
		fmt.Fprintf(out, "offline: the values of %s are not checked; set them where roomgate runs\n", strings.Join(r.Variables, ", "))
	}
	for _, w := range r.Warnings {
		fmt.Fprintln(out, "warning:", w.text())
	}
}

// writeGitHub prints workflow commands (GitHub Actions' ::error and
// ::warning), which the pull request shows on the lines they name.
func (r *checkReport) writeGitHub(w io.Writer) {
	for _, p := range r.Problems {
		fmt.Fprintln(w, annotation("error", p))
	}
	for _, p := range r.Warnings {
		fmt.Fprintln(w, annotation("warning", p))
	}
	if r.Valid {
		fmt.Fprintf(w, "%s: valid (%d rooms, %d rules, %d tests)\n", r.File, r.Rooms, r.Rules, r.Tests)
	}
}

// annotation formats one workflow command, escaped as GitHub's toolkit
// escapes them: %, CR and LF in the message; also ':' and ',' in values.
func annotation(level string, f finding) string {
	props := "file=" + escapeProperty(f.File)
	if f.Line > 0 {
		props += ",line=" + strconv.Itoa(f.Line)
	}
	msg := f.Message
	if f.Path != "" {
		msg = f.Path + ": " + msg
		props += ",title=" + escapeProperty(f.Path)
	}
	return "::" + level + " " + props + "::" + escapeData(msg)
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
