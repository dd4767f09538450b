package spec

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
)

// The projection: what of an account or user JWT the spec describes. An entity is unchanged
// when the canonical projection of its JWT equals the canonical spec entry, so that plan, apply
// and export-spec agree on one notion of "the same".

// accountOf projects account claims onto the spec. names maps account public keys to names (for
// imports); a public key it lacks stays a public key.
func accountOf(ac *jwt.AccountClaims, names map[string]string) *Account {
	a := &Account{
		Description: ac.Description,
		InfoURL:     ac.InfoURL,
		Tags:        slices.Clone([]string(ac.Tags)),
	}
	if ac.Expires != 0 {
		a.Expires = formatTime(ac.Expires)
	}
	lim := ac.Limits
	l := &Limits{
		Conns: i64(lim.Conn), LeafConns: i64(lim.LeafNodeConn), Subs: i64(lim.Subs),
		Payload: size(lim.Payload), Data: size(lim.Data), Imports: i64(lim.Imports), Exports: i64(lim.Exports),
		DisallowBearer: lim.DisallowBearer,
	}
	if !lim.WildcardExports {
		l.WildcardExports = boolp(false)
	}
	a.Limits = l
	global := lim.JetStreamLimits
	if len(lim.JetStreamTieredLimits) == 0 && global.MemoryStorage == 0 && global.DiskStorage == 0 {
		// No storage: JetStream is off, whatever the counts say (nsc's edit account writes
		// them as -1, and so does signet's, as nsc).
		global = jwt.JetStreamLimits{}
	}
	if global != (jwt.JetStreamLimits{}) || len(lim.JetStreamTieredLimits) > 0 {
		js := &JetStream{JetStreamLimits: jsOf(global)}
		for tier, tl := range lim.JetStreamTieredLimits {
			if js.Tiers == nil {
				js.Tiers = map[string]*JetStreamLimits{}
			}
			v := jsOf(tl)
			js.Tiers[tier] = &v
		}
		a.JetStream = js
	}
	for _, e := range ac.Exports {
		x := Export{
			Subject: string(e.Subject), Type: e.Type.String(), Name: e.Name, TokenRequired: e.TokenReq,
			ResponseType: string(e.ResponseType), ResponseThreshold: Duration(e.ResponseThreshold),
			AccountTokenPosition: e.AccountTokenPosition, Advertise: e.Advertise, AllowTrace: e.AllowTrace,
			Description: e.Description, InfoURL: e.InfoURL,
		}
		if e.Latency != nil {
			x.Latency = &Latency{Results: string(e.Latency.Results), Sampling: samplingString(e.Latency.Sampling)}
		}
		a.Exports = append(a.Exports, x)
	}
	for _, im := range ac.Imports {
		src := im.Account
		if n, ok := names[src]; ok {
			src = n
		}
		a.Imports = append(a.Imports, Import{
			Account: src, Subject: string(im.Subject), LocalSubject: string(im.LocalSubject),
			Type: im.Type.String(), Name: im.Name, Share: im.Share, AllowTrace: im.AllowTrace,
		})
	}
	for from, list := range ac.Mappings {
		if a.Mappings == nil {
			a.Mappings = map[string][]Mapping{}
		}
		for _, m := range list {
			a.Mappings[string(from)] = append(a.Mappings[string(from)], Mapping{To: string(m.Subject), Weight: int(m.GetWeight()), Cluster: m.Cluster})
		}
	}
	if dp := permsOf(ac.DefaultPermissions); !dp.empty() {
		a.DefaultPermissions = &dp
	}
	for _, pub := range ac.SigningKeys.Keys() {
		scope, _ := ac.SigningKeys.GetScope(pub)
		us, ok := scope.(*jwt.UserScope)
		if scope == nil || !ok {
			a.UnscopedSigningKeys++
			continue
		}
		role := us.Role
		if role == "" {
			role = pub // a scoped key without a role: named by its key until the file gives it one
		}
		if a.SigningKeys == nil {
			a.SigningKeys = map[string]*Scope{}
		}
		a.SigningKeys[role] = &Scope{Description: us.Description, UserLimits: userLimitsOf(us.Template)}
	}
	return a
}

