package dsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/demo/dsroom"
)

const testKey = "developer-key-that-must-never-show"

func newTestAPI(t *testing.T) (*dsroom.API, *Client, *[]time.Duration) {
	t.Helper()
	api := dsroom.NewAPI("team-1", testKey, nil)
	srv := httptest.NewServer(http.StripPrefix("", api))
	t.Cleanup(srv.Close)
	var waits []time.Duration
	c := &Client{BaseURL: srv.URL + "/api/v1", TeamID: "team-1", Key: testKey, HTTP: srv.Client(),
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	return api, c, &waits
}

// TestRoomsReadsEveryPage: 250 rooms come in three pages, all read.
func TestRoomsReadsEveryPage(t *testing.T) {
	t.Parallel()
	api, c, _ := newTestAPI(t)
	for i := range 250 {
		api.AddRoom(fmt.Sprintf("room-%03d", i), "private", false, "moderator", "attendee")
	}
	rooms, err := c.Rooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 250 || rooms[0].FriendlyURL != "room-000" || rooms[249].FriendlyURL != "room-249" {
		t.Fatalf("got %d rooms (%v ... ); want all 250 in order", len(rooms), rooms[0].FriendlyURL)
	}
	if n := api.Requests(); n != 3 {
		t.Errorf("%d requests; want 3 pages", n)
	}
	roles, err := c.Roles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 3 || !roles[0].Permissions["start_session"] || roles[2].Permissions["start_session"] {
		t.Errorf("roles %+v; want moderator with start_session, attendee without", roles)
	}
}

// TestRetries: 429 and 5xx are retried (Retry-After honoured), other 4xx
// never; a call gives up within MaxWait.
func TestRetries(t *testing.T) {
	t.Parallel()
	api, c, waits := newTestAPI(t)
	api.FailNext(http.StatusTooManyRequests, "3", 1)
	api.FailNext(http.StatusBadGateway, "", 2)
	if _, err := c.Rooms(context.Background()); err != nil {
		t.Fatalf("after a 429 and two 502: %v", err)
	}
	if len(*waits) != 3 || (*waits)[0] != 3*time.Second {
		t.Errorf("waits %v; want three, the first 3 s from Retry-After", *waits)
	}
	before := api.Requests()
	_, err := c.UpdateRoom(context.Background(), "no-such-room", RoomChange{})
	if !IsNotFound(err) || api.Requests() != before+1 {
		t.Errorf("404: got %v after %d requests; want a 404 at once, not retried", err, api.Requests()-before)
	}
	api.FailNext(http.StatusUnprocessableEntity, "", 1)
	before = api.Requests()
	if _, err := c.CreateRoom(context.Background(), NewRoom{}); err == nil || api.Requests() != before+1 {
		t.Errorf("422: got %v after %d requests; want one request", err, api.Requests()-before)
	}

	// A server that never stops failing: given up within MaxWait, for real.
	slow := &Client{BaseURL: c.BaseURL, TeamID: "team-1", Key: testKey, HTTP: c.HTTP, MaxWait: 1500 * time.Millisecond}
	api.FailNext(http.StatusServiceUnavailable, "", 1000)
	start := time.Now()
	if _, err := slow.Rooms(context.Background()); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("an API that keeps failing: %v after %s; want an error within MaxWait", err, time.Since(start))
	}
}

// TestAuthFailureNeverShowsTheKey: a refused key is a clear error that
// names neither the key nor the Authorization header, and the client logs
// nothing anywhere.
func TestAuthFailureNeverShowsTheKey(t *testing.T) {
	t.Parallel()
	_, c, _ := newTestAPI(t)
	var logs bytes.Buffer
	log.SetOutput(&logs)
	defer log.SetOutput(nil)
	wrong := *c
	wrong.Key = "wrong-" + testKey
	_, err := wrong.Rooms(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("wrong key: got %v; want a 401 APIError saying the key was refused", err)
	}
	for _, out := range []string{err.Error(), fmt.Sprintf("%#v", err), logs.String()} {
		if strings.Contains(out, testKey) || strings.Contains(out, "Basic ") {
			t.Errorf("the key shows in %q", out)
		}
	}
	down := *c
	down.BaseURL = "http://127.0.0.1:1/api/v1"
	down.MaxWait = 500 * time.Millisecond
	down.Sleep = nil
	if _, err := down.Rooms(context.Background()); err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("unreachable: %v; want an error without the key", err)
	}
}

// TestHostileListsEnd: an API whose pages are larger than asked for, or
// that never stops paging (a total_count of 2^40, full pages forever), is
// refused after a bounded read instead of read without end.
func TestHostileListsEnd(t *testing.T) {
	t.Parallel()
	room := `{"id":"r","friendly_url":"r","privacy":"private"}`
	page := func(n int) string {
		return `{"total_count":1099511627776,"data":[` + strings.TrimSuffix(strings.Repeat(room+",", n), ",") + `]}`
	}
	for name, answer := range map[string]string{
		"a page larger than asked for": page(2000),
		"full pages without end":       page(pageSize),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requests := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests++
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, answer)
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, TeamID: "team-1", Key: testKey, HTTP: srv.Client()}
			rooms, err := c.Rooms(context.Background())
			if !errors.Is(err, ErrTooLarge) || rooms != nil {
				t.Fatalf("got %d rooms, %v; want ErrTooLarge", len(rooms), err)
			}
			if requests > maxItems/pageSize+1 {
				t.Errorf("%d requests; want at most %d", requests, maxItems/pageSize+1)
			}
		})
	}
}
