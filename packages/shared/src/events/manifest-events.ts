// Manifest-update events: what changed in an output root, published on the Redis channel of the queue prefix.

export interface ManifestEvent {
  outputRoot: string;
  jobId: string;
  /** New face sets (faceset_NNN names). */
  added: string[];
  /** Existing face sets that received PNGs (extend jobs) or whose members a decision changed. */
  extended: string[];
  /** Decisions only: the decision's id (jobId is then `decision-<id>`). */
  decisionId?: string;
  /** Decisions only: face sets retired by it (merged, deleted); their folders are gone. */
  removed?: string[];
}

/**
 * Redis pub/sub channel of manifest-update events: `facesets:manifest` with the default prefix and Redis database 0.
 * Pub/sub channels are shared by every database of a Redis server (keys are not), so a deployment on database N
 * publishes on `<prefix>:db<N>:manifest`: two deployments that share a server and a prefix never hear each other.
 */
export function manifestChannel(prefix: string, redisUrl?: string): string {
  const db = redisUrl ? redisDbOf(redisUrl) : 0;
  return db ? `${prefix}:db${db}:manifest` : `${prefix}:manifest`;
}

/** The database index of a redis:// URL (its path, e.g. /3), 0 when it names none. */
export function redisDbOf(url: string): number {
  try {
    const n = Number(new URL(url).pathname.replace(/^\//, '') || 0);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Publishes every event as JSON on `channel` (manifestChannel(QUEUE_PREFIX)). */
export function createRedisManifestPublisher(redis: { publish(channel: string, message: string): Promise<number> }, channel: string) {
  return async (event: ManifestEvent): Promise<void> => {
    await redis.publish(channel, JSON.stringify(event));
  };
}
