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

/** Redis pub/sub channel of manifest-update events: `facesets:manifest` with the default prefix. */
export const manifestChannel = (prefix: string): string => `${prefix}:manifest`;

/** Publishes every event as JSON on `channel` (manifestChannel(QUEUE_PREFIX)). */
export function createRedisManifestPublisher(redis: { publish(channel: string, message: string): Promise<number> }, channel: string) {
  return async (event: ManifestEvent): Promise<void> => {
    await redis.publish(channel, JSON.stringify(event));
  };
}
