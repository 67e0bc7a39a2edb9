module github.com/aws/aws-sdk-go-v2/service/personalizeevents

go 1.22

require github.com/aws/aws-sdk-go-v2 v1.36.0
