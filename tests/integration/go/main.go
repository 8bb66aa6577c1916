// SPDX-License-Identifier: Apache-2.0

// Integration-test driver: franz-go kadm.
//
//	franz_admin BOOTSTRAP OP ARGS...  -> one JSON object on stdout
//
// OPs and output as in tests/integration/scenarios.py, plus delete-id (topic
// ids as 32 hex digits). Errors are Kafka's names (kerr).
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type obj map[string]any

func errName(err error) any {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	fmt.Fprintln(os.Stderr, "franz_admin:", err)
	os.Exit(2)
	return nil
}

func fatal(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "franz_admin:", err)
		os.Exit(2)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	fatal(err)
	return n
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: franz_admin BOOTSTRAP OP ARGS...")
		os.Exit(2)
	}
	bootstrap, op, a := os.Args[1], os.Args[2], os.Args[3:]
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RequestTimeoutOverhead(10*time.Second))
	fatal(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	out := run(ctx, cl, adm, op, a)
	b, err := json.Marshal(out)
	fatal(err)
	fmt.Println(string(b))
}

func run(ctx context.Context, cl *kgo.Client, adm *kadm.Client, op string, a []string) obj {
	switch op {
	case "cluster":
		m, err := adm.BrokerMetadata(ctx)
		fatal(err)
		ids := []int32{}
		for _, b := range m.Brokers {
			ids = append(ids, b.NodeID)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		var ctrl any
		if m.Controller >= 0 {
			ctrl = m.Controller
		}
		return obj{"brokers": ids, "controller": ctrl, "cluster_id": m.Cluster}

	case "create":
		name := a[0]
		parts, rf := int32(atoi(a[1])), int16(atoi(a[2]))
		validate, assign := false, ""
		cfg := map[string]*string{}
		for i := 3; i < len(a); i++ {
			switch {
			case a[i] == "--validate-only":
				validate = true
			case a[i] == "--assign":
				i++
				assign = a[i]
			default:
				kv := strings.SplitN(a[i], "=", 2)
				v := kv[1]
				cfg[kv[0]] = &v
			}
		}
		if assign != "" {
			return createAssigned(ctx, cl, name, assign, cfg, validate)
		}
		var rs kadm.CreateTopicResponses
		var err error
		if validate {
			rs, err = adm.ValidateCreateTopics(ctx, parts, rf, cfg, name)
		} else {
			rs, err = adm.CreateTopics(ctx, parts, rf, cfg, name)
		}
		fatal(err)
		r, err := rs.On(name, nil)
		fatal(err)
		if r.Err == nil && !validate && r.ID == (kadm.TopicID{}) {
			// CreateTopics v7+ returns the new topic's id
			fmt.Fprintln(os.Stderr, "franz_admin: note: no topic id in CreateTopics response")
		}
		return obj{"error": errName(r.Err), "id": idOrNil(r.ID)}

	case "list":
		ts, err := adm.ListTopics(ctx)
		fatal(err)
		names := ts.Names()
		sort.Strings(names)
		return obj{"topics": names}

	case "describe":
		ts, err := adm.ListTopics(ctx, a[0])
		fatal(err)
		t, ok := ts[a[0]]
		if !ok {
			return obj{"error": "UNKNOWN_TOPIC_OR_PARTITION", "partitions": 0, "id": nil}
		}
		if t.Err != nil {
			return obj{"error": errName(t.Err), "partitions": 0, "id": nil}
		}
		return obj{"error": nil, "partitions": len(t.Partitions), "id": idOrNil(t.ID)}

	case "configs":
		var rcs kadm.ResourceConfigs
		var err error
		if a[0] == "broker" {
			rcs, err = adm.DescribeBrokerConfigs(ctx, int32(atoi(a[1])))
		} else {
			rcs, err = adm.DescribeTopicConfigs(ctx, a[1])
		}
		if err != nil && len(rcs) == 0 {
			return obj{"error": errName(err), "configs": obj{}}
		}
		rc := rcs[0]
		if rc.Err != nil {
			return obj{"error": errName(rc.Err), "configs": obj{}}
		}
		cfgs := obj{}
		for _, c := range rc.Configs {
			cfgs[c.Key] = obj{"value": c.Value, "source": c.Source.String()}
		}
		return obj{"error": nil, "configs": cfgs}

	case "partitions":
		rs, err := adm.UpdatePartitions(ctx, atoi(a[1]), a[0])
		fatal(err)
		r, err := rs.On(a[0], nil)
		fatal(err)
		return obj{"error": errName(r.Err)}

	case "delete":
		rs, err := adm.DeleteTopics(ctx, a[0])
		fatal(err)
		r, err := rs.On(a[0], nil)
		fatal(err)
		return obj{"error": errName(r.Err)}

	case "delete-id":
		raw, err := hex.DecodeString(a[0])
		fatal(err)
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TimeoutMillis = 30000
		t := kmsg.NewDeleteTopicsRequestTopic()
		copy(t.TopicID[:], raw)
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, cl)
		fatal(err)
		if len(resp.Topics) != 1 {
			fatal(fmt.Errorf("expected one topic in DeleteTopics response, got %d", len(resp.Topics)))
		}
		return obj{"error": errName(kerr.ErrorForCode(resp.Topics[0].ErrorCode))}
	}
	fatal(fmt.Errorf("unsupported op %q", op))
	return nil
}

func idOrNil(id kadm.TopicID) any {
	if id == (kadm.TopicID{}) {
		return nil
	}
	return hex.EncodeToString(id[:])
}

// createAssigned sends CreateTopics with an explicit replica assignment
// ("B,B;B": partition i -> replicas), -1 partitions and -1 replication factor.
func createAssigned(ctx context.Context, cl *kgo.Client, name, assign string, cfg map[string]*string, validate bool) obj {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	req.ValidateOnly = validate
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, -1, -1
	for i, p := range strings.Split(assign, ";") {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition = int32(i)
		for _, b := range strings.Split(p, ",") {
			ra.Replicas = append(ra.Replicas, int32(atoi(b)))
		}
		t.ReplicaAssignment = append(t.ReplicaAssignment, ra)
	}
	for k, v := range cfg {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, v
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	fatal(err)
	return obj{"error": errName(kerr.ErrorForCode(resp.Topics[0].ErrorCode))}
}