// userOf projects user claims onto the spec; ac is the user's account (for the role of the key
// that signed it).
func userOf(uc *jwt.UserClaims, ac *jwt.AccountClaims) *User {
	u := &User{Tags: slices.Clone([]string(uc.Tags))}
	if uc.Expires != 0 {
		u.Expires = formatTime(uc.Expires)
	}
	if scope, ok := ac.SigningKeys.GetScope(uc.Issuer); ok && scope != nil {
		if us, ok := scope.(*jwt.UserScope); ok {
			u.SigningKey = us.Role
			if u.SigningKey == "" {
				u.SigningKey = uc.Issuer
			}
		}
		return u // a scoped user's permissions are its key's
	}
	u.UserLimits = userLimitsOf(uc.UserPermissionLimits)
	return u
}

func jsOf(l jwt.JetStreamLimits) JetStreamLimits {
	return JetStreamLimits{
		MemStorage: sizeZ(l.MemoryStorage), DiskStorage: sizeZ(l.DiskStorage), Streams: i64Z(l.Streams),
		Consumers: i64Z(l.Consumer), MaxAckPending: i64Z(l.MaxAckPending), MaxMemStreamBytes: sizeZ(l.MemoryMaxStreamBytes),
		MaxDiskStreamBytes: sizeZ(l.DiskMaxStreamBytes), MaxBytesRequired: l.MaxBytesRequired,
	}
}

func permsOf(p jwt.Permissions) Permissions {
	var out Permissions
	if len(p.Pub.Allow) > 0 || len(p.Pub.Deny) > 0 {
		out.Pub = &PermList{Allow: slices.Clone([]string(p.Pub.Allow)), Deny: slices.Clone([]string(p.Pub.Deny))}
	}
	if len(p.Sub.Allow) > 0 || len(p.Sub.Deny) > 0 {
		out.Sub = &PermList{Allow: slices.Clone([]string(p.Sub.Allow)), Deny: slices.Clone([]string(p.Sub.Deny))}
	}
	if p.Resp != nil {
		out.Resp = &Response{Max: p.Resp.MaxMsgs, TTL: Duration(p.Resp.Expires)}
	}
	return out
}

func userLimitsOf(l jwt.UserPermissionLimits) UserLimits {
	u := UserLimits{
		Permissions: permsOf(l.Permissions),
		Subs:        i64(l.Subs), Data: size(l.Data), Payload: size(l.Payload),
		Bearer: l.BearerToken, Src: slices.Clone([]string(l.Src)), Locale: l.Locale,
		ConnTypes: slices.Clone([]string(l.AllowedConnectionTypes)),
	}
	for _, t := range l.Times {
		u.Times = append(u.Times, TimeRange{Start: t.Start, End: t.End})
	}
	return u
}

