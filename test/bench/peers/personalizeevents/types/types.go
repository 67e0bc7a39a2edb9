// Package types is a compile stand-in for the AWS module a Go module proxy may refuse. The Personalize
// destination it belongs to is not configured by the benchmark, so none of this runs.
package types

import "time"

type MetricAttribution struct{ EventAttributionSource *string }

type Event struct {
	EventType         *string
	SentAt            *time.Time
	EventId           *string
	EventValue        *float32
	Impression        []string
	ItemId            *string
	MetricAttribution *MetricAttribution
	Properties        *string
	RecommendationId  *string
}

type User struct {
	UserId     *string
	Properties *string
}

type Item struct {
	ItemId     *string
	Properties *string
}
