// SPDX-License-Identifier: Apache-2.0
// Integration-test data driver: kafkajs 2.2.4 producer + group-less fetch.
//
//   node data.js produce BOOTSTRAP TOPIC SPEC CODEC ACKS
//   node data.js consume BOOTSTRAP TOPIC PARTS COUNT OUT
//
// Protocol in tests/integration/data_scenarios.py. Codecs: gzip is built in,
// snappy and lz4 come from kafkajs-snappy / kafkajs-lz4, zstd from a small
// codec over @bokuweb/zstd-wasm (the @kafkajs/zstd plugin's native module does
// not build with Node 20). kafkajs has no assign() mode: its consumer always
// joins a group, so `consume` sends Fetch requests through kafkajs's own
// cluster/broker layer (the same decoder the consumer uses) from offset 0.
'use strict'

const fs = require('fs')
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')
const zstd = require('@bokuweb/zstd-wasm')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  async compress (encoder) {
    await zstd.init()
    return Buffer.from(zstd.compress(encoder.buffer, 3))
  },
  async decompress (buffer) {
    await zstd.init()
    return Buffer.from(zstd.decompress(buffer))
  }
})

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }

const unhex = x => (x === null ? null : Buffer.from(x, 'hex'))
const hex = b => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'))
const out = o => process.stdout.write(JSON.stringify(o) + '\n')

function client (bootstrap) {
  return new Kafka({ clientId: 'spillway-it-data', brokers: [bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 5 } })
}

async function produce (bootstrap, topic, spec, codec, acks) {
  const recs = fs.readFileSync(spec, 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l))
  const kafka = client(bootstrap)
  const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1,
    idempotent: acks === 'all' })
  await producer.connect()
  const messages = recs.map(r => {
    const headers = {}
    for (const [n, v] of r.h) {
      if (n in headers) headers[n] = [].concat(headers[n], [unhex(v)])
      else headers[n] = unhex(v)
    }
    return { partition: r.p, key: unhex(r.k), value: unhex(r.v), headers, timestamp: String(r.ts) }
  })
  const errors = []
  let acked = []
  try {
    const res = await producer.send({ topic, messages, acks: acks === 'all' ? -1 : Number(acks),
      compression: CODECS[codec], timeout: 30000 })
    const base = {}
    for (const m of res) base[m.partition] = m.errorCode ? null : Number(m.baseOffset)
    const seen = {}
    acked = recs.map(r => {
      const i = seen[r.p] || 0
      seen[r.p] = i + 1
      return [r.p, acks === '0' || base[r.p] == null || base[r.p] < 0 ? -1 : base[r.p] + i]
    })
  } catch (e) {
    errors.push(String(e)); if (process.env.JS_DEBUG) console.error(e)
  }
  await producer.disconnect()
  out({ acked, errors })
}

async function consume (bootstrap, topic, parts, count, path) {
  const kafka = client(bootstrap)
  const sym = Object.getOwnPropertySymbols(kafka).find(s => String(s) === 'Symbol(private:Kafka:createCluster)')
  const cluster = kafka[sym]({ allowAutoTopicCreation: false })
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  const leaders = {}
  for (const pm of cluster.findTopicPartitionMetadata(topic)) leaders[pm.partitionId] = pm.leader
  const next = {}
  for (let p = 0; p < parts; p++) next[p] = 0
  const lines = []
  const deadline = Date.now() + 60000
  while (lines.length < count && Date.now() < deadline) {
    for (let p = 0; p < parts && lines.length < count; p++) {
      const broker = await cluster.findBroker({ nodeId: String(leaders[p]) })
      const res = await broker.fetch({ replicaId: -1, isolationLevel: 0, maxWaitTime: 200, minBytes: 1,
        maxBytes: 10485760, topics: [{ topic, partitions: [{ partition: p, fetchOffset: String(next[p]), maxBytes: 10485760 }] }] })
      for (const t of res.responses) {
        for (const pd of t.partitions) {
          if (pd.errorCode) throw new Error(`fetch p${p}: error ${pd.errorCode}`)
          for (const m of pd.messages) {
            const off = Number(m.offset)
            if (off < next[p]) continue // earlier records of a batch
            const h = []
            for (const [n, v] of Object.entries(m.headers || {})) {
              for (const x of Array.isArray(v) ? v : [v]) h.push([n, hex(x)])
            }
            lines.push(JSON.stringify({ p, o: off, k: hex(m.key), v: hex(m.value), h, ts: Number(m.timestamp) }))
            next[p] = off + 1
          }
        }
      }
    }
  }
  fs.writeFileSync(path, lines.map(l => l + '\n').join(''))
  await cluster.disconnect()
  out({ count: lines.length })
}

async function main () {
  const a = process.argv.slice(2)
  if (a[0] === 'produce') return produce(a[1], a[2], a[3], a[4], a[5])
  if (a[0] === 'consume') return consume(a[1], a[2], Number(a[3]), Number(a[4]), a[5])
  throw new Error(`unknown op ${a[0]}`)
}

main().then(() => process.exit(0), e => { console.error(e); process.exit(2) })
