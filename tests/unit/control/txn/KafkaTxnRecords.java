// SPDX-License-Identifier: Apache-2.0
// Prints the __transaction_state records of txn_rec_kafka.c as Kafka's own
// generated classes encode them (MessageUtil.toVersionPrefixedBytes, what
// TransactionLog.keyToBytes / valueToBytes call), one "name hex" line each.
// Run by kafka_txn_rec_bytes.sh in source-file mode against the Kafka jars.
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogKey;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogValue;

public class KafkaTxnRecords {
    static final long TS = 1700000000000L;

    static void print(String name, short version, Message m) {
        StringBuilder sb = new StringBuilder(name).append(' ');
        for (byte b : MessageUtil.toVersionPrefixedBytes(version, m))
            sb.append(String.format("%02x", b & 0xff));
        System.out.println(sb);
    }

    static TransactionLogValue.PartitionsSchema topic(String name, Integer... ids) {
        return new TransactionLogValue.PartitionsSchema().setTopic(name)
            .setPartitionIds(Arrays.asList(ids));
    }

    static TransactionLogValue value(long pid, short epoch, int timeout, byte state,
                                     List<TransactionLogValue.PartitionsSchema> topics) {
        return new TransactionLogValue().setProducerId(pid).setProducerEpoch(epoch)
            .setTransactionTimeoutMs(timeout).setTransactionStatus(state)
            .setTransactionPartitions(topics).setTransactionLastUpdateTimestampMs(TS + 1)
            .setTransactionStartTimestampMs(TS);
    }

    public static void main(String[] args) {
        List<TransactionLogValue.PartitionsSchema> two = Arrays.asList(
            topic("orders", 0, 1, 2), topic("payments", 5, 7));
        String utf8 = new String(new byte[] { 't', 'x', '-', (byte) 0xc3, (byte) 0xa9 },
            StandardCharsets.UTF_8);

        print("key-app-1", (short) 0, new TransactionLogKey().setTransactionalId("app-1"));
        print("key-utf8", (short) 0, new TransactionLogKey().setTransactionalId(utf8));
        for (short v = 0; v <= 1; v++) {
            print("v" + v + "-ongoing", v, value(4000, (short) 3, 60000, (byte) 1, two));
            print("v" + v + "-prepare-commit", v, value(4000, (short) 3, 60000, (byte) 2, two));
            print("v" + v + "-complete-commit", v,
                value(4000, (short) 3, 60000, (byte) 4, Arrays.asList()));
            print("v" + v + "-prepare-abort", v, value(Long.MAX_VALUE, Short.MAX_VALUE,
                Integer.MAX_VALUE, (byte) 3, Arrays.asList(topic("", -1))));
            print("v" + v + "-complete-abort", v,
                value(0, (short) 0, 1, (byte) 5, Arrays.asList()));
            print("v" + v + "-empty", v, value(4002, (short) 9, 900000, (byte) 0, null));
        }
    }
}
