// Package domain holds contract-sync's rules as pure functions and plain data:
// which Oneflow data fields map to which employee values, when a participant
// may be added, when a contract may be renamed, which flow an event starts,
// and the per-contract state that guards every side effect. Nothing here does
// I/O, so every rule is covered by table tests.
package domain
