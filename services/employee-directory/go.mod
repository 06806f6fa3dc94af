module github.com/flexflow/flexflow/services/employee-directory

go 1.26.0

require (
	github.com/flexflow/flexflow/libs v0.0.0
	github.com/flexflow/flexflow/libs/flexhrm v0.0.0
	github.com/flexflow/flexflow/proto/gen/go v0.0.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/sync v0.25.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

replace (
	github.com/flexflow/flexflow/libs => ../../libs
	github.com/flexflow/flexflow/libs/flexhrm => ../../libs/flexhrm
	github.com/flexflow/flexflow/proto/gen/go => ../../proto/gen/go
)
