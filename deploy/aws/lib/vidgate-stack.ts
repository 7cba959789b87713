// vidgate-stack.ts: the seed's AWS system with vidgate as its compute. The
// bucket with uploads/, failed/, processed/ and unable_to_process/; S3
// events into an SQS queue; workers (ECS Fargate scaled on the work, or a
// Lambda function fed by the queue and swept on a schedule); PostgreSQL on
// RDS with its password in Secrets Manager; an SNS topic; logs, metrics
// from vidgate's EMF lines, alarms and a dashboard.
import * as path from 'path';
import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  StackProps,
  aws_applicationautoscaling as appscaling,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwactions,
  aws_ec2 as ec2,
  aws_ecr_assets as ecrAssets,
  aws_ecs as ecs,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_rds as rds,
  aws_s3 as s3,
  aws_s3_notifications as s3n,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { Settings } from './settings';

export interface VidgateStackProps extends StackProps {
  readonly settings: Settings;
  /** The folder holding vidgate's Dockerfile (the repository's root). */
  readonly imageDirectory?: string;
}

/** The keys vidgate reads and writes, each with its own grant. */
export const FOLDERS = ['uploads', 'failed', 'processed', 'unable_to_process', '.vidgate'];

/** vidgate's metrics (EMF lines on stdout; see the README). */
export const NAMESPACE = 'vidgate';

export class VidgateStack extends Stack {
  readonly bucket: s3.IBucket;
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly topic: sns.Topic;
  readonly database: rds.DatabaseInstance;
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: VidgateStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const imageDirectory = props.imageDirectory ?? path.join(__dirname, '..', '..', '..', '..');

