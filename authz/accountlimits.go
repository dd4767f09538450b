package authz

import (
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/jwt/v2"
)

// AccountLimitOptions are the account limit settings of nsc's add/edit account,
// JetStream tiers included. Numeric values are strings parsed with ParseSize ("" leaves
// the limit as it is, "-1" is unlimited); the zero value changes nothing.
type AccountLimitOptions struct {
	Conns         string // --conns
	LeafConns     string // --leaf-conns
	Data          string // --data
	Exports       string // --exports
	Imports       string // --imports
	Payload       string // --payload
	Subscriptions string // --subscriptions

	WildcardExports *bool // --wildcard-exports
	DisallowBearer  *bool // --disallow-bearer
	// HostClusterTraffic is nsc's hidden --host-cluster-traffic: route the account's JetStream
	// cluster traffic through the account (jwt.ClusterTrafficOwner) instead of the system account.
	HostClusterTraffic *bool

	JSEnable  *int // --js-enable <tier>: enable JetStream (unlimited storage) for a tier, 0 = global
	JSDisable bool // --js-disable: delete every JetStream limit
	JSTier    int  // --js-tier: the tier the js-* values apply to (0 = global, n = Rn)
	RmJSTier  *int // --rm-js-tier: delete the limits of a tier

	JSMemStorage       string // --js-mem-storage (-1 unlimited / 0 disabled)
	JSDiskStorage      string // --js-disk-storage (-1 unlimited / 0 disabled)
	JSStreams          string // --js-streams
	JSConsumer         string // --js-consumer
	JSMaxMemStream     string // --js-max-mem-stream
	JSMaxDiskStream    string // --js-max-disk-stream
	JSMaxAckPending    string // --js-max-ack-pending
	JSMaxBytesRequired *bool  // --js-max-bytes-required
}

// jsValues lists the js-* value options with their flag names, in nsc's report order.
func (o *AccountLimitOptions) jsValues() []struct{ flag, val string } {
	return []struct{ flag, val string }{
		{"js-streams", o.JSStreams},
		{"js-consumer", o.JSConsumer},
		{"js-mem-storage", o.JSMemStorage},
		{"js-max-mem-stream", o.JSMaxMemStream},
		{"js-disk-storage", o.JSDiskStorage},
		{"js-max-disk-stream", o.JSMaxDiskStream},
		{"js-max-ack-pending", o.JSMaxAckPending},
	}
}

// hasJSSet reports whether a per-tier JetStream value (or --js-tier) is given.
func (o *AccountLimitOptions) hasJSSet() bool {
	if o.JSTier != 0 || o.JSMaxBytesRequired != nil {
		return true
	}
	for _, v := range o.jsValues() {
		if v.val != "" {
			return true
		}
	}
	return false
}

// HasJetStreamChanges reports whether any JetStream option is set (for example to refuse
// JetStream settings on the system account).
func (o *AccountLimitOptions) HasJetStreamChanges() bool {
	return o.hasJSSet() || o.JSEnable != nil || o.JSDisable || o.RmJSTier != nil
}

// HasChanges reports whether any option is set.
func (o *AccountLimitOptions) HasChanges() bool {
	return o.HasJetStreamChanges() || o.WildcardExports != nil || o.DisallowBearer != nil || o.HostClusterTraffic != nil ||
		o.Conns != "" || o.LeafConns != "" || o.Data != "" || o.Exports != "" ||
		o.Imports != "" || o.Payload != "" || o.Subscriptions != ""
}

// jsLimitsSet mirrors nsc: a tier is configured when any of its values is non-zero.
func jsLimitsSet(l jwt.JetStreamLimits) bool {
	return l != jwt.JetStreamLimits{}
}

func tierLabel(tier int) string {
	if tier == 0 {
		return "global"
	}
	return fmt.Sprintf("R%d", tier)
}

func tierKey(tier int) string { return fmt.Sprintf("R%d", tier) }

