package generate

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// ConfigOptions are the inputs of `generate config`.
type ConfigOptions struct {
	MemResolver       bool
	NatsResolver      bool
	NatsResolverCache bool
	SysAccount        string
	ConfigFile        string
	Force             bool

	// KVAccount selects the high-availability layout (docs/ha.md, topology 2): signet serve
	// keeps its accounts in a JetStream KV bucket of this account, on the very cluster it
	// serves. It implies the full NATS resolver.
	KVAccount string
	// KVUser and SysUser are the users whose creds signet serve connects with; default the
	// account's only user.
	KVUser, SysUser string
	// KVCreds and SysCreds are the creds paths written into the serve configuration; default
	// the keystore's creds file of KVUser and SysUser.
	KVCreds, SysCreds string
	// KVBucket and KVReplicas are the bucket's name and replication (defaults
	// jwtstore.DefaultKVBucket and 3).
	KVBucket   string
	KVReplicas int
	// NATSURLs are the servers signet serve connects to; default nats://localhost:4222.
	NATSURLs []string
	// ServeConfigFile receives the signet serve configuration (with ConfigFile, which then
	// receives the nats-server one).
	ServeConfigFile string
}

// NewCmdConfig builds `generate config`.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	o := &ConfigOptions{}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Generate a nats-server configuration trusting the current operator",
		Long: `Generate a nats-server configuration trusting the current operator.

--mem-resolver preloads every account of the operator (resolver: MEMORY); the server
must be restarted or reloaded to learn of changes. --nats-resolver makes the server a
full NATS-based resolver that stores accounts under ./jwt and accepts pushes;
--nats-resolver-cache makes it a caching one that looks accounts up from full resolvers.
Both preload only the system account.

--kv-account NAME writes the two configurations of signet serve in high availability with
its accounts in a JetStream KV bucket on the very cluster it serves (docs/ha.md, topology 2):
the nats-server one (full NATS resolver, the system account and NAME preloaded, JetStream on,
a cluster block to fill in) and the signet serve one (nats { } with a system user's creds,
store { kv { } } with a creds file of a user of NAME). NAME must have JetStream enabled
(signet edit account NAME --js-enable 0). Both go to stdout, one after the other, unless
--config-file and --serve-config-file name their files. Creds are referenced by path, never
copied into the files.`,
		Example: `  signet generate config --nats-resolver --config-file nats.conf
  signet generate config --kv-account KV --config-file nats.conf --serve-config-file signet-serve.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunConfig(f, o) },
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.MemResolver, "mem-resolver", false, "configure the memory resolver with every account preloaded")
	fs.BoolVar(&o.NatsResolver, "nats-resolver", false, "configure the full NATS-based resolver")
	fs.BoolVar(&o.NatsResolverCache, "nats-resolver-cache", false, "configure the caching NATS-based resolver")
	fs.StringVar(&o.SysAccount, "sys-account", "", "system account name or public key (default: the operator's system account)")
	fs.StringVar(&o.ConfigFile, "config-file", "", "write the configuration to this file instead of stdout ('--' is stdout, as in nsc)")
	fs.BoolVarP(&o.Force, "force", "F", false, "overwrite an existing --config-file (and --serve-config-file)")
	fs.StringVar(&o.KVAccount, "kv-account", "", "JetStream-enabled account holding signet serve's KV bucket: write the high-availability nats-server and signet serve configurations (implies --nats-resolver)")
	fs.StringVar(&o.KVUser, "kv-user", "", "user of the --kv-account whose creds signet serve uses for the bucket (default: the account's only user)")
	fs.StringVar(&o.SysUser, "sys-user", "", "user of the system account whose creds signet serve uses for announcements (default: the account's only user)")
	fs.StringVar(&o.KVCreds, "kv-creds", "", "creds path of the --kv-user written into the signet serve configuration (default: its file in the keystore)")
	fs.StringVar(&o.SysCreds, "sys-creds", "", "creds path of the --sys-user written into the signet serve configuration (default: its file in the keystore)")
	fs.StringVar(&o.KVBucket, "kv-bucket", "", "KV bucket name (default "+jwtstore.DefaultKVBucket+")")
	fs.IntVar(&o.KVReplicas, "kv-replicas", 0, fmt.Sprintf("KV bucket replicas, 1 to 5, at most the number of JetStream servers (default %d)", defaultKVReplicas))
	fs.StringSliceVar(&o.NATSURLs, "nats-url", nil, "NATS URL signet serve connects to, repeatable: every node of the cluster (default "+defaultNATSURL+")")
	fs.StringVar(&o.ServeConfigFile, "serve-config-file", "", "with --kv-account: write the signet serve configuration to this file (needs --config-file for the nats-server one)")
	compat.RefuseFlag(f, cmd, "nkey", "", "signet writes JWT configurations only (--mem-resolver, --nats-resolver or --nats-resolver-cache)")
	compat.RefuseValueFlag(f, cmd, "dir", "", "write the --mem-resolver configuration into one file with --config-file FILE")
	return cmd
}

// RunConfig builds the configuration and prints or writes it.
func RunConfig(f *cmdutil.Factory, o *ConfigOptions) error {
	n := 0
	for _, b := range []bool{o.MemResolver, o.NatsResolver, o.NatsResolverCache} {
		if b {
			n++
		}
	}
	if o.KVAccount != "" {
		if o.MemResolver || o.NatsResolverCache {
			return errors.New("--kv-account needs the full NATS resolver (the only one that both preloads accounts and learns new ones from signet serve): drop --mem-resolver and --nats-resolver-cache")
		}
		return runKVConfig(f, o)
	}
	if flag := kvOnlyFlag(o); flag != "" {
		return fmt.Errorf("%s belongs to the high-availability configuration: add --kv-account NAME", flag)
	}
	if n != 1 {
		return errors.New("choose exactly one of --mem-resolver, --nats-resolver or --nats-resolver-cache (or --kv-account NAME)")
	}
	var path string
	if o.ConfigFile != "" && o.ConfigFile != "--" { // nsc's "--" is stdout
		p, err := outputPath(f, o.ConfigFile)
		if err != nil {
			return err
		}
		path = p
		if _, err := os.Stat(path); err == nil && !o.Force {
			return fmt.Errorf("%q exists: pass --force to overwrite it", path)
		}
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	oc, opJWT, err := s.Operator()
	if err != nil {
		return err
	}
	sysName, sysPub, sysJWT, err := systemAccount(s, oc, o.SysAccount)
	if err != nil {
		return err
	}
	var text string
	if o.MemResolver {
		text, err = memResolverConfig(s, opJWT, sysName, sysPub)
		if err != nil {
			return err
		}
	} else {
		if sysPub == "" {
			return fmt.Errorf("operator %q has no system account, which a NATS-based resolver needs: set one with `signet edit operator --system-account NAME` or pass --sys-account", s.Name())
		}
		typ := "full"
		if o.NatsResolverCache {
			typ = "cache"
		}
		text = natsResolverConfig(s.Name(), opJWT, sysName, sysPub, sysJWT, typ)
	}
	if path == "" {
		_, err := fmt.Fprint(f.IO.Out, text)
		return err
	}
	if err := store.WriteFileAtomic(path, []byte(text), 0o600, 0o700); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	f.IO.OK("wrote server configuration to %q", path)
	return nil
}

// systemAccount finds the system account: the flag (name or public key) or the operator's. An
// operator without one gives empty results, which only the NATS resolvers refuse.
func systemAccount(s *store.Store, oc *jwt.OperatorClaims, flag string) (name, pub, token string, err error) {
	ref := flag
	if ref == "" {
		if oc.SystemAccount == "" {
			return "", "", "", nil
		}
		ref = oc.SystemAccount
	}
	name, err = s.FindAccount(ref)
	if err != nil {
		if flag == "" {
			return "", "", "", fmt.Errorf("the operator's system account %s is not in the store: %w; pass --sys-account", ref, err)
		}
		return "", "", "", fmt.Errorf("--sys-account: %w", err)
	}
	ac, token, err := s.Account(name)
	if err != nil {
		return "", "", "", err
	}
	return name, ac.Subject, token, nil
}

func memResolverConfig(s *store.Store, opJWT, sysName, sysPub string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "// Operator %q\noperator: %s\n\n", s.Name(), opJWT)
	if sysPub != "" {
		fmt.Fprintf(&b, "// System Account %q\nsystem_account: %s\n\n", sysName, sysPub)
	}
	b.WriteString("resolver: MEMORY\n\nresolver_preload: {\n")
	names, err := s.Accounts()
	if err != nil {
		return "", err
	}
	type entry struct{ name, pub, token string }
	entries := make([]entry, 0, len(names))
	for _, n := range names {
		ac, token, err := s.Account(n)
		if err != nil {
			return "", err
		}
		entries = append(entries, entry{n, ac.Subject, token})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, e := range entries {
		fmt.Fprintf(&b, "  // Account %q\n  %s: %s\n\n", e.name, e.pub, e.token)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

func natsResolverConfig(opName, opJWT, sysName, sysPub, sysJWT, typ string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Operator named %s\noperator: %s\n", opName, opJWT)
	fmt.Fprintf(&b, "# System Account named %s\nsystem_account: %s\n\n", sysName, sysPub)
	b.WriteString("# configuration of the nats based resolver\nresolver {\n")
	fmt.Fprintf(&b, "    type: %s\n", typ)
	b.WriteString("    # Directory in which the account jwt will be stored\n    dir: './jwt'\n")
	if typ == "full" {
		b.WriteString(`    # In order to support jwt deletion, set to true
    # If the resolver type is full delete will rename the jwt.
    # This is to allow manual restoration in case of inadvertent deletion.
    # To restore a jwt, remove the added suffix .delete and restart or send a reload signal.
    # To free up storage you must manually delete files with the suffix .delete.
    allow_delete: false
    # Interval at which a nats-server with a nats based account resolver will compare
    # it's state with one random nats based account resolver in the cluster and if needed,
    # exchange jwt and converge on the same set of jwt.
    interval: "2m"