// canonical returns a copy of a with defaults dropped, lists sorted and names that equal their
// default left out: two accounts that sign to the same claims have the same canonical form.
// Users and manage_users are not part of it (users are entities of their own).
func (a *Account) canonical() *Account {
	c := *a
	c.Users, c.ManageUsers = nil, false
	c.Tags = sortedLower(a.Tags)
	if a.Expires != "" {
		if t, err := parseTime(a.Expires); err == nil {
			c.Expires = formatTime(t)
		}
	}
	if a.Limits != nil {
		l := *a.Limits
		l.Conns, l.LeafConns, l.Subs = dropI(l.Conns, -1), dropI(l.LeafConns, -1), dropI(l.Subs, -1)
		l.Imports, l.Exports = dropI(l.Imports, -1), dropI(l.Exports, -1)
		l.Payload, l.Data = dropS(l.Payload, -1), dropS(l.Data, -1)
		if l.WildcardExports != nil && *l.WildcardExports {
			l.WildcardExports = nil
		}
		c.Limits = &l
		if l == (Limits{}) {
			c.Limits = nil
		}
	}
	if a.JetStream != nil {
		js := JetStream{JetStreamLimits: a.JetStream.JetStreamLimits.canonical()}
		for tier, tl := range a.JetStream.Tiers {
			if js.Tiers == nil {
				js.Tiers = map[string]*JetStreamLimits{}
			}
			v := JetStreamLimits{}
			if tl != nil {
				v = tl.canonical()
			}
			js.Tiers[tier] = &v
		}
		c.JetStream = &js
		if len(js.Tiers) == 0 && js.MemStorage == nil && js.DiskStorage == nil {
			c.JetStream = nil // no storage: JetStream is off, as in accountOf
		}
	}
	c.Exports = nil
	for _, e := range a.Exports {
		if e.Type == "" {
			e.Type = "stream"
		}
		if e.Name == e.Subject {
			e.Name = ""
		}
		if e.Type == "service" && strings.EqualFold(e.ResponseType, string(jwt.ResponseTypeSingleton)) {
			e.ResponseType = ""
		}
		if rt, err := responseType(e.ResponseType); err == nil && e.ResponseType != "" {
			e.ResponseType = string(rt)
		}
		if e.Latency != nil {
			l := *e.Latency
			if r, err := sampling(l.Sampling); err == nil {
				l.Sampling = samplingString(r)
			}
			e.Latency = &l
		}
		c.Exports = append(c.Exports, e)
	}
	sort.Slice(c.Exports, func(i, j int) bool { return exportID(c.Exports[i]) < exportID(c.Exports[j]) })
	c.Imports = nil
	for _, im := range a.Imports {
		if im.Name == im.Subject {
			im.Name = ""
		}
		c.Imports = append(c.Imports, im)
	}
	sort.Slice(c.Imports, func(i, j int) bool { return importID(c.Imports[i]) < importID(c.Imports[j]) })
	c.Mappings = nil
	for from, list := range a.Mappings {
		if c.Mappings == nil {
			c.Mappings = map[string][]Mapping{}
		}
		var out []Mapping
		for _, m := range list {
			if m.Weight == 100 {
				m.Weight = 0
			}
			out = append(out, m)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Cluster+" "+out[i].To < out[j].Cluster+" "+out[j].To })
		c.Mappings[from] = out
	}
	if a.DefaultPermissions != nil {
		p := a.DefaultPermissions.canonical()
		c.DefaultPermissions = &p
		if p.empty() {
			c.DefaultPermissions = nil
		}
	}
	c.SigningKeys = nil
	for role, sc := range a.SigningKeys {
		if c.SigningKeys == nil {
			c.SigningKeys = map[string]*Scope{}
		}
		v := Scope{}
		if sc != nil {
			v = Scope{Description: sc.Description, UserLimits: sc.UserLimits.canonical()}
		}
		c.SigningKeys[role] = &v
	}
	return &c
}

func (u *User) canonical() *User {
	c := *u
	c.Tags = sortedLower(u.Tags)
	if u.Expires != "" {
		if t, err := parseTime(u.Expires); err == nil {
			c.Expires = formatTime(t)
		}
	}
	c.UserLimits = u.UserLimits.canonical()
	return &c
}

func (l JetStreamLimits) canonical() JetStreamLimits {
	l.MemStorage, l.DiskStorage = dropS(l.MemStorage, 0), dropS(l.DiskStorage, 0)
	l.MaxMemStreamBytes, l.MaxDiskStreamBytes = dropS(l.MaxMemStreamBytes, 0), dropS(l.MaxDiskStreamBytes, 0)
	l.Streams, l.Consumers, l.MaxAckPending = dropI(l.Streams, 0), dropI(l.Consumers, 0), dropI(l.MaxAckPending, 0)
	return l
}

func (p Permissions) canonical() Permissions {
	list := func(l *PermList) *PermList {
		if l == nil || (len(l.Allow) == 0 && len(l.Deny) == 0) {
			return nil
		}
		return &PermList{Allow: sortedUnique(l.Allow), Deny: sortedUnique(l.Deny)}
	}
	p.Pub, p.Sub = list(p.Pub), list(p.Sub)
	return p
}

func (p Permissions) empty() bool { return p.Pub == nil && p.Sub == nil && p.Resp == nil }

func (u UserLimits) canonical() UserLimits {
	u.Permissions = u.Permissions.canonical()
	u.Subs, u.Data, u.Payload = dropI(u.Subs, -1), dropS(u.Data, -1), dropS(u.Payload, -1)
	u.Src = sortedUnique(u.Src)
	u.ConnTypes = sortedUnique(u.ConnTypes)
	for i, c := range u.ConnTypes {
		u.ConnTypes[i] = strings.ToUpper(c)
	}
	if len(u.Times) == 0 {
		u.Times = nil
	}
	return u
}

