// Package console holds `signet console`: the web console (package
// github.com/signet-dev/signet/console) over the current operator's store, on 127.0.0.1, opened
// by a URL with a one-time token.
package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/console"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Options are the inputs of `console`.
type Options struct {
	Operator string
	Host     string
	Port     int
	ReadOnly bool
}

// NewCmdConsole builds `console`.
func NewCmdConsole(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Serve the web console of the current operator on 127.0.0.1",
		Long: `Serve a web console over the current operator's store: the operator and its keys, the
accounts with their limits, users, signing keys, exports and imports, a trust graph, the history,
and (when the system account's key is in the keystore) what the servers hold and who is
connected. Users can be added and revoked and account limits edited; each change asks for
confirmation, is pushed as the CLI pushes, and is recorded in the history.

The URL printed carries a one-time token: the first browser to open it gets the session.`,
		Example: `  signet console
  signet console --port 8222 --read-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Operator, "operator", "", "operator to show (default: the current one)")
	fs.StringVar(&o.Host, "host", "127.0.0.1", "address to listen on (anything but loopback exposes the console to the network)")
	fs.IntVar(&o.Port, "port", 0, "port to listen on (default: a free port)")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "show, never change")
	return cmd
}

// Server is a running console.
type Server struct {
	// URL opens the console: it carries the one-time token.
	URL     string
	console *console.Console
	http    *http.Server
	done    chan error
}

// Stop shuts the console down.
func (s *Server) Stop(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.console.Close()
	return err
}

// Start serves the console of store st on host:port (0: a free port) until Stop: what `console`
// and `signet dev` share.
func Start(f *cmdutil.Factory, st *store.Store, host string, port int, readOnly bool) (*Server, error) {
	ks, err := f.KeyStore()
	if err != nil {
		return nil, err
	}
	oc, _, err := st.Operator()
	if err != nil {
		return nil, err
	}
	o := console.Options{
		Store: st, KeyStore: ks, HTTP: f.HTTP, Now: f.Now, ReadOnly: readOnly,
		AccountSaved: func(_ context.Context, s *store.Store, account string) error { return f.AccountSaved(s, account) },
	}
	// Live data needs a system-account user signed from the keystore; without one the console
	// still shows the store.
	if _, err := ops.SystemConn(st, ks, oc, ""); err == nil {
		o.SystemConn = func() ([]nats.Option, error) {
			oc, _, err := st.Operator()
			if err != nil {
				return nil, err
			}
			return ops.SystemConn(st, ks, oc, "")
		}
	}
	c, err := console.New(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s:%d: %w (choose another with --port)", host, port, err)
	}
	srv := &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	s := &Server{console: c, http: srv, done: make(chan error, 1)}
	s.URL = "http://" + ln.Addr().String() + c.LoginPath()
	go func() { s.done <- srv.Serve(ln) }()
	return s, nil
}

// Run serves the console until ctx ends (Ctrl-C).
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	srv, err := Start(f, st, o.Host, o.Port, o.ReadOnly)
	if err != nil {
		return err
	}
	f.IO.OK("console of operator %q: open the URL below (its token works once)", st.Name())
	fmt.Fprintln(f.IO.Out, srv.URL)
	select {
	case <-ctx.Done():
	case err := <-srv.done:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Stop(sctx)
}
