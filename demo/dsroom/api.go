package dsroom

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// API stands in for Digital Samba's REST API (shared/reference/
// digitalsamba-api.md) for one team, faithfully enough for roomgate's
// check -remote and sync: rooms and roles with their field shapes, paging
// (limit at most 100, offset, order), HTTP Basic team_id:key and Bearer
// key, 401 for anything else, 404 for an unknown room or role, and 429
// with Retry-After past a rate limit. It keeps its rooms in memory.
type API struct {
	teamID, key string
	now         func() time.Time

	mu       sync.Mutex
	rooms    []*apiRoom
	roles    []apiRole
	requests int
	// RateLimit is requests per minute before 429; 0 means 1,000, the
	// real limit.
	RateLimit int
	window    time.Time
	inWindow  int
	fail      []failure
}

type apiRoom struct {
	ID          string    `json:"id"`
	FriendlyURL string    `json:"friendly_url"`
	Privacy     string    `json:"privacy"`
	IsLocked    bool      `json:"is_locked"`
	RoomURL     string    `json:"room_url"`
	ExternalID  string    `json:"external_id,omitempty"`
	DefaultRole *roleRef  `json:"default_role"`
	Roles       []roleRef `json:"roles"`
	Description string    `json:"description,omitempty"`
	CreatedAt   string    `json:"created_at"`
}

type roleRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

type apiRole struct {
	roleRef
	Description string          `json:"description"`
	Default     bool            `json:"default"`
	Permissions map[string]bool `json:"permissions"`
}

type failure struct {
	status     int
	retryAfter string
}

// NewAPI returns an API stand-in for teamID and its developer key, with
// the usual three roles (moderator, speaker, attendee) and no rooms. now
// is the clock; nil means time.Now.
func NewAPI(teamID, key string, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	a := &API{teamID: teamID, key: key, now: now}
	perms := func(names ...string) map[string]bool {
		all := []string{"start_session", "end_session", "control_room_entry", "invite_participant",
			"remove_participant", "ban_participants", "self_rename", "rename_participants", "chat"}
		m := map[string]bool{}
		for _, p := range all {
			m[p] = slices.Contains(names, p)
		}
		return m
	}
	a.AddRole("moderator", perms("start_session", "end_session", "control_room_entry", "invite_participant", "remove_participant", "ban_participants", "rename_participants", "chat"))
	a.AddRole("speaker", perms("chat", "self_rename"))
	a.AddRole("attendee", perms("chat"))
	return a
}

// AddRole adds a team role with these permissions.
func (a *API) AddRole(name string, permissions map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roles = append(a.roles, apiRole{roleRef: roleRef{ID: newID(), Name: name, DisplayName: strings.ToUpper(name[:1]) + name[1:] + "s"},
		Default: true, Permissions: permissions})
}

// AddRoom adds a room as the team's dashboard would: friendly URL,
// privacy, whether it is locked, and its roles by name (the first is its
// default role).
func (a *API) AddRoom(friendlyURL, privacy string, locked bool, roles ...string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := &apiRoom{ID: newID(), FriendlyURL: friendlyURL, Privacy: privacy, IsLocked: locked,
		RoomURL: "https://" + a.teamID + ".digitalsamba.example/" + friendlyURL, CreatedAt: a.now().UTC().Format(time.RFC3339)}
	for _, n := range roles {
		if ref, ok := a.role(n); ok {
			r.Roles = append(r.Roles, ref)
		}
	}
	if len(r.Roles) > 0 {
		d := r.Roles[len(r.Roles)-1]
		r.DefaultRole = &d
	}
	a.rooms = append(a.rooms, r)
	return r.ID
}

// Room returns the room with this id or friendly URL, as JSON would show
// it: privacy and role names.
func (a *API) Room(ref string) (privacy string, roles []string, externalID string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.find(ref)
	if r == nil {
		return "", nil, "", false
	}
	for _, ro := range r.Roles {
		roles = append(roles, ro.Name)
	}
	return r.Privacy, roles, r.ExternalID, true
}

// Requests is how many requests the stand-in has answered.
func (a *API) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// FailNext makes the next answers fail with status (and Retry-After, when
// not empty), one per call, before any other check: a flaky API.
func (a *API) FailNext(status int, retryAfter string, times int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range times {
		a.fail = append(a.fail, failure{status, retryAfter})
	}
}

func (a *API) role(name string) (roleRef, bool) {
	for _, r := range a.roles {
		if r.Name == name || r.ID == name {
			return r.roleRef, true
		}
	}
	return roleRef{}, false
}

