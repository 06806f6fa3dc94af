// Package ports drives the app from the outside: the JetStream consumer of
// contract-sync's events and the DocumentArchiveService gRPC server. Each
// maps the app's outcomes once, to acks and naks or to gRPC codes.
package ports
