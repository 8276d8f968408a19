// Package dsapi is a small client of Digital Samba's REST API, for what a
// gateway needs to check its rule file against the real team and bring the
// team in line: the rooms (every page), the roles and their permissions,
// and creating or changing a room. It knows nothing of roomgate's
// configuration.
//
// Every call takes a context. Answers 429 and 5xx, and connections that
// fail, are retried with backoff (honouring Retry-After) within
// Client.MaxWait in all; any other 4xx is final and comes back as an
// *APIError. The developer key goes only into the Authorization header: no
// error, log line or message of this package shows it.
package dsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Digital Samba's API.
const DefaultBaseURL = "https://api.digitalsamba.com/api/v1"

// Client talks to one team's API, authenticated with HTTP Basic
// team_id:developer_key.
type Client struct {
	BaseURL string // DefaultBaseURL when empty
	TeamID  string
	Key     string // the developer key
	// HTTP makes the requests; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// MaxWait bounds a call, retries and waits included; 0 means 10 s: a
	// silent API is given up, never waited on for ever.
	MaxWait time.Duration
	// Sleep waits between retries; nil means a timer that ctx can cut
	// short. Tests replace it to count the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// APIError is an answer the API gave instead of what was asked.
type APIError struct {
	Method, Path string // the request, without the host
	Status       int
	Message      string // the API's own message, when it gave one
}

func (e *APIError) Error() string {
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("dsapi: %s %s: %d, the team id and developer key were refused%s", e.Method, e.Path, e.Status, msg)
	case http.StatusNotFound:
		return fmt.Sprintf("dsapi: %s %s: 404, not found%s", e.Method, e.Path, msg)
	}
	return fmt.Sprintf("dsapi: %s %s: %d%s", e.Method, e.Path, e.Status, msg)
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// RoleRef is a role as a room names it.
type RoleRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}

// Room is a room of the team, as far as roomgate reads it.
type Room struct {
	ID          string    `json:"id"`
	FriendlyURL string    `json:"friendly_url"`
	Privacy     string    `json:"privacy"` // public or private
	IsLocked    bool      `json:"is_locked"`
	ExternalID  string    `json:"external_id,omitempty"`
	DefaultRole *RoleRef  `json:"default_role,omitempty"`
	Roles       []RoleRef `json:"roles"`
}

// RoleNames are the names of the roles the room allows.
func (r *Room) RoleNames() []string {
	names := make([]string, len(r.Roles))
	for i, ro := range r.Roles {
		names[i] = ro.Name
	}
	return names
}

// Role is a team role with its permissions.
type Role struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name,omitempty"`
	Permissions map[string]bool `json:"-"`
}

// NewRoom is what POST /rooms takes.
type NewRoom struct {
	FriendlyURL           string   `json:"friendly_url,omitempty"`
	Privacy               string   `json:"privacy"`
	Roles                 []string `json:"roles"`
	DefaultRole           string   `json:"default_role,omitempty"`
	PrivateGroupChatRoles []string `json:"private_group_chat_roles"`
	ExternalID            string   `json:"external_id,omitempty"`
	Description           string   `json:"description,omitempty"`
}

// RoomChange is what PATCH /rooms/{room} takes; nil fields are left alone.
type RoomChange struct {
	Privacy *string  `json:"privacy,omitempty"`
	Roles   []string `json:"roles,omitempty"` // the room's whole new set
}

// list is the shape of every list answer.
type list[T any] struct {
	TotalCount int `json:"total_count"`
	Data       []T `json:"data"`
}

// pageSize is the largest page the API gives.
const pageSize = 100

// maxItems bounds what a list may hold, so an API that never stops
// paging (a total_count of 2^40, pages that repeat) cannot keep a command
// reading: far more rooms or roles than any team has.
const maxItems = 50_000

// ErrTooLarge is what a list answers when the API sends more than was
// asked for or more than any team holds.
var ErrTooLarge = errors.New("dsapi: the API's answer is larger than any team's")

