// nag.ts: cdk-nag findings on what CDK itself adds, reviewed and kept.
// (The stack's own are suppressed beside the constructs they concern.)
import { Stack } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';

// CDK's singleton functions: S3 notifications on the bucket, log retention
// of the RDS log exports, the log group policy of an EventBridge target.
const CDK_HANDLERS = [
  'BucketNotificationsHandler',
  'LogRetention',
  'AWS679f53fac002430cb0da5b7982bd2287',
  'EventsLogGroupPolicy',
];

export function suppressReviewedFindings(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!CDK_HANDLERS.some((prefix) => child.node.id.startsWith(prefix))) continue;
    NagSuppressions.addResourceSuppressions(
      child,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'A function CDK provides to configure a resource at deploy time, with the basic Lambda logging policy',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason: 'A function CDK provides: the APIs it calls (PutBucketNotificationConfiguration, PutRetentionPolicy, PutResourcePolicy) take * or the account',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-L1',
          reason: 'A function CDK provides; its runtime follows the CDK version',
        },
      ],
      true,
    );
  }
}