func (a *API) find(ref string) *apiRoom {
	for _, r := range a.rooms {
		if r.ID == ref || r.FriendlyURL == ref {
			return r
		}
	}
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ServeHTTP answers the API's routes under any prefix ending in /api/v1.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	w.Header().Set("Content-Type", "application/json")
	if len(a.fail) > 0 {
		f := a.fail[0]
		a.fail = a.fail[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeAPI(w, f.status, map[string]string{"message": http.StatusText(f.status)})
		return
	}
	now := a.now()
	if now.Sub(a.window) >= time.Minute {
		a.window, a.inWindow = now, 0
	}
	a.inWindow++
	limit := a.RateLimit
	if limit == 0 {
		limit = 1000
	}
	if a.inWindow > limit {
		w.Header().Set("Retry-After", strconv.Itoa(int(time.Minute-now.Sub(a.window))/int(time.Second)+1))
		writeAPI(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Attempts."})
		return
	}
	if !a.authorized(r) {
		writeAPI(w, http.StatusUnauthorized, map[string]string{"message": "Unauthenticated."})
		return
	}
	_, path, ok := strings.Cut(r.URL.Path, "/api/v1")
	if !ok {
		writeAPI(w, http.StatusNotFound, map[string]string{"message": "Not found."})
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/rooms":
		list := slices.Clone(a.rooms)
		if r.URL.Query().Get("order") != "asc" {
			slices.Reverse(list)
		}
		writePage(w, r, list)
	case r.Method == http.MethodPost && path == "/rooms":
		a.create(w, r)
	case len(parts) == 2 && parts[0] == "rooms":
		room := a.find(parts[1])
		if room == nil {
			writeAPI(w, http.StatusNotFound, map[string]string{"message": "Room not found."})
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeAPI(w, http.StatusOK, room)
		case http.MethodPatch:
			a.patch(w, r, room)
		default:
			writeAPI(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method not allowed."})
		}
	case r.Method == http.MethodGet && path == "/roles":
		var refs []apiRole
		for _, ro := range a.roles {
			ro.Permissions = nil
			refs = append(refs, ro)
		}
		writePage(w, r, refs)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "roles":
		for _, ro := range a.roles {
			if ro.Name == parts[1] || ro.ID == parts[1] {
				writeAPI(w, http.StatusOK, ro)
				return
			}
		}
		writeAPI(w, http.StatusNotFound, map[string]string{"message": "Role not found."})
	default:
		writeAPI(w, http.StatusNotFound, map[string]string{"message": "Not found."})
	}
}

func (a *API) authorized(r *http.Request) bool {
	if user, pass, ok := r.BasicAuth(); ok {
		return subtle.ConstantTimeCompare([]byte(user), []byte(a.teamID)) == 1 && subtle.ConstantTimeCompare([]byte(pass), []byte(a.key)) == 1
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(bearer), []byte(a.key)) == 1
}

func writePage[T any](w http.ResponseWriter, r *http.Request, all []T) {
	q := r.URL.Query()
	limit, offset := 100, 0
	if v, err := strconv.Atoi(q.Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("offset")); err == nil && v >= 0 {
		offset = v
	}
	page := []T{}
	if offset < len(all) {
		page = all[offset:min(len(all), offset+limit)]
	}
	writeAPI(w, http.StatusOK, map[string]any{"total_count": len(all), "data": page})
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FriendlyURL           string    `json:"friendly_url"`
		Privacy               string    `json:"privacy"`
		Roles                 []string  `json:"roles"`
		DefaultRole           string    `json:"default_role"`
		PrivateGroupChatRoles *[]string `json:"private_group_chat_roles"`
		ExternalID            string    `json:"external_id"`
		Description           string    `json:"description"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The body is not JSON."})
		return
	}
	switch {
	case in.Privacy != "public" && in.Privacy != "private":
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The privacy field is required."})
		return
	case len(in.Roles) == 0 || in.PrivateGroupChatRoles == nil:
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The roles and private_group_chat_roles fields are required."})
		return
	case in.FriendlyURL != "" && (len(in.FriendlyURL) < 3 || len(in.FriendlyURL) > 32):
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The friendly url must be between 3 and 32 characters."})
		return
	case in.FriendlyURL != "" && a.find(in.FriendlyURL) != nil:
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The friendly url has already been taken."})
		return
	}
	room := &apiRoom{ID: newID(), FriendlyURL: in.FriendlyURL, Privacy: in.Privacy, ExternalID: in.ExternalID,
		Description: in.Description, CreatedAt: a.now().UTC().Format(time.RFC3339)}
	if room.FriendlyURL == "" {
		room.FriendlyURL = room.ID[:8]
	}
	room.RoomURL = "https://" + a.teamID + ".digitalsamba.example/" + room.FriendlyURL
	for _, n := range in.Roles {
		ref, ok := a.role(n)
		if !ok {
			writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": fmt.Sprintf("The role %s does not exist.", n)})
			return
		}
		room.Roles = append(room.Roles, ref)
	}
	if in.DefaultRole != "" {
		ref, ok := a.role(in.DefaultRole)
		if !ok {
			writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The default role does not exist."})
			return
		}
		room.DefaultRole = &ref
	}
	a.rooms = append(a.rooms, room)
	writeAPI(w, http.StatusOK, room)
}

func (a *API) patch(w http.ResponseWriter, r *http.Request, room *apiRoom) {
	var in struct {
		Privacy *string  `json:"privacy"`
		Roles   []string `json:"roles"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The body is not JSON."})
		return
	}
	if in.Privacy != nil {
		if *in.Privacy != "public" && *in.Privacy != "private" {
			writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": "The selected privacy is invalid."})
			return
		}
		room.Privacy = *in.Privacy
	}
	if in.Roles != nil {
		var refs []roleRef
		for _, n := range in.Roles {
			ref, ok := a.role(n)
			if !ok {
				writeAPI(w, http.StatusUnprocessableEntity, map[string]string{"message": fmt.Sprintf("The role %s does not exist.", n)})
				return
			}
			refs = append(refs, ref)
		}
		room.Roles = refs
	}
	writeAPI(w, http.StatusOK, room)
}

func writeAPI(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
