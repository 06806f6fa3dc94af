module github.com/flexflow/flexflow/services/employee-directory

go 1.26.0

require github.com/google/go-cmp v0.7.0

require golang.org/x/sync v0.25.0
