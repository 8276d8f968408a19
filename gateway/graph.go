package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// defaultGraphURL is Microsoft Graph in the global cloud.
const defaultGraphURL = "https://graph.microsoft.com"

// maxGraphAnswer bounds what roomgate reads from Graph: getMemberObjects
// returns at most 11,000 ids of 36 characters.
const maxGraphAnswer = 1 << 20

// graphGroups asks Microsoft Graph for the object ids of the security
// groups (and directory roles) the signed-in person is in, directly or
// through other groups: POST /v1.0/me/getMemberObjects with
// securityEnabledOnly, the same ids Entra's groups claim would carry with
// "Security groups" chosen. It uses the sign-in's access token, which Entra
// issues for Graph when the scopes include User.Read, the least privilege
// this call needs for the signed-in user.
//
// The URL is roomgate's configuration, never the _claim_sources endpoint of
// the token (the retired graph.windows.net).
func (s *Server) graphGroups(ctx context.Context, p *provider, tok *oauth2.Token) ([]string, error) {
	base := defaultGraphURL
	if u := p.cfg.Entra.GraphURL; u != nil {
		base = strings.TrimSuffix(u.String(), "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1.0/me/getMemberObjects",
		bytes.NewReader([]byte(`{"securityEnabledOnly":true}`)))
	if err != nil {
		return nil, fmt.Errorf("gateway: Microsoft Graph request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &unavailableError{fmt.Errorf("gateway: Microsoft Graph: %w", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphAnswer+1))
	switch {
	case err != nil:
		return nil, &unavailableError{fmt.Errorf("gateway: reading Microsoft Graph's answer: %w", err)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, &unavailableError{fmt.Errorf("gateway: Microsoft Graph answered %s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		// 401/403: the access token is not for Graph, or lacks User.Read.
		// Graph's error code says which; its message may name the user, so
		// only the code goes to the log.
		return nil, fmt.Errorf("gateway: Microsoft Graph refused getMemberObjects (%s, %s); does oidc.scopes include User.Read?",
			resp.Status, graphErrorCode(body))
	case len(body) > maxGraphAnswer:
		return nil, errors.New("gateway: Microsoft Graph's answer is larger than getMemberObjects returns")
	}
	var answer struct {
		Value []string `json:"value"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("gateway: Microsoft Graph's answer: %w", err)
	}
	return answer.Value, nil
}

// graphErrorCode is the "code" of a Graph error answer, such as
// Authorization_RequestDenied, or "no code".
func graphErrorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || !errCode.MatchString(strings.ToLower(e.Error.Code)) {
		return "no code"
	}
	return e.Error.Code
}
