/**
 * A device certificate's ARN (partition `aws`; the `cert` resource type of
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html): the
 * AWS principal that thing and policy attachments name, in the registry's region.
 */
export function certificateArn(region: string, accountId: string, certificateId: string): string {
  return `arn:aws:iot:${region}:${accountId}:cert/${certificateId}`;
}
