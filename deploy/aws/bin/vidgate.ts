#!/usr/bin/env node
// The CDK app: one stack, checked by cdk-nag's AwsSolutions rules on synth.
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FEATURE_FLAGS, readSettings } from '../lib/settings';
import { suppressReviewedFindings } from '../lib/nag';
import { VidgateStack } from '../lib/vidgate-stack';

const app = new App({ context: FEATURE_FLAGS });
const stack = new VidgateStack(app, app.node.tryGetContext('stackName') ?? 'Vidgate', {
  settings: readSettings(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'vidgate: video ingest on S3, SQS, SNS, RDS PostgreSQL and ECS Fargate or Lambda',
});
suppressReviewedFindings(stack);
Aspects.of(app).add(new AwsSolutionsChecks());
