module cdp/test/clients/go

go 1.21

require (
	github.com/rudderlabs/analytics-go/v4 v4.2.3
	github.com/segmentio/analytics-go/v3 v3.3.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/grafana/jsonparser v0.0.0-20250908162026-5c2524e07b4c // indirect
	github.com/segmentio/backo-go v1.1.0 // indirect
)
