// Package flags binds the option structs of the authz package to pflag flag sets, with
// nsc's flag names and help texts, so every signet command that edits permissions or
// limits spells them the same way. Values are checked while the flags are parsed
// (sizes, booleans, counts); the rest is validated by the authz Apply functions.
package flags

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/ops"
	"github.com/spf13/pflag"
)

// AddHeaderFlags binds the flags every entity has: its validity window and tags.
func AddHeaderFlags(fs *pflag.FlagSet, h *ops.Header) {
	fs.StringVar(&h.Start, "start", "", "valid from: 0 (now), yyyy-mm-dd, RFC3339, or a duration like 1d")
	fs.StringVar(&h.Expiry, "expiry", "", "valid until: 0 (never), yyyy-mm-dd, RFC3339, or a duration like 30d")
	fs.StringSliceVar(&h.Tags, "tag", nil, "add tags (key:value or word; repeat or comma separate)")
	fs.StringSliceVar(&h.RmTags, "rm-tag", nil, "remove tags")
}

// sizeValue keeps the text of a size flag after checking that authz.ParseSize accepts it.
type sizeValue struct{ p *string }

func (v sizeValue) String() string { return *v.p }
func (v sizeValue) Type() string   { return "size" }
func (v sizeValue) Set(s string) error {
	if _, err := authz.ParseSize(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

// boolPtrValue is a boolean flag that records whether it was given (nil = not given).
type boolPtrValue struct{ p **bool }

func (v boolPtrValue) Type() string { return "bool" }
func (v boolPtrValue) String() string {
	if *v.p == nil {
		return "false"
	}
	return strconv.FormatBool(**v.p)
}
func (v boolPtrValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not a boolean (use true or false)", s)
	}
	*v.p = &b
	return nil
}

// tierValue is nsc's --js-enable and --rm-js-tier: a tier, with -1 (nsc's default, which scripts
// pass explicitly) meaning "no change", recorded as nil.
type tierValue struct{ p **int }

func (v tierValue) Type() string { return "int" }
func (v tierValue) String() string {
	if *v.p == nil {
		return "-1"
	}
	return strconv.Itoa(**v.p)
}
func (v tierValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	if n == -1 {
		*v.p = nil
		return nil
	}
	*v.p = &n
	return nil
}

// countValue is an int flag that also records that it was given; it backs
// --allow-pub-response[=n] and --max-responses, which share the count as in nsc, so the last one
// given sets it. nsc sets the response permission when --max-responses was given (in any place
// on the command line, 0 included) or when the count is not 0: --allow-pub-response=0 alone, its
// default, leaves the response permission alone, while a resp of {"max":0} would give the user
// nats-server's default of one response. maxGiven, shared by both flags, is what makes the
// result the same whichever of the two comes last.
type countValue struct {
	p        *int
	set      *bool
	maxGiven *bool
	isMax    bool // this is --max-responses
}

func (v countValue) Type() string   { return "int" }
func (v countValue) String() string { return strconv.Itoa(*v.p) }
func (v countValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v.maxGiven = *v.maxGiven || v.isMax
	*v.p, *v.set = n, n != 0 || *v.maxGiven
	return nil
}

func boolPtrFlag(fs *pflag.FlagSet, p **bool, name, usage string) {
	f := fs.VarPF(boolPtrValue{p}, name, "", usage)
	f.NoOptDefVal = "true"
}

// addPermFlags binds the permission flags that set values; typeName ("permissions",
// "default permissions") goes into the help texts like nsc's.
func addPermFlags(fs *pflag.FlagSet, o *authz.UserPermOptions, typeName string) {
	fs.StringVar(&o.ResponseTTL, "response-ttl", "", fmt.Sprintf("the amount of time the %s is valid (global) - [#ms(millis) | #s(econds) | m(inutes) | h(ours)] - Default is no time limit.", typeName))
	maxGiven := new(bool)
	f := fs.VarPF(countValue{&o.AllowPubResponse, &o.AllowPubResponseSet, maxGiven, false}, "allow-pub-response", "",
		fmt.Sprintf("%s to limit how often a client can publish to reply subjects [with an optional count, --allow-pub-response=n] (global)", typeName))
	f.NoOptDefVal = "1"
	f = fs.VarPF(countValue{&o.AllowPubResponse, &o.AllowPubResponseSet, maxGiven, true}, "max-responses", "",
		fmt.Sprintf("%s to limit how often a client can publish to reply subjects [with an optional count] (global)", typeName))
	compat.MarkRenamed(f, "--allow-pub-response or --allow-pub-response=n")

	list := func(p *[]string, name, what string) {
		fs.StringSliceVar(p, name, nil, fmt.Sprintf("add %s %s - comma separated list or option can be specified multiple times", what, typeName))
	}
	list(&o.AllowPub, "allow-pub", "publish")
	list(&o.AllowPubSub, "allow-pubsub", "publish and subscribe")
	list(&o.AllowSub, "allow-sub", "subscribe")
	list(&o.DenyPub, "deny-pub", "deny publish")
	list(&o.DenyPubSub, "deny-pubsub", "deny publish and subscribe")
	list(&o.DenySub, "deny-sub", "deny subscribe")
}

// EditFlagGiven reports whether a flag of fs (a command's own flags: cmd.LocalNonPersistentFlags)
// other than the selectors, the flags that name what to edit, was given. nsc's edit commands
// re-sign when any of their edit flags is given, even with a value that changes nothing (a tag
// or subject already there, --rm of one that is not, --allow-pub-response=0, --response-ttl "",
// --js-enable -1), and say "specify an edit option" only when none is: a script that passes
// one must not fail with "nothing to edit".
func EditFlagGiven(fs *pflag.FlagSet, selectors ...string) bool {
	given := false
	fs.VisitAll(func(f *pflag.Flag) {
		given = given || f.Changed && !slices.Contains(selectors, f.Name)
	})
	return given
}

func addPermRemoveFlags(fs *pflag.FlagSet, o *authz.UserPermOptions, typeName string) {
	fs.BoolVar(&o.RmResponsePerms, "rm-response-perms", false, fmt.Sprintf("remove response settings from %s", typeName))
	fs.StringSliceVar(&o.Rm, "rm", nil, fmt.Sprintf("remove publish/subscribe and deny %s - comma separated list or option can be specified multiple times", typeName))
}

// addUserLimitFlags binds the user limits that are not permissions.
func addUserLimitFlags(fs *pflag.FlagSet, o *authz.UserPermOptions) {
	boolPtrFlag(fs, &o.Bearer, "bearer", "no connect challenge required for user")
	fs.StringSliceVar(&o.SourceNetworks, "source-network", nil, "add source network for connection - comma separated list or option can be specified multiple times")
	fs.StringSliceVar(&o.Times, "time", nil, `add start-end time range of the form "15:04:05-15:04:05" - comma separated list or option can be specified multiple times`)
	fs.StringVar(&o.Locale, "locale", "", `set the locale with which time values are interpreted, for example "Europe/Berlin" or "UTC"`)
	fs.StringSliceVar(&o.ConnTypes, "conn-type", nil, "set allowed connection types: LEAFNODE LEAFNODE_WS MQTT MQTT_WS STANDARD WEBSOCKET IN_PROCESS - comma separated list or option can be specified multiple times")
	fs.Var(sizeValue{&o.Subs}, "subs", "set maximum number of subscriptions (-1 is unlimited)")
	fs.Var(sizeValue{&o.Data}, "data", "set maximum data in bytes for the user (-1 is unlimited) (units: k/m/g/t kib/mib/gib/tib)")
	fs.Var(sizeValue{&o.Payload}, "payload", "set maximum message payload in bytes for the user (-1 is unlimited) (units: k/m/g/t kib/mib/gib/tib)")
}

func addUserLimitRemoveFlags(fs *pflag.FlagSet, o *authz.UserPermOptions) {
	fs.StringSliceVar(&o.RmSourceNetworks, "rm-source-network", nil, "remove source network for connection - comma separated list or option can be specified multiple times")
	fs.StringSliceVar(&o.RmTimes, "rm-time", nil, `remove start-end time by start time "15:04:05" - comma separated list or option can be specified multiple times`)
	fs.StringSliceVar(&o.RmConnTypes, "rm-conn-type", nil, "remove connection types - comma separated list or option can be specified multiple times")
}

// AddUserPermFlags binds every user permission and limit flag, the --rm-* flags
// included, for commands that edit (edit user, edit signing-key).
func AddUserPermFlags(fs *pflag.FlagSet, o *authz.UserPermOptions) {
	AddUserPermSetFlags(fs, o)
	addPermRemoveFlags(fs, o, "permissions")
	addUserLimitRemoveFlags(fs, o)
}

// AddUserPermSetFlags binds the user permission and limit flags that add or set values,
// for commands that create (add user).
func AddUserPermSetFlags(fs *pflag.FlagSet, o *authz.UserPermOptions) {
	addPermFlags(fs, o, "permissions")
	addUserLimitFlags(fs, o)
}

// AddDefaultPermFlags binds the permission flags of an account's default permissions
// (edit account); use o.ApplyPermissions with them.
func AddDefaultPermFlags(fs *pflag.FlagSet, o *authz.UserPermOptions) {
	addPermFlags(fs, o, "default permissions")
	addPermRemoveFlags(fs, o, "default permissions")
}

// AddAccountLimitFlags binds nsc's account limit and JetStream flags.
func AddAccountLimitFlags(fs *pflag.FlagSet, o *authz.AccountLimitOptions) {
	size := func(p *string, name, usage string) { fs.Var(sizeValue{p}, name, usage) }
	size(&o.Conns, "conns", "set maximum active connections for the account (-1 is unlimited)")
	size(&o.LeafConns, "leaf-conns", "set maximum active leaf node connections for the account (-1 is unlimited)")
	size(&o.Data, "data", "set maximum data in bytes for the account (-1 is unlimited) (units: k/m/g/t kib/mib/gib/tib)")
	size(&o.Exports, "exports", "set maximum number of exports for the account (-1 is unlimited)")
	size(&o.Imports, "imports", "set maximum number of imports for the account (-1 is unlimited)")
	size(&o.Payload, "payload", "set maximum message payload in bytes for the account (-1 is unlimited) (units: k/m/g/t kib/mib/gib/tib)")
	size(&o.Subscriptions, "subscriptions", "set maximum subscription for the account (-1 is unlimited)")
	boolPtrFlag(fs, &o.WildcardExports, "wildcard-exports", "exports can contain wildcards (default true)")
	boolPtrFlag(fs, &o.DisallowBearer, "disallow-bearer", "require user jwt to not be bearer token")

	fs.IntVar(&o.JSTier, "js-tier", 0, "JetStream: replication tier (0 creates a configuration that applies to all assets) ")
	fs.Var(tierValue{&o.RmJSTier}, "rm-js-tier", "JetStream: remove replication limits for the specified tier (0 is the global tier; -1 changes nothing) this flag is exclusive of all other js flags")
	fs.Var(tierValue{&o.JSEnable}, "js-enable", "enables JetStream for the specified tier (0 is the global tier; -1 changes nothing) with unlimited storage; exclusive of all other js flags")
	fs.BoolVar(&o.JSDisable, "js-disable", false, "disables all JetStream limits in the account by deleting any limits")
	size(&o.JSMemStorage, "js-mem-storage", "JetStream: set maximum memory storage in bytes for the account (-1 is unlimited / 0 disabled) (units: k/m/g/t kib/mib/gib/tib)")
	size(&o.JSDiskStorage, "js-disk-storage", "JetStream: set maximum disk storage in bytes for the account (-1 is unlimited / 0 disabled) (units: k/m/g/t kib/mib/gib/tib)")
	size(&o.JSStreams, "js-streams", "JetStream: set maximum streams for the account (-1 is unlimited)")
	size(&o.JSConsumer, "js-consumer", "JetStream: set maximum consumer for the account (-1 is unlimited)")
	size(&o.JSMaxMemStream, "js-max-mem-stream", "JetStream: set maximum size of a memory stream for the account (-1 is unlimited / 0 disabled) (units: k/m/g/t kib/mib/gib/tib)")
	size(&o.JSMaxDiskStream, "js-max-disk-stream", "JetStream: set maximum size of a disk stream for the account (-1 is unlimited / 0 disabled) (units: k/m/g/t kib/mib/gib/tib)")
	boolPtrFlag(fs, &o.JSMaxBytesRequired, "js-max-bytes-required", "JetStream: set whether max stream is required when creating a stream")
	size(&o.JSMaxAckPending, "js-max-ack-pending", "JetStream: set number of maximum acks that can be pending for a consumer in the account")

	// nsc's names from before the js- prefix, hidden and deprecated there too.
	for _, old := range []struct {
		name string
		p    *string
	}{{"mem-storage", &o.JSMemStorage}, {"disk-storage", &o.JSDiskStorage}, {"streams", &o.JSStreams}, {"consumer", &o.JSConsumer}} {
		compat.MarkRenamed(fs.VarPF(sizeValue{old.p}, old.name, "", ""), "--js-"+old.name)
	}
	fl := fs.VarPF(boolPtrValue{&o.HostClusterTraffic}, "host-cluster-traffic", "", "route JetStream cluster traffic via the account instead of system")
	fl.NoOptDefVal = "true"
	fl.Hidden = true // as in nsc
}
