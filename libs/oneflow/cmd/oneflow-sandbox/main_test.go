package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTheCommandServesUntilCancelledAndPrintsItsURL(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	done := make(chan error, 1)
	env := map[string]string{"ONEFLOW_SIGN_KEY": "from-env"}
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-time-scale", "0.001"}, w, func(k string) string { return env[k] })
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the ready line: %v", err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "oneflow-sandbox listening on "))
	go func() { _, _ = io.Copy(io.Discard, out) }()
	resp, err := http.Get(url + "/_sandbox/")
	if err != nil {
		t.Fatalf("GET /_sandbox/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sandbox/: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the command did not stop")
	}
}

func TestBadFlagsStopStartUp(t *testing.T) {
	for _, args := range [][]string{{"-time-scale", "0"}, {"-seed", "/does/not/exist.json"}, {"-nope"}} {
		if err := run(t.Context(), args, io.Discard, func(string) string { return "" }); err == nil {
			t.Errorf("run(%v) started", args)
		}
	}
}
