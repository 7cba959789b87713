// The synthesized template, checked point by point for both compute modes,
// an adopted bucket, and cdk-nag's AwsSolutions rules.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { suppressReviewedFindings } from '../lib/nag';
import { FEATURE_FLAGS, readSettings } from '../lib/settings';
import { FOLDERS, VidgateStack } from '../lib/vidgate-stack';

type Resources = Record<string, { Type: string; Properties?: any }>;

function synth(context: Record<string, string> = {}): { stack: Stack; template: Template } {
  const app = new App({ context: { ...FEATURE_FLAGS, ...context } });
  const stack = new VidgateStack(app, 'Vidgate', { settings: readSettings(app.node) });
  suppressReviewedFindings(stack);
  Aspects.of(app).add(new AwsSolutionsChecks());
  return { stack, template: Template.fromStack(stack) };
}

function only(template: Template, type: string, props: object = {}): [string, any] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : {}));
  assert.equal(found.length, 1, `one ${type} expected, found ${found.length}`);
  return found[0];
}

function statements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

// The worker's own policy: the one with the folders' grant.
function workerStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  const worker = Object.values(policies).filter((p) =>
    p.Properties.PolicyDocument.Statement.some((s: any) => s.Sid === 'ReadWriteTheFolders'),
  );
  assert.equal(worker.length, 1);
  return worker[0].Properties.PolicyDocument.Statement;
}

const ecs = synth();
const fn = synth({ compute: 'lambda' });

