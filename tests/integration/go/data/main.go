// SPDX-License-Identifier: Apache-2.0

// Integration-test data driver: franz-go kgo producer and group-less
// consumer (ConsumePartitions from offset 0).
//
//	franz_data produce BOOTSTRAP TOPIC SPEC CODEC ACKS [k=v ...]
//	franz_data consume BOOTSTRAP TOPIC PARTS COUNT OUT
//
// Protocol in tests/integration/data_scenarios.py. Extra k=v: idempotent=false.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type spec struct {
	P  int32       `json:"p"`
	K  *string     `json:"k"`
	V  *string     `json:"v"`
	H  [][]*string `json:"h"`
	TS int64       `json:"ts"`
}

type outRec struct {
	P  int32   `json:"p"`
	O  int64   `json:"o"`
	K  *string `json:"k"`
	V  *string `json:"v"`
	H  [][]any `json:"h"`
	TS int64   `json:"ts"`
}

func fatal(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "franz_data:", err)
		os.Exit(2)
	}
}

func unhex(s *string) []byte {
	if s == nil {
		return nil
	}
	b, err := hex.DecodeString(*s)
	fatal(err)
	if b == nil {
		b = []byte{}
	}
	return b
}

func hx(b []byte) *string {
	if b == nil {
		return nil
	}
	s := hex.EncodeToString(b)
	return &s
}

func codec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

func produce(a []string) {
	opts := []kgo.Opt{kgo.SeedBrokers(a[0]), kgo.DefaultProduceTopic(a[1]),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(codec(a[3])), kgo.ProducerLinger(5 * time.Millisecond),
		// No RecordDeliveryTimeout: kgo counts it from Record.Timestamp, which
		// is the (old) CreateTime under test here.
	}
	if os.Getenv("FRANZ_DEBUG") != "" {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	idem := a[4] == "all"
	for _, kv := range a[5:] {
		if kv == "idempotent=false" {
			idem = false
		}
	}
	switch a[4] {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if !idem {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl, err := kgo.NewClient(opts...)
	fatal(err)
	defer cl.Close()
	f, err := os.Open(a[2])
	fatal(err)
	var recs []spec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var s spec
		fatal(json.Unmarshal(sc.Bytes(), &s))
		recs = append(recs, s)
	}
	fatal(sc.Err())
	acked := make([][2]int64, len(recs))
	errs := []string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx := context.Background()
	for i, s := range recs {
		r := &kgo.Record{Partition: s.P, Key: unhex(s.K), Value: unhex(s.V),
			Timestamp: time.UnixMilli(s.TS)}
		if s.K == nil {
			r.Key = nil
		}
		for _, h := range s.H {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: *h[0], Value: unhex(h[1])})
		}
		wg.Add(1)
		i := i
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("#%d: %v", i, err))
				acked[i] = [2]int64{-2, -2}
				return
			}
			off := r.Offset
			if a[4] == "0" {
				off = -1
			}
			acked[i] = [2]int64{int64(r.Partition), off}
		})
	}
	wg.Wait()
	out := map[string]any{"errors": errs}
	list := [][2]int64{}
	for _, x := range acked {
		if x[0] != -2 {
			list = append(list, x)
		}
	}
	out["acked"] = list
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func consume(a []string) {
	parts, _ := strconv.Atoi(a[2])
	count, _ := strconv.Atoi(a[3])
	offs := map[int32]kgo.Offset{}
	for p := 0; p < parts; p++ {
		offs[int32(p)] = kgo.NewOffset().At(0)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(a[0]),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{a[1]: offs}))
	fatal(err)
	defer cl.Close()
	f, err := os.Create(a[4])
	fatal(err)
	w := bufio.NewWriter(f)
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for got < count && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			o := outRec{P: r.Partition, O: r.Offset, K: hx(r.Key), V: hx(r.Value),
				H: [][]any{}, TS: r.Timestamp.UnixMilli()}
			for _, h := range r.Headers {
				o.H = append(o.H, []any{h.Key, hx(h.Value)})
			}
			b, _ := json.Marshal(o)
			w.Write(b)
			w.WriteString("\n")
			got++
		})
	}
	fatal(w.Flush())
	fatal(f.Close())
	fmt.Printf("{\"count\":%d}\n", got)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: franz_data produce|consume BOOTSTRAP TOPIC ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "produce":
		produce(os.Args[2:])
	case "consume":
		consume(os.Args[2:])
	default:
		fatal(fmt.Errorf("unknown op %s", os.Args[1]))
	}
}
