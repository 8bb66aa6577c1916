// SPDX-License-Identifier: Apache-2.0

// Integration-test SASL driver: a franz-go client authenticating with
// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 produces COUNT records and reads
// them back (ConsumePartitions from offset 0), then prints them as one
// JSON list.
//
//	franz_sasl BOOTSTRAP TOPIC MECHANISM USER PASSWORD COUNT
//
// Exit 2 with the error on stderr when anything fails (authentication
// included). Run by tests/integration/test_sasl.py.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

func fatal(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "franz_sasl:", err)
		os.Exit(2)
	}
}

func mechanism(name, user, pass string) sasl.Mechanism {
	switch name {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	fatal(fmt.Errorf("unknown mechanism %s", name))
	return nil
}

func main() {
	if len(os.Args) != 7 {
		fatal(fmt.Errorf("usage: franz_sasl BOOTSTRAP TOPIC MECHANISM USER PASSWORD COUNT"))
	}
	bootstrap, topic := os.Args[1], os.Args[2]
	count, err := strconv.Atoi(os.Args[6])
	fatal(err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap),
		kgo.SASL(mechanism(os.Args[3], os.Args[4], os.Args[5])),
		kgo.AllowAutoTopicCreation(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().At(0)}}))
	fatal(err)
	defer cl.Close()
	for i := 0; i < count; i++ {
		r := &kgo.Record{Topic: topic, Partition: 0, Value: []byte(fmt.Sprintf("go-%d", i))}
		fatal(cl.ProduceSync(ctx, r).FirstErr())
	}
	got := []string{}
	for len(got) < count {
		fetches := cl.PollFetches(ctx)
		if errs := fetches.Errors(); len(errs) > 0 {
			fatal(errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	out, err := json.Marshal(got)
	fatal(err)
	fmt.Println(string(out))
}
