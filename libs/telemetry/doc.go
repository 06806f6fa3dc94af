// Package telemetry is flexflow's one place for observability: the
// OpenTelemetry tracer provider configured from the standard OTEL_*
// variables, the otelgrpc/otelhttp hooks every server and client uses, trace
// context in NATS message headers (so one webhook is one trace across HTTP,
// gRPC and JetStream), and a slog JSON logger that scrubs personal data and
// secrets before anything is written.
//
// Every service calls Setup once at start, defers Provider.Shutdown (the
// batch processor loses spans otherwise), builds its logger with NewLogger
// and registers its secrets on the shared Redactor.
package telemetry
