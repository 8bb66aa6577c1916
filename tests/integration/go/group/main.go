// SPDX-License-Identifier: Apache-2.0

// Integration-test consumer-group driver: franz-go kgo group consumer
// (classic group protocol).
//
//	franz_group BOOTSTRAP GROUP TOPIC [--max N] [--commit sync|auto]
//	            [--deadline S] [--assignor range|roundrobin|sticky|cooperative-sticky]
//	            [--instance ID] [--session-ms MS]
//
// Protocol in tests/integration/group_scenarios.py: one JSON line per event,
// each with "t" (ms since the epoch): start, assigned / revoked / lost,
// rec (p, o, v), commit (offsets committed after processing), error, exit.
// Stops cleanly (LeaveGroup) on a "stop" line or EOF on stdin, after --max
// records or at --deadline seconds.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var outMu sync.Mutex

func out(ev string, kv map[string]any) {
	if kv == nil {
		kv = map[string]any{}
	}
	kv["ev"] = ev
	kv["t"] = time.Now().UnixMilli()
	b, _ := json.Marshal(kv)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

func main() {
	a := os.Args[1:]
	if len(a) < 3 {
		fmt.Fprintln(os.Stderr, "usage: franz_group BOOTSTRAP GROUP TOPIC [opts]")
		os.Exit(2)
	}
	bootstrap, group, topic := a[0], a[1], a[2]
	maxn, commit, deadline := int64(-1), "sync", 120.0
	assignor, instance, sessionMs := "", "", 6000
	for i := 3; i+1 < len(a); i += 2 {
		v := a[i+1]
		switch a[i] {
		case "--max":
			maxn, _ = strconv.ParseInt(v, 10, 64)
		case "--commit":
			commit = v
		case "--deadline":
			deadline, _ = strconv.ParseFloat(v, 64)
		case "--assignor":
			assignor = v
		case "--instance":
			instance = v
		case "--session-ms":
			sessionMs, _ = strconv.Atoi(v)
		default:
			fmt.Fprintln(os.Stderr, "unknown option", a[i])
			os.Exit(2)
		}
	}
	var ownMu sync.Mutex
	owned := map[int32]bool{}
	var cl *kgo.Client
	evf := func(name string) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, c *kgo.Client, m map[string][]int32) {
			ps := append([]int32{}, m[topic]...)
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			ownMu.Lock()
			for _, p := range ps {
				if name == "assigned" {
					owned[p] = true
				} else {
					delete(owned, p)
				}
			}
			own := []int32{}
			for p := range owned {
				own = append(own, p)
			}
			ownMu.Unlock()
			sort.Slice(own, func(i, j int) bool { return own[i] < own[j] })
			_, gen := c.GroupMetadata()
			out(name, map[string]any{"parts": ps, "own": own, "gen": gen})
		}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(time.Duration(sessionMs) * time.Millisecond),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(evf("assigned")),
		kgo.OnPartitionsRevoked(evf("revoked")),
		kgo.OnPartitionsLost(evf("lost")),
	}
	if commit != "auto" {
		// Commit after processing; rebalances wait until the commit is done.
		opts = append(opts, kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())
	}
	switch assignor {
	case "":
	case "range":
		opts = append(opts, kgo.Balancers(kgo.RangeBalancer()))
	case "roundrobin":
		opts = append(opts, kgo.Balancers(kgo.RoundRobinBalancer()))
	case "sticky":
		opts = append(opts, kgo.Balancers(kgo.StickyBalancer()))
	case "cooperative-sticky":
		opts = append(opts, kgo.Balancers(kgo.CooperativeStickyBalancer()))
	default:
		fmt.Fprintln(os.Stderr, "unknown assignor", assignor)
		os.Exit(2)
	}
	if instance != "" {
		opts = append(opts, kgo.InstanceID(instance))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		out("fatal", map[string]any{"err": err.Error()})
		os.Exit(3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(deadline*float64(time.Second)))
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			line, err := r.ReadString('\n')
			if err != nil || strings.TrimSpace(line) == "stop" {
				break
			}
		}
		cancel()
	}()
	out("start", map[string]any{"client": "franz", "group": group})
	n := int64(0)
	for ctx.Err() == nil && (maxn < 0 || n < maxn) {
		fs := cl.PollRecords(ctx, 100)
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				out("error", map[string]any{"err": fmt.Sprintf("fetch %s[%d]: %v", t, p, err)})
			}
		})
		var done []*kgo.Record
		last := map[int32]int64{}
		fs.EachRecord(func(r *kgo.Record) {
			if maxn >= 0 && n >= maxn {
				return
			}
			out("rec", map[string]any{"p": r.Partition, "o": r.Offset, "v": string(r.Value)})
			done = append(done, r)
			last[r.Partition] = r.Offset + 1
			n++
		})
		if len(done) > 0 && commit != "auto" {
			cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := cl.CommitRecords(cctx, done...); err != nil {
				out("error", map[string]any{"err": "commit: " + err.Error()})
			} else {
				offs := [][2]int64{}
				for p, o := range last {
					offs = append(offs, [2]int64{int64(p), o})
				}
				out("commit", map[string]any{"offs": offs})
			}
			ccancel()
		}
		if commit != "auto" {
			cl.AllowRebalance()
		}
	}
	cancel()
	cl.Close() // leaves the group (a static member only stops heartbeating)
	out("exit", map[string]any{"n": n, "rc": 0})
}