// listAll reads every page of the list at path (which takes limit and
// offset). A page larger than asked for is refused, and so is a list past
// maxItems.
func listAll[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for offset := 0; ; offset += pageSize {
		var page list[T]
		if err := c.do(ctx, http.MethodGet, path+sep+"limit="+strconv.Itoa(pageSize)+"&offset="+strconv.Itoa(offset), nil, &page); err != nil {
			return nil, err
		}
		if len(page.Data) > pageSize {
			return nil, fmt.Errorf("%w: %d items on a page of %d", ErrTooLarge, len(page.Data), pageSize)
		}
		out = append(out, page.Data...)
		if len(out) > maxItems {
			return nil, fmt.Errorf("%w: more than %d items", ErrTooLarge, maxItems)
		}
		if len(page.Data) < pageSize || len(out) >= page.TotalCount {
			return out, nil
		}
	}
}

// Rooms returns every room of the team, reading every page.
func (c *Client) Rooms(ctx context.Context) ([]Room, error) {
	return listAll[Room](ctx, c, "/rooms?order=asc")
}

// Roles returns the team's roles with their permissions: the list, then
// each role.
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	all, err := listAll[Role](ctx, c, "/roles")
	if err != nil {
		return nil, err
	}
	for i := range all {
		var one struct {
			Permissions map[string]json.RawMessage `json:"permissions"`
		}
		if err := c.do(ctx, http.MethodGet, "/roles/"+url.PathEscape(all[i].Name), nil, &one); err != nil {
			return nil, err
		}
		all[i].Permissions = map[string]bool{}
		for k, v := range one.Permissions {
			var b bool
			if json.Unmarshal(v, &b) == nil {
				all[i].Permissions[k] = b
			}
		}
	}
	return all, nil
}

// CreateRoom creates a room.
func (c *Client) CreateRoom(ctx context.Context, r NewRoom) (*Room, error) {
	var out Room
	return &out, c.do(ctx, http.MethodPost, "/rooms", r, &out)
}

// UpdateRoom changes the room named by its id or friendly URL.
func (c *Client) UpdateRoom(ctx context.Context, room string, ch RoomChange) (*Room, error) {
	var out Room
	return &out, c.do(ctx, http.MethodPatch, "/rooms/"+url.PathEscape(room), ch, &out)
}

// maxAnswer bounds an answer: a page of 100 rooms is far smaller.
const maxAnswer = 8 << 20

// do makes one call, with retries, and decodes the answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("dsapi: %w", err)
		}
	}
	short, _, _ := strings.Cut(path, "?")
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		status, answer, retryAfter, err := c.once(ctx, method, path, body)
		retry := err != nil || status == http.StatusTooManyRequests || status >= 500
		if !retry {
			if status < 200 || status > 299 {
				return &APIError{Method: method, Path: short, Status: status, Message: apiMessage(answer)}
			}
			if out != nil {
				if err := json.Unmarshal(answer, out); err != nil {
					return fmt.Errorf("dsapi: %s %s: the answer is not what the API sends: %v", method, short, err)
				}
			}
			return nil
		}
		wait := backoff + rand.N(backoff/2)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if time.Until(deadline) < wait {
			if err != nil {
				return fmt.Errorf("dsapi: %s %s: no answer within %s (%d tries): %w", method, short, maxWait, attempt, err)
			}
			return &APIError{Method: method, Path: short, Status: status, Message: fmt.Sprintf("still failing after %d tries within %s", attempt, maxWait)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("dsapi: %s %s: %w", method, short, err)
		}
		backoff = min(2*backoff, 4*time.Second)
	}
}

// once makes one request and reads its answer.
func (c *Client) once(ctx context.Context, method, path string, body []byte) (status int, answer []byte, retryAfter time.Duration, err error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.SetBasicAuth(c.TeamID, c.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL error names the URL, never the credentials.
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, 0, err
	}
	return resp.StatusCode, answer, parseRetryAfter(resp.Header.Get("Retry-After")), nil
}

// parseRetryAfter reads seconds or an HTTP date (RFC 9110 10.2.3); 0 when
// absent or unreadable. It is capped, so a server cannot park a check.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return max(0, min(d, time.Minute))
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// apiMessage is the message of an error answer, when it has one; never
// more than a line.
func apiMessage(b []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	m := e.Message
	if m == "" {
		m = e.Error
	}
	if len(m) > 200 {
		m = m[:200]
	}
	return strings.ReplaceAll(m, "\n", " ")
}
