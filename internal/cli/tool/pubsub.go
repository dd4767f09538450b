package tool

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/shellquote"
)

// PubOptions are the inputs of `tool pub`.
type PubOptions struct {
	Conn    ConnOptions
	Subject string
	Payload string
	// Wait, when positive, holds the message back until a subscriber listens on the subject
	// (for at most Wait), so that a subscriber started just before does not miss it.
	Wait time.Duration
}

// NewCmdPub builds `tool pub`.
func NewCmdPub(f *cmdutil.Factory) *cobra.Command {
	o := &PubOptions{}
	cmd := &cobra.Command{
		Use:     "pub SUBJECT [MESSAGE]",
		Short:   "Publish a message as a user of the current account",
		Example: "signet tool pub hello world",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subject, o.Payload = subjectAndPayload(args)
			return RunPub(cmd.Context(), f, o)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().DurationVar(&o.Wait, "wait", 0, "wait up to this long for a subscriber on the subject, then publish (default: publish at once, lost if nobody listens)")
	return cmd
}

// RunPub publishes one message and waits until the server has it.
func RunPub(ctx context.Context, f *cmdutil.Factory, o *PubOptions) error {
	if err := authz.ValidateSubject(o.Subject, false); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if o.Wait < 0 {
		return fmt.Errorf("--wait must be 0 or more, not %s", o.Wait)
	}
	nc, id, err := Connect(ctx, f, &o.Conn)
	if err != nil {
		return err
	}
	defer nc.Close()
	if o.Wait > 0 {
		err = publishWhenHeard(ctx, nc, o.Subject, []byte(o.Payload), o.Wait)
	} else if err = nc.Publish(o.Subject, []byte(o.Payload)); err == nil {
		err = flush(ctx, nc)
	}
	if err != nil {
		return fmt.Errorf("publish to %q: %w", o.Subject, id.explain(err, now(f)))
	}
	// nsc's line, which scripts may read: the payload Go-quoted.
	fmt.Fprintf(f.IO.ErrOut, "Published [%s] : %q\n", o.Subject, o.Payload)
	return nil
}

// publishWhenHeard publishes until a subscriber receives the message, for at most wait. Each
// try carries a reply subject, so that the server answers "no responders" (status 503) when
// nobody listens; that answer arrives before the PONG of the flush that follows, so a try
// without one reached a subscriber, and a try with one reached nobody.
func publishWhenHeard(ctx context.Context, nc *nats.Conn, subject string, data []byte, wait time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	retry := time.NewTicker(50 * time.Millisecond)
	defer retry.Stop()
	for {
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox, Data: data}); err != nil {
			return err
		}
		if err := flush(ctx, nc); err != nil {
			return err
		}
		heard := true
		for {
			// nats.go reports the 503 answer as ErrNoResponders; a reply from a responder is
			// a message; nothing queued is a timeout.
			_, err := sub.NextMsg(0)
			if errors.Is(err, nats.ErrNoResponders) {
				heard = false
			} else if err != nil {
				break
			}
		}
		if heard {
			return nil
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("nobody subscribed within %s: nothing was delivered (start a subscriber with `signet tool sub %s`)", wait, shellquote.Quote(subject))
		case <-retry.C:
		}
	}
}

// flush waits until the server has processed everything sent so far; a permissions violation
// shows up here as the connection's last error.
func flush(ctx context.Context, nc *nats.Conn) error {
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := nc.FlushWithContext(fctx); err != nil {
		return err
	}
	if err := nc.LastError(); err != nil {
		return err
	}
	return nil
}

// ListenOptions are what `tool sub` and `tool reply` share: a subscription and when to stop.
type ListenOptions struct {
	Conn    ConnOptions
	Subject string
	Queue   string
	// Max stops after this many messages; 0 waits until the context ends.
	Max int
}

func (o *ListenOptions) addFlags(cmd *cobra.Command, what string) {
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Queue, "queue", "q", "", "listen in this queue group")
	cmd.Flags().IntVar(&o.Max, "max", 0, "stop after this many "+what+" (0: until interrupted)")
	cmd.Flags().Var(maxMessages{&o.Max}, "max-messages", "nsc's form of --max: stop after this many "+what+" (-1: until interrupted)")
}

// maxMessages is nsc's --max-messages: -1 (its default) is no limit and 0 is refused; it sets
// the same limit as --max.
type maxMessages struct{ max *int }

