// Package domain holds document-archive's pure rules: what a document is
// called in Flex HRM, which archive job a document belongs to, and how long
// an upstream failure is retried. Nothing here does I/O, so every rule is
// tested with plain tables.
package domain