// validateJS checks the JetStream options against each other and against ac's current
// limits, with nsc's rules (global and tiered limits never mix).
func (o *AccountLimitOptions) validateJS(ac *jwt.AccountClaims) error {
	set := o.hasJSSet()
	if o.JSTier < 0 {
		return fmt.Errorf("invalid --js-tier %d: use 0 for the global limits or a replication factor such as 1 or 3", o.JSTier)
	}
	if o.JSEnable != nil && *o.JSEnable < 0 {
		return fmt.Errorf("invalid --js-enable %d: use 0 for global or a replication factor such as 1 or 3", *o.JSEnable)
	}
	if o.RmJSTier != nil && *o.RmJSTier < 0 {
		return fmt.Errorf("invalid --rm-js-tier %d: use 0 for the global limits or a replication factor", *o.RmJSTier)
	}
	if o.RmJSTier != nil && (set || o.JSEnable != nil) {
		return errors.New("--rm-js-tier is exclusive of all other js options")
	}
	if o.JSDisable && (set || o.JSEnable != nil || o.RmJSTier != nil) {
		return errors.New("--js-disable is exclusive of all other js options")
	}
	if o.JSEnable != nil && set {
		return errors.New("--js-enable is exclusive of all other js options")
	}
	tiered := ac.Limits.JetStreamTieredLimits
	globalSet := jsLimitsSet(ac.Limits.JetStreamLimits)
	keys := make([]string, 0, len(tiered))
	for k := range tiered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	target := -1
	switch {
	case set:
		target = o.JSTier
	case o.JSEnable != nil:
		target = *o.JSEnable
		if target == 0 && globalSet {
			return errors.New("jetstream tier global is already enabled")
		}
		if _, ok := tiered[tierKey(target)]; target > 0 && ok {
			return fmt.Errorf("jetstream tier %s is already enabled", tierKey(target))
		}
	case o.RmJSTier != nil && *o.RmJSTier > 0:
		if len(tiered) == 0 {
			return errors.New("account doesn't have tier limits")
		}
		if _, ok := tiered[tierKey(*o.RmJSTier)]; !ok {
			return fmt.Errorf("account doesn't have tier %s limit", tierKey(*o.RmJSTier))
		}
	}
	if target == 0 && len(tiered) > 0 {
		return fmt.Errorf("cannot set a jetstream global limit when a configuration has tiered limits %v - remove them with --rm-js-tier or --js-disable", keys)
	}
	// --js-enable N alone passes over global limits without storage (JetStream off: the -1
	// counts nsc's and signet's edits write), as nsc's check does; global storage it refuses.
	globalStorage := ac.Limits.MemoryStorage != 0 || ac.Limits.DiskStorage != 0
	if target > 0 && ((set && globalSet) || globalStorage) {
		return errors.New("cannot set a jetstream tier limit when a configuration has a global limit - remove it with --rm-js-tier 0 or --js-disable")
	}
	return nil
}

// Apply validates every option and then applies them to ac's limits, returning
// nsc-style status lines ("changed max connections to 10"). On error ac is unchanged.
func (o *AccountLimitOptions) Apply(ac *jwt.AccountClaims) ([]string, error) {
	if ac == nil {
		return nil, errors.New("apply account limits: no account to edit")
	}
	type numeric struct {
		flag, val, format string
		dst               *int64
		parsed            int64
	}
	nums := []numeric{
		{flag: "conns", val: o.Conns, format: "changed max connections to %d", dst: &ac.Limits.Conn},
		{flag: "leaf-conns", val: o.LeafConns, format: "changed leaf node connections to %d", dst: &ac.Limits.LeafNodeConn},
		{flag: "data", val: o.Data, format: "changed max data to %d bytes", dst: &ac.Limits.Data},
		{flag: "exports", val: o.Exports, format: "changed max exports to %d", dst: &ac.Limits.Exports},
		{flag: "imports", val: o.Imports, format: "changed max imports to %d", dst: &ac.Limits.Imports},
		{flag: "payload", val: o.Payload, format: "changed max payload size to %d", dst: &ac.Limits.Payload},
		{flag: "subscriptions", val: o.Subscriptions, format: "changed max subscriptions to %d", dst: &ac.Limits.Subs},
	}
	for i := range nums {
		if nums[i].val == "" {
			continue
		}
		v, err := ParseSize(nums[i].val)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", nums[i].flag, err)
		}
		nums[i].parsed = v
	}
	jsVals := o.jsValues()
	jsParsed := make([]int64, len(jsVals))
	for i, v := range jsVals {
		if v.val == "" {
			continue
		}
		n, err := ParseSize(v.val)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", v.flag, err)
		}
		jsParsed[i] = n
	}
	if err := o.validateJS(ac); err != nil {
		return nil, err
	}

	// Everything is valid: mutate.
	var changes []string
	for _, n := range nums {
		if n.val != "" {
			*n.dst = n.parsed
			changes = append(changes, fmt.Sprintf(n.format, n.parsed))
		}
	}
	if o.WildcardExports != nil {
		ac.Limits.WildcardExports = *o.WildcardExports
		changes = append(changes, fmt.Sprintf("changed wild card exports to %t", *o.WildcardExports))
	}
	if o.DisallowBearer != nil {
		ac.Limits.DisallowBearer = *o.DisallowBearer
		changes = append(changes, fmt.Sprintf("changed disallow bearer to %t", *o.DisallowBearer))
	}
	if o.HostClusterTraffic != nil {
		if *o.HostClusterTraffic {
			ac.ClusterTraffic = jwt.ClusterTrafficOwner
			changes = append(changes, "enabled routing of JetStream cluster traffic through this account")
		} else {
			ac.ClusterTraffic = ""
			changes = append(changes, "disabled routing of JetStream cluster traffic through this account")
		}
	}
	return append(changes, o.applyJS(ac, jsParsed)...), nil
}

