// Package personalizeevents is a compile stand-in for the AWS module a Go module proxy may refuse. Every call
// fails: the Personalize destination is not configured by the benchmark.
package personalizeevents

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/personalizeevents/types"
)

var errUnavailable = errors.New("personalizeevents: not available in this build")

type Options struct{}

type Client struct{}

func NewFromConfig(cfg aws.Config, optFns ...func(*Options)) *Client { return &Client{} }

type PutEventsInput struct {
	EventList  []types.Event
	SessionId  *string
	TrackingId *string
	UserId     *string
}
type PutEventsOutput struct{}

type PutUsersInput struct {
	DatasetArn *string
	Users      []types.User
}
type PutUsersOutput struct{}

type PutItemsInput struct {
	DatasetArn *string
	Items      []types.Item
}
type PutItemsOutput struct{}

func (c *Client) PutEvents(ctx context.Context, in *PutEventsInput, optFns ...func(*Options)) (*PutEventsOutput, error) {
	return nil, errUnavailable
}
func (c *Client) PutUsers(ctx context.Context, in *PutUsersInput, optFns ...func(*Options)) (*PutUsersOutput, error) {
	return nil, errUnavailable
}
func (c *Client) PutItems(ctx context.Context, in *PutItemsInput, optFns ...func(*Options)) (*PutItemsOutput, error) {
	return nil, errUnavailable
}
