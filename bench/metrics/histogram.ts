import * as hdr from 'hdr-histogram-js';

/** Latency percentiles in milliseconds, as every report prints them. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/**
 * An HDR histogram of microseconds (1 µs to 10 min, 3 significant digits). It crosses process
 * boundaries as compressed base64 and merges exactly, so percentiles over many generator
 * processes are true percentiles, not averages of percentiles.
 */
export class LatencyHistogram {
  readonly h: hdr.Histogram;

  constructor() {
    this.h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  }

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.h.recordValue(us < 1 ? 1 : us > 600_000_000 ? 600_000_000 : us);
  }

  get count(): number {
    return this.h.totalCount;
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  reset(): void {
    this.h.reset();
  }

  encode(): string {
    return this.h.totalCount === 0 ? '' : hdr.encodeIntoCompressedBase64(this.h);
  }

  static decode(encoded: string): LatencyHistogram {
    const out = new LatencyHistogram();
    if (encoded) out.h.add(hdr.decodeFromCompressedBase64(encoded));
    return out;
  }

  static merge(encoded: Iterable<string>): LatencyHistogram {
    const out = new LatencyHistogram();
    for (const e of encoded) if (e) out.h.add(hdr.decodeFromCompressedBase64(e));
    return out;
  }

  summary(): LatencySummary {
    const h = this.h;
    if (h.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
    // HDR percentiles are bucket tops: never report one above the true max.
    const ms = (us: number) => Math.round(Math.min(us, h.maxValue)) / 1000;
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
      mean: ms(h.mean),
    };
  }
}
