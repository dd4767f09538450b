package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/signet-dev/signet/authz"
)

// Spec is one operator's desired state.
type Spec struct {
	// SystemAccount names the account of this file that is the operator's system account.
	SystemAccount string `json:"system_account,omitempty" yaml:"system_account,omitempty" jsonschema:"description=name of the account (in this file) that is the operator's system account"`
	// Accounts by name.
	Accounts map[string]*Account `json:"accounts,omitempty" yaml:"accounts,omitempty" jsonschema:"description=accounts by name"`
}

// Account is the desired state of one account. Fields the spec leaves out of an account
// (trace context, authorization callout, revocations) are left as they are in the store.
type Account struct {
	Description string   `json:"description,omitempty" yaml:"description,omitempty"`
	InfoURL     string   `json:"info_url,omitempty" yaml:"info_url,omitempty"`
	Tags        []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	// Expires is an absolute time (yyyy-mm-dd or RFC 3339): a relative one would change on
	// every apply.
	Expires string `json:"expires,omitempty" yaml:"expires,omitempty" jsonschema:"description=yyyy-mm-dd or RFC 3339 time"`

	Limits    *Limits    `json:"limits,omitempty" yaml:"limits,omitempty"`
	JetStream *JetStream `json:"jetstream,omitempty" yaml:"jetstream,omitempty" jsonschema:"description=JetStream limits: the global ones or tiers (R1 R3...); absent means JetStream is off"`

	Exports  []Export             `json:"exports,omitempty" yaml:"exports,omitempty"`
	Imports  []Import             `json:"imports,omitempty" yaml:"imports,omitempty"`
	Mappings map[string][]Mapping `json:"mappings,omitempty" yaml:"mappings,omitempty" jsonschema:"description=subject mappings: from subject -> weighted destinations"`

	DefaultPermissions *Permissions `json:"default_permissions,omitempty" yaml:"default_permissions,omitempty" jsonschema:"description=permissions of users that have none of their own"`

	// UnscopedSigningKeys is how many signing keys without a scope the account has.
	UnscopedSigningKeys int `json:"unscoped_signing_keys,omitempty" yaml:"unscoped_signing_keys,omitempty" jsonschema:"minimum=0,description=how many signing keys without a scope the account has"`
	// SigningKeys are the scoped signing keys by role name.
	SigningKeys map[string]*Scope `json:"signing_keys,omitempty" yaml:"signing_keys,omitempty" jsonschema:"description=scoped signing keys by role name"`

	// ManageUsers: users of the account that the file does not list are deleted by apply
	// --prune (and reported by plan). Without it they are left alone (unmanaged).
	ManageUsers bool             `json:"manage_users,omitempty" yaml:"manage_users,omitempty" jsonschema:"description=users missing from the file are deleted by apply --prune (default: left alone)"`
	Users       map[string]*User `json:"users,omitempty" yaml:"users,omitempty" jsonschema:"description=users that belong in the file by name"`
}

// Limits are the account's connection and message limits. An absent value is the default:
// unlimited (-1), wildcard exports allowed, bearer tokens allowed.
type Limits struct {
	Conns           *int64 `json:"conns,omitempty" yaml:"conns,omitempty" jsonschema:"description=max client connections (-1 unlimited)"`
	LeafConns       *int64 `json:"leaf_conns,omitempty" yaml:"leaf_conns,omitempty" jsonschema:"description=max leaf node connections (-1 unlimited)"`
	Subs            *int64 `json:"subs,omitempty" yaml:"subs,omitempty" jsonschema:"description=max subscriptions (-1 unlimited)"`
	Payload         *Size  `json:"payload,omitempty" yaml:"payload,omitempty" jsonschema:"description=max message payload (bytes or 1MB or 512KiB...; -1 unlimited)"`
	Data            *Size  `json:"data,omitempty" yaml:"data,omitempty" jsonschema:"description=max data in flight (bytes or units; -1 unlimited)"`
	Imports         *int64 `json:"imports,omitempty" yaml:"imports,omitempty" jsonschema:"description=max imports (-1 unlimited)"`
	Exports         *int64 `json:"exports,omitempty" yaml:"exports,omitempty" jsonschema:"description=max exports (-1 unlimited)"`
	WildcardExports *bool  `json:"wildcard_exports,omitempty" yaml:"wildcard_exports,omitempty" jsonschema:"description=exports may use wildcards (default true)"`
	DisallowBearer  bool   `json:"disallow_bearer,omitempty" yaml:"disallow_bearer,omitempty" jsonschema:"description=refuse bearer-token users"`
}