    // ---- The bucket -------------------------------------------------------
    if (s.bucketName !== undefined) {
      // The seed's users have one already: its settings stay theirs.
      this.bucket = s3.Bucket.fromBucketName(this, 'Media', s.bucketName);
    } else {
      const accessLogs = new s3.Bucket(this, 'AccessLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.bucket = new s3.Bucket(this, 'Media', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: s.versioned,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: 'media/',
        lifecycleRules: [
          // A multipart upload cut short is billed until it is aborted.
          { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
          ...(s.versioned
            ? [{ id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) }]
            : []),
        ],
        // The videos outlive the stack.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    // ---- Intake: S3 events through SQS -------------------------------------
    // A Lambda function may hold a batch for its whole timeout (15 min); AWS
    // asks for a visibility of six times that. A worker task takes a batch in
    // within seconds (the lease on a video is the catalog's, 30 s).
    const visibility = s.compute === 'lambda' ? Duration.minutes(90) : Duration.minutes(5);
    this.deadLetters = new sqs.Queue(this, 'IntakeDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Intake', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: visibility,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: 5 },
    });
    for (const prefix of ['uploads/', 'failed/']) {
      this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
        prefix,
      });
    }

    // ---- Notifications ----------------------------------------------------
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the vidgate notification topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to the encrypted topic.
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new sns.Topic(this, 'Events', {
      displayName: 'vidgate',
      masterKey: topicKey,
      enforceSSL: true,
    });
    // The alarms publish here too: enforceSSL's policy replaces SNS's
    // default one, so CloudWatch must be named (for this account's alarms).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
    if (s.notifyEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(s.notifyEmail));
    }

    // ---- Network ----------------------------------------------------------
    const vpc = new ec2.Vpc(this, 'Network', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // Video bytes to and from S3 skip the NAT gateway (and its charge).
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const workersGroup = new ec2.SecurityGroup(this, 'WorkersSecurityGroup', {
      vpc,
      description: 'vidgate workers: out to AWS APIs and the catalog only',
      allowAllOutbound: true,
    });
    const databaseGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'vidgate catalog: PostgreSQL from the workers only',
      allowAllOutbound: false,
    });
    databaseGroup.addIngressRule(workersGroup, ec2.Port.tcp(5432), 'PostgreSQL from the vidgate workers');

    // ---- The catalog ------------------------------------------------------
    this.database = new rds.DatabaseInstance(this, 'Catalog', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [databaseGroup],
      port: 5432,
      credentials: rds.Credentials.fromGeneratedSecret('vidgate'),
      databaseName: 'vidgate',
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      publiclyAccessible: false,
      multiAz: s.multiAz,
      deletionProtection: s.deletionProtection,
      backupRetention: Duration.days(7),
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: s.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    const secret = this.database.secret!;
    NagSuppressions.addResourceSuppressions(
      this.database,
      [
        ...(s.multiAz
          ? []
          : [{ id: 'AwsSolutions-RDS3', reason: 'One zone by default to keep the idle cost low; -c multiAz=true adds a standby' }]),
        {
          id: 'AwsSolutions-RDS11',
          reason: 'The port is reachable only from the workers\' security group; another number would hide nothing',
        },
        {
          id: 'AwsSolutions-SMG4',
          reason: 'Workers read the password when they start; a rotation would need every task restarted. Rotate by hand with a redeploy',
        },
      ],
      true,
    );

    // ---- The workers ------------------------------------------------------
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: s.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const environment: Record<string, string> = {
      VIDGATE_STORAGE_URL: `s3://${this.bucket.bucketName}`,
      VIDGATE_DATABASE_URL: `postgresql://vidgate@${this.database.dbInstanceEndpointAddress}:${this.database.dbInstanceEndpointPort}/vidgate`,
      VIDGATE_SQS_QUEUE_URL: this.queue.queueUrl,
      VIDGATE_SNS_TOPIC_ARN: this.topic.topicArn,
      VIDGATE_METRICS_EMF: 'true',
    };
    const image = {
      directory: imageDirectory,
      platform: ecrAssets.Platform.LINUX_AMD64,
    };

    let crashes: cw.IMetric;
    let workerWidgets: cw.IWidget[];
    if (s.compute === 'ecs') {
      const cluster = new ecs.Cluster(this, 'Cluster', {
        vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
      const task = new ecs.FargateTaskDefinition(this, 'Worker', {
        cpu: s.cpu,
        memoryLimitMiB: s.memoryMiB,
        ephemeralStorageGiB: 50,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      task.addContainer('vidgate', {
        image: ecs.ContainerImage.fromAsset(image.directory, { platform: image.platform }),
        command: ['run'],
        // vidgate serves /healthz on 127.0.0.1:8080 (loopback only): 503 when
        // its intake loop is stuck, and ECS replaces the task.
        healthCheck: {
          command: ['CMD', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:8080/healthz'],
          interval: Duration.seconds(30),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(60),
        },
        environment,
        // libpq reads PGPASSWORD; ECS fetches it when the task starts.
        secrets: { PGPASSWORD: ecs.Secret.fromSecretsManager(secret, 'password') },
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'worker' }),
        // SIGTERM: vidgate releases the attempt in flight and flushes.
        stopTimeout: Duration.seconds(120),
      });
      const service = new ecs.FargateService(this, 'Workers', {
        cluster,
        taskDefinition: task,
        // No desired count: a deploy leaves the scaling's count alone (one
        // in the template would reset the fleet on every update).
        minHealthyPercent: 0,
        maxHealthyPercent: 200,
        securityGroups: [workersGroup],
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        assignPublicIp: false,
        circuitBreaker: { rollback: true },
      });
      grantWorker(task.taskRole, this.bucket, this.topic);
      NagSuppressions.addResourceSuppressions(task, [
        {
          id: 'AwsSolutions-ECS2',
          reason: 'The environment holds names and URLs (bucket, queue, topic, database host); the password is an ECS secret',
        },
      ]);
      NagSuppressions.addResourceSuppressions(
        task.executionRole!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: 'ecr:GetAuthorizationToken applies to no resource: AWS allows only *',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
      this.queue.grantConsumeMessages(task.taskRole);

      // The work: messages waiting in the queue, or what the catalog says
      // is left to do (videos queued, processing or due a retry;
      // notifications being delivered; metadata notices due), which only
      // running workers report: a gap repeats the last report (they come
      // once a minute, and late), none at all reads as none. Doubled when
      // the oldest message has waited over 5 minutes: the fleet is behind.
      const waiting = 'MAX([FILL(visible, 0), FILL(jobs, REPEAT) + FILL(deliveries, REPEAT) + FILL(notices, REPEAT)])';
      const work = new cw.MathExpression({
        expression: `IF(FILL(age, 0) > 300, 2 * ${waiting}, ${waiting})`,
        usingMetrics: {
          visible: this.queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          age: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
          jobs: backlog('pending_jobs'),
          deliveries: backlog('pending_deliveries'),
          notices: backlog('awaiting_metadata'),
        },
        period: Duration.minutes(1),
        label: 'work waiting',
      });
      const scaling = service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: s.maxWorkers });
      scaling.scaleOnMetric('ScaleOnWork', {
        metric: work,
        adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
        scalingSteps: workSteps(s.maxWorkers),
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        cooldown: Duration.minutes(1),
      });

      // A task whose vidgate exits on an error, as ECS reports it.
      const crashRule = new events.Rule(this, 'WorkerCrashed', {
        description: 'A vidgate worker task stopped because vidgate exited with an error',
        eventPattern: {
          source: ['aws.ecs'],
          detailType: ['ECS Task State Change'],
          detail: {
            clusterArn: [cluster.clusterArn],
            lastStatus: ['STOPPED'],
            stopCode: ['EssentialContainerExited'],
            containers: { exitCode: [{ 'anything-but': 0 }] },
          },
        },
      });
      crashRule.addTarget(new targets.CloudWatchLogGroup(logGroup));
      crashes = new cw.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: crashRule.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(15),
      });
      workerWidgets = [
        new cw.GraphWidget({
          title: 'Worker tasks',
          left: [
            new cw.Metric({
              namespace: 'ECS/ContainerInsights',
              metricName: 'RunningTaskCount',
              dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
              statistic: 'Average',
            }),
          ],
          right: [service.metricCpuUtilization(), service.metricMemoryUtilization()],
        }),
      ];
    } else {
      const worker = new lambda.DockerImageFunction(this, 'Worker', {
        code: lambda.DockerImageCode.fromImageAsset(image.directory, {
          platform: image.platform,
          cmd: ['lambda'],
        }),
        architecture: lambda.Architecture.X86_64,
        memorySize: 4096,
        timeout: Duration.minutes(15),
        ephemeralStorageSize: Size.gibibytes(10),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [workersGroup],
        // A function has no secret injection: vidgate reads the secret itself
        // (database.password given as its ARN).
        environment: { ...environment, VIDGATE_DATABASE_PASSWORD: secret.secretArn },
        logGroup,
      });
      secret.grantRead(worker);
      NagSuppressions.addResourceSuppressions(
        worker,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason: 'AWS\'s own policies for a function\'s logs and its network interfaces in the VPC (which take no narrower resource)',
            appliesTo: [
              'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
              'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
            ],
          },
        ],
        true,
      );
      grantWorker(worker.role!, this.bucket, this.topic);
      worker.addEventSource(
        new sources.SqsEventSource(this.queue, {
          batchSize: 10,
          maxBatchingWindow: Duration.seconds(5),
          reportBatchItemFailures: true,
          maxConcurrency: s.maxWorkers,
        }),
      );
      // The sweep: the listing (a lost event), due retries, the outbox.
      new events.Rule(this, 'Sweep', {
        description: 'vidgate sweep: lists the bucket, runs due retries, delivers notifications',
        schedule: events.Schedule.rate(Duration.minutes(5)),
        targets: [new targets.LambdaFunction(worker, { retryAttempts: 0 })],
      });
      crashes = worker.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' });
      workerWidgets = [
        new cw.GraphWidget({
          title: 'Worker function',
          left: [worker.metricInvocations(), worker.metricErrors(), worker.metricThrottles()],
          right: [worker.metricDuration({ statistic: 'p90' })],
        }),
      ];
    }

    // ---- Alarms -----------------------------------------------------------
    const alarmAction = new cwactions.SnsAction(this.topic);
    const alarms = [
      new cw.Alarm(this, 'UnableToProcess', {
        alarmDescription: 'A video was set aside in unable_to_process/ in the last 15 minutes',
        metric: vidgateEvents('vidgate.video.unable_to_process'),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
      new cw.Alarm(this, 'FailureRatio', {
        alarmDescription: 'Over a quarter of the attempts of the last 15 minutes failed',
        metric: new cw.MathExpression({
          expression: '(FILL(failed, 0) + FILL(unable, 0)) / (FILL(failed, 0) + FILL(unable, 0) + FILL(processed, 0) + FILL(rejected, 0))',
          usingMetrics: {
            failed: attempts('failed'),
            unable: attempts('unable_to_process'),
            processed: attempts('processed'),
            rejected: attempts('rejected'),
          },
          period: Duration.minutes(15),
          label: 'failed attempts / attempts',
        }),
        threshold: 0.25,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
      new cw.Alarm(this, 'IntakeBacklogAge', {
        alarmDescription: 'An S3 event has waited in the intake queue for over 15 minutes',
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 900,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
      new cw.Alarm(this, 'DeadLetters', {
        alarmDescription: 'S3 events that could not be taken in reached the dead-letter queue',
        metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
      new cw.Alarm(this, 'WorkersCrashing', {
        alarmDescription: 'vidgate workers exited on an error 3 times or more in 15 minutes',
        metric: crashes,
        threshold: 3,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of alarms) {
      alarm.addAlarmAction(alarmAction);
      alarm.addOkAction(alarmAction);
    }

    // ---- Dashboard --------------------------------------------------------
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: `${Aws.STACK_NAME}-vidgate`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Attempts by outcome',
        left: ['processed', 'failed', 'rejected', 'unable_to_process', 'released', 'lost_lease'].map((o) =>
          attempts(o, 5),
        ),
        stacked: true,
      }),
      new cw.GraphWidget({
        title: 'Stage durations (processed, p90)',
        left: ['fetch_duration', 'process_duration', 'publish_duration'].map(
          (name) =>
            new cw.Metric({
              namespace: NAMESPACE,
              metricName: name,
              dimensionsMap: { outcome: 'processed' },
              statistic: 'p90',
              period: Duration.minutes(5),
            }),
        ),
      }),
      new cw.GraphWidget({
        title: 'Intake queue',
        left: [
          this.queue.metricApproximateNumberOfMessagesVisible(),
          this.deadLetters.metricApproximateNumberOfMessagesVisible({ label: 'dead letters' }),
          backlog('pending_jobs'),
        ],
        right: [this.queue.metricApproximateAgeOfOldestMessage()],
      }),
      ...workerWidgets,
      new cw.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }),
    );

    // ---- Outputs ----------------------------------------------------------
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'DatabaseSecretArn', { value: secret.secretArn });
  }
}

// What a worker may do, and no more: each folder's objects, the listing of
// those folders, publishing to the topic (the queue is granted by its user).
function grantWorker(role: iam.IRole, bucket: s3.IBucket, topic: sns.ITopic): void {
  // Listing is granted on the whole bucket, with no prefix condition:
  // without s3:ListBucket, S3 answers a HEAD of a missing key with 403,
  // not 404, and vidgate must tell "not there" from "refused". Listing
  // shows key names only; reading is limited to the folders below.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListTheBucket',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadWriteTheFolders',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: FOLDERS.map((f) => bucket.arnForObjects(`${f}/*`)),
    }),
  );
  topic.grantPublish(role);
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Each folder\'s objects are named by their key: the grant is one folder prefix each',
        appliesTo: FOLDERS.map((f) => ({ regex: `/^Resource::.*\\/${f.replace('.', '\\.')}\\/\\*$/` })),
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'GenerateDataKey* (with or without plaintext) on the topic\'s own key, which SNS needs to publish',
        appliesTo: ['Action::kms:GenerateDataKey*'],
      },
    ],
    true,
  );
}