for (const [mode, { stack, template }] of [
  ['ecs', ecs],
  ['lambda', fn],
] as const) {
  describe(`both modes (${mode})`, () => {
    it('passes cdk-nag AwsSolutions with every kept finding given a reason', () => {
      const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
      assert.deepEqual(
        [...errors, ...warnings].map((e) => `${e.id}: ${e.entry.data}`),
        [],
      );
    });

    it('makes a private, encrypted, TLS-only bucket that aborts stale multipart uploads', () => {
      const [, media] = only(template, 'AWS::S3::Bucket', { LoggingConfiguration: Match.anyValue() });
      assert.deepEqual(media.Properties.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      assert.equal(
        media.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm,
        'AES256',
      );
      assert.ok(
        media.Properties.LifecycleConfiguration.Rules.some(
          (r: any) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation === 1 && r.Status === 'Enabled',
        ),
      );
      assert.equal(media.Properties.VersioningConfiguration, undefined);
      assert.equal(media.DeletionPolicy, 'Retain');
      // Every bucket policy refuses plain HTTP.
      const policies = Object.values(template.findResources('AWS::S3::BucketPolicy') as Resources);
      assert.equal(policies.length, 2);
      for (const p of policies) {
        assert.ok(
          p.Properties.PolicyDocument.Statement.some(
            (s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          ),
        );
      }
    });

    it('sends the S3 events of uploads/ and failed/ to an intake queue with a dead-letter queue', () => {
      const [, notes] = only(template, 'Custom::S3BucketNotifications');
      const configs = notes.Properties.NotificationConfiguration.QueueConfigurations;
      assert.deepEqual(
        configs.map((c: any) => [c.Events, c.Filter.Key.FilterRules]),
        [
          [['s3:ObjectCreated:*'], [{ Name: 'prefix', Value: 'uploads/' }]],
          [['s3:ObjectCreated:*'], [{ Name: 'prefix', Value: 'failed/' }]],
        ],
      );
      const queues = template.findResources('AWS::SQS::Queue') as Resources;
      const [intakeId, intake] = Object.entries(queues).find(([, q]) => q.Properties?.RedrivePolicy)!;
      assert.deepEqual(configs[0].QueueArn, { 'Fn::GetAtt': [intakeId, 'Arn'] });
      assert.equal(intake.Properties.RedrivePolicy.maxReceiveCount, 5);
      // Longer than a worker's lease (30 s), and for Lambda six times its timeout.
      assert.equal(intake.Properties.VisibilityTimeout, mode === 'lambda' ? 5400 : 300);
      for (const q of Object.values(queues)) assert.equal(q.Properties.SqsManagedSseEnabled, true);
      // S3 may send to it, from this bucket only.
      const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Resources);
      const s3Send = queuePolicies
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .find((s: any) => s.Principal?.Service === 's3.amazonaws.com');
      assert.ok(s3Send);
      assert.ok(s3Send.Condition.ArnLike['aws:SourceArn']);
    });

    it('runs PostgreSQL privately, encrypted, with a generated secret, reachable from the workers only', () => {
      const [, db] = only(template, 'AWS::RDS::DBInstance');
      assert.equal(db.Properties.Engine, 'postgres');
      assert.equal(db.Properties.PubliclyAccessible, false);
      assert.equal(db.Properties.StorageEncrypted, true);
      assert.equal(db.Properties.DeletionProtection, true);
      assert.match(JSON.stringify(db.Properties.MasterUserPassword), /resolve:secretsmanager/);
      const [, secret] = only(template, 'AWS::SecretsManager::Secret');
      assert.ok(secret.Properties.GenerateSecretString);
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress') as Resources);
      const all = [
        ...ingress.map((i) => i.Properties),
        ...Object.values(template.findResources('AWS::EC2::SecurityGroup') as Resources).flatMap(
          (g) => g.Properties.SecurityGroupIngress ?? [],
        ),
      ];
      assert.equal(all.length, 1, JSON.stringify(all));
      assert.equal(all[0].FromPort, 5432);
      assert.ok(all[0].SourceSecurityGroupId, 'from a security group, not an address range');
      assert.equal(all[0].CidrIp, undefined);
    });

    it('has an encrypted SNS topic that the alarms and vidgate publish to', () => {
      const [topicId, topic] = only(template, 'AWS::SNS::Topic');
      assert.ok(topic.Properties.KmsMasterKeyId);
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).filter(
        (a) => a.Properties.AlarmDescription && !a.Properties.AlarmDescription.includes('scaling alarm'),
      );
      const described = alarms.map((a) => a.Properties.AlarmDescription).sort();
      assert.equal(described.length, 5, described.join('\n'));
      for (const phrase of ['unable_to_process', 'quarter of the attempts', 'intake queue', 'dead-letter', 'exited on an error']) {
        assert.ok(described.some((d) => d.includes(phrase)), `an alarm about ${phrase}`);
      }
      for (const a of alarms) {
        assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
      }
      // Alarms may publish (enforceSSL's policy replaces SNS's default one).
      const topicPolicies = Object.values(template.findResources('AWS::SNS::TopicPolicy') as Resources);
      const allows = topicPolicies
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com');
      assert.equal(allows.length, 1);
      assert.equal(allows[0].Action, 'sns:Publish');
      assert.ok(allows[0].Condition.StringEquals['aws:SourceAccount']);
      // Alarms can use the topic's key.
      const [, key] = only(template, 'AWS::KMS::Key');
      assert.ok(
        key.Properties.KeyPolicy.Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com'),
      );
      assert.equal(key.Properties.EnableKeyRotation, true);
    });

    it('grants the workers each folder, the topic and nothing wider', () => {
      for (const s of statements(template)) {
        for (const action of asList(s.Action)) {
          assert.notEqual(action, '*');
          assert.ok(!/^[a-z0-9-]+:\*$/.test(action), `a whole service: ${action}`);
        }
      }
      const worker = workerStatements(template);
      const objects = worker.find((s) => s.Sid === 'ReadWriteTheFolders');
      const keys = asList(objects.Resource).map((r: any) => JSON.stringify(r));
      assert.equal(keys.length, FOLDERS.length);
      for (const folder of FOLDERS) assert.ok(keys.some((k) => k.includes(`/${folder}/*`)), folder);
      // Unconditioned: a HEAD of a missing key must be 404, not 403.
      const list = worker.find((s) => s.Sid === 'ListTheBucket');
      assert.equal(list.Condition, undefined);
      assert.equal(asList(list.Action).length, 1);
      assert.ok(worker.some((s) => asList(s.Action).includes('sns:Publish')));
      for (const s of worker) assert.notEqual(s.Resource, '*', JSON.stringify(s));
    });

    it('keeps logs for a while, has a dashboard and the outputs a user needs', () => {
      const groups = Object.values(template.findResources('AWS::Logs::LogGroup') as Resources);
      assert.ok(groups.every((g) => g.Properties.RetentionInDays > 0));
      only(template, 'AWS::CloudWatch::Dashboard');
      const outputs = Object.keys(template.toJSON().Outputs);
      for (const name of ['BucketName', 'QueueUrl', 'TopicArn', 'DashboardUrl']) assert.ok(outputs.includes(name), name);
    });
  });
}

