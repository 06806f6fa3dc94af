// Package e2e holds flexflow's whole-system tests: every process started as
// `make run` starts it, a real Jaeger, and assertions on what an SRE sees.
package e2e
