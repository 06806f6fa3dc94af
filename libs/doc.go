// Package libs is the root of flexflow's shared libraries; the code lives in
// its sub-packages: telemetry (tracing, NATS trace headers, redacting
// logger), natsx (NATS connect or embedded JetStream, idempotent streams and
// buckets), config (environment configuration with *_FILE secrets), auth
// (bearer-token policy for gRPC), grpcx (the standard gRPC server and
// client), and the vendor modules flexhrm and oneflow.
package libs
