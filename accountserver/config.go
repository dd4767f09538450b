package accountserver

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/conf"

	"github.com/signet-dev/signet/jwtstore"
)

// DefaultHTTPPort is the port of nats-account-server, kept so existing resolver URLs work.
const DefaultHTTPPort = 9090

// Config is the account server's configuration. ParseConfig fills it from a file in the NATS
// configuration format with the keys of nats-account-server; the zero value plus a Backend is a
// usable in-memory server on a random port.
type Config struct {
	// OperatorJWTPath is the file of the operator JWT whose keys sign accounts.
	OperatorJWTPath string
	// OperatorJWT is the operator JWT itself; it wins over OperatorJWTPath (the CLI resolves an
	// operator name from the signet store into it).
	OperatorJWT string
	// SystemAccountJWTPath is served for the system account when the store has none.
	SystemAccountJWTPath string

	HTTP    HTTPConfig
	Store   StoreConfig
	NATS    NATSConfig
	Logging LoggingConfig
	Signing SigningConfig

	// Backend, when set, is used instead of opening Store.Dir (tests, other backends). The
	// server does not close it.
	Backend jwtstore.Store
}

// HTTPConfig is the http { } block.
type HTTPConfig struct {
	// Host to listen on; default 127.0.0.1.
	Host string
	// Port to listen on; 0 or -1 picks a free port.
	Port int
	TLS  TLSConfig
	// ReadTimeout bounds reading a whole request, body included (default DefaultReadTimeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response; 0 = none (a pack of a large store takes time).
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle for that long (default DefaultIdleTimeout).
	IdleTimeout time.Duration
}

// Defaults for the HTTP timeouts left at zero: a client that sends its request slowly, or keeps
// a connection open and idle, is cut off within about as long as nats-account-server allowed.
const (
	DefaultReadTimeout       = 10 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout       = 10 * time.Second
)

// TLSConfig holds file paths for TLS.
type TLSConfig struct {
	Root string // CA bundle (NATS client side only)
	Cert string
	Key  string
}

// StoreConfig is the store { } block.
type StoreConfig struct {
	Dir      string
	ReadOnly bool
	Shard    bool
	// CleanupInterval is accepted for nats-account-server compatibility; the directory store
	// keeps nothing to clean up.
	CleanupInterval time.Duration
	// KV, when set (a kv { } block), keeps the accounts in a JetStream KV bucket shared by
	// every signet serve pointed at it, instead of Dir.
	KV *KVConfig
}

// KVConfig is the store { kv { } } block: a JetStream KV bucket shared by replicas.
type KVConfig struct {
	// Bucket is the bucket's name; default jwtstore.DefaultKVBucket.
	Bucket string
	// Replicas is the bucket's replication when it is created; default 1.
	Replicas int
	// History is how many revisions of each account the bucket keeps when it is created;
	// default jwtstore.DefaultKVHistory.
	History int
	// Servers are the JetStream servers; default the nats { } block's servers.
	Servers []string
	// UserCredentials is a creds file of a user of a JetStream-enabled account.
	UserCredentials string
	TLS             TLSConfig
	// AckWait is how long a change taken by a replica that went silent waits before another
	// replica announces it; default jwtstore.DefaultKVAckWait. Not a configuration file key.
	AckWait time.Duration
	// OpenWait is how long the server waits at start for the bucket's servers to be ready;
	// default one minute. Not a configuration file key.
	OpenWait time.Duration
	// FailFast: connect once and do not wait for the bucket (commands, not replicas). Not a
	// configuration file key.
	FailFast bool
}

