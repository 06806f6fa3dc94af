// Package libs is the root of flexflow's shared libraries; the code lives in
// its sub-packages (telemetry, natsx, config, grpcx, flexhrm, oneflow).
package libs
