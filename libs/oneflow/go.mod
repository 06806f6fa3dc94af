module github.com/flexflow/flexflow/libs/oneflow

go 1.26.0