// NATSConfig is the nats { } block: the system-account connection for notifications and the
// resolver protocol.
type NATSConfig struct {
	Servers         []string
	UserCredentials string
	ConnectTimeout  time.Duration
	ReconnectWait   time.Duration
	// MaxReconnects is accepted for compatibility; signet serve always reconnects forever, so
	// that no update is lost.
	MaxReconnects int
	TLS           TLSConfig
	// SyncInterval is how often the store hash is compared with the full resolvers'
	// ($SYS.REQ.CLAIMS.PACK); default one minute.
	SyncInterval time.Duration
	// Name is the server name in resolver protocol replies; default "signet".
	Name string
	// SettleAfterConnect is how long a new connection must be up before an answer to an
	// announcement made on it confirms that announcement (a nats-server accepts clients before
	// its routes are up); default 2s. Negative: at once, for a lone nats-server without routes
	// (signet dev's embedded one). Not a configuration file key.
	SettleAfterConnect time.Duration
}

// LoggingConfig is the logging { } block.
type LoggingConfig struct {
	Debug  bool
	Trace  bool
	Time   bool
	Colors bool
	PID    bool
}

// SigningConfig is the signing { } block: with a key, the server signs accounts itself (the
// managed-operator mode).
type SigningConfig struct {
	// Key is the path of a seed file with an operator signing key (or the operator key).
	Key string
	// DefaultLimits are applied to accounts the server signs when the account leaves them
	// unlimited.
	DefaultLimits Limits
	// MaxLimits caps what a self-signed account may ask for; zero fields do not cap.
	MaxLimits Limits
}

// Limits are account limits of the signing policy; zero means "not set".
type Limits struct {
	Conns         int64
	LeafNodeConns int64
	Data          int64
	Payload       int64
	Subscriptions int64
	Imports       int64
	Exports       int64
}