func (u UserLimits) empty() bool {
	c := u.canonical()
	return reflect.DeepEqual(c, UserLimits{})
}

// claims: the spec written onto JWT claims.

// applyAccount writes the fields the spec manages onto ac (signing keys and imports' keys and
// tokens aside: the plan sets those, as they need the keystore and other accounts).
func (a *Account) applyAccount(ac *jwt.AccountClaims) {
	ac.Description, ac.InfoURL = a.Description, a.InfoURL
	applyGeneric(&ac.GenericFields, &ac.ClaimsData, a.Tags, a.Expires)
	def := jwt.NewAccountClaims(ac.Subject).Limits
	lim := def
	if l := a.Limits; l != nil {
		setI(&lim.Conn, l.Conns)
		setI(&lim.LeafNodeConn, l.LeafConns)
		setI(&lim.Subs, l.Subs)
		setI(&lim.Imports, l.Imports)
		setI(&lim.Exports, l.Exports)
		setI(&lim.Payload, (*int64)(l.Payload))
		setI(&lim.Data, (*int64)(l.Data))
		if l.WildcardExports != nil {
			lim.WildcardExports = *l.WildcardExports
		}
		lim.DisallowBearer = l.DisallowBearer
	}
	lim.JetStreamLimits, lim.JetStreamTieredLimits = jwt.JetStreamLimits{}, nil
	if js := a.JetStream; js != nil {
		lim.JetStreamLimits = js.JetStreamLimits.claims()
		for tier, tl := range js.Tiers {
			if lim.JetStreamTieredLimits == nil {
				lim.JetStreamTieredLimits = jwt.JetStreamTieredLimits{}
			}
			v := JetStreamLimits{}
			if tl != nil {
				v = *tl
			}
			lim.JetStreamTieredLimits[tier] = v.claims()
		}
	}
	ac.Limits = lim
	old := ac.Exports
	ac.Exports = nil
	for _, e := range a.canonical().Exports {
		x := &jwt.Export{
			Name: e.Name, Subject: jwt.Subject(e.Subject), Type: exportType(e.Type), TokenReq: e.TokenRequired,
			ResponseThreshold: time.Duration(e.ResponseThreshold), AccountTokenPosition: e.AccountTokenPosition,
			Advertise: e.Advertise, AllowTrace: e.AllowTrace,
			Info: jwt.Info{Description: e.Description, InfoURL: e.InfoURL},
		}
		if x.Name == "" {
			x.Name = e.Subject
		}
		if x.Type == jwt.Service {
			x.ResponseType = jwt.ResponseTypeSingleton
			if e.ResponseType != "" {
				x.ResponseType, _ = responseType(e.ResponseType)
			}
		}
		if e.Latency != nil {
			r, _ := sampling(e.Latency.Sampling)
			x.Latency = &jwt.ServiceLatency{Results: jwt.Subject(e.Latency.Results), Sampling: r}
		}
		// Revoked activations belong to the export, which the file does not describe: keep them.
		for _, o := range old {
			if o.Type == x.Type && o.Subject == x.Subject {
				x.Revocations = o.Revocations
			}
		}
		ac.Exports = append(ac.Exports, x)
	}
	ac.Mappings = nil
	for from, list := range a.Mappings {
		if ac.Mappings == nil {
			ac.Mappings = jwt.Mapping{}
		}
		for _, m := range list {
			w := m.Weight
			if w == 0 {
				w = 100
			}
			ac.Mappings[jwt.Subject(from)] = append(ac.Mappings[jwt.Subject(from)], jwt.WeightedMapping{Subject: jwt.Subject(m.To), Weight: uint8(w), Cluster: m.Cluster})
		}
	}
	ac.DefaultPermissions = jwt.Permissions{}
	if a.DefaultPermissions != nil {
		ac.DefaultPermissions = a.DefaultPermissions.claims()
	}
}

