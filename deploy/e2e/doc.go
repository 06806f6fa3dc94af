// Package e2e holds flexflow's whole-system tests: every process started as
// `make run` starts it, a real Jaeger, and assertions on what an SRE sees.
//
// Each test starts a system of its own (ports, data directories, NATS), so
// the short ones run in parallel, after the serial ones. The trace test is
// serial because it sets the exporter's environment for its processes; the
// crash, cluster and upstream-trouble runs are serial because they measure a
// machine they have to themselves. In `make test-chaos` the only parallel
// test selected is the resend run, so it too runs alone.
package e2e
