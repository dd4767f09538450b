package console

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/store"
)

// cache keeps decoded account JWTs and user name lists, keyed by the file's (or the users
// folder's) modification time and size: a page over 1,000 accounts or 100,000 users then costs
// a stat per entity it shows, and a change made by the CLI is seen on the next request.
type cache struct {
	s        *store.Store
	mu       sync.Mutex
	accounts map[string]cachedAccount
	users    map[string]cachedUsers
}

type stamp struct {
	mod  time.Time
	size int64
}

type cachedAccount struct {
	stamp
	ac  *jwt.AccountClaims
	tok string
}

type cachedUsers struct {
	stamp
	names []string
}

func newCache(s *store.Store) *cache {
	return &cache{s: s, accounts: map[string]cachedAccount{}, users: map[string]cachedUsers{}}
}

func stampOf(path string) (stamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, false
	}
	return stamp{fi.ModTime(), fi.Size()}, true
}

// account returns the named account's claims and JWT.
func (c *cache) account(name string) (*jwt.AccountClaims, string, error) {
	st, ok := stampOf(c.s.AccountPath(name))
	if ok {
		c.mu.Lock()
		e, hit := c.accounts[name]
		c.mu.Unlock()
		if hit && e.stamp == st {
			return e.ac, e.tok, nil
		}
	}
	ac, tok, err := c.s.Account(name)
	if err != nil {
		return nil, "", err
	}
	if ok {
		c.mu.Lock()
		c.accounts[name] = cachedAccount{st, ac, tok}
		c.mu.Unlock()
	}
	return ac, tok, nil
}

// userNames lists an account's users by name, sorted.
func (c *cache) userNames(account string) ([]string, error) {
	dir := filepath.Join(c.s.AccountDir(account), "users")
	st, ok := stampOf(dir)
	if ok {
		c.mu.Lock()
		e, hit := c.users[account]
		c.mu.Unlock()
		if hit && e.stamp == st {
			return e.names, nil
		}
	}
	names, err := c.s.UserNames(account)
	if err != nil {
		return nil, err
	}
	if ok {
		c.mu.Lock()
		c.users[account] = cachedUsers{st, names}
		c.mu.Unlock()
	}
	return names, nil
}

// accountRow is an account with what the lists show of it.
type accountRow struct {
	Name   string
	Claims *jwt.AccountClaims
	Users  int
	Err    string
}

// allAccounts reads every account of the store (through the cache), in name order.
func (c *cache) allAccounts() ([]accountRow, error) {
	names, err := c.s.Accounts()
	if err != nil {
		return nil, err
	}
	out := make([]accountRow, len(names))
	for i, n := range names {
		out[i].Name = n
		ac, _, err := c.account(n)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		out[i].Claims = ac
		if users, err := c.userNames(n); err == nil {
			out[i].Users = len(users)
		}
	}
	return out, nil
}
