// SPDX-License-Identifier: Apache-2.0
// The Java consumer's offsetsForTimes for many partitions in one call, run
// as a single source file (java -cp 'lib/*' SpillwayOffsets.java ...):
//   BOOTSTRAP TOPIC:PARTITION:TIMESTAMP...
// prints one JSON line per partition, in argument order:
//   {"t":topic,"p":partition,"o":offset|null,"ts":timestamp|null}
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class SpillwayOffsets {
    public static void main(String[] a) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a[0]);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        Map<TopicPartition, Long> query = new LinkedHashMap<>();
        for (int i = 1; i < a.length; i++) {
            String[] f = a[i].split(":");
            query.put(new TopicPartition(f[0], Integer.parseInt(f[1])), Long.parseLong(f[2]));
        }
        Map<TopicPartition, OffsetAndTimestamp> got;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            got = new HashMap<>(c.offsetsForTimes(query, Duration.ofSeconds(60)));
        }
        for (TopicPartition tp : query.keySet()) {
            OffsetAndTimestamp o = got.get(tp);
            System.out.printf("{\"t\":\"%s\",\"p\":%d,\"o\":%s,\"ts\":%s}%n", tp.topic(),
                    tp.partition(), o == null ? "null" : Long.toString(o.offset()),
                    o == null ? "null" : Long.toString(o.timestamp()));
        }
    }
}
