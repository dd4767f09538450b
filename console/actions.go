package console

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// The actions: each GET shows a form or a confirmation, and only a POST carrying the session's
// CSRF token (checked in ServeHTTP) and confirm=yes changes the store, through package ops as
// the CLI does, then pushes the account as the CLI does after a save.
func (c *Console) actionRoutes() {
	c.mux.HandleFunc("GET /accounts/{account}/users/{user}/revoke", c.writable(c.revokeConfirm))
	c.mux.HandleFunc("POST /accounts/{account}/users/{user}/revoke", c.writable(c.revoke))
	c.mux.HandleFunc("POST /accounts/{account}/users/{user}/creds", c.writable(c.creds))
	c.mux.HandleFunc("GET /accounts/{account}/users/new", c.writable(c.addUserForm))
	c.mux.HandleFunc("POST /accounts/{account}/users/new", c.writable(c.addUser))
	c.mux.HandleFunc("GET /accounts/{account}/limits", c.writable(c.limitsForm))
	c.mux.HandleFunc("POST /accounts/{account}/limits", c.writable(c.editLimits))
}

func (c *Console) writable(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.o.ReadOnly {
			refuse(w, http.StatusForbidden, "This console is read-only.")
			return
		}
		h(w, r)
	}
}

// confirmData is a confirmation page: what will happen, and the form that makes it happen.
type confirmData struct {
	Heading string
	Lines   []string
	Conns   []Conn
	Live    bool
	Action  string
	Fields  map[string]string
	Button  string
	Danger  bool
	Back    string
	Error   string
}

func (c *Console) done(w http.ResponseWriter, r *http.Request, to, msg string) {
	http.Redirect(w, r, to+"?done="+url.QueryEscape(msg), http.StatusSeeOther)
}

// pushed pushes an account after a save, as the CLI does; a failed push is reported, the
// change stays (as with the CLI, `signet push` sends it later).
func (c *Console) pushed(r *http.Request, sess *session, account string) string {
	if c.o.AccountSaved == nil {
		return ""
	}
	if err := c.o.AccountSaved(r.Context(), c.storeFor(sess), account); err != nil {
		return fmt.Sprintf(" The push failed (%v): run `signet push -a %s`.", err, account)
	}
	return ""
}

// ---- revoke a user

func userPath(account, user string) string {
	return "/accounts/" + url.PathEscape(account) + "/users/" + url.PathEscape(user)
}

func (c *Console) revokeConfirm(w http.ResponseWriter, r *http.Request) {
	d, code, err := c.userData(r)
	if err != nil {
		c.fail(w, code, err)
		return
	}
	cd := confirmData{
		Heading: fmt.Sprintf("Revoke user %s of account %s?", d.Name, d.Account),
		Lines: []string{
			fmt.Sprintf("Every JWT of %s (%s) issued until now will be refused by the servers once account %s is pushed.", d.Name, d.Claims.Subject, d.Account),
			"The account is re-signed and pushed as `signet revocations add-user` does.",
		},
		Live: d.Live, Conns: d.Conns,
		Action: userPath(d.Account, d.Name) + "/revoke", Fields: map[string]string{"confirm": "yes"},
		Button: "Revoke " + d.Name, Danger: true, Back: userPath(d.Account, d.Name),
	}
	switch {
	case d.LiveError != "":
		cd.Lines = append(cd.Lines, "Live connections could not be asked: "+d.LiveError)
	case d.Live && len(d.Conns) > 0:
		cd.Lines = append(cd.Lines, fmt.Sprintf("It cuts these %d live connections:", len(d.Conns)))
	case d.Live:
		cd.Lines = append(cd.Lines, "No live connection of this user is cut.")
	}
	c.render(w, r, "confirm", "Revoke "+d.Name, "accounts", cd)
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request) {
	account, user := r.PathValue("account"), r.PathValue("user")
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, userPath(account, user)+"/revoke", http.StatusSeeOther)
		return
	}
	sess := sessionOf(r)
	s := c.storeFor(sess)
	if !s.HasUser(account, user) {
		c.fail(w, http.StatusNotFound, fmt.Errorf("account %q has no user %q", account, user))
		return
	}
	_, err := ops.RevokeUser(s, c.o.KeyStore, ops.RevokeUserRequest{Account: account, Users: []string{user}, At: c.o.Now()})
	if err != nil {
		c.fail(w, http.StatusInternalServerError, fmt.Errorf("revoke user %q: %w", user, err))
		return
	}
	c.done(w, r, userPath(account, user), fmt.Sprintf("Revoked user %s.%s", user, c.pushed(r, sess, account)))
}