`)
	} else {
		// nsc's value: an hour before a cached account JWT is looked up again.
		b.WriteString("    # ttl after which a cached account jwt is dropped and looked up again\n    ttl: \"1h\"\n")
	}
	b.WriteString(`    # Timeout for lookup requests in case an account does not exist locally.
    timeout: "1.9s"
}

# Preload the nats based resolver with the system account jwt.
# This is not necessary but avoids a bootstrapping system account.
# Only the system account is preloaded; push the other accounts with ` + "`signet push --all`" + `
# after pointing the operator's account server URL at the nats servers
# (signet edit operator --account-jwt-server-url nats://localhost:4222).
# Later changes to the system account take precedence over the system account jwt listed here.
resolver_preload: {
`)
	fmt.Fprintf(&b, "    %s: %s\n}\n", sysPub, sysJWT)
	return b.String()
}

// Defaults of the high-availability configuration.
const (
	defaultKVReplicas = 3
	defaultNATSURL    = "nats://localhost:4222"
)

// kvOnlyFlag names a high-availability flag given without --kv-account, if any.
func kvOnlyFlag(o *ConfigOptions) string {
	for _, c := range []struct {
		set  bool
		flag string
	}{
		{o.KVUser != "", "--kv-user"}, {o.SysUser != "", "--sys-user"},
		{o.KVCreds != "", "--kv-creds"}, {o.SysCreds != "", "--sys-creds"},
		{o.KVBucket != "", "--kv-bucket"}, {o.KVReplicas != 0, "--kv-replicas"},
		{len(o.NATSURLs) > 0, "--nats-url"}, {o.ServeConfigFile != "", "--serve-config-file"},
	} {
		if c.set {
			return c.flag
		}
	}
	return ""
}

// kvBucketName is what JetStream accepts as a KV bucket name.
var kvBucketName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// kvLayout is what the two high-availability configurations are made of.
type kvLayout struct {
	opName, opJWT, opPath   string
	sysName, sysPub, sysJWT string
	sysPath                 string
	kvName, kvPub, kvJWT    string
	sysUser, sysCreds       string
	kvUser, kvCreds         string
	bucket                  string
	replicas                int
	natsURLs                []string
	credsHints              map[string]string // creds path -> the command that writes it
}

// runKVConfig writes the nats-server and signet serve configurations of topology 2: the bucket
// on the very cluster signet serve serves. Everything is checked before anything is written.
func runKVConfig(f *cmdutil.Factory, o *ConfigOptions) error {
	l := kvLayout{bucket: o.KVBucket, replicas: o.KVReplicas, natsURLs: o.NATSURLs}
	if l.bucket == "" {
		l.bucket = jwtstore.DefaultKVBucket
	}
	if !kvBucketName.MatchString(l.bucket) {
		return fmt.Errorf("--kv-bucket %q: a bucket name has letters, digits, '-' and '_' only", l.bucket)
	}
	if l.replicas == 0 {
		l.replicas = defaultKVReplicas
	}
	if l.replicas < 1 || l.replicas > 5 {
		return fmt.Errorf("--kv-replicas %d: JetStream allows 1 to 5", l.replicas)
	}
	if len(l.natsURLs) == 0 {
		l.natsURLs = []string{defaultNATSURL}
	}
	for _, u := range l.natsURLs {
		if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || pu.Host == "" {
			return fmt.Errorf("--nats-url %q: want a URL such as nats://host:4222", u)
		}
	}
	natsPath, servePath, err := kvOutputPaths(f, o)
	if err != nil {
		return err
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	oc, opJWT, err := s.Operator()
	if err != nil {
		return err
	}
	l.opName, l.opJWT, l.opPath = s.Name(), opJWT, s.OperatorPath()
	if l.sysName, l.sysPub, l.sysJWT, err = systemAccount(s, oc, o.SysAccount); err != nil {
		return err
	}
	if l.sysPub == "" {
		return fmt.Errorf("operator %q has no system account, which signet serve and the NATS resolver need: set one with `signet edit operator --system-account NAME` or pass --sys-account", s.Name())
	}
	l.sysPath = s.AccountPath(l.sysName)
	if l.kvName, err = s.FindAccount(o.KVAccount); err != nil {
		return fmt.Errorf("--kv-account: %w", err)
	}
	ac, kvJWT, err := s.Account(l.kvName)
	if err != nil {
		return err
	}
	l.kvPub, l.kvJWT = ac.Subject, kvJWT
	if l.kvPub == l.sysPub {
		return fmt.Errorf("--kv-account %q is the system account, where JetStream cannot run: choose (or add) another account, say `signet add account KV && signet edit account KV --js-enable 0`", l.kvName)
	}
	if err := checkKVJetStream(l.kvName, ac, l.replicas); err != nil {
		return err
	}
	l.credsHints = map[string]string{}
	if l.sysUser, l.sysCreds, err = serveUser(f, s, ks, l.sysName, o.SysUser, o.SysCreds, "--sys-user", l.credsHints); err != nil {
		return err
	}
	if l.kvUser, l.kvCreds, err = serveUser(f, s, ks, l.kvName, o.KVUser, o.KVCreds, "--kv-user", l.credsHints); err != nil {
		return err
	}
	natsText, serveText := kvNATSConfig(l), kvServeConfig(l)
	for path, cmd := range l.credsHints {
		f.IO.Warn("creds file %q does not exist yet: write it with `%s`", path, cmd)
	}
	if natsPath == "" {
		_, err := fmt.Fprintf(f.IO.Out, "%s\n%s\n%s\n%s", separator("nats-server configuration: run every node with `nats-server -c nats-server.conf`"), natsText,
			separator("signet serve configuration: run every replica with `signet serve -c signet-serve.conf`"), serveText)
		return err
	}
	if err := store.WriteFileAtomic(natsPath, []byte(natsText), 0o600, 0o700); err != nil {
		return fmt.Errorf("write server configuration: %w", err)
	}
	f.IO.OK("wrote nats-server configuration to %q", natsPath)
	if err := store.WriteFileAtomic(servePath, []byte(serveText), 0o600, 0o700); err != nil {
		return fmt.Errorf("write signet serve configuration: %w", err)
	}
	f.IO.OK("wrote signet serve configuration to %q", servePath)
	return nil
}

func separator(title string) string {
	return "# ==== " + title + " ===="
}

// kvOutputPaths resolves --config-file and --serve-config-file: both (two files) or neither
// (stdout), and neither may be overwritten without --force.
func kvOutputPaths(f *cmdutil.Factory, o *ConfigOptions) (natsPath, servePath string, err error) {
	toFile := func(p string) bool { return p != "" && p != "--" }
	if toFile(o.ConfigFile) != toFile(o.ServeConfigFile) {
		return "", "", errors.New("--kv-account writes two configurations: pass both --config-file (nats-server) and --serve-config-file (signet serve), or neither to print both")
	}
	if !toFile(o.ConfigFile) {
		return "", "", nil
	}
	if natsPath, err = outputPath(f, o.ConfigFile); err != nil {
		return "", "", err
	}
	if servePath, err = outputPath(f, o.ServeConfigFile); err != nil {
		return "", "", err
	}
	if natsPath == servePath {
		return "", "", fmt.Errorf("--config-file and --serve-config-file are both %q: the two configurations need two files", natsPath)
	}
	for _, p := range []string{natsPath, servePath} {
		if _, err := os.Stat(p); err == nil && !o.Force {
			return "", "", fmt.Errorf("%q exists: pass --force to overwrite it", p)
		}
	}
	return natsPath, servePath, nil
}

// checkKVJetStream refuses an account whose JWT does not let it keep a file-backed bucket of
// the given replication: the servers would refuse to create it only once signet serve starts.
func checkKVJetStream(name string, ac *jwt.AccountClaims, replicas int) error {
	q := shellquote.Quote(name)
	if len(ac.Limits.JetStreamTieredLimits) > 0 {
		tier := fmt.Sprintf("R%d", replicas)
		if l, ok := ac.Limits.JetStreamTieredLimits[tier]; !ok || l.DiskStorage == 0 {
			return fmt.Errorf("account %q has no JetStream disk storage in tier %s, which a bucket of %d replicas needs: enable it with `signet edit account %s --js-enable %d` (or pass --kv-replicas to match a tier it has)", name, tier, replicas, q, replicas)
		}
		return nil
	}
	if ac.Limits.JetStreamLimits.DiskStorage == 0 {
		return fmt.Errorf("account %q does not have JetStream (disk storage) enabled, which signet serve's bucket needs: enable it with `signet edit account %s --js-enable 0`", name, q)
	}
	return nil
}

// serveUser picks the user of account whose creds signet serve connects with (flag, or the only
// user) and the creds path to reference (credsFlag, or the keystore's file). A path that does
// not exist yet is recorded in hints with the command that writes it.
func serveUser(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, account, userFlag, credsFlag, flagName string, hints map[string]string) (user, creds string, err error) {
	qa := shellquote.Quote(account)
	if userFlag != "" {
		if user, err = s.FindUser(account, userFlag); err != nil {
			return "", "", fmt.Errorf("%s: %w: list them with `signet list users -a %s`", flagName, err, qa)
		}
	} else {
		users, err := s.UserNames(account)
		if err != nil {
			return "", "", err
		}
		switch len(users) {
		case 0:
			return "", "", fmt.Errorf("account %q has no user for signet serve to connect as: add one with `signet add user signet -a %s`", account, qa)
		case 1:
			user = users[0]
		default:
			sort.Strings(users)
			return "", "", fmt.Errorf("account %q has %d users (%s): choose the one signet serve connects as with %s NAME", account, len(users), strings.Join(users, ", "), flagName)
		}
	}
	creds = credsFlag
	if creds == "" {
		creds = ks.CredsPath(s.Name(), account, user)
	}
	check := creds
	if !filepath.IsAbs(check) {
		if check, err = outputPath(f, creds); err != nil {
			return "", "", err
		}
	}
	if _, err := os.Stat(check); err != nil {
		hints[creds] = fmt.Sprintf("signet generate creds -a %s -n %s -o %s", qa, shellquote.Quote(user), shellquote.Quote(creds))
	}
	return user, creds, nil
}

// kvNATSConfig is the nats-server configuration of every node of topology 2.
func kvNATSConfig(l kvLayout) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# nats-server configuration for signet serve in high availability: signet serve keeps the
# accounts in the JetStream KV bucket %q of account %q, on this very cluster
# (docs/ha.md, "Topologies", topology 2). Run every node with this file.

# Operator named %s
operator: %s
# System Account named %s
system_account: %s

`, l.bucket, l.kvName, l.opName, l.opJWT, l.sysName, l.sysPub)
	b.WriteString(`# The full NATS-based resolver: every server keeps every account in ./jwt and speaks the
# $SYS.REQ.CLAIMS protocol, as signet serve does, so the servers learn new accounts from signet
# serve's announcements and pack exchanges. The URL resolver cannot be used here: nats-server
# refuses resolver_preload with it, and the servers must know the bucket's account without
# asking signet serve, which reads its accounts from that bucket.
resolver {
    type: full
    dir: './jwt'
    allow_delete: false
    interval: "2m"
    timeout: "1.9s"
}

# The system account, and the account of signet serve's bucket (JetStream enabled): both are
# known before signet serve runs. Later versions pushed to signet serve take precedence.
resolver_preload: {
`)
	fmt.Fprintf(&b, "    # System Account named %s\n    %s: %s\n", l.sysName, l.sysPub, l.sysJWT)
	fmt.Fprintf(&b, "    # Account named %s: holds the bucket %s\n    %s: %s\n}\n\n", l.kvName, l.bucket, l.kvPub, l.kvJWT)
	fmt.Fprintf(&b, `# JetStream keeps the bucket (replicas: %d).
jetstream {
    store_dir: './jetstream'
}

# A bucket of %d replicas needs at least %d JetStream servers in one cluster. On every node
# uncomment this, give each a unique server_name, and list every node's route:
# server_name: node1
# cluster {
#     name: signet
#     listen: 0.0.0.0:6222
#     routes: [
#         nats-route://node1:6222
#         nats-route://node2:6222
#         nats-route://node3:6222
#     ]
# }
`, l.replicas, l.replicas, max(l.replicas, 3))
	return b.String()
}

