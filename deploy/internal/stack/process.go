// Package stack starts flexflow's processes (NATS, the vendor sandboxes, the
// services and the gateway), waits until each is ready, and stops them in
// reverse order. `make run` uses it, and so do the tests that kill and
// restart processes.
package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec describes one process.
type Spec struct {
	// Name labels the process's log lines, e.g. "contract-sync".
	Name string
	// Path is the binary; Args its arguments.
	Path string
	Args []string
	// Env is the complete environment of the process.
	Env []string
	// Ready blocks until the process serves (or ctx ends).
	Ready func(ctx context.Context) error
}

// Process is a running (or stopped) process of the stack.
type Process struct {
	spec Spec
	logs io.Writer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// NewProcess prepares a process whose output is copied, line by line and
// prefixed with its name, to logs.
func NewProcess(spec Spec, logs io.Writer) *Process {
	return &Process{spec: spec, logs: logs}
}

// Name is the process's label.
func (p *Process) Name() string { return p.spec.Name }

// Start launches the process and waits for it to be ready.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = p.spec.Env
	// Its own process group, so a terminal's Ctrl-C reaches the runner only
	// and the runner stops the stack in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s: start %s: %w", p.spec.Name, p.spec.Path, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.err = cmd, exited, nil
	p.mu.Unlock()

	var copies sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		copies.Add(1)
		go func() {
			defer copies.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				fmt.Fprintf(p.logs, "%-18s | %s\n", p.spec.Name, sc.Bytes())
			}
		}()
	}
	go func() {
		copies.Wait()
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()

	if p.spec.Ready == nil {
		return nil
	}
	readyCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	readyErr := make(chan error, 1)
	go func() { readyErr <- p.spec.Ready(readyCtx) }()
	select {
	case err := <-readyErr:
		if err != nil {
			_ = p.Stop(5 * time.Second)
			return fmt.Errorf("%s: not ready: %w", p.spec.Name, err)
		}
		return nil
	case <-exited:
		return fmt.Errorf("%s: exited before it was ready: %v (see its log lines above)", p.spec.Name, p.ExitErr())
	}
}

// Exited is closed when the process ends.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// ExitErr is how the process ended (nil while running or on a clean exit).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGTERM and waits up to grace, then SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s: did not stop within %s; killed", p.spec.Name, grace)
	}
}

// Kill ends the process at once (SIGKILL), as a crash would.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Stack is an ordered set of processes.
type Stack struct {
	procs []*Process
}

// Add appends a process; processes start in the order added and stop in
// reverse.
func (s *Stack) Add(p *Process) { s.procs = append(s.procs, p) }

// Processes returns the processes in start order.
func (s *Stack) Processes() []*Process { return s.procs }

// Start starts every process in order; on failure it stops what started.
func (s *Stack) Start(ctx context.Context) error {
	for i, p := range s.procs {
		if err := p.Start(ctx); err != nil {
			for j := i - 1; j >= 0; j-- {
				_ = s.procs[j].Stop(10 * time.Second)
			}
			return err
		}
	}
	return nil
}

// Stop stops every process in reverse order.
func (s *Stack) Stop(grace time.Duration) error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].Stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Wait blocks until ctx ends or any process exits; it returns that process.
func (s *Stack) Wait(ctx context.Context) *Process {
	exited := make(chan *Process, len(s.procs))
	for _, p := range s.procs {
		go func() {
			select {
			case <-p.Exited():
				exited <- p
			case <-ctx.Done():
			}
		}()
	}
	select {
	case p := <-exited:
		return p
	case <-ctx.Done():
		return nil
	}
}

// EnvWith returns base with the given variables set (replacing earlier ones).
func EnvWith(base []string, vars map[string]string) []string {
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		k := kv
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				k = kv[:i]
				break
			}
		}
		if _, replaced := vars[k]; !replaced {
			out = append(out, kv)
		}
	}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}
