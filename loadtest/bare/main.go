// Command bare is the load test's yardstick: a net/http server that answers
// every request with a 302 whose Location is as long as the one roomgate
// sends into a room, and does nothing else. scripts/load.sh runs it as a
// process beside roomgate serve and oauth2-proxy.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/roomgate/roomgate/gateway"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	prefix := flag.String("location", "https://acme.digitalsamba.example/daily-standup?token=", "the start of the Location sent")
	length := flag.Int("location-length", 600, "the length of the Location sent, padded after -location")
	flag.Parse()

	location := *prefix + strings.Repeat("x", max(0, *length-len(*prefix)))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	// The same http.Server as roomgate serve's: timeouts and header limits.
	srv := gateway.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, http.StatusFound)
	}), slog.New(slog.DiscardHandler))
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		srv.Close()
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
