package accountserver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/redact"
)

// seed003 is the configuration of seed 003 (nats-account-server with notifications), verbatim.
const seed003 = `operatorjwtpath: "/users/synadia/.nsc/nats/AAA/AAA.jwt",
systemaccountjwtpath: "/users/synadia/.nsc/nats/AAA/accounts/SYS/SYS.jwt"
http {
port: 9090
},
store {
dir: "/tmp/as_store",
readonly: false,
shard: true
}
nats {
servers: [nats://localhost:4222]
usercredentials: "/Users/synadia/.nkeys/AAA/accounts/SYS/users/sys.creds"
}
`

func TestParseSeed003(t *testing.T) {
	cfg, err := ParseConfig([]byte(seed003))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		OperatorJWTPath:      "/users/synadia/.nsc/nats/AAA/AAA.jwt",
		SystemAccountJWTPath: "/users/synadia/.nsc/nats/AAA/accounts/SYS/SYS.jwt",
		HTTP:                 HTTPConfig{Port: 9090},
		Store:                StoreConfig{Dir: "/tmp/as_store", Shard: true},
		NATS: NATSConfig{
			Servers:         []string{"nats://localhost:4222"},
			UserCredentials: "/Users/synadia/.nkeys/AAA/accounts/SYS/users/sys.creds",
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestParseFullConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
operatorjwtpath: "op.jwt"
http { host: "0.0.0.0", port: 8080, readtimeout: 5000, writetimeout: "5s", idletimeout: "30s", tls { cert: "c.pem", key: "k.pem" } }
store { dir: "/s", readonly: true, shard: false, cleanupinterval: "1m" }
nats {
  servers: ["nats://a:4222", "nats://b:4222"]
  usercredentials: "sys.creds"
  connecttimeout: 2000
  reconnectwait: "250ms"
  maxreconnects: 10
  tls { root: "ca.pem", cert: "c.pem", key: "k.pem" }
}
logging { debug: true, trace: false, time: true }
signing { key: "op.nk", default_limits { conns: 10, payload: 1024 } }
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.ReadTimeout != 5*time.Second || cfg.HTTP.WriteTimeout != 5*time.Second || cfg.HTTP.IdleTimeout != 30*time.Second {
		t.Errorf("http timeouts %v %v %v", cfg.HTTP.ReadTimeout, cfg.HTTP.WriteTimeout, cfg.HTTP.IdleTimeout)
	}
	if cfg.NATS.ConnectTimeout != 2*time.Second || cfg.NATS.ReconnectWait != 250*time.Millisecond {
		t.Errorf("nats durations %v %v", cfg.NATS.ConnectTimeout, cfg.NATS.ReconnectWait)
	}
	if cfg.Store.CleanupInterval != time.Minute || !cfg.Store.ReadOnly {
		t.Errorf("store %+v", cfg.Store)
	}
	if len(cfg.NATS.Servers) != 2 || cfg.NATS.TLS.Root != "ca.pem" || cfg.HTTP.TLS.Key != "k.pem" {
		t.Errorf("nats %+v http %+v", cfg.NATS, cfg.HTTP)
	}
	if !cfg.Logging.Debug || !cfg.Logging.Time || cfg.Signing.DefaultLimits.Conns != 10 || cfg.Signing.DefaultLimits.Payload != 1024 {
		t.Errorf("logging %+v signing %+v", cfg.Logging, cfg.Signing)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, conf string
		want       []string
	}{
		{"unknown top key", "operatorjwtpath: x\nbogus: 1\n", []string{`"bogus"`, "line 2", "unknown key"}},
		{"unknown nested key", "http {\n  port: 1\n  prot: 2\n}\n", []string{`"http.prot"`, "line 3"}},
		{"wrong type", "store {\n  shard: \"yes\"\n}\n", []string{`"store.shard"`, "line 2", "true or false"}},
		{"port as string", "http { port: \"x\" }\n", []string{`"http.port"`, "line 1", "integer"}},
		{"bad duration", "nats {\n reconnectwait: \"soon\"\n}\n", []string{`"nats.reconnectwait"`, "line 2"}},
		{"block expected", "store: 1\n", []string{`"store"`, "block"}},
		{"syntax", "http { port: \n", []string{"parse config"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.conf))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(p, []byte(seed003), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil || !cfg.Store.Shard {
		t.Fatalf("LoadConfig: %+v, %v", cfg, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.conf")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestParseKVStoreBlock(t *testing.T) {
	cfg, err := ParseConfig([]byte(`operatorjwtpath: "op.jwt"
store {
  kv {
    bucket: "accounts"
    replicas: 3
    history: 20
    servers: ["nats://u:secret@kv1:4222", "nats://kv2:4222"]
    usercredentials: "kv.creds"
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &KVConfig{Bucket: "accounts", Replicas: 3, History: 20,
		Servers: []string{"nats://u:secret@kv1:4222", "nats://kv2:4222"}, UserCredentials: "kv.creds"}
	if !reflect.DeepEqual(cfg.Store.KV, want) {
		t.Fatalf("kv block: %+v", cfg.Store.KV)
	}
	if got := redact.URLs(cfg.Store.KV.Servers); strings.Contains(got, "secret") || !strings.Contains(got, "kv1:4222") {
		t.Fatalf("servers as logged: %q", got)
	}
}

func TestParseKVStoreRefusesWhatCannotGoTogether(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`store { dir: "/x", kv { } }`, "dir or kv"},
		{`store { readonly: true, kv { } }`, "readonly"},
		{`store { kv { replicas: 7 } }`, "replicas 7"},
		{`store { kv { history: 2 } }`, "history 2"},
		{`store { kv { bucket: 5 } }`, "bucket"},
		{`store { kv { color: "red" } }`, "color"},
	} {
		if _, err := ParseConfig([]byte(tc.conf)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.conf, err, tc.want)
		}
	}
}
