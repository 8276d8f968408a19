package store

import (
	"slices"
	"strings"
	"time"
)

// Decision is what the helpdesk console keeps of one thing that happened
// to a person: a room entry let in or refused, a sign-in that ended on a
// page, a guest's redemption. Never a token or a secret.
type Decision struct {
	RequestID string    `json:"request_id"` // what the person's page showed
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"` // "room", "sign-in" or "guest"
	UserID    string    `json:"user_id,omitempty"`
	Provider  string    `json:"provider,omitempty"` // the id of the provider that signed the person in
	Email     string    `json:"email,omitempty"`
	Name      string    `json:"name,omitempty"`
	// Groups are the groups that mattered: those some rule can use, as
	// the session keeps them; GroupCount is how many the person had.
	Groups     []string `json:"groups,omitempty"`
	GroupCount int      `json:"group_count,omitempty"`
	Room       string   `json:"room,omitempty"`     // the room's path
	Outcome    string   `json:"outcome"`            // allow, deny, closed or refused
	Role       string   `json:"role,omitempty"`     // when let in
	Rule       string   `json:"rule,omitempty"`     // the deciding rule: rules[2] (config.yaml:19)
	Reason     string   `json:"reason,omitempty"`   // in words
	RuleSet    string   `json:"rule_set,omitempty"` // the rule set's version
	JTI        string   `json:"jti,omitempty"`      // the room token's id
}

// DecisionQuery is a search of the kept decisions.
type DecisionQuery struct {
	// Text is a request id (exact), a user id, an email (exact, any
	// case), a room path, or part of a name (any case); "" for all.
	Text    string
	Outcome string // "" for any
	// Since and Until bound the time; zero for no bound.
	Since, Until time.Time
	Limit        int // at most this many, newest first; 0 means 100
}

// limit is q.Limit, or the default.
func (q DecisionQuery) limit() int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}

// matches reports whether d answers q.
func (q DecisionQuery) matches(d *Decision) bool {
	if q.Outcome != "" && d.Outcome != q.Outcome {
		return false
	}
	if !q.Since.IsZero() && d.At.Before(q.Since) || !q.Until.IsZero() && d.At.After(q.Until) {
		return false
	}
	t := q.Text
	return t == "" || d.RequestID == t || d.UserID == t || strings.EqualFold(d.Email, t) || d.Room == t ||
		strings.Contains(strings.ToLower(d.Name), strings.ToLower(t))
}

// newestFirst sorts decisions newest first.
func newestFirst(ds []Decision) {
	slices.SortStableFunc(ds, func(a, b Decision) int { return b.At.Compare(a.At) })
}

// maxMemoryDecisions bounds the decisions a store in the process keeps.
const maxMemoryDecisions = 100_000
