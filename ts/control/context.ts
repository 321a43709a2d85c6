/** What every operation handler shares: the registry, the engine, settings, clock, ARNs. */
import type { Engine } from '../engine/types.js';
import { certificateArn as arnOf } from '../registry/arn.js';
import type { Registry, RegistrySettings } from '../registry/types.js';

export interface ControlContext {
  registry: Registry;
  engine: Engine;
  settings: RegistrySettings;
  /** Epoch seconds (fractional). */
  now(): number;
}

/**
 * ARNs in the installation's region, partition `aws`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html#awsiot-resources-for-iam-policies).
 */
export function certificateArn(ctx: ControlContext, accountId: string, certificateId: string): string {
  return arnOf(ctx.settings.region, accountId, certificateId);
}

export function caCertificateArn(ctx: ControlContext, accountId: string, certificateId: string): string {
  return `arn:aws:iot:${ctx.settings.region}:${accountId}:cacert/${certificateId}`;
}

export function policyArn(ctx: ControlContext, accountId: string, policyName: string): string {
  return `arn:aws:iot:${ctx.settings.region}:${accountId}:policy/${policyName}`;
}