// ---- creds

func (c *Console) creds(w http.ResponseWriter, r *http.Request) {
	account, user := r.PathValue("account"), r.PathValue("user")
	uc, tok, err := c.o.Store.User(account, user)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	kp, err := c.o.KeyStore.Get(uc.Subject)
	if err != nil {
		c.fail(w, http.StatusNotFound, fmt.Errorf("the keystore does not hold the key of user %q", user))
		return
	}
	seed, err := kp.Seed()
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	creds, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", user+".creds"))
	_, _ = w.Write(creds)
}

// ---- add a user

type addUserData struct {
	Account string
	Name    string
	Signers []signerChoice
	Error   string
}

type signerChoice struct{ Value, Label string }

func (c *Console) signerChoices(ac *jwt.AccountClaims) []signerChoice {
	out := []signerChoice{{"", "the default key (as `signet add user` chooses)"}}
	var keys []string
	for k := range ac.SigningKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		label := "signing key " + short(k)
		if us, ok := ac.SigningKeys[k].(*jwt.UserScope); ok && us != nil {
			label = "scoped key " + us.Role + " (" + short(k) + ")"
		}
		out = append(out, signerChoice{k, label})
	}
	return out
}

func (c *Console) addUserForm(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	ac, _, err := c.data.account(account)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	c.render(w, r, "adduser", "Add a user to "+account, "accounts", addUserData{Account: account, Signers: c.signerChoices(ac)})
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	ac, _, err := c.data.account(account)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	name, signer := r.PostForm.Get("name"), r.PostForm.Get("signer")
	formErr := func(msg string) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, "adduser", "Add a user to "+account, "accounts", addUserData{Account: account, Name: name, Signers: c.signerChoices(ac), Error: msg})
	}
	if err := store.ValidateName(name); err != nil {
		formErr("User name: " + err.Error())
		return
	}
	if c.o.Store.HasUser(account, name) {
		formErr(fmt.Sprintf("Account %s already has a user %s.", account, name))
		return
	}
	if signer != "" {
		if _, ok := ac.SigningKeys[signer]; !ok {
			formErr("That key is not a signing key of the account.")
			return
		}
	}
	if r.PostForm.Get("confirm") != "yes" {
		who := "the default key"
		for _, s := range c.signerChoices(ac) {
			if s.Value == signer && signer != "" {
				who = s.Label
			}
		}
		c.render(w, r, "confirm", "Add user "+name, "accounts", confirmData{
			Heading: fmt.Sprintf("Add user %s to account %s?", name, account),
			Lines:   []string{"A new user key is generated and kept in the keystore; its JWT is signed with " + who + ".", "Its creds are offered for download on the next page, and only on a click."},
			Action:  "/accounts/" + url.PathEscape(account) + "/users/new",
			Fields:  map[string]string{"name": name, "signer": signer, "confirm": "yes"},
			Button:  "Add " + name, Back: "/accounts/" + url.PathEscape(account),
		})
		return
	}
	res, err := ops.AddUser(c.storeFor(sessionOf(r)), c.o.KeyStore, ops.AddUserRequest{Account: account, Name: name, Signer: signer, Now: c.o.Now()})
	if err != nil {
		formErr(err.Error())
		return
	}
	c.done(w, r, userPath(account, res.Name), fmt.Sprintf("Added user %s. Download its creds below.", res.Name))
}

