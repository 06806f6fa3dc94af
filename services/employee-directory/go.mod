module github.com/flexflow/flexflow/services/employee-directory

go 1.26.0