// One of the backlog figures each running vidgate reports (the same from
// every process: the catalog's).
function backlog(name: string): cw.Metric {
  return new cw.Metric({
    namespace: NAMESPACE,
    metricName: name,
    statistic: 'Maximum',
    period: Duration.minutes(1),
    label: name,
  });
}

function attempts(outcome: string, minutes = 15): cw.Metric {
  return new cw.Metric({
    namespace: NAMESPACE,
    metricName: 'attempts',
    dimensionsMap: { outcome },
    statistic: 'Sum',
    period: Duration.minutes(minutes),
    label: outcome,
  });
}

function vidgateEvents(type: string): cw.Metric {
  return new cw.Metric({
    namespace: NAMESPACE,
    metricName: 'events',
    dimensionsMap: { event: type },
    statistic: 'Sum',
    period: Duration.minutes(15),
  });
}

// Tasks for the work waiting: none for none, then about one task per two
// videos (a task runs as many workers as it has vCPUs), up to the maximum.
export function workSteps(max: number): appscaling.ScalingInterval[] {
  const steps: appscaling.ScalingInterval[] = [{ upper: 0, change: 0 }];
  let lower = 1;
  let tasks = 1;
  while (tasks < max) {
    const next = lower * 2;
    steps.push({ lower, upper: next, change: tasks });
    lower = next;
    tasks = Math.min(max, tasks * 2);
  }
  steps.push({ lower, change: max });
  return steps;
}
