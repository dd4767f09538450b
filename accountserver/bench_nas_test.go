package accountserver

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
)

// nasPath is the POST path of nats-account-server, put together from the parts it is made of,
// for the side-by-side benchmark: nats-server's DirJWTStore opened as nats-account-server opens
// it (os.WriteFile under the store's lock, nothing synced), the checks its handler makes
// (decode and signature, subject, trusted issuer, blocking validation issues), a notice logged
// per update, and the notification published on $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE without
// waiting for an answer. Nothing it answers is sure to survive a power cut.
type nasPath struct {
	store   *server.DirJWTStore
	nc      *nats.Conn
	trusted map[string]bool
	log     *log.Logger
}

func (h *nasPath) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pub := strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad JWT in request", http.StatusBadRequest)
		return
	}
	claim, err := jwt.DecodeAccountClaims(string(body))
	switch {
	case err != nil:
		http.Error(w, "bad JWT in request", http.StatusBadRequest)
		return
	case claim.Subject != pub:
		http.Error(w, "pub keys don't match", http.StatusBadRequest)
		return
	case !h.trusted[claim.Issuer]:
		http.Error(w, "untrusted issuer in request", http.StatusBadRequest)
		return
	}
	vr := &jwt.ValidationResults{}
	claim.Validate(vr)
	if vr.IsBlocking(true) {
		http.Error(w, "validation issues", http.StatusBadRequest)
		return
	}
	if err := h.store.SaveAcc(pub, string(body)); err != nil {
		http.Error(w, "error saving JWT", http.StatusInternalServerError)
		return
	}
	if err := h.nc.Publish("$SYS.ACCOUNT."+pub+".CLAIMS.UPDATE", body); err != nil {
		http.Error(w, "error sending notification of change", http.StatusInternalServerError)
		return
	}
	h.log.Printf("[INF] updated JWT for account - %s - %s", pub[:12], claim.ID)
	w.WriteHeader(http.StatusOK)
}

// startNASPath starts nasPath on a fresh folder, connected as the system user to ns, and returns
// the URL its POSTs go to.
func startNASPath(b *testing.B, op *natstest.Operator, ns *natstest.Server) string {
	b.Helper()
	store, err := server.NewExpiringDirJWTStore(b.TempDir(), false, true, server.NoDelete, 0, 0, false, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.Close)
	nc, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { devNull.Close() })
	h := &nasPath{store: store, nc: nc, trusted: map[string]bool{op.Pub: true},
		log: log.New(devNull, "", log.LstdFlags|log.Lmicroseconds)}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL + "/jwt/v1/accounts/"
}

// buildSignet builds the signet command into a temporary folder and returns its path.
func buildSignet(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "signet")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/signet-dev/signet/cmd/signet")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startAccountServerProcess runs an account server binary in a process of its own, configured
// with a nats-account-server configuration file (which signet serve reads too): a fresh store
// folder (none when memory is set: the server's memory store), connected as the system user to
// ns. argv is the command line before the configuration file's path ("serve -c" for signet,
// "-c" for nats-account-server). It returns the URL its POSTs go to and the process's id.
func startAccountServerProcess(b *testing.B, op *natstest.Operator, ns *natstest.Server, memory bool, argv ...string) (string, int) {
	b.Helper()
	dir := b.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
		return p
	}
	port := freePort(b)
	store := fmt.Sprintf("store { dir: %q }", filepath.Join(dir, "jwt"))
	if memory {
		store = ""
	}
	conf := write("account-server.conf", fmt.Sprintf(`operatorjwtpath: %q
systemaccountjwtpath: %q
http { host: "127.0.0.1", port: %d }
%s
nats { servers: [%q], usercredentials: %q }
`, write("operator.jwt", op.JWT), write("sys.jwt", op.SysJWT), port, store,
		ns.ClientURL(), op.SysCredsFile(b)))
	cmd := exec.Command(argv[0], append(argv[1:], conf)...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d/jwt/v1/accounts/", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base)
		if err == nil {
			resp.Body.Close()
			// Let it connect to NATS: notifications are part of what a POST costs.
			time.Sleep(500 * time.Millisecond)
			return base, cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s did not start: %v", argv[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
