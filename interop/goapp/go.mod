module github.com/hooklab/hooklab/interop/goapp

go 1.26.0

require (
	github.com/google/go-github/v75 v75.0.0
	github.com/hooklab/hooklab v0.0.0
)

require (
	github.com/brianvoe/gofakeit/v6 v6.28.0 // indirect
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/tidwall/gjson v1.20.1 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/hooklab/hooklab => ../..
