/** The real AWS CLI against certgate's admin port, as account A. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CREDENTIALS_A } from '../authz/world.js';
import { AWS_CLI } from '../control/harness.js';

const run = promisify(execFile);

/** `aws iot update-certificate --new-status REVOKED` against certgate's admin port. */
export async function awsRevoke(adminPort: number, certificateId: string): Promise<void> {
  await run(
    AWS_CLI,
    [
      'iot',
      'update-certificate',
      '--certificate-id',
      certificateId,
      '--new-status',
      'REVOKED',
      '--endpoint-url',
      `http://127.0.0.1:${adminPort}`,
    ],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: CREDENTIALS_A.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS_A.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    },
  );
}