// applyUser writes the user's spec onto uc; a user signed by a scoped key gets no permissions
// of its own.
func (u *User) applyUser(uc *jwt.UserClaims) {
	applyGeneric(&uc.GenericFields, &uc.ClaimsData, u.Tags, u.Expires)
	if u.SigningKey != "" {
		uc.UserPermissionLimits = jwt.UserPermissionLimits{}
		return
	}
	uc.UserPermissionLimits = u.UserLimits.claims()
}

// applyGeneric sets the tags and expiry that accounts and users share.
func applyGeneric(g *jwt.GenericFields, cd *jwt.ClaimsData, tags []string, expires string) {
	g.Tags = nil
	for _, t := range tags {
		tag, _ := authz.ParseTag(t)
		g.Tags.Add(tag)
	}
	cd.Expires = 0
	if expires != "" {
		cd.Expires, _ = parseTime(expires)
	}
}

func (l JetStreamLimits) claims() jwt.JetStreamLimits {
	v := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	return jwt.JetStreamLimits{
		MemoryStorage: v((*int64)(l.MemStorage)), DiskStorage: v((*int64)(l.DiskStorage)), Streams: v(l.Streams),
		Consumer: v(l.Consumers), MaxAckPending: v(l.MaxAckPending), MemoryMaxStreamBytes: v((*int64)(l.MaxMemStreamBytes)),
		DiskMaxStreamBytes: v((*int64)(l.MaxDiskStreamBytes)), MaxBytesRequired: l.MaxBytesRequired,
	}
}

func (p Permissions) claims() jwt.Permissions {
	var out jwt.Permissions
	if p.Pub != nil {
		out.Pub.Allow, out.Pub.Deny = slices.Clone(p.Pub.Allow), slices.Clone(p.Pub.Deny)
	}
	if p.Sub != nil {
		out.Sub.Allow, out.Sub.Deny = slices.Clone(p.Sub.Allow), slices.Clone(p.Sub.Deny)
	}
	if p.Resp != nil {
		out.Resp = &jwt.ResponsePermission{MaxMsgs: p.Resp.Max, Expires: time.Duration(p.Resp.TTL)}
	}
	return out
}

func (u UserLimits) claims() jwt.UserPermissionLimits {
	l := jwt.NewUserClaims("U").UserPermissionLimits // the defaults of a new user: unlimited
	l.Permissions = u.Permissions.claims()
	setI(&l.Subs, u.Subs)
	setI(&l.Data, (*int64)(u.Data))
	setI(&l.Payload, (*int64)(u.Payload))
	l.BearerToken = u.Bearer
	l.Src = slices.Clone(u.Src)
	l.Locale = u.Locale
	for _, t := range u.Times {
		l.Times = append(l.Times, jwt.TimeRange{Start: t.Start, End: t.End})
	}
	for _, c := range u.ConnTypes {
		ct, _ := authz.ParseConnType(c)
		l.AllowedConnectionTypes.Add(ct)
	}
	return l
}

func exportType(t string) jwt.ExportType {
	if t == "service" {
		return jwt.Service
	}
	return jwt.Stream
}

func exportID(e Export) string { return e.Subject + " " + e.Type }
func importID(im Import) string {
	return im.Account + " " + im.Subject + " " + im.Type + " " + im.LocalSubject
}

func samplingString(r jwt.SamplingRate) string {
	if r == jwt.Headers {
		return "headers"
	}
	if r == 100 || r == 0 {
		return ""
	}
	return strconv.Itoa(int(r))
}

func sortedLower(in []string) []string {
	var out []string
	for _, t := range in {
		if tag, err := authz.ParseTag(t); err == nil {
			out = append(out, tag)
		} else {
			out = append(out, t)
		}
	}
	return sortedUnique(out)
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

func i64(n int64) *int64 { return &n }
func size(n int64) *Size { s := Size(n); return &s }
func boolp(b bool) *bool { return &b }

func i64Z(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func sizeZ(n int64) *Size {
	if n == 0 {
		return nil
	}
	return size(n)
}

func dropI(p *int64, def int64) *int64 {
	if p == nil || *p == def {
		return nil
	}
	return p
}

func dropS(p *Size, def int64) *Size {
	if p == nil || int64(*p) == def {
		return nil
	}
	return p
}

func setI(dst *int64, p *int64) {
	if p != nil {
		*dst = *p
	}
}
