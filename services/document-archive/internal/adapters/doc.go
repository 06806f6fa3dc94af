// Package adapters implements the app's ports against the real world:
// JetStream KV for archive records, leases and failures, a JetStream stream
// for the sync log, and the Oneflow and Flex HRM clients of libs. Vendor
// errors are translated here, once, into the app's permanent or transient
// errors.
package adapters
