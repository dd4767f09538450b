// Package remote moves account JWTs between signet and the places that serve them: account
// servers over HTTP (the /jwt/v1 API of nats-account-server and signet serve) and nats-servers
// with a full or cache resolver over NATS (the $SYS.REQ.CLAIMS.* protocol).
//
// HTTP side, for `signet push/pull -u http(s)://...` and managed operators:
//
//	res, err := remote.PushHTTP(ctx, http.DefaultClient, op.AccountServerURL, accountJWT)
//	signed, err := remote.PullHTTP(ctx, http.DefaultClient, op.AccountServerURL, accountPub)
//	all, err := remote.PackHTTP(ctx, http.DefaultClient, op.AccountServerURL)
//	opJWT, claims, err := remote.FetchOperatorJWT(ctx, http.DefaultClient, "http://host/jwt/v1/operator")
//
// NATS side, for `signet push/pull -u nats://...`:
//
//	ujwt, useed, err := remote.SystemUser(sysKP, sysPub, 5*time.Minute)
//	c, err := remote.Dial(url, nats.UserJWTAndSeed(ujwt, string(useed)))
//	defer c.Close()
//	sum, err := c.PushAll(ctx, jwts, remote.PushOptions{Progress: bar})
//	accounts, err := c.Pack(ctx)           // every JWT one full resolver holds
//	one, err := c.Lookup(ctx, pub)          // one JWT; errors.Is(err, remote.ErrNotFound)
//	lists, err := c.List(ctx)
//	dsum, err := c.Delete(ctx, operatorKP, pubs, remote.PushOptions{}) // for --prune
//
// PushAll and Delete return a Summary (per server: ok, failed, missing, failure messages;
// Unanswered names servers that did not answer in time). Summary.Err() turns it into one
// error; json.Marshal(summary) is the --json output. The error returned beside a Summary is
// only for not being able to talk at all.
//
// The package never prints; progress is reported through callbacks and results are plain,
// JSON-marshalable structs.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// ErrNotFound is returned (wrapped) when the account server does not know an account.
var ErrNotFound = errors.New("not found")

// maxBody bounds what is read from an account server: far more than any JWT, far less than
// what would hurt.
const maxBody = 64 << 20

// PushResult is the account server's answer to a push.
type PushResult struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Message is the server's reply body, trimmed.
	Message string `json:"message,omitempty"`
	// Pending is true for 201 and 202: the server accepted the JWT but has not (yet) made it
	// effective, e.g. an operator must still approve it.
	Pending bool `json:"pending,omitempty"`
}

// HTTPError is an account server's refusal: a status other than the expected ones, with the
// reason the server gave.
type HTTPError struct {
	Method string
	URL    string
	Status int
	Reason string
}

func (e *HTTPError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, reason)
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *HTTPError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// AccountsURL returns the URL of one account given an account server URL as operators carry it
// ("http://host:port/jwt/v1"). It also accepts a URL that already ends in /accounts or
// /accounts/ (the form nats-server's URL resolver is configured with).
func AccountsURL(accountServerURL, pub string) string {
	u := strings.TrimRight(accountServerURL, "/")
	if !strings.HasSuffix(u, "/accounts") {
		u += "/accounts"
	}
	return u + "/" + pub
}

// baseURL strips a trailing /accounts (and slashes) from an account server URL.
func baseURL(accountServerURL string) string {
	u := strings.TrimRight(accountServerURL, "/")
	return strings.TrimSuffix(u, "/accounts")
}

// PushHTTP posts an account JWT to <accountServerURL>/accounts/<subject of the JWT> with
// Content-Type application/jwt. 200 is success, 201 and 202 are success with Pending set;
// anything else is an *HTTPError carrying the server's reason (PushResult still has Status).
func PushHTTP(ctx context.Context, client *http.Client, accountServerURL, token string) (PushResult, error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return PushResult{}, fmt.Errorf("push: not an account JWT: %w", err)
	}
	u := AccountsURL(accountServerURL, ac.Subject)
	status, body, err := do(ctx, client, http.MethodPost, u, []byte(token))
	if err != nil {
		return PushResult{}, fmt.Errorf("push account %s: %w", ac.Subject, err)
	}
	res := PushResult{Status: status, Message: strings.TrimSpace(string(body))}
	switch status {
	case http.StatusOK:
	case http.StatusCreated, http.StatusAccepted:
		res.Pending = true
	default:
		return res, &HTTPError{Method: http.MethodPost, URL: u, Status: status, Reason: firstLine(body)}
	}
	return res, nil
}

// PullHTTP fetches the JWT of account pub from <accountServerURL>/accounts/<pub>. A 404 is an
// error for which errors.Is(err, ErrNotFound) holds. The JWT is checked to be an account JWT
// for pub.
func PullHTTP(ctx context.Context, client *http.Client, accountServerURL, pub string) (string, error) {
	u := AccountsURL(accountServerURL, pub)
	status, body, err := do(ctx, client, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("pull account %s: %w", pub, err)
	}
	if status != http.StatusOK {
		return "", &HTTPError{Method: http.MethodGet, URL: u, Status: status, Reason: firstLine(body)}
	}
	tok := strings.TrimSpace(string(body))
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return "", fmt.Errorf("pull account %s from %s: not an account JWT: %w", pub, u, err)
	}
	if ac.Subject != pub {
		return "", fmt.Errorf("pull account %s from %s: server sent account %s", pub, u, ac.Subject)
	}
	return tok, nil
}

