// SPDX-License-Identifier: Apache-2.0
// Integration-test driver: kafkajs 2.2.4 admin client.
//
//   node admin.js BOOTSTRAP OP ARGS...   -> one JSON object on stdout
//
// OPs and output as in tests/integration/scenarios.py. Errors are the
// KafkaJSProtocolError types, which are Kafka's names.
'use strict'

const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs')

const SOURCES = { 0: 'UNKNOWN', 1: 'DYNAMIC_TOPIC_CONFIG', 2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG', 4: 'STATIC_BROKER_CONFIG', 5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG' }

// Kafka error name of a kafkajs error (possibly wrapped by its retrier).
function errType (e) {
  for (let x = e, depth = 0; x && depth < 5; depth++) {
    if (x.type) return x.type
    if (x.errors && x.errors.length) { x = x.errors[0]; continue }
    x = x.originalError || x.cause
  }
  throw e
}

async function tryOp (fn) {
  try {
    await fn()
    return { error: null }
  } catch (e) {
    return { error: errType(e) }
  }
}

async function run (admin, op, a) {
  switch (op) {
    case 'cluster': {
      const c = await admin.describeCluster()
      return { brokers: c.brokers.map(b => b.nodeId).sort((x, y) => x - y),
        controller: c.controller, cluster_id: c.clusterId }
    }
    case 'create': {
      const topic = { topic: a[0], numPartitions: +a[1], replicationFactor: +a[2], configEntries: [] }
      let validateOnly = false
      for (let i = 3; i < a.length; i++) {
        if (a[i] === '--validate-only') validateOnly = true
        else if (a[i] === '--assign') {
          topic.replicaAssignment = a[++i].split(';').map((p, partition) =>
            ({ partition, replicas: p.split(',').map(Number) }))
          topic.numPartitions = -1
          topic.replicationFactor = -1
        } else {
          const eq = a[i].indexOf('=')
          topic.configEntries.push({ name: a[i].slice(0, eq), value: a[i].slice(eq + 1) })
        }
      }
      let created
      try {
        created = await admin.createTopics({ topics: [topic], validateOnly, waitForLeaders: !validateOnly, timeout: 30000 })
      } catch (e) {
        return { error: errType(e) }
      }
      // kafkajs resolves false (no throw) exactly when the broker answered
      // TOPIC_ALREADY_EXISTS for every topic.
      return { error: created || validateOnly ? null : 'TOPIC_ALREADY_EXISTS' }
    }
    case 'list': {
      const names = await admin.listTopics()
      return { topics: names.filter(n => !n.startsWith('__')).sort() }
    }
    case 'describe': {
      try {
        const md = await admin.fetchTopicMetadata({ topics: [a[0]] })
        const t = md.topics.find(x => x.name === a[0])
        return { error: null, partitions: t.partitions.length, id: null }
      } catch (e) {
        return { error: errType(e), partitions: 0, id: null }
      }
    }
    case 'configs': {
      const type = a[0] === 'broker' ? ConfigResourceTypes.BROKER : ConfigResourceTypes.TOPIC
      let r
      try {
        r = await admin.describeConfigs({ resources: [{ type, name: a[1] }], includeSynonyms: false })
      } catch (e) {
        return { error: errType(e), configs: {} }
      }
      const res = r.resources[0]
      if (res.errorCode) return { error: `code ${res.errorCode}`, configs: {} }
      const configs = {}
      for (const c of res.configEntries) {
        configs[c.configName] = { value: c.configValue,
          source: c.configSource !== undefined ? SOURCES[c.configSource] : (c.isDefault ? 'DEFAULT_CONFIG' : 'UNKNOWN') }
      }
      return { error: null, configs }
    }
    case 'partitions':
      return tryOp(() => admin.createPartitions({ topicPartitions: [{ topic: a[0], count: +a[1] }], timeout: 30000 }))
    case 'delete':
      return tryOp(() => admin.deleteTopics({ topics: [a[0]], timeout: 30000 }))
  }
  throw new Error(`unsupported op ${op}`)
}

async function main () {
  const [bootstrap, op, ...a] = process.argv.slice(2)
  const kafka = new Kafka({ clientId: 'spillway-it-kafkajs', brokers: [bootstrap],
    logLevel: logLevel.NOTHING, connectionTimeout: 10000, requestTimeout: 30000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } })
  const admin = kafka.admin()
  await admin.connect()
  try {
    process.stdout.write(JSON.stringify(await run(admin, op, a)) + '\n')
  } finally {
    await admin.disconnect()
  }
}

main().catch(e => { console.error('kafkajs admin:', e); process.exit(2) })
