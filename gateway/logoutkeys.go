package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyRefetchEvery is the most often an unknown key id in a logout token
// makes roomgate fetch the provider's key set again.
const keyRefetchEvery = time.Minute

// asymmetric are the signing algorithms a provider may sign with; a
// client secret (HS256) or "none" never verify a logout token.
var asymmetric = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// logoutKeys is the provider's key set as logout tokens are checked
// against it (an oidc.KeySet). Anyone can POST a logout token, so a forged
// one must not make roomgate fetch the keys again, as go-oidc's remote key
// set does after every failed signature: that would turn each anonymous
// request into a call at the provider's rate-limited key endpoint. A token
// is verified against the cached keys, and the set is fetched again only
// for a key id it does not hold, at most once per keyRefetchEvery.
type logoutKeys struct {
	url    string
	client *http.Client
	now    func() time.Time
	// timeout bounds one fetch.
	timeout time.Duration

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time // zero: never
}

// VerifySignature returns the payload of raw when one of the provider's
// keys signed it.
func (k *logoutKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, asymmetric)
	if err != nil {
		return nil, fmt.Errorf("gateway: logout token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("gateway: logout token: want one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("gateway: logout token: no key of the provider's signed it")
}

// lookup returns the keys with id kid (every key when kid is ""),
// fetching the set when it is empty or kid unknown and the last fetch is
// keyRefetchEvery ago.
func (k *logoutKeys) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := k.find(kid)
	if len(keys) > 0 || !k.fetched.IsZero() && k.now().Sub(k.fetched) < keyRefetchEvery {
		return keys, nil
	}
	// Held while fetching: forged tokens arriving meanwhile wait for the
	// one fetch instead of starting their own.
	k.fetched = k.now()
	set, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	k.keys = set
	return k.find(kid), nil
}

func (k *logoutKeys) find(kid string) []jose.JSONWebKey {
	if kid == "" {
		return k.keys.Keys
	}
	return k.keys.Key(kid)
}

func (k *logoutKeys) fetch(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return set, fmt.Errorf("gateway: provider keys: %w", err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return set, fmt.Errorf("gateway: provider keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("gateway: provider keys: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return set, fmt.Errorf("gateway: provider keys: %w", err)
	}
	return set, nil
}
