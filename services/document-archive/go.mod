module github.com/flexflow/flexflow/services/document-archive

go 1.26.0

require (
	github.com/flexflow/flexflow/libs v0.0.0
	github.com/flexflow/flexflow/libs/flexhrm v0.0.0
	github.com/flexflow/flexflow/libs/oneflow v0.0.0
	github.com/flexflow/flexflow/proto/gen/go v0.0.0
)

replace (
	github.com/flexflow/flexflow/libs => ../../libs
	github.com/flexflow/flexflow/libs/flexhrm => ../../libs/flexhrm
	github.com/flexflow/flexflow/libs/oneflow => ../../libs/oneflow
	github.com/flexflow/flexflow/proto/gen/go => ../../proto/gen/go
)