// JetStreamLimits are one set of JetStream limits (jwt/v2's): 0 disables a storage, -1 is
// unlimited.
type JetStreamLimits struct {
	MemStorage         *Size  `json:"mem_storage,omitempty" yaml:"mem_storage,omitempty"`
	DiskStorage        *Size  `json:"disk_storage,omitempty" yaml:"disk_storage,omitempty"`
	Streams            *int64 `json:"streams,omitempty" yaml:"streams,omitempty"`
	Consumers          *int64 `json:"consumers,omitempty" yaml:"consumers,omitempty"`
	MaxAckPending      *int64 `json:"max_ack_pending,omitempty" yaml:"max_ack_pending,omitempty"`
	MaxMemStreamBytes  *Size  `json:"max_mem_stream,omitempty" yaml:"max_mem_stream,omitempty"`
	MaxDiskStreamBytes *Size  `json:"max_disk_stream,omitempty" yaml:"max_disk_stream,omitempty"`
	MaxBytesRequired   bool   `json:"max_bytes_required,omitempty" yaml:"max_bytes_required,omitempty"`
}

// JetStream is the account's JetStream: global limits, or per-replication tiers (R1, R3...),
// never both.
type JetStream struct {
	JetStreamLimits `yaml:",inline"`
	Tiers           map[string]*JetStreamLimits `json:"tiers,omitempty" yaml:"tiers,omitempty" jsonschema:"description=limits per tier: R1 R3..."`
}

// Export is a stream or service the account offers other accounts.
type Export struct {
	Subject string `json:"subject" yaml:"subject"`
	// Type is stream (the default) or service.
	Type string `json:"type,omitempty" yaml:"type,omitempty" jsonschema:"enum=stream,enum=service,description=stream (default) or service"`
	Name string `json:"name,omitempty" yaml:"name,omitempty" jsonschema:"description=default: the subject"`
	// TokenRequired makes the export private: importers need an activation token, which apply
	// makes for the importers of this file.
	TokenRequired        bool     `json:"token_required,omitempty" yaml:"token_required,omitempty"`
	ResponseType         string   `json:"response_type,omitempty" yaml:"response_type,omitempty" jsonschema:"enum=Singleton,enum=Stream,enum=Chunked,description=service: default Singleton"`
	ResponseThreshold    Duration `json:"response_threshold,omitempty" yaml:"response_threshold,omitempty"`
	Latency              *Latency `json:"latency,omitempty" yaml:"latency,omitempty"`
	AccountTokenPosition uint     `json:"account_token_position,omitempty" yaml:"account_token_position,omitempty"`
	Advertise            bool     `json:"advertise,omitempty" yaml:"advertise,omitempty"`
	AllowTrace           bool     `json:"allow_trace,omitempty" yaml:"allow_trace,omitempty"`
	Description          string   `json:"description,omitempty" yaml:"description,omitempty"`
	InfoURL              string   `json:"info_url,omitempty" yaml:"info_url,omitempty"`
}

// Latency is a service export's latency tracking.
type Latency struct {
	Results string `json:"results" yaml:"results"`
	// Sampling is a percentage 1-100 or "headers".
	Sampling string `json:"sampling,omitempty" yaml:"sampling,omitempty" jsonschema:"description=1-100 or headers (default 100)"`
}

// Import takes another account's export. Account names an account of this file (or, for an
// account of another operator, its public key).
type Import struct {
	Account      string `json:"account" yaml:"account" jsonschema:"description=exporting account: a name in this file or an account public key"`
	Subject      string `json:"subject" yaml:"subject" jsonschema:"description=subject as the exporting account exports it"`
	LocalSubject string `json:"local_subject,omitempty" yaml:"local_subject,omitempty"`
	Type         string `json:"type,omitempty" yaml:"type,omitempty" jsonschema:"enum=stream,enum=service,description=default: the type of the export"`
	Name         string `json:"name,omitempty" yaml:"name,omitempty" jsonschema:"description=default: the subject"`
	Share        bool   `json:"share,omitempty" yaml:"share,omitempty"`
	AllowTrace   bool   `json:"allow_trace,omitempty" yaml:"allow_trace,omitempty"`
}

