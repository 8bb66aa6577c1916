// SPDX-License-Identifier: Apache-2.0
// Integration-test consumer-group driver: Apache Kafka Java KafkaConsumer 3.9
// (classic group protocol).
//
//   java -cp <lib/*>:<classes> SpillwayGroup BOOTSTRAP GROUP TOPIC
//        [--max N] [--commit sync|auto] [--deadline S]
//        [--assignor range|roundrobin|sticky|cooperative-sticky]
//        [--instance ID] [k=v ...]
//
// Protocol in tests/integration/group_scenarios.py: one JSON line per event
// (flushed), each with "t" (ms since the epoch): start, assigned / revoked /
// lost (partitions of the callback, the whole assignment after it and the
// generation), rec (p, o, v), commit (offsets committed after processing),
// error, fatal (e.g. FencedInstanceIdException), exit. Stops cleanly (close)
// on a "stop" line or EOF on stdin, after --max records or at --deadline.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class SpillwayGroup {
    static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), false,
            StandardCharsets.UTF_8);

    static String q(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }

    static synchronized void out(String ev, String rest) {
        OUT.print("{\"ev\":\"" + ev + "\",\"t\":" + System.currentTimeMillis()
                + (rest.isEmpty() ? "" : "," + rest) + "}\n");
        OUT.flush();
    }

    static String parts(Collection<TopicPartition> tps) {
        List<Integer> ps = new ArrayList<>();
        for (TopicPartition tp : tps) ps.add(tp.partition());
        Collections.sort(ps);
        return ps.toString().replace(" ", "");
    }

    static volatile boolean stopping = false;

    public static void main(String[] a) throws Exception {
        String bootstrap = a[0], group = a[1], topic = a[2];
        long max = -1;
        String commit = "sync", assignor = null, instance = null;
        double deadline = 120;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("auto.offset.reset", "earliest");
        p.put("session.timeout.ms", "6000");
        p.put("heartbeat.interval.ms", "500");
        for (int i = 3; i < a.length; i++) {
            switch (a[i]) {
                case "--max": max = Long.parseLong(a[++i]); break;
                case "--commit": commit = a[++i]; break;
                case "--deadline": deadline = Double.parseDouble(a[++i]); break;
                case "--assignor": assignor = a[++i]; break;
                case "--instance": instance = a[++i]; break;
                default:
                    int eq = a[i].indexOf('=');
                    p.put(a[i].substring(0, eq), a[i].substring(eq + 1));
            }
        }
        p.put("enable.auto.commit", Boolean.toString(commit.equals("auto")));
        if (assignor != null) {
            String cls;
            switch (assignor) {
                case "range": cls = RangeAssignor.class.getName(); break;
                case "roundrobin": cls = RoundRobinAssignor.class.getName(); break;
                case "sticky": cls = StickyAssignor.class.getName(); break;
                case "cooperative-sticky": cls = CooperativeStickyAssignor.class.getName(); break;
                default: throw new IllegalArgumentException("assignor " + assignor);
            }
            p.put("partition.assignment.strategy", cls);
        }
        if (instance != null) p.put("group.instance.id", instance);

        final KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        final boolean manual = commit.equals("sync");
        final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
        final Set<TopicPartition> owned = new TreeSet<>(Comparator.comparingInt(TopicPartition::partition));

        Thread stdin = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in))) {
                String line;
                while ((line = r.readLine()) != null && !line.trim().equals("stop")) { }
            } catch (IOException e) { }
            stopping = true;
            c.wakeup();
        });
        stdin.setDaemon(true);
        stdin.start();

        ConsumerRebalanceListener l = new ConsumerRebalanceListener() {
            void commitPending(Collection<TopicPartition> tps) {
                Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
                for (TopicPartition tp : tps) if (pending.containsKey(tp)) m.put(tp, pending.remove(tp));
                if (manual && !m.isEmpty()) doCommit(c, m);
            }
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                commitPending(tps);
                owned.removeAll(tps);
                out("revoked", "\"parts\":" + parts(tps) + ",\"own\":" + parts(owned)
                        + ",\"gen\":" + c.groupMetadata().generationId());
            }
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                owned.addAll(tps);
                out("assigned", "\"parts\":" + parts(tps) + ",\"own\":" + parts(owned)
                        + ",\"gen\":" + c.groupMetadata().generationId()
                        + ",\"member\":" + q(c.groupMetadata().memberId()));
            }
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                for (TopicPartition tp : tps) pending.remove(tp);
                owned.removeAll(tps);
                out("lost", "\"parts\":" + parts(tps) + ",\"own\":" + parts(owned));
            }
        };
        out("start", "\"client\":\"java\",\"group\":" + q(group));
        long n = 0, stopAt = System.nanoTime() + (long) (deadline * 1e9);
        int rc = 0;
        try {
            c.subscribe(Collections.singletonList(topic), l);
            while (!stopping && System.nanoTime() < stopAt && (max < 0 || n < max)) {
                ConsumerRecords<byte[], byte[]> recs;
                try {
                    recs = c.poll(Duration.ofMillis(200));
                } catch (WakeupException e) {
                    break;
                }
                for (ConsumerRecord<byte[], byte[]> r : recs) {
                    if (max >= 0 && n >= max) break;
                    String v = r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8);
                    out("rec", "\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"v\":" + q(v));
                    pending.put(new TopicPartition(r.topic(), r.partition()),
                            new OffsetAndMetadata(r.offset() + 1));
                    n++;
                }
                if (manual && !pending.isEmpty()) {
                    Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>(pending);
                    pending.clear();
                    // a failed commit (e.g. RebalanceInProgressException) stays
                    // pending for the partitions still owned: the next one retries
                    if (!doCommit(c, m))
                        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet())
                            if (owned.contains(e.getKey())) pending.putIfAbsent(e.getKey(), e.getValue());
                }
            }
        } catch (Exception e) {
            out("fatal", "\"err\":" + q(e.getClass().getSimpleName()) + ",\"msg\":" + q(String.valueOf(e.getMessage())));
            rc = 3;
        }
        try {
            c.close(Duration.ofSeconds(10));
        } catch (Exception e) {
            out("fatal", "\"err\":" + q(e.getClass().getSimpleName()) + ",\"msg\":" + q(String.valueOf(e.getMessage())));
            rc = 3;
        }
        out("exit", "\"n\":" + n + ",\"rc\":" + rc);
        OUT.flush();
        System.exit(rc);
    }

    static boolean doCommit(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, OffsetAndMetadata> m) {
        StringBuilder sb = new StringBuilder("[");
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('[').append(e.getKey().partition()).append(',').append(e.getValue().offset()).append(']');
        }
        try {
            c.commitSync(m, Duration.ofSeconds(10));
            out("commit", "\"offs\":" + sb.append(']'));
            return true;
        } catch (org.apache.kafka.common.errors.FencedInstanceIdException e) {
            throw e;
        } catch (WakeupException e) {
            stopping = true;
            out("error", "\"err\":\"commit: wakeup\"");
        } catch (Exception e) {
            out("error", "\"err\":" + q("commit: " + e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
        return false;
    }
}
