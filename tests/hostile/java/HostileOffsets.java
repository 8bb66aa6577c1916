// SPDX-License-Identifier: Apache-2.0
// The Java consumer's (kafka-clients 3.9) multi-partition ListOffsets calls
// for tests/hostile/test_list_offsets.py: endOffsets, beginningOffsets and
// offsetsForTimes over every partition given, in one call each.
//
//   java -cp <lib/*>:<classes> HostileOffsets BOOTSTRAP TS TOPIC:PARTITION...
//
// Prints one JSON object {"end": {"t:p": offset}, "beginning": {...},
// "times": {"t:p": offset or -1}}; exit status 1 with the error on stderr.
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class HostileOffsets {
    static String json(Map<TopicPartition, Long> m) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<TopicPartition, Long> e : m.entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            sb.append('"').append(e.getKey().topic()).append(':')
              .append(e.getKey().partition()).append("\": ").append(e.getValue());
        }
        return sb.append('}').toString();
    }

    public static void main(String[] args) {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("default.api.timeout.ms", "20000");
        p.put("request.timeout.ms", "10000");
        long ts = Long.parseLong(args[1]);
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            int colon = args[i].lastIndexOf(':');
            tps.add(new TopicPartition(args[i].substring(0, colon),
                                       Integer.parseInt(args[i].substring(colon + 1))));
        }
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            Duration t = Duration.ofSeconds(20);
            Map<TopicPartition, Long> end = c.endOffsets(tps, t);
            Map<TopicPartition, Long> beginning = c.beginningOffsets(tps, t);
            Map<TopicPartition, Long> query = new LinkedHashMap<>();
            for (TopicPartition tp : tps) query.put(tp, ts);
            Map<TopicPartition, Long> times = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, OffsetAndTimestamp> e :
                     c.offsetsForTimes(query, t).entrySet())
                times.put(e.getKey(), e.getValue() == null ? -1L : e.getValue().offset());
            System.out.println("{\"end\": " + json(end) + ", \"beginning\": " + json(beginning)
                               + ", \"times\": " + json(times) + "}");
        } catch (Exception e) {
            System.err.println("HostileOffsets: " + e);
            System.exit(1);
        }
    }
}
