// Package cmd is roomgate's command line: it parses arguments, loads the
// configuration and runs one command. main only calls Run, so every command
// is testable in process.
package cmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/mapping"
)

// Exit statuses.
const (
	exitOK      = 0
	exitProblem = 1 // bad input, invalid config, failure to serve
	exitDenied  = 2 // explain: the person would not get in
)

// Version is set at build time with -ldflags "-X github.com/roomgate/roomgate/cmd.Version=v1.2.3";
// otherwise the module version from the build info is used.
var Version = ""

// Env is what a command may use of the process around it.
type Env struct {
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
}

// Run runs the command named by args[0] (serve when there is none, or when
// args starts with a flag) and returns the process exit status.
func Run(ctx context.Context, args []string, env Env) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] != "" && args[0][0] != '-' || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd, args = args[0], args[1:]
	}
	if cmd != "serve" && cmd != "demo" {
		// The servers write JSON logs, which escape what they carry.
		env.Stdout, env.Stderr = terminal{env.Stdout}, terminal{env.Stderr}
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, env)
	case "check":
		return check(ctx, args, env)
	case "sync":
		return syncTeam(ctx, args, env)
	case "revoke":
		return revoke(ctx, args, env)
	case "invite":
		return invite(ctx, args, env)
	case "healthcheck":
		return healthcheck(ctx, args, env)
	case "explain":
		return explain(args, env)
	case "diff":
		return diff(args, env)
	case "demo":
		return demo(ctx, args, env)
	case "version":
		fmt.Fprintln(env.Stdout, "roomgate", version())
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(env.Stdout)
		return exitOK
	default:
		fmt.Fprintf(env.Stderr, "roomgate: unknown command %q\n\n", cmd)
		usage(env.Stderr)
		return exitProblem
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: roomgate [command] [flags]

commands:
  serve   [-config F]        run the gateway (the default command)
  check   [-config F] [-format text|json|github] [-remote | -offline]
                             validate the file and run its rule tests (-remote: against the team too)
  sync    [-config F] [-apply]
                             the plan that makes the Digital Samba team match the file; -apply carries it out
  explain [-config F] [-room PATH] -groups a,b [-email E] [-at TIME] [-format text|json]
                             the decision for such a person and the rule that made it
  diff    [-people FILE] [-format text|json] OLD NEW
                             who gains or loses what between two files (exit 3 when some do)
  revoke  [-config F] -user ID
                             end every session of that person on every gateway (needs store.sqlite or store.redis)
  invite  create -room PATH -name NAME [-valid D] [-browsers N] | list [-room PATH] | revoke ID   [-config F]
                             guest invitations: create prints a link; list; revoke (needs store.sqlite or store.redis)
  demo    [-listen ADDR] [-config F]
                             a complete local demo with no outside services (-config: your copy of demo/config.yaml, reloaded as you edit)
  healthcheck [-url URL]     exit 0 when a running gateway answers /healthz (for a container's HEALTHCHECK)
  version                    print the version and the VCS revision it was built from
`)
}

// version is -ldflags' Version, else the module version from the build
// info, with the VCS revision the binary was built from when the build
// recorded it (a build in a git checkout does).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	v := Version
	if v == "" && ok {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	if !ok {
		return v
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", with uncommitted changes"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (revision %.12s, %s%s)", rev, at, modified)
	}
	return v
}

// newFlags returns a flag set that reports errors to env.Stderr instead of
// exiting.
func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("roomgate "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// loadConfig loads the file and prints every problem in it.
func loadConfig(path string, env Env) (*config.Config, bool) {
	return load(path, env, configOptions(env))
}

// configOptions are the options every command reads the file with: the
// environment for ${VAR}, and the gateway's own paths, which no room may
// take.
func configOptions(env Env) config.Options {
	return config.Options{LookupEnv: env.LookupEnv, Reserved: gateway.ReservedPaths()}
}

// loadRules loads what deciding needs of the file (config.Options.RulesOnly):
// secrets may be absent from the environment.
func loadRules(path string, env Env) (*config.Config, bool) {
	opts := configOptions(env)
	opts.RulesOnly = true
	return load(path, env, opts)
}

func load(path string, env Env, opts config.Options) (*config.Config, bool) {
	cfg, err := config.Load(path, opts)
	if err == nil {
		return cfg, true
	}
	if ps := mapping.AsProblems(err); ps != nil {
		for _, p := range ps {
			fmt.Fprintln(env.Stderr, p.Error())
		}
		fmt.Fprintf(env.Stderr, "%s: %d problem%s\n", path, len(ps), plural(len(ps)))
		return nil, false
	}
	fmt.Fprintln(env.Stderr, "roomgate:", err)
	return nil, false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
