export { createTestDatabase, type TestDatabase } from './test-database.ts';
export { uniquePrefix } from './unique-prefix.ts';
export { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
export { startWebhookReceiver, type WebhookReceiver, type ReceivedWebhook } from './webhook-receiver.ts';
export { freePort } from './free-port.ts';
