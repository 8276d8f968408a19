package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/roomgate/roomgate/gateway"
)

// shutdownGrace bounds how long in-flight requests may take to finish after
// SIGTERM; Kubernetes' default grace period is 30 s.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, args []string, env Env) int {
	fs := newFlags("serve", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	logger, err := newLogger(env, *level)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	gw, err := gateway.New(cfg, gateway.Deps{Logger: logger})
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	logger.Info("roomgate serving", "version", version(), "listen", ln.Addr().String(), "public_url", cfg.Server.PublicURL.String(), "rooms", len(cfg.Rules.Rooms()))
	if err := serveUntilDone(ctx, ln, gw, logger); err != nil {
		logger.Error("serving failed", "err", err)
		return exitProblem
	}
	logger.Info("roomgate stopped")
	return exitOK
}

// serveUntilDone serves h on ln until ctx ends, then stops accepting and
// lets in-flight requests finish within shutdownGrace.
func serveUntilDone(ctx context.Context, ln net.Listener, gw *gateway.Server, logger *slog.Logger) error {
	srv := newHTTPServer(gw, logger)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go gw.Run(runCtx)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHTTPServer sets the timeouts and limits a server facing a company
// network needs: slow or oversized requests cannot hold connections.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// newLogger writes JSON lines to stderr.
func newLogger(env Env, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: want debug, info, warn or error, found %q", level)
	}
	return slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: l})), nil
}