func (o *AccountLimitOptions) applyJS(ac *jwt.AccountClaims, jsParsed []int64) []string {
	var changes []string
	switch {
	case o.JSDisable:
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{}
		changes = append(changes, "deleted global limit")
		keys := make([]string, 0, len(ac.Limits.JetStreamTieredLimits))
		for k := range ac.Limits.JetStreamTieredLimits {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			changes = append(changes, fmt.Sprintf("deleted tier limit %s", k))
		}
		ac.Limits.JetStreamTieredLimits = nil
	case o.RmJSTier != nil:
		if *o.RmJSTier == 0 {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{}
			changes = append(changes, "deleted global limit")
		} else {
			delete(ac.Limits.JetStreamTieredLimits, tierKey(*o.RmJSTier))
			changes = append(changes, fmt.Sprintf("deleted tier limit %s", tierKey(*o.RmJSTier)))
		}
	case o.JSEnable != nil:
		unlimited := jwt.JetStreamLimits{DiskStorage: -1, MemoryStorage: -1}
		if *o.JSEnable == 0 {
			ac.Limits.JetStreamLimits = unlimited
			changes = append(changes, "enabled global limit")
		} else {
			if ac.Limits.JetStreamTieredLimits == nil {
				ac.Limits.JetStreamTieredLimits = jwt.JetStreamTieredLimits{}
			}
			ac.Limits.JetStreamTieredLimits[tierKey(*o.JSEnable)] = unlimited
			changes = append(changes, fmt.Sprintf("enabled tier limit %s", tierKey(*o.JSEnable)))
		}
	case o.hasJSSet():
		var lim jwt.JetStreamLimits
		if o.JSTier == 0 {
			lim = ac.Limits.JetStreamLimits
		} else {
			lim = ac.Limits.JetStreamTieredLimits[tierKey(o.JSTier)]
		}
		if !jsLimitsSet(lim) {
			// A new tier starts from nsc's defaults: no storage, no other limit.
			lim = jwt.JetStreamLimits{Streams: -1, Consumer: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1, MaxAckPending: -1}
		}
		label := tierLabel(o.JSTier)
		dsts := []struct {
			dst  *int64
			text string
		}{
			{&lim.Streams, "max streams"},
			{&lim.Consumer, "max consumer"},
			{&lim.MemoryStorage, "max mem storage"},
			{&lim.MemoryMaxStreamBytes, "max memory stream"},
			{&lim.DiskStorage, "max disk storage"},
			{&lim.DiskMaxStreamBytes, "max disk stream"},
			{&lim.MaxAckPending, "max ack pending"},
		}
		for i, v := range o.jsValues() {
			if v.val != "" {
				*dsts[i].dst = jsParsed[i]
				changes = append(changes, fmt.Sprintf("changed %s %s to %d", label, dsts[i].text, jsParsed[i]))
			}
		}
		if o.JSMaxBytesRequired != nil {
			lim.MaxBytesRequired = *o.JSMaxBytesRequired
			changes = append(changes, fmt.Sprintf("changed %s max bytes required to %t", label, lim.MaxBytesRequired))
		}
		if o.JSTier == 0 {
			ac.Limits.JetStreamLimits = lim
		} else {
			if ac.Limits.JetStreamTieredLimits == nil {
				ac.Limits.JetStreamTieredLimits = jwt.JetStreamTieredLimits{}
			}
			ac.Limits.JetStreamTieredLimits[tierKey(o.JSTier)] = lim
		}
	}
	return changes
}