func (m maxMessages) Type() string { return "int" }
func (m maxMessages) String() string {
	if m.max == nil || *m.max == 0 {
		return "-1"
	}
	return strconv.Itoa(*m.max)
}
func (m maxMessages) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a whole number", s)
	case n == 0:
		return errors.New("must be greater than zero (or -1 for no limit)")
	case n < 0:
		n = 0
	}
	*m.max = n
	return nil
}

// SubOptions are the inputs of `tool sub`.
type SubOptions struct {
	ListenOptions
}

// NewCmdSub builds `tool sub`.
func NewCmdSub(f *cmdutil.Factory) *cobra.Command {
	o := &SubOptions{}
	cmd := &cobra.Command{
		Use:     "sub SUBJECT",
		Short:   "Print the messages on a subject until interrupted (or --max messages)",
		Example: "signet tool sub 'hello.>' --max 1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subject = args[0]
			return RunSub(cmd.Context(), f, o)
		},
	}
	o.addFlags(cmd, "messages")
	compat.RefuseFlag(f, cmd, "encrypt", "E", "nsc itself no longer supports its experimental payload encryption")
	return cmd
}

// RunSub prints messages until ctx ends or o.Max messages arrived. An ended context is a normal
// stop, not an error.
func RunSub(ctx context.Context, f *cmdutil.Factory, o *SubOptions) error {
	return o.serve(ctx, f, "Listening on", func(n int, m *nats.Msg) error {
		fmt.Fprintf(f.IO.Out, "[#%d] received on [%s]: '%s'\n", n, m.Subject, m.Data)
		return nil
	})
}

// ReplyOptions are the inputs of `tool reply`.
type ReplyOptions struct {
	ListenOptions
	// Payload is the answer to every request; nil (no MESSAGE) echoes each request's own
	// payload back, as nsc does.
	Payload *string
}

// NewCmdReply builds `tool reply`.
func NewCmdReply(f *cmdutil.Factory) *cobra.Command {
	o := &ReplyOptions{}
	cmd := &cobra.Command{
		Use:     "reply SUBJECT [MESSAGE]",
		Short:   "Answer requests on a subject with a message (default: the request's own payload) until interrupted (or --max requests)",
		Example: "signet tool reply help 'I can help'\nsignet tool reply echo",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subject = args[0]
			if len(args) == 2 {
				o.Payload = &args[1]
			}
			return RunReply(cmd.Context(), f, o)
		},
	}
	o.addFlags(cmd, "requests")
	return cmd
}

// RunReply answers requests, with o.Payload or else an echo of each request, until ctx ends or
// o.Max requests were answered.
func RunReply(ctx context.Context, f *cmdutil.Factory, o *ReplyOptions) error {
	return o.serve(ctx, f, "listening on", func(n int, m *nats.Msg) error {
		if m.Reply == "" {
			fmt.Fprintf(f.IO.ErrOut, "[#%d] ignoring request on [%s]: no reply subject\n", n, m.Subject)
			return nil
		}
		fmt.Fprintf(f.IO.ErrOut, "[#%d] received on [%s]: '%s'\n", n, m.Subject, m.Data)
		answer := m.Data
		if o.Payload != nil {
			answer = []byte(*o.Payload)
		}
		if err := m.Respond(answer); err != nil {
			return fmt.Errorf("answer request #%d on [%s]: %w", n, m.Subject, err)
		}
		return nil
	})
}

// subjectAndPayload splits SUBJECT [MESSAGE].
func subjectAndPayload(args []string) (subject, payload string) {
	if len(args) == 2 {
		payload = args[1]
	}
	return args[0], payload
}

