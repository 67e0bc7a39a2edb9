// Drives Segment's and RudderStack's Go SDKs, unchanged and with their defaults, against the host given in CDP_HOST:
// every message type for a few people, then Close (which flushes). Prints what was sent, and what failed, as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	rudder "github.com/rudderlabs/analytics-go/v4"
	segment "github.com/segmentio/analytics-go/v3"
)

// One message as the SDK handed it to its callback: the fields the store is checked against.
type sent struct {
	MessageID         string `json:"messageId"`
	Type              string `json:"type"`
	UserID            string `json:"userId,omitempty"`
	AnonymousID       string `json:"anonymousId,omitempty"`
	Timestamp         string `json:"timestamp,omitempty"`
	OriginalTimestamp string `json:"originalTimestamp,omitempty"`
}

type report struct {
	Sdk    string   `json:"sdk"`
	Sent   []sent   `json:"sent"`
	Failed []string `json:"failed"`
}

type recorder struct {
	mu       sync.Mutex
	report   report
	answered chan struct{}
}

func (r *recorder) add(message any, err error) {
	raw, _ := json.Marshal(message)
	var s sent
	_ = json.Unmarshal(raw, &s)
	r.mu.Lock()
	if err != nil {
		r.report.Failed = append(r.report.Failed, fmt.Sprintf("%s %s: %v", s.Type, s.MessageID, err))
	} else {
		r.report.Sent = append(r.report.Sent, s)
	}
	r.mu.Unlock()
	r.answered <- struct{}{}
}

// Close drops a batch that is waiting to be retried, so the driver first waits until every message was answered
// (the SDK flushes on its own interval), then closes.
func (r *recorder) await(total int) error {
	timeout := time.After(90 * time.Second)
	for i := 0; i < total; i++ {
		select {
		case <-r.answered:
		case <-timeout:
			return fmt.Errorf("%d of %d messages were answered within 90 s", i, total)
		}
	}
	return nil
}

type segmentCallback struct{ *recorder }

func (c segmentCallback) Success(m segment.Message)            { c.add(m, nil) }
func (c segmentCallback) Failure(m segment.Message, err error) { c.add(m, err) }

type rudderCallback struct{ *recorder }

func (c rudderCallback) Success(m rudder.Message)            { c.add(m, nil) }
func (c rudderCallback) Failure(m rudder.Message, err error) { c.add(m, err) }

// A fixed past time with an offset: the stored original timestamp must be this instant.
var orderedAt = time.Date(2024, 5, 1, 10, 0, 0, 123_000_000, time.FixedZone("CEST", 2*60*60))

func env(name string) string {
	value := os.Getenv(name)
	if value == "" {
		fmt.Fprintf(os.Stderr, "%s is required\n", name)
		os.Exit(2)
	}
	return value
}

// The names one person goes by in the driven calls.
type person struct{ userID, anonymousID, groupID string }

// Enqueues every message type for each person, waits until all were answered, then closes the client.
func drive[M any](r *recorder, run string, people int, enqueue func(M) error, close func() error, messages func(person) []M) error {
	total := 0
	for n := 0; n < people; n++ {
		name := func(kind string) string { return fmt.Sprintf("%s_%s_%d", run, kind, n) }
		for _, message := range messages(person{name("user"), name("anon"), name("org")}) {
			if err := enqueue(message); err != nil {
				return err
			}
			total++
		}
	}
	if err := r.await(total); err != nil {
		return err
	}
	return close()
}

func runSegment(host, writeKey, run string, people int, r *recorder) error {
	client, err := segment.NewWithConfig(writeKey, segment.Config{Endpoint: host, Callback: segmentCallback{r}})
	if err != nil {
		return err
	}
	return drive(r, run, people, client.Enqueue, client.Close, func(p person) []segment.Message {
		return []segment.Message{
			segment.Identify{UserId: p.userID, Traits: segment.NewTraits().SetEmail(p.userID+"@example.com").Set("plan", "pro")},
			segment.Track{UserId: p.userID, Event: "Order Completed", Timestamp: orderedAt, Properties: segment.NewProperties().SetRevenue(42).SetCurrency("EUR")},
			segment.Page{AnonymousId: p.anonymousID, Name: "Pricing", Properties: segment.NewProperties().SetURL("https://example.com/pricing")},
			segment.Screen{UserId: p.userID, Name: "Home"},
			segment.Group{UserId: p.userID, GroupId: p.groupID, Traits: segment.NewTraits().SetName("Acme")},
			segment.Alias{UserId: p.userID, PreviousId: p.anonymousID},
		}
	})
}

// RudderStack's Go SDK names the client's time originalTimestamp, and adds a random anonymousId where none is given.
func runRudder(host, writeKey, run string, people int, r *recorder) error {
	client, err := rudder.NewWithConfig(writeKey, rudder.Config{DataPlaneUrl: host, Callback: rudderCallback{r}})
	if err != nil {
		return err
	}
	return drive(r, run, people, client.Enqueue, client.Close, func(p person) []rudder.Message {
		traits := rudder.NewTraits().SetEmail(p.userID+"@example.com").Set("plan", "pro")
		order := rudder.NewProperties().SetRevenue(42).SetCurrency("EUR")
		return []rudder.Message{
			rudder.Identify{UserId: p.userID, Traits: traits},
			rudder.Track{UserId: p.userID, Event: "Order Completed", OriginalTimestamp: orderedAt, Properties: order},
			rudder.Page{AnonymousId: p.anonymousID, Name: "Pricing", Properties: rudder.Properties{"url": "https://example.com/pricing"}},
			rudder.Screen{Name: "Home", UserId: p.userID},
			rudder.Group{GroupId: p.groupID, UserId: p.userID, Traits: rudder.Traits{"name": "Acme"}},
			rudder.Alias{PreviousId: p.anonymousID, UserId: p.userID},
		}
	})
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "segment" && os.Args[1] != "rudder") {
		fmt.Fprintln(os.Stderr, "usage: sdk-driver segment|rudder (CDP_HOST, CDP_WRITE_KEY, CDP_RUN, CDP_PEOPLE in the environment)")
		os.Exit(2)
	}
	host, writeKey, run := env("CDP_HOST"), env("CDP_WRITE_KEY"), env("CDP_RUN")
	people, err := strconv.Atoi(env("CDP_PEOPLE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "CDP_PEOPLE must be a number")
		os.Exit(2)
	}
	r := &recorder{report: report{Sdk: os.Args[1], Sent: []sent{}, Failed: []string{}}, answered: make(chan struct{}, 6*people)}
	if os.Args[1] == "segment" {
		err = runSegment(host, writeKey, run, people, r)
	} else {
		err = runRudder(host, writeKey, run, people, r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r.report)
}