// PackHTTP fetches every account JWT from <accountServerURL>/pack (lines "pubkey|jwt") and
// returns public key -> JWT. Lines that do not hold an account JWT for their key are an error.
func PackHTTP(ctx context.Context, client *http.Client, accountServerURL string) (map[string]string, error) {
	u := baseURL(accountServerURL) + "/pack"
	status, body, err := do(ctx, client, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if status != http.StatusOK {
		return nil, &HTTPError{Method: http.MethodGet, URL: u, Status: status, Reason: firstLine(body)}
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	for sc.Scan() {
		if err := addPackLine(out, sc.Text()); err != nil {
			return nil, fmt.Errorf("pack from %s: %w", u, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pack from %s: %w", u, err)
	}
	return out, nil
}

// addPackLine adds one "pubkey|jwt" line to m after checking the JWT belongs to the key.
func addPackLine(m map[string]string, line string) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	pub, tok, ok := strings.Cut(line, "|")
	if !ok {
		return fmt.Errorf("malformed pack line %.40q", line)
	}
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return fmt.Errorf("pack entry %s: %w", pub, err)
	}
	if ac.Subject != pub {
		return fmt.Errorf("pack entry %s holds the JWT of %s", pub, ac.Subject)
	}
	m[pub] = tok
	return nil
}

// DeleteHTTP asks the account server to delete accounts: one
// `DELETE <accountServerURL>/accounts/<pub>` per account, each with a body that is a delete
// request for that account signed by signer (see DeleteRequest). Deleting an account the
// server does not have (404) is not an error. It stops at the first refusal.
func DeleteHTTP(ctx context.Context, client *http.Client, accountServerURL string, signer nkeys.KeyPair, pubs []string) error {
	for _, pub := range pubs {
		req, err := DeleteRequest(signer, []string{pub})
		if err != nil {
			return err
		}
		u := AccountsURL(accountServerURL, pub)
		status, body, err := do(ctx, client, http.MethodDelete, u, []byte(req))
		if err != nil {
			return fmt.Errorf("delete account %s: %w", pub, err)
		}
		switch status {
		case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusNotFound:
		default:
			return &HTTPError{Method: http.MethodDelete, URL: u, Status: status, Reason: firstLine(body)}
		}
	}
	return nil
}

// OperatorJWTURL is where to fetch an operator JWT given url: the URL of the JWT itself
// (http://host/jwt/v1/operator), or the base URL of an account server as operators carry it and
// signet dev prints it (http://host/jwt/v1, which gets /operator; .../jwt/v1/accounts too), or
// just the server (http://host:9090, which gets /jwt/v1/operator). Any other URL is kept: an
// operator JWT may be any file on a web server.
func OperatorJWTURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case p == "":
		p = "/jwt/v1/operator"
	case strings.HasSuffix(p, "/jwt/v1"):
		p += "/operator"
	case strings.HasSuffix(p, "/jwt/v1/accounts"):
		p = strings.TrimSuffix(p, "/accounts") + "/operator"
	default:
		return rawURL
	}
	u.Path, u.RawPath = p, ""
	return u.String()
}

// FetchOperatorJWT downloads an operator JWT from OperatorJWTURL(url) and returns it with its
// decoded claims. A decorated JWT (as in a creds-style file) is accepted. Its errors name the
// URL fetched once, and say what came back when it is not an operator JWT.
func FetchOperatorJWT(ctx context.Context, client *http.Client, rawURL string) (string, *jwt.OperatorClaims, error) {
	u := OperatorJWTURL(rawURL)
	resp, body, err := get(ctx, client, u)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the method and URL
		}
		return "", nil, fmt.Errorf("fetch operator JWT from %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", nil, &HTTPError{Method: http.MethodGet, URL: u, Status: resp.StatusCode, Reason: firstLine(body)}
	}
	tok, err := jwt.ParseDecoratedJWT(bytes.TrimSpace(body))
	if err == nil {
		var oc *jwt.OperatorClaims
		if oc, err = jwt.DecodeOperatorClaims(tok); err == nil {
			return tok, oc, nil
		}
	}
	return "", nil, fmt.Errorf("fetch operator JWT from %s: not an operator JWT: the server sent %s", u, describeBody(resp.Header.Get("Content-Type"), body))
}

// describeBody says what an answer holds, for an error: the kind of JWT it is, else its content
// type, size and first line.
func describeBody(contentType string, body []byte) string {
	text := bytes.TrimSpace(body)
	if len(text) == 0 {
		return "an empty answer"
	}
	if tok, err := jwt.ParseDecoratedJWT(text); err == nil {
		if c, err := jwt.Decode(tok); err == nil {
			return fmt.Sprintf("a JWT of type %q for %s", c.ClaimType(), c.Claims().Subject)
		}
	}
	if contentType == "" {
		contentType = http.DetectContentType(body)
	}
	first := firstLine(body)
	if len(first) > 80 {
		first = first[:80] + "..."
	}
	return fmt.Sprintf("%s (%d bytes) starting %q", contentType, len(body), first)
}

// get is do for a GET that also returns the response (for its headers; the body is read).
func get(ctx context.Context, client *http.Client, u string) (*http.Response, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp, data, nil
}

// do runs one request and reads at most maxBody bytes of the answer.
func do(ctx context.Context, client *http.Client, method, url string, body []byte) (int, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/jwt")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	return resp.StatusCode, data, nil
}

// firstLine is the first non-empty line of an error body, bounded, for messages.
func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
