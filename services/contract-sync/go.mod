module github.com/flexflow/flexflow/services/contract-sync

go 1.26.0