// serve subscribes and hands each message to handle until ctx ends or Max messages were handled.
// The subscription is confirmed by the server before the listening line is printed, so a caller
// that waits for that line can publish right away. That line is nsc's ("<listening> [SUBJECT]",
// and " for N messages" with a limit), which scripts wait for; the user it connected as is on
// an [INFO] line of its own.
func (o *ListenOptions) serve(ctx context.Context, f *cmdutil.Factory, listening string, handle func(n int, m *nats.Msg) error) error {
	if err := authz.ValidateSubject(o.Subject, true); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if o.Max < 0 {
		return fmt.Errorf("--max must be 0 or more, not %d", o.Max)
	}
	nc, id, err := Connect(ctx, f, &o.Conn)
	if err != nil {
		return err
	}
	defer nc.Close()
	sub, err := nc.QueueSubscribeSync(o.Subject, o.Queue)
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.Subject, err)
	}
	listened := func() {
		f.IO.Info("connected as user %q of account %q", id.User, id.Account)
		if o.Max > 0 {
			fmt.Fprintf(f.IO.ErrOut, "%s [%s] for %d messages\n", listening, o.Subject, o.Max)
		} else {
			fmt.Fprintf(f.IO.ErrOut, "%s [%s]\n", listening, o.Subject)
		}
	}
	if err := flush(ctx, nc); err != nil {
		if ctx.Err() != nil {
			// Interrupted while the server took the subscription: it listened, briefly.
			listened()
			return nil
		}
		return fmt.Errorf("subscribe to %q: %w", o.Subject, err)
	}
	listened()
	for n := 1; o.Max == 0 || n <= o.Max; n++ {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive on %q: %w", o.Subject, id.explain(connErr(nc, err), now(f)))
		}
		if err := handle(n, m); err != nil {
			return err
		}
	}
	if err := flush(ctx, nc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("flush replies: %w", err)
	}
	return nil
}

// connErr prefers the connection's last error (e.g. a permissions violation sent by the server)
// over the generic one a call returned.
func connErr(nc *nats.Conn, err error) error {
	if last := nc.LastError(); last != nil {
		return last
	}
	return err
}

// ReqOptions are the inputs of `tool req`.
type ReqOptions struct {
	Conn    ConnOptions
	Subject string
	Payload string
	Timeout time.Duration
}

// NewCmdReq builds `tool req`.
func NewCmdReq(f *cmdutil.Factory) *cobra.Command {
	o := &ReqOptions{}
	cmd := &cobra.Command{
		Use:     "req SUBJECT [MESSAGE]",
		Aliases: []string{"request"},
		Short:   "Send a request and print the reply",
		Example: "signet tool req help 'me'",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subject, o.Payload = subjectAndPayload(args)
			return RunReq(cmd.Context(), f, o)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Second, "time to wait for the reply")
	compat.RefuseFlag(f, cmd, "encrypt", "E", "nsc itself no longer supports its experimental payload encryption")
	return cmd
}

// RunReq sends one request and prints its reply.
func RunReq(ctx context.Context, f *cmdutil.Factory, o *ReqOptions) error {
	if err := authz.ValidateSubject(o.Subject, false); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, not %s", o.Timeout)
	}
	nc, id, err := Connect(ctx, f, &o.Conn)
	if err != nil {
		return err
	}
	defer nc.Close()
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// nsc's lines, which scripts may read: this one on stderr, the reply's on stdout.
	fmt.Fprintf(f.IO.ErrOut, "published request: [%s] : '%s'\n", o.Subject, o.Payload)
	m, err := nc.RequestWithContext(rctx, o.Subject, []byte(o.Payload))
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("request on [%s]: nobody is listening (start a responder with `signet tool reply %s MESSAGE`)", o.Subject, shellquote.Quote(o.Subject))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// nsc's line and exit status: a script that goes on when nobody answered in time
		// (nsc exits 0) goes on with signet too.
		fmt.Fprintln(f.IO.ErrOut, "request timed out")
		return nil
	case err != nil:
		return fmt.Errorf("request on [%s]: %w", o.Subject, id.explain(connErr(nc, err), now(f)))
	}
	fmt.Fprintf(f.IO.Out, "received reply: [%s] : '%s'\n", m.Subject, m.Data)
	return nil
}

// RTTOptions are the inputs of `tool rtt`.
type RTTOptions struct {
	Conn ConnOptions
}

// NewCmdRTT builds `tool rtt`.
func NewCmdRTT(f *cmdutil.Factory) *cobra.Command {
	o := &RTTOptions{}
	cmd := &cobra.Command{
		Use:   "rtt",
		Short: "Measure the round trip time to the server",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunRTT(cmd.Context(), f, o) },
	}
	o.Conn.AddFlags(cmd.Flags())
	return cmd
}

// RunRTT connects and prints the round trip time of one PING/PONG.
func RunRTT(ctx context.Context, f *cmdutil.Factory, o *RTTOptions) error {
	nc, _, err := Connect(ctx, f, &o.Conn)
	if err != nil {
		return err
	}
	defer nc.Close()
	start := time.Now()
	if err := flush(ctx, nc); err != nil {
		return fmt.Errorf("round trip to %s: %w", nc.ConnectedUrlRedacted(), err)
	}
	fmt.Fprintf(f.IO.Out, "round trip time to [%s] = %v\n", nc.ConnectedUrlRedacted(), time.Since(start))
	return nil
}