// ---- edit limits

type limitField struct {
	Key, Label, Value, Help string
}

type limitsData struct {
	Account string
	Fields  []limitField
	Error   string
}

// limitFields are the limits the console edits, with their current values.
func limitFields(ac *jwt.AccountClaims) []limitField {
	v := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []limitField{
		{"conns", "Connections", v(ac.Limits.Conn), "-1 unlimited"},
		{"leaf_conns", "Leaf node connections", v(ac.Limits.LeafNodeConn), "-1 unlimited"},
		{"subscriptions", "Subscriptions", v(ac.Limits.Subs), "-1 unlimited"},
		{"payload", "Max payload", v(ac.Limits.Payload), "bytes, or 1K, 1M…; -1 unlimited"},
		{"data", "Data", v(ac.Limits.Data), "bytes, or 1K, 1M…; -1 unlimited"},
		{"imports", "Imports", v(ac.Limits.Imports), "-1 unlimited"},
		{"exports", "Exports", v(ac.Limits.Exports), "-1 unlimited"},
	}
}

func (c *Console) limitsForm(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	ac, _, err := c.data.account(account)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	c.render(w, r, "limits", "Limits of "+account, "accounts", limitsData{Account: account, Fields: limitFields(ac)})
}

// limitOptions are the form's values that differ from the account's, as the CLI's flags.
func limitOptions(ac *jwt.AccountClaims, form url.Values) authz.AccountLimitOptions {
	var o authz.AccountLimitOptions
	dst := map[string]*string{
		"conns": &o.Conns, "leaf_conns": &o.LeafConns, "subscriptions": &o.Subscriptions,
		"payload": &o.Payload, "data": &o.Data, "imports": &o.Imports, "exports": &o.Exports,
	}
	for _, f := range limitFields(ac) {
		if v := form.Get(f.Key); v != "" && v != f.Value {
			*dst[f.Key] = v
		}
	}
	return o
}

func (c *Console) editLimits(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	ac, tok, err := c.data.account(account)
	if err != nil {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	o := limitOptions(ac, r.PostForm)
	// Preview on a copy: the cached claims are shared.
	preview, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	changes, err := o.Apply(preview)
	formErr := func(msg string) {
		fields := limitFields(ac)
		for i := range fields {
			if v := r.PostForm.Get(fields[i].Key); v != "" {
				fields[i].Value = v
			}
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, "limits", "Limits of "+account, "accounts", limitsData{Account: account, Fields: fields, Error: msg})
	}
	if err != nil {
		formErr(err.Error())
		return
	}
	if len(changes) == 0 {
		formErr("Nothing to change: every value is the account's.")
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		fields := map[string]string{"confirm": "yes"}
		for _, f := range limitFields(ac) {
			fields[f.Key] = r.PostForm.Get(f.Key)
		}
		c.render(w, r, "confirm", "Edit limits of "+account, "accounts", confirmData{
			Heading: fmt.Sprintf("Change the limits of account %s?", account),
			Lines:   append(changes, "The account is re-signed and pushed as `signet edit account` does; servers enforce the new limits at once."),
			Action:  "/accounts/" + url.PathEscape(account) + "/limits", Fields: fields,
			Button: "Apply", Back: "/accounts/" + url.PathEscape(account),
		})
		return
	}
	sess := sessionOf(r)
	_, err = ops.UpdateAccount(c.storeFor(sess), c.o.KeyStore, ops.AccountUpdate{Account: account, Change: func(_ string, ac *jwt.AccountClaims) error {
		_, err := o.Apply(ac)
		return err
	}})
	if err != nil {
		formErr(err.Error())
		return
	}
	c.done(w, r, "/accounts/"+url.PathEscape(account), fmt.Sprintf("Changed the limits of %s.%s", account, c.pushed(r, sess, account)))
}