// Mapping is one weighted destination of a subject mapping.
type Mapping struct {
	To      string `json:"to" yaml:"to"`
	Weight  int    `json:"weight,omitempty" yaml:"weight,omitempty" jsonschema:"minimum=1,maximum=100,description=percentage (default 100)"`
	Cluster string `json:"cluster,omitempty" yaml:"cluster,omitempty"`
}

// PermList is an allow and a deny list of subjects.
type PermList struct {
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty" yaml:"deny,omitempty"`
}

// Response lets a subscriber publish replies to requests it received.
type Response struct {
	Max int      `json:"max" yaml:"max" jsonschema:"description=max responses per request (-1 unlimited)"`
	TTL Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
}

// Permissions are publish, subscribe and response permissions. Subjects may hold templates
// ({{name()}}, {{tag(x)}}...) in a signing key's scope.
type Permissions struct {
	Pub  *PermList `json:"pub,omitempty" yaml:"pub,omitempty"`
	Sub  *PermList `json:"sub,omitempty" yaml:"sub,omitempty"`
	Resp *Response `json:"resp,omitempty" yaml:"resp,omitempty"`
}

// UserLimits are what a user (or a scope's template) may do: permissions and limits.
type UserLimits struct {
	Permissions `yaml:",inline"`
	Subs        *int64      `json:"subs,omitempty" yaml:"subs,omitempty"`
	Data        *Size       `json:"data,omitempty" yaml:"data,omitempty"`
	Payload     *Size       `json:"payload,omitempty" yaml:"payload,omitempty"`
	Bearer      bool        `json:"bearer,omitempty" yaml:"bearer,omitempty"`
	Src         []string    `json:"source_networks,omitempty" yaml:"source_networks,omitempty"`
	Times       []TimeRange `json:"times,omitempty" yaml:"times,omitempty"`
	Locale      string      `json:"locale,omitempty" yaml:"locale,omitempty"`
	ConnTypes   []string    `json:"conn_types,omitempty" yaml:"conn_types,omitempty"`
}

// TimeRange is a daily window (hh:mm:ss) in which a user may connect.
type TimeRange struct {
	Start string `json:"start" yaml:"start"`
	End   string `json:"end" yaml:"end"`
}

// Scope is a scoped signing key: every user it signs gets the template's permissions and
// limits (templates expanded per user), and no permissions of its own.
type Scope struct {
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	UserLimits  `yaml:",inline"`
}

// User is a user that belongs in the file (a service user, typically).
type User struct {
	// SigningKey is the role of the scoped signing key that signs the user; empty: the
	// account's usual signer (an unscoped signing key, else the account key).
	SigningKey string   `json:"signing_key,omitempty" yaml:"signing_key,omitempty" jsonschema:"description=role of the scoped signing key that signs the user (default: an unscoped signing key or else the account key)"`
	Tags       []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Expires    string   `json:"expires,omitempty" yaml:"expires,omitempty" jsonschema:"description=yyyy-mm-dd or RFC 3339 time"`
	UserLimits `yaml:",inline"`
}

// Size is a byte count or a count: a number, or a string with a unit ("1MB", "512KiB"); -1 is
// unlimited.
type Size int64

// UnmarshalYAML reads a number or a size with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size (a number, or 1MB, 512KiB...)", n.Line)
	}
	if n.Tag == "!!int" {
		v, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		*s = Size(v)
		return nil
	}
	v, err := authz.ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// JSONSchema describes a Size: an integer or a string with a unit.
func (Size) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "integer", Minimum: "-1"},
		{Type: "string", Pattern: `^\s*(-1|[0-9]+\s*[A-Za-z]*)\s*$`},
	}, Description: "a number, or a size with a unit (1MB, 512KiB, 2GiB); -1 is unlimited"}
}

// Duration is a Go duration written as a string ("5s", "1m").
type Duration time.Duration

// UnmarshalYAML reads a duration such as 500ms, 5s or 1m.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 500ms, 5s or 1m", n.Line)
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: invalid duration %q: use one such as 500ms, 5s or 1m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("want a duration string such as \"5s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// JSONSchema describes a Duration.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, Description: "a duration such as 500ms, 5s or 1m"}
}
