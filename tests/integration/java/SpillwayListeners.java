// SPDX-License-Identifier: Apache-2.0
// What the Java AdminClient is told about the broker through one listener,
// run as a source file: java -cp <kafka jars> SpillwayListeners.java
// BOOTSTRAP TOPIC GROUP. Prints one JSON line: the DescribeCluster nodes, the
// topic's partition 0 leader (Metadata) and the group's coordinator
// (FindCoordinator), each as "host:port".
import java.util.Collections;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;

public class SpillwayListeners {
    private static String hp(Node n) {
        return "\"" + n.host() + ":" + n.port() + "\"";
    }

    public static void main(String[] argv) throws Exception {
        String bootstrap = argv[0], topic = argv[1], group = argv[2];
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20000);
        StringBuilder b = new StringBuilder("{\"cluster\": [");
        try (Admin admin = Admin.create(p)) {
            int i = 0;
            for (Node n : admin.describeCluster().nodes().get())
                b.append(i++ > 0 ? ", " : "").append(hp(n));
            TopicDescription t = admin.describeTopics(Collections.singletonList(topic))
                .allTopicNames().get().get(topic);
            b.append("], \"leader\": ").append(hp(t.partitions().get(0).leader()));
            ConsumerGroupDescription g = admin.describeConsumerGroups(
                Collections.singletonList(group)).all().get().get(group);
            b.append(", \"coordinator\": ").append(hp(g.coordinator())).append("}");
        }
        System.out.println(b);
        System.out.flush();
    }
}
