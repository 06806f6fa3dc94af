// Package testenv starts the real parts contract-sync's component tests and
// benchmarks need: embedded NATS, the Oneflow and Flex HRM sandboxes on
// loopback, an employee directory, and contract-sync itself in-process.
package testenv
