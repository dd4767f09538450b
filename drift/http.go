package drift

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/signet-dev/signet/remote"
)

// askAccountServer reads what an account server holds: everything at once from /pack (signet
// serve), else, for a server without /pack (nats-account-server), the expected accounts one by
// one; then the accounts it holds beyond those cannot be seen, and the source's Note says so.
func askAccountServer(ctx context.Context, client *http.Client, url string, expected map[string]string) holding {
	h := holding{
		source:   Source{Kind: KindAccountServer, Name: url, URL: url},
		accounts: map[string]string{},
		complete: true,
	}
	all, err := remote.PackHTTP(ctx, client, url)
	if err == nil {
		h.accounts = all
		return h
	}
	var he *remote.HTTPError
	if !errors.As(err, &he) || (he.Status != http.StatusNotFound && he.Status != http.StatusMethodNotAllowed) {
		h.source.Error = err.Error()
		return h
	}
	h.source.Note = "the server has no /pack: only the store's accounts were asked for, accounts it holds beyond those are not seen"
	pubs := make([]string, 0, len(expected))
	for pub := range expected {
		pubs = append(pubs, pub)
	}
	sort.Strings(pubs)
	for _, pub := range pubs {
		tok, err := remote.PullHTTP(ctx, client, url, pub)
		switch {
		case err == nil:
			h.accounts[pub] = tok
		case errors.Is(err, remote.ErrNotFound):
		default:
			h.source.Error = err.Error()
			return h
		}
	}
	return h
}
