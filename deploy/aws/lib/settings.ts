// settings.ts: what a user can choose with `cdk deploy -c key=value`, read
// and checked in one place (a bad value is one sentence naming the key).
import { Node } from 'constructs';

/** CDK behaviours the stack relies on (feature flags, as `cdk init` sets them). */
export const FEATURE_FLAGS: Record<string, boolean> = {
  // Server access logs are delivered under a bucket policy, not an ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  // CDK's deploy-time functions use the SDK Lambda brings (no download).
  '@aws-cdk/customresources:installLatestAwsSdkDefault': false,
};

export type Compute = 'ecs' | 'lambda';

export interface Settings {
  /** The workers: an ECS Fargate service (default) or a Lambda function. */
  readonly compute: Compute;
  /** Adopt this existing bucket instead of creating one. */
  readonly bucketName?: string;
  /** Keep old versions of objects (a new bucket only). */
  readonly versioned: boolean;
  /** Subscribe this address to the notification topic. */
  readonly notifyEmail?: string;
  /** At most this many worker tasks (ECS) or concurrent batches (Lambda). */
  readonly maxWorkers: number;
  /** Fargate task size: vCPU units (1024 = 1 vCPU) and memory (MiB). */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** The catalog's database: a standby in a second zone, and protection from deletion. */
  readonly multiAz: boolean;
  readonly deletionProtection: boolean;
  /** Days the logs are kept. */
  readonly logRetentionDays: number;
}

function text(node: Node, key: string): string | undefined {
  const v = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function flag(node: Node, key: string, fallback: boolean): boolean {
  const v = text(node, key);
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`context '${key}' is '${v}': it must be true or false`);
}

function whole(node: Node, key: string, fallback: number, min: number, max: number): number {
  const v = text(node, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`context '${key}' is '${v}': it must be a whole number from ${min} to ${max}`);
  }
  return n;
}

// Fargate's valid sizes per vCPU setting: memory from, to, in steps of
// (MiB). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
const FARGATE_MEMORY: Record<number, [number, number, number]> = {
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653];

export function readSettings(node: Node): Settings {
  const compute = text(node, 'compute') ?? 'ecs';
  if (compute !== 'ecs' && compute !== 'lambda') {
    throw new Error(`context 'compute' is '${compute}': it must be ecs or lambda`);
  }
  const bucketName = text(node, 'bucketName');
  if (bucketName !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName)) {
    throw new Error(`context 'bucketName' is '${bucketName}': that is not an S3 bucket name`);
  }
  const notifyEmail = text(node, 'notifyEmail');
  if (notifyEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(notifyEmail)) {
    throw new Error(`context 'notifyEmail' is '${notifyEmail}': that is not an email address`);
  }
  const cpu = whole(node, 'cpu', 2048, 1024, 16384);
  const range = FARGATE_MEMORY[cpu];
  if (range === undefined) {
    throw new Error(`context 'cpu' is '${cpu}': Fargate takes 1024, 2048, 4096, 8192 or 16384`);
  }
  const memoryMiB = whole(node, 'memory', Math.max(range[0], 4096), range[0], range[1]);
  if (memoryMiB % range[2] !== 0) {
    throw new Error(`context 'memory' is '${memoryMiB}': with cpu ${cpu} it must be a multiple of ${range[2]}`);
  }
  const logRetentionDays = whole(node, 'logRetentionDays', 30, 1, 3653);
  if (!RETENTION_DAYS.includes(logRetentionDays)) {
    throw new Error(
      `context 'logRetentionDays' is '${logRetentionDays}': CloudWatch keeps logs for one of ${RETENTION_DAYS.join(', ')} days`,
    );
  }
  return {
    compute,
    bucketName,
    versioned: flag(node, 'versioned', false),
    notifyEmail,
    maxWorkers: whole(node, 'maxWorkers', 10, 2, 1000),
    cpu,
    memoryMiB,
    multiAz: flag(node, 'multiAz', false),
    deletionProtection: flag(node, 'deletionProtection', true),
    logRetentionDays,
  };
}
