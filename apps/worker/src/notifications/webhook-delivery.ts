import { Webhook } from 'standardwebhooks';

/** One endpoint of notifications.webhooks.endpoints. */
export interface WebhookEndpoint {
  name: string;
  url: string;
  secret: string;
  events: readonly string[];
  concurrency: number;
}

/** A delivery as queued: the body is signed and sent exactly as stored, on every attempt and replay. */
export interface WebhookJob {
  /** The `webhook-id` header. */
  eventId: string;
  eventType: string;
  body: string;
}

/** Why a delivery failed, and whether another attempt could succeed. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * POSTs one event, signed per Standard Webhooks (docs/webhooks.md): `webhook-id`,
 * `webhook-timestamp` (seconds, the time of this attempt) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), computed by the `standardwebhooks` package
 * so the signing cannot drift from what receivers' libraries verify. Resolves with the status
 * on 2xx; rejects with a DeliveryError otherwise: 4xx is permanent (the receiver refused this
 * event; sending it again changes nothing) except 408 and 429, which ask to come back later;
 * 5xx, a timeout or no connection are worth retrying. Redirects are not followed: a webhook URL
 * that moved is a setting to fix.
 */
export async function deliver(endpoint: WebhookEndpoint, job: WebhookJob, timeoutMs: number): Promise<number> {
  const now = new Date();
  const signature = new Webhook(endpoint.secret).sign(job.eventId, now, job.body);
  let response: Response;
  try {
    response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'im-cluster-webhooks/1',
        'webhook-id': job.eventId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: job.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new DeliveryError(timedOut ? `no answer within ${timeoutMs} ms` : `no connection (${cause ?? (err as Error).message})`, undefined, false);
  }
  // The answer's body means nothing to us; reading it frees the connection for the next delivery.
  await response.arrayBuffer().catch(() => {});
  const { status } = response;
  if (status >= 200 && status < 300) return status;
  const retryable = status >= 500 || status === 408 || status === 429;
  throw new DeliveryError(`answered HTTP ${status}`, status, !retryable);
}
