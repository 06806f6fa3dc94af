// Package oneflow is flexflow's client for Oneflow's Public API and its
// webhooks: the calls contract-sync and document-archive make (contracts, data
// fields, parties, users, template types, the contract PDF), Oneflow's error
// body translated once into typed errors, the retry and rate-limit policy, pure
// helpers over a contract, and webhook decoding and signature checks.
//
// Every choice made where Oneflow's documentation leaves a gap is in gaps.go.
// The sandbox package is a real HTTP server that behaves like Oneflow for tests
// and demos; contracttest is one suite run against both.
package oneflow
