// SPDX-License-Identifier: Apache-2.0
// Integration-test data driver: Apache Kafka Java producer/consumer 3.9.
//
//   java -cp <lib/*>:<classes> SpillwayData OP BOOTSTRAP TOPIC ...
//
// Protocol in tests/integration/data_scenarios.py (produce, consume, seq).
// The consumer uses assign() + seek(), never a consumer group.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class SpillwayData {
    static final ObjectMapper M = new ObjectMapper();

    static byte[] unhex(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String s = n.asText();
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++)
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    static String hex(byte[] b) {
        if (b == null) return null;
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    static Properties producerProps(String bootstrap, String codec, String acks, String[] a, int from) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        if (codec != null) p.put("compression.type", codec);
        if (acks != null) p.put("acks", acks);
        p.put("linger.ms", "5");
        for (int i = from; i < a.length; i++) {
            int eq = a[i].indexOf('=');
            p.put(a[i].substring(0, eq), a[i].substring(eq + 1));
        }
        return p;
    }

    static void produce(String[] a) throws Exception {
        Properties props = producerProps(a[1], a[4], a[5], a, 6);
        // acks=0/1 cannot be idempotent; keep the default otherwise.
        if (!"all".equals(a[5]) && !"-1".equals(a[5])) props.putIfAbsent("enable.idempotence", "false");
        List<JsonNode> recs = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(a[3]), StandardCharsets.UTF_8))
            if (!line.isBlank()) recs.add(M.readTree(line));
        List<Future<RecordMetadata>> futs = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            for (JsonNode r : recs) {
                RecordHeaders h = new RecordHeaders();
                for (JsonNode hv : r.get("h")) h.add(hv.get(0).asText(), unhex(hv.get(1)));
                futs.add(p.send(new ProducerRecord<>(a[2], r.get("p").asInt(), r.get("ts").asLong(),
                        unhex(r.get("k")), unhex(r.get("v")), h)));
            }
            p.flush();
        }
        ObjectNode out = M.createObjectNode();
        ArrayNode acked = out.putArray("acked"), errors = out.putArray("errors");
        for (int i = 0; i < futs.size(); i++) {
            try {
                RecordMetadata md = futs.get(i).get(60, TimeUnit.SECONDS);
                ArrayNode x = acked.addArray();
                x.add(md.partition());
                x.add(md.hasOffset() ? md.offset() : -1);
            } catch (ExecutionException e) {
                errors.add("#" + i + ": " + e.getCause());
            }
        }
        System.out.println(M.writeValueAsString(out));
    }

    static void seq(String[] a) throws Exception {
        Properties props = producerProps(a[1], null, null, a, 4);
        int n = Integer.parseInt(a[3]);
        boolean[] ok = new boolean[n];
        int[] errs = {0};
        List<String> first = Collections.synchronizedList(new ArrayList<>());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            for (int i = 0; i < n; i++) {
                final int idx = i;
                byte[] v = String.format("seq-%08d", i).getBytes(StandardCharsets.US_ASCII);
                p.send(new ProducerRecord<>(a[2], 0, null, v), (md, e) -> {
                    if (e == null) ok[idx] = true;
                    else synchronized (errs) { errs[0]++; if (first.size() < 5) first.add(e.toString()); }
                });
                if (i % 20 == 0) Thread.sleep(1); // spread the load over a few seconds
            }
            p.flush();
        }
        ObjectNode out = M.createObjectNode();
        ArrayNode acked = out.putArray("acked");
        for (int i = 0; i < n; i++) if (ok[i]) acked.add(i);
        out.put("errors", errs[0]);
        ArrayNode fe = out.putArray("first_errors");
        for (String s : first) fe.add(s);
        System.out.println(M.writeValueAsString(out));
    }

    static void consume(String[] a) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        int parts = Integer.parseInt(a[3]);
        long count = Long.parseLong(a[4]);
        long got = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
             PrintWriter w = new PrintWriter(new FileWriter(a[5], StandardCharsets.UTF_8))) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < parts; i++) tps.add(new TopicPartition(a[2], i));
            c.assign(tps);
            for (TopicPartition tp : tps) c.seek(tp, 0);
            long end = System.nanoTime() + 60_000_000_000L;
            while (got < count && System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    ObjectNode o = M.createObjectNode();
                    o.put("p", r.partition());
                    o.put("o", r.offset());
                    o.put("k", hex(r.key()));
                    o.put("v", hex(r.value()));
                    ArrayNode hs = o.putArray("h");
                    for (Header h : r.headers()) {
                        ArrayNode x = hs.addArray();
                        x.add(h.key());
                        x.add(hex(h.value()));
                    }
                    o.put("ts", r.timestamp());
                    w.println(M.writeValueAsString(o));
                    got++;
                }
            }
        }
        System.out.println("{\"count\":" + got + "}");
    }

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "produce": produce(a); break;
            case "consume": consume(a); break;
            case "seq": seq(a); break;
            default: System.err.println("unknown op " + a[0]); System.exit(2);
        }
        System.exit(0);
    }
}
