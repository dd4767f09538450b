package inspect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/plural"
)

// The JSON that describe prints is a contract with scripts written for nsc, so it is the JWT's
// own body (not the claims re-encoded by this version of jwt/v2: a field the library does not
// know is still printed), keys sorted, indented by one space, <, > and & left as they are; and a
// --field value is compact JSON with Go's default escaping, a string quoted so `jq -r` reads it.

// jwtBody decodes the payload of a JWT. Numbers keep their exact text.
func jwtBody(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: expected 3 parts separated by '.', found %d", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode JWT payload: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode JWT payload: %w", err)
	}
	return m, nil
}

// bodyJSON is the body of token as `describe --json` prints it (with its trailing newline).
func bodyJSON(token string) ([]byte, error) {
	m, err := jwtBody(token)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// Field returns, as JSON, the value at path in the body of token. A path is dotted keys with
// optional indexes: "sub", "nats.limits.conn", "nats.signing_keys[0]" (or "nats.signing_keys.0").
// A key that is absent gives null, as in nsc; reading into a value that is not an object or a
// list, or an index out of range, is an error.
func Field(token, path string) ([]byte, error) {
	m, err := jwtBody(token)
	if err != nil {
		return nil, err
	}
	steps, err := fieldSteps(path)
	if err != nil {
		return nil, err
	}
	var cur any = m
	walked := ""
	for _, step := range steps {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[step]
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil {
				return nil, fmt.Errorf("field %q: %s is a list: %q is not an index", path, orTop(walked), step)
			}
			if i < 0 || i >= len(v) {
				return nil, fmt.Errorf("field %q: index %d is out of range: %s has %s", path, i, orTop(walked), plural.N(len(v), "element"))
			}
			cur = v[i]
		case nil:
			return nil, fmt.Errorf("field %q: %s is null: it has no %q", path, orTop(walked), step)
		default:
			return nil, fmt.Errorf("field %q: %s is a value (%v), not an object or a list", path, orTop(walked), v)
		}
		if walked != "" {
			walked += "."
		}
		walked += step
	}
	out, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("field %q: encode JSON: %w", path, err)
	}
	return out, nil
}

func orTop(walked string) string {
	if walked == "" {
		return "the JWT body"
	}
	return strconv.Quote(walked)
}

// fieldSteps splits a path into keys and indexes: "a.b[0][1].c" gives a, b, 0, 1, c.
func fieldSteps(path string) ([]string, error) {
	var steps []string
	for _, seg := range strings.Split(path, ".") {
		ob := strings.IndexByte(seg, '[')
		if ob < 0 {
			steps = append(steps, seg)
			continue
		}
		if ob > 0 {
			steps = append(steps, seg[:ob])
		}
		rest := seg[ob:]
		for rest != "" {
			cb := strings.IndexByte(rest, ']')
			if rest[0] != '[' || cb < 0 {
				return nil, fmt.Errorf("field %q: bad index expression %q: write key[N]", path, seg)
			}
			steps = append(steps, rest[1:cb])
			rest = rest[cb+1:]
		}
	}
	return steps, nil
}
