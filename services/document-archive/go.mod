module github.com/flexflow/flexflow/services/document-archive

go 1.26.0