// LoadConfig reads and parses a configuration file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses a configuration in the NATS format. Unknown keys and values of the wrong
// type are errors naming the key and its line.
func ParseConfig(data []byte) (Config, error) {
	m, err := conf.ParseWithChecks(string(data))
	if err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	cfg := Config{HTTP: HTTPConfig{Port: DefaultHTTPPort}}
	p := &cfgParser{}
	p.block("", m, map[string]func(string, any){
		"operatorjwtpath":      p.str(&cfg.OperatorJWTPath),
		"systemaccountjwtpath": p.str(&cfg.SystemAccountJWTPath),
		"http": p.sub(map[string]func(string, any){
			"host":         p.str(&cfg.HTTP.Host),
			"port":         p.integer(&cfg.HTTP.Port),
			"tls":          p.tls(&cfg.HTTP.TLS),
			"readtimeout":  p.duration(&cfg.HTTP.ReadTimeout),
			"writetimeout": p.duration(&cfg.HTTP.WriteTimeout),
			"idletimeout":  p.duration(&cfg.HTTP.IdleTimeout),
		}),
		"store": p.sub(map[string]func(string, any){
			"dir":             p.str(&cfg.Store.Dir),
			"readonly":        p.boolean(&cfg.Store.ReadOnly),
			"shard":           p.boolean(&cfg.Store.Shard),
			"cleanupinterval": p.duration(&cfg.Store.CleanupInterval),
			"kv": func(key string, v any) {
				cfg.Store.KV = &KVConfig{}
				kv := cfg.Store.KV
				p.sub(map[string]func(string, any){
					"bucket":          p.str(&kv.Bucket),
					"replicas":        p.integer(&kv.Replicas),
					"history":         p.integer(&kv.History),
					"servers":         p.strs(&kv.Servers),
					"usercredentials": p.str(&kv.UserCredentials),
					"tls":             p.tls(&kv.TLS),
				})(key, v)
			},
		}),
		"nats": p.sub(map[string]func(string, any){
			"servers":         p.strs(&cfg.NATS.Servers),
			"usercredentials": p.str(&cfg.NATS.UserCredentials),
			"connecttimeout":  p.duration(&cfg.NATS.ConnectTimeout),
			"reconnectwait":   p.duration(&cfg.NATS.ReconnectWait),
			"maxreconnects":   p.integer(&cfg.NATS.MaxReconnects),
			"tls":             p.tls(&cfg.NATS.TLS),
			"syncinterval":    p.duration(&cfg.NATS.SyncInterval),
			"name":            p.str(&cfg.NATS.Name),
		}),
		"logging": p.sub(map[string]func(string, any){
			"debug":  p.boolean(&cfg.Logging.Debug),
			"trace":  p.boolean(&cfg.Logging.Trace),
			"time":   p.boolean(&cfg.Logging.Time),
			"colors": p.boolean(&cfg.Logging.Colors),
			"pid":    p.boolean(&cfg.Logging.PID),
		}),
		"signing": p.sub(map[string]func(string, any){
			"key":            p.str(&cfg.Signing.Key),
			"default_limits": p.limits(&cfg.Signing.DefaultLimits),
			"max_limits":     p.limits(&cfg.Signing.MaxLimits),
		}),
	})
	if p.err != nil {
		return Config{}, p.err
	}
	// What the file alone gets wrong; a store setting that needs a dir may still get one from
	// a flag (signet serve -c FILE --dir DIR): Check, on the merged configuration, decides that.
	if err := cfg.HTTP.check(); err != nil {
		return Config{}, err
	}
	if err := cfg.Store.check(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Check refuses settings that cannot go together or that would be ignored: run it on the
// configuration as it will be served (file and flags merged), before opening anything.
func (c Config) Check() error {
	if err := c.HTTP.check(); err != nil {
		return err
	}
	if err := c.Store.check(); err != nil {
		return err
	}
	if c.Backend == nil && c.Store.Dir == "" && c.Store.KV == nil {
		switch {
		case c.Store.ReadOnly:
			return errors.New("store: readonly needs a store directory (--dir, or dir in the store block): the memory store would take writes")
		case c.Store.Shard:
			return errors.New("store: shard needs a store directory (--dir, or dir in the store block): the memory store has no files to shard")
		}
	}
	return nil
}

func (hc HTTPConfig) check() error {
	if hc.Port < -1 || hc.Port > 65535 {
		return fmt.Errorf("http: port %d: want 1 to 65535 (0 or -1: a free port)", hc.Port)
	}
	return nil
}

// check refuses store settings that cannot go together.
func (sc StoreConfig) check() error {
	if sc.KV == nil {
		return nil
	}
	switch {
	case sc.Dir != "":
		return errors.New("store: set dir or kv, not both (signet serve --import-dir DIR loads a directory into the bucket)")
	case sc.ReadOnly:
		return errors.New("store: readonly does not apply to kv; JetStream permissions decide who may write")
	case sc.Shard:
		return errors.New("store: shard does not apply to kv; it is a layout of a store directory")
	case sc.KV.Replicas < 0 || sc.KV.Replicas > 5:
		return fmt.Errorf("store: kv replicas %d: JetStream allows 1 to 5", sc.KV.Replicas)
	case sc.KV.History != 0 && (sc.KV.History < 5 || sc.KV.History > 64):
		return fmt.Errorf("store: kv history %d: keep 5 to 64 revisions of each account", sc.KV.History)
	}
	return nil
}

// token is what the pedantic parser wraps every value in.
type token interface {
	Value() any
	Line() int
}

func unwrap(v any) (any, int) {
	if t, ok := v.(token); ok {
		return t.Value(), t.Line()
	}
	return v, 0
}

// cfgParser walks the parsed map; the first error wins.
type cfgParser struct {
	err error
}

func (p *cfgParser) fail(key string, line int, format string, args ...any) {
	if p.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		p.err = fmt.Errorf("line %d: %q: %s", line, key, msg)
	} else {
		p.err = fmt.Errorf("%q: %s", key, msg)
	}
}

func (p *cfgParser) block(prefix string, m map[string]any, fields map[string]func(string, any)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		set, ok := fields[strings.ToLower(k)]
		if !ok {
			_, line := unwrap(m[k])
			known := make([]string, 0, len(fields))
			for f := range fields {
				known = append(known, f)
			}
			sort.Strings(known)
			p.fail(name, line, "unknown key (known here: %s)", strings.Join(known, ", "))
			continue
		}
		set(name, m[k])
	}
}

