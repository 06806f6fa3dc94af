module github.com/flexflow/flexflow/libs/flexhrm

go 1.26.0
