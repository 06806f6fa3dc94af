module github.com/flexflow/flexflow/deploy

go 1.26.0