func (p *cfgParser) sub(fields map[string]func(string, any)) func(string, any) {
	return func(key string, raw any) {
		v, line := unwrap(raw)
		m, ok := v.(map[string]any)
		if !ok {
			p.fail(key, line, "want a block { ... }, got %T", v)
			return
		}
		p.block(key, m, fields)
	}
}

func (p *cfgParser) str(dst *string) func(string, any) {
	return func(key string, raw any) {
		v, line := unwrap(raw)
		s, ok := v.(string)
		if !ok {
			p.fail(key, line, "want a string, got %T", v)
			return
		}
		*dst = s
	}
}

func (p *cfgParser) strs(dst *[]string) func(string, any) {
	return func(key string, raw any) {
		v, line := unwrap(raw)
		switch vv := v.(type) {
		case string:
			*dst = []string{vv}
		case []any:
			out := make([]string, 0, len(vv))
			for _, e := range vv {
				ev, _ := unwrap(e)
				s, ok := ev.(string)
				if !ok {
					p.fail(key, line, "want a list of strings, got an element of type %T", ev)
					return
				}
				out = append(out, s)
			}
			*dst = out
		default:
			p.fail(key, line, "want a string or a list of strings, got %T", v)
		}
	}
}

func (p *cfgParser) boolean(dst *bool) func(string, any) {
	return func(key string, raw any) {
		v, line := unwrap(raw)
		b, ok := v.(bool)
		if !ok {
			p.fail(key, line, "want true or false, got %T", v)
			return
		}
		*dst = b
	}
}

func (p *cfgParser) int64val(key string, raw any) (int64, bool) {
	v, line := unwrap(raw)
	n, ok := v.(int64)
	if !ok {
		p.fail(key, line, "want an integer, got %T", v)
	}
	return n, ok
}

func (p *cfgParser) integer(dst *int) func(string, any) {
	return func(key string, raw any) {
		if n, ok := p.int64val(key, raw); ok {
			*dst = int(n)
		}
	}
}

func (p *cfgParser) int64(dst *int64) func(string, any) {
	return func(key string, raw any) {
		if n, ok := p.int64val(key, raw); ok {
			*dst = n
		}
	}
}

// duration accepts milliseconds (nats-account-server's unit) or a Go duration string.
func (p *cfgParser) duration(dst *time.Duration) func(string, any) {
	return func(key string, raw any) {
		v, line := unwrap(raw)
		switch vv := v.(type) {
		case int64:
			*dst = time.Duration(vv) * time.Millisecond
		case float64:
			*dst = time.Duration(vv * float64(time.Millisecond))
		case string:
			d, err := time.ParseDuration(vv)
			if err != nil {
				p.fail(key, line, "want milliseconds or a duration like \"5s\": %v", err)
				return
			}
			*dst = d
		default:
			p.fail(key, line, "want milliseconds or a duration like \"5s\", got %T", v)
		}
	}
}

func (p *cfgParser) tls(dst *TLSConfig) func(string, any) {
	return p.sub(map[string]func(string, any){
		"root": p.str(&dst.Root),
		"ca":   p.str(&dst.Root),
		"cert": p.str(&dst.Cert),
		"key":  p.str(&dst.Key),
	})
}

func (p *cfgParser) limits(dst *Limits) func(string, any) {
	return p.sub(map[string]func(string, any){
		"conns":         p.int64(&dst.Conns),
		"leaf":          p.int64(&dst.LeafNodeConns),
		"data":          p.int64(&dst.Data),
		"payload":       p.int64(&dst.Payload),
		"subscriptions": p.int64(&dst.Subscriptions),
		"subs":          p.int64(&dst.Subscriptions),
		"imports":       p.int64(&dst.Imports),
		"exports":       p.int64(&dst.Exports),
	})
}