// kvServeConfig is the signet serve configuration of every replica of topology 2.
func kvServeConfig(l kvLayout) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# signet serve configuration for high availability: every replica uses this file and shares
# the accounts kept in the KV bucket %q of account %q (docs/ha.md).
# The operator and system account JWTs are read from the signet store; copy them along with
# this file to replicas on other hosts (or run signet serve --operator NAME there).
operatorjwtpath: %q
systemaccountjwtpath: %q

http {
    # Listen on an address your load balancer reaches (0.0.0.0 for every interface).
    host: "127.0.0.1"
    port: 9090
}

nats {
    # Every node of the cluster: announcements of account changes and the $SYS.REQ.CLAIMS
    # protocol, as a user of the system account %s.
    servers: [%s]
    # A user of the system account %s (user %s); write it with:
    #   signet generate creds -a %s -n %s -o %s
    usercredentials: %q
}

store {
    kv {
        bucket: %q
        # Replicas of the bucket when signet serve creates it (at most the JetStream servers).
        replicas: %d
        # The bucket's servers default to nats { servers }.
        # A user of the JetStream-enabled account %s (user %s); write it with:
        #   signet generate creds -a %s -n %s -o %s
        usercredentials: %q
    }
}
`, l.bucket, l.kvName, l.opPath, l.sysPath,
		l.sysName, quoteList(l.natsURLs),
		l.sysName, l.sysUser, shellquote.Quote(l.sysName), shellquote.Quote(l.sysUser), shellquote.Quote(l.sysCreds), l.sysCreds,
		l.bucket, l.replicas,
		l.kvName, l.kvUser, shellquote.Quote(l.kvName), shellquote.Quote(l.kvUser), shellquote.Quote(l.kvCreds), l.kvCreds)
	return b.String()
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}
