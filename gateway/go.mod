module github.com/flexflow/flexflow/gateway

go 1.26.0
