// Command roomgate is the gateway between a company's OpenID Connect sign-in
// and its Digital Samba meeting rooms. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/roomgate/roomgate/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	// The first signal asks the command to stop (serve shuts down
	// gracefully); after it, signals do what they always do, so a second
	// Ctrl-C ends any command at once.
	context.AfterFunc(ctx, stop)
	code := cmd.Run(ctx, os.Args[1:], cmd.Env{Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv})
	stop()
	os.Exit(code)
}
