// SPDX-License-Identifier: Apache-2.0
// Integration-test driver: kafkajs 2.2.4 over TLS (tests/integration/test_tls.py).
//
//   node tls.js BOOTSTRAP TOPIC COUNT CA [CERT KEY]
//
// Produces COUNT messages "kafkajs-<i>" to partition 0 of TOPIC, then reads
// them back with a consumer group from the beginning, and prints one JSON
// line: {"produced": n, "consumed": [values...]} or {"error": "..."}.
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

async function main () {
  const [bootstrap, topic, countText, ca, cert, key] = process.argv.slice(2)
  const count = Number(countText)
  const ssl = { ca: [fs.readFileSync(ca, 'utf8')], rejectUnauthorized: true }
  if (cert) {
    ssl.cert = fs.readFileSync(cert, 'utf8')
    ssl.key = fs.readFileSync(key, 'utf8')
  }
  const kafka = new Kafka({ clientId: 'spillway-it-tls', brokers: [bootstrap], ssl,
    logLevel: logLevel.NOTHING, retry: { retries: 3 }, connectionTimeout: 10000 })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) messages.push({ partition: 0, value: `kafkajs-${i}` })
  await producer.send({ topic, messages })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: `tls-${topic}` })
  const consumed = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out consuming')), 30000)
    consumer.run({
      eachMessage: async ({ message }) => {
        consumed.push(message.value.toString())
        if (consumed.length >= count) {
          clearTimeout(timer)
          resolve()
        }
      }
    })
  })
  await consumer.disconnect()
  process.stdout.write(JSON.stringify({ produced: count, consumed }) + '\n')
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ error: String(e && e.message ? e.message : e) }) + '\n')
  process.exit(1)
})