function containerOf(template: Template): any {
  const [, task] = only(template, 'AWS::ECS::TaskDefinition');
  assert.equal(task.Properties.ContainerDefinitions.length, 1);
  return task.Properties.ContainerDefinitions[0];
}

describe('ECS Fargate workers (the default)', () => {
  const { template } = ecs;

  it('runs `vidgate run` from the image, configured by its environment, the password a secret', () => {
    const c = containerOf(template);
    assert.deepEqual(c.Command, ['run']);
    assert.deepEqual(c.HealthCheck.Command, ['CMD', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:8080/healthz']);
    assert.equal(c.HealthCheck.StartPeriod, 60);
    const env = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
    assert.deepEqual(Object.keys(env).sort(), [
      'VIDGATE_DATABASE_URL',
      'VIDGATE_METRICS_EMF',
      'VIDGATE_SNS_TOPIC_ARN',
      'VIDGATE_SQS_QUEUE_URL',
      'VIDGATE_STORAGE_URL',
    ]);
    assert.equal(env.VIDGATE_METRICS_EMF, 'true');
    assert.match(JSON.stringify(env.VIDGATE_DATABASE_URL), /postgresql:\/\/vidgate@/);
    assert.ok(!JSON.stringify(c.Environment).includes('password'));
    assert.deepEqual(
      c.Secrets.map((s: any) => s.Name),
      ['PGPASSWORD'],
    );
    assert.equal(c.StopTimeout, 120);
    assert.equal(c.LogConfiguration.LogDriver, 'awslogs');
  });

  it('runs in private subnets with no public address', () => {
    const [, service] = only(template, 'AWS::ECS::Service');
    const net = service.Properties.NetworkConfiguration.AwsvpcConfiguration;
    assert.equal(net.AssignPublicIp, 'DISABLED');
    const subnets = template.findResources('AWS::EC2::Subnet') as Resources;
    for (const ref of net.Subnets) {
      const subnet = subnets[ref.Ref];
      assert.equal(subnet.Properties.MapPublicIpOnLaunch, false);
      assert.ok(
        subnet.Properties.Tags.some((t: any) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Private'),
      );
    }
  });

  it('scales from zero on the queue and the catalog\'s pending work, and on the oldest message\'s age', () => {
    const [, target] = only(template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    assert.equal(target.Properties.MinCapacity, 0);
    assert.equal(target.Properties.MaxCapacity, 10);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);
    const work = alarms.filter((a) => JSON.stringify(a.Properties.Metrics ?? []).includes('FILL(jobs, REPEAT)'));
    assert.equal(work.length, 2, 'a scale-out and a scale-in alarm on the work');
    const metrics = JSON.stringify(work[0].Properties.Metrics);
    for (const name of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      '"pending_jobs"',
      '"pending_deliveries"',
      '"awaiting_metadata"',
    ]) {
      assert.ok(metrics.includes(name), name);
    }
    assert.ok(metrics.includes('IF(FILL(age, 0) > 300, 2 * MAX('), 'doubled when the queue waits');
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy') as Resources);
    const exact = policies.filter((p) => p.Properties.StepScalingPolicyConfiguration.AdjustmentType === 'ExactCapacity');
    const steps = exact.flatMap((p) => p.Properties.StepScalingPolicyConfiguration.StepAdjustments);
    assert.ok(steps.some((s: any) => s.MetricIntervalUpperBound === 0 && s.ScalingAdjustment === 0), 'none for none');
    assert.equal(Math.max(...steps.map((s: any) => s.ScalingAdjustment)), 10);
    assert.equal(policies.length, 2, 'one policy (its two alarms): nothing to fight it');
    const [, service] = only(template, 'AWS::ECS::Service');
    assert.equal(service.Properties.DesiredCount, undefined, 'a deploy leaves the count to the scaling');
  });

  it('watches for crashed tasks', () => {
    const [, rule] = only(template, 'AWS::Events::Rule');
    assert.deepEqual(rule.Properties.EventPattern['detail-type'], ['ECS Task State Change']);
    assert.deepEqual(rule.Properties.EventPattern.detail.containers.exitCode, [{ 'anything-but': 0 }]);
  });
});

describe('Lambda workers (-c compute=lambda)', () => {
  const { template } = fn;

  it('runs `vidgate lambda` from the same image, fed by the queue with partial batch responses', () => {
    template.resourceCountIs('AWS::ECS::Service', 0);
    const [fnId, worker] = only(template, 'AWS::Lambda::Function', { PackageType: 'Image' });
    assert.deepEqual(worker.Properties.ImageConfig.Command, ['lambda']);
    assert.equal(worker.Properties.Timeout, 900);
    assert.ok(worker.Properties.VpcConfig.SubnetIds.length >= 2);
    const env = worker.Properties.Environment.Variables;
    assert.deepEqual(Object.keys(env.VIDGATE_DATABASE_PASSWORD), ['Ref'], "the secret's ARN, not its value");
    assert.equal(env.VIDGATE_METRICS_EMF, 'true');
    const [, mapping] = only(template, 'AWS::Lambda::EventSourceMapping');
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.deepEqual(mapping.Properties.FunctionName, { Ref: fnId });
    assert.equal(mapping.Properties.ScalingConfig.MaximumConcurrency, 10);
  });

  it('sweeps on a schedule (listing, due retries, the outbox)', () => {
    const [, rule] = only(template, 'AWS::Events::Rule');
    assert.equal(rule.Properties.ScheduleExpression, 'rate(5 minutes)');
    assert.equal(rule.Properties.Targets.length, 1);
  });

  it('lets the function read the database secret, and only it', () => {
    const worker = workerStatements(template);
    const read = worker.find((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'));
    assert.ok(read);
    assert.ok(read.Resource.Ref, 'the one secret');
  });
});

describe('context', () => {
  it('adopts an existing bucket by name, with its own settings left alone', () => {
    const { template } = synth({ bucketName: 'seed-media' });
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const [, notes] = only(template, 'Custom::S3BucketNotifications');
    assert.equal(notes.Properties.BucketName, 'seed-media');
    assert.equal(notes.Properties.Managed, false, 'other notifications of the bucket are kept');
    const keys = JSON.stringify(workerStatements(template).find((s) => s.Sid === 'ReadWriteTheFolders').Resource);
    assert.ok(keys.includes(':s3:::seed-media/uploads/*'), keys);
  });

  it('turns on versioning, an email subscription and a second zone for the database when asked', () => {
    const { template } = synth({ versioned: 'true', notifyEmail: 'ops@example.com', multiAz: 'true' });
    const [, media] = only(template, 'AWS::S3::Bucket', { LoggingConfiguration: Match.anyValue() });
    assert.equal(media.Properties.VersioningConfiguration.Status, 'Enabled');
    const [, sub] = only(template, 'AWS::SNS::Subscription');
    assert.equal(sub.Properties.Protocol, 'email');
    assert.equal(sub.Properties.Endpoint, 'ops@example.com');
    assert.equal(only(template, 'AWS::RDS::DBInstance')[1].Properties.MultiAZ, true);
  });

  it('refuses a bad value with a sentence naming the key', () => {
    for (const [key, value] of [
      ['compute', 'ec2'],
      ['versioned', 'yes'],
      ['maxWorkers', '0'],
      ['cpu', '3000'],
      ['memory', '100'],
      ['bucketName', 'Not_A_Bucket'],
      ['notifyEmail', 'nobody'],
      ['logRetentionDays', '10'],
    ]) {
      assert.throws(() => synth({ [key]: value }), new RegExp(`context '${key}' is '${value}'`), key);
    }
    // Fargate's memory steps grow with the vCPUs.
    assert.throws(() => synth({ cpu: '8192', memory: '17408' }), /with cpu 8192 it must be a multiple of 4096/);
  });
});
