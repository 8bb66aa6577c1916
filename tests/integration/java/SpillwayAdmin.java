// SPDX-License-Identifier: Apache-2.0
// Integration-test driver: Apache Kafka Java AdminClient (kafka-clients 3.9).
//
//   java -cp <lib/*>:<classes> SpillwayAdmin BOOTSTRAP OP ARGS...
//
// OPs and output as in tests/integration/scenarios.py, plus delete-id and
// describe-id (topic ids as 32 hex digits). Errors are Kafka's Errors names.

import java.util.*;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.protocol.Errors;

public final class SpillwayAdmin {
    private static final int TIMEOUT_MS = 30000;

    private static String q(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private static String hex(Uuid id) {
        return String.format("%016x%016x", id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    private static Uuid uuid(String hex) {
        return new Uuid(Long.parseUnsignedLong(hex.substring(0, 16), 16),
                        Long.parseUnsignedLong(hex.substring(16), 16));
    }

    /** Kafka's error name for a failed future, or rethrow if it is not a Kafka error. */
    private static String err(ExecutionException e) throws Exception {
        Throwable c = e.getCause();
        Errors er = Errors.forException(c);
        if (er == Errors.UNKNOWN_SERVER_ERROR && !(c instanceof UnknownServerException))
            throw e;
        return er.name();
    }

    private static String errorOnly(KafkaFuture<?> f) throws Exception {
        try {
            f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return "{\"error\": null}";
        } catch (ExecutionException e) {
            return "{\"error\": " + q(err(e)) + "}";
        }
    }

    public static void main(String[] argv) throws Exception {
        String bootstrap = argv[0], op = argv[1];
        String[] a = Arrays.copyOfRange(argv, 2, argv.length);
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS + 5000);
        String out;
        try (Admin admin = Admin.create(p)) {
            out = run(admin, op, a);
        }
        System.out.println(out);
        System.out.flush();
    }

    private static String run(Admin admin, String op, String[] a) throws Exception {
        switch (op) {
        case "cluster": {
            DescribeClusterResult r = admin.describeCluster();
            StringBuilder b = new StringBuilder("{\"brokers\": [");
            List<Integer> ids = new ArrayList<>();
            for (Node n : r.nodes().get()) ids.add(n.id());
            Collections.sort(ids);
            for (int i = 0; i < ids.size(); i++) b.append(i > 0 ? ", " : "").append(ids.get(i));
            Node c = r.controller().get();
            b.append("], \"controller\": ").append(c == null || c.isEmpty() ? "null" : c.id());
            b.append(", \"cluster_id\": ").append(q(r.clusterId().get())).append("}");
            return b.toString();
        }
        case "create": {
            String name = a[0];
            int parts = Integer.parseInt(a[1]);
            short rf = Short.parseShort(a[2]);
            boolean validate = false;
            String assign = null;
            Map<String, String> cfg = new HashMap<>();
            for (int i = 3; i < a.length; i++) {
                if (a[i].equals("--validate-only")) validate = true;
                else if (a[i].equals("--assign")) assign = a[++i];
                else { int eq = a[i].indexOf('='); cfg.put(a[i].substring(0, eq), a[i].substring(eq + 1)); }
            }
            NewTopic nt;
            if (assign != null) {
                Map<Integer, List<Integer>> m = new HashMap<>();
                String[] ps = assign.split(";");
                for (int i = 0; i < ps.length; i++) {
                    List<Integer> rs = new ArrayList<>();
                    for (String x : ps[i].split(",")) rs.add(Integer.parseInt(x));
                    m.put(i, rs);
                }
                nt = new NewTopic(name, m);
            } else {
                nt = new NewTopic(name, parts < 0 ? Optional.empty() : Optional.of(parts),
                                  rf < 0 ? Optional.empty() : Optional.of(rf));
            }
            nt.configs(cfg);
            return errorOnly(admin.createTopics(List.of(nt),
                    new CreateTopicsOptions().validateOnly(validate)).all());
        }
        case "list": {
            List<String> names = new ArrayList<>(admin.listTopics().names().get());
            Collections.sort(names);
            StringBuilder b = new StringBuilder("{\"topics\": [");
            for (int i = 0; i < names.size(); i++) b.append(i > 0 ? ", " : "").append(q(names.get(i)));
            return b.append("]}").toString();
        }
        case "describe":
        case "describe-id": {
            TopicDescription d;
            try {
                if (op.equals("describe"))
                    d = admin.describeTopics(List.of(a[0])).allTopicNames().get().get(a[0]);
                else
                    d = admin.describeTopics(TopicCollection.ofTopicIds(List.of(uuid(a[0]))))
                             .allTopicIds().get().get(uuid(a[0]));
            } catch (ExecutionException e) {
                return "{\"error\": " + q(err(e)) + ", \"partitions\": 0, \"id\": null}";
            }
            return "{\"error\": null, \"partitions\": " + d.partitions().size() + ", \"id\": "
                    + q(hex(d.topicId())) + ", \"name\": " + q(d.name()) + "}";
        }
        case "configs": {
            ConfigResource cr = new ConfigResource(
                    a[0].equals("broker") ? ConfigResource.Type.BROKER : ConfigResource.Type.TOPIC, a[1]);
            Config c;
            try {
                c = admin.describeConfigs(List.of(cr)).all().get().get(cr);
            } catch (ExecutionException e) {
                return "{\"error\": " + q(err(e)) + ", \"configs\": {}}";
            }
            StringBuilder b = new StringBuilder("{\"error\": null, \"configs\": {");
            boolean first = true;
            for (ConfigEntry e : c.entries()) {
                b.append(first ? "" : ", ").append(q(e.name())).append(": {\"value\": ").append(q(e.value()))
                 .append(", \"source\": ").append(q(e.source().name())).append("}");
                first = false;
            }
            return b.append("}}").toString();
        }
        case "partitions":
            return errorOnly(admin.createPartitions(
                    Map.of(a[0], NewPartitions.increaseTo(Integer.parseInt(a[1])))).all());
        case "delete":
            return errorOnly(admin.deleteTopics(TopicCollection.ofTopicNames(List.of(a[0]))).all());
        case "delete-id":
            return errorOnly(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(uuid(a[0])))).all());
        default:
            throw new IllegalArgumentException("unsupported op " + op);
        }
    }
}
