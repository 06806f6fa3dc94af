// Package openapi embeds the OpenAPI (Swagger 2.0) document generated from
// flexflow's protobuf contracts, so the gateway can serve it at a stable path
// without reading files at run time.
package openapi

import _ "embed"

// Document is the merged OpenAPI document of every flexflow REST route.
//
//go:embed flexflow.swagger.json
var Document []byte
