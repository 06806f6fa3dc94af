// Package flexhrm is flexflow's client for the Flex HRM REST API, written
// against the model in shared/specs/flexhrm-api.md.
//
// Flex HRM's reference is not public, so the client keeps every path in one
// swappable table (Paths), reads tolerantly (bare arrays, items/Items/data
// envelopes, PascalCase properties, several error shapes) and translates every
// failure once into typed errors (ErrNotFound, *AmbiguousEmployeeError,
// ErrOverlappingDates, ...) so services never look at HTTP status codes.
//
// Personal data and secrets never leave this package in an error or a log
// line: errors name the operation, not the URL, and server messages are
// scrubbed before they are kept.
//
// Every choice the specification leaves open is made in gaps.go.
package flexhrm
