package natsx_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flexflow/flexflow/libs/natsx"
)

func TestRefusalsReachTheOtherProcessesOfTheSameLimitOnly(t *testing.T) {
	c := connectEmbedded(t, t.TempDir())
	t.Cleanup(func() { _ = c.Close() })
	dial := func() *nats.Conn {
		nc, err := nats.Connect(c.Server.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	listen := func(nc *nats.Conn, key string) (*natsx.Refusals, chan time.Duration) {
		r, err := natsx.NewRefusals(nc, key, discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		heard := make(chan time.Duration, 10)
		if err := r.Listen(func(d time.Duration) { heard <- d }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r, heard
	}
	directory, directoryHeard := listen(dial(), "a1b2")
	_, archiveHeard := listen(dial(), "a1b2")
	_, otherAccountHeard := listen(dial(), "ffff")

	directory.Refused(1500 * time.Millisecond)
	select {
	case d := <-archiveHeard:
		if d != 1500*time.Millisecond {
			t.Fatalf("heard Retry-After %v, want 1.5s", d)
		}
	case <-time.After(5 * time.Second): // a hang guard, not a measurement
		t.Fatal("the other process never heard of the refusal")
	}
	// The notice has reached one subscriber; give the others as long again
	// before saying they never got it.
	time.Sleep(50 * time.Millisecond)
	if len(directoryHeard) != 0 {
		t.Error("a process heard its own refusal")
	}
	if len(otherAccountHeard) != 0 {
		t.Error("a process of another rate limit heard the refusal")
	}
}

func TestRefusalsIgnoreNoticesTheyCannotRead(t *testing.T) {
	c := connectEmbedded(t, t.TempDir())
	t.Cleanup(func() { _ = c.Close() })
	r, err := natsx.NewRefusals(c.NC, "k", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	heard := make(chan time.Duration, 10)
	if err := r.Listen(func(d time.Duration) { heard <- d }); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, v := range []string{"", "soon", "-5", "99999999999"} {
		msg := nats.NewMsg(natsx.RefusalsSubjectPrefix + "k")
		msg.Header.Set("Flexflow-Retry-After-Ms", v)
		if err := c.NC.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if len(heard) != 0 {
		t.Fatalf("%d unreadable notices were passed on", len(heard))
	}
}

func TestNewRefusalsRefusesAKeyThatIsNotASubjectToken(t *testing.T) {
	c := connectEmbedded(t, t.TempDir())
	t.Cleanup(func() { _ = c.Close() })
	for _, key := range []string{"", "a.b", "a b", "*", ">"} {
		if _, err := natsx.NewRefusals(c.NC, key, discardLogger()); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}
