// Package domain holds employee-directory's rules as pure functions: how a
// Flex HRM employee, its employment periods, its manager and its company's
// titles become the 15 mapped fields, which period is current, how a position
// name finds a title, how a field mask turns into a minimal change, and how an
// employment period is created or updated. Nothing here does I/O, so every
// rule is tested with plain tables.
package domain
