// Package e2e holds flexflow's whole-system tests: every process started as
// `make run` starts it, a real Jaeger, and assertions on what an SRE sees.
//
// Each test starts a system of its own (ports, data directories, NATS), so
// the short ones run in parallel. The trace test and the long fault runs do
// not: the trace test sets the exporter's environment for its processes, and
// the fault runs measure a machine they have to themselves.
package e2e
