/**
 * Per-account authorizer settings (certgate extension; AWS IoT expresses the same rule
 * as a policy condition). Also `certgate account settings`.
 *
 * `bindClientIdToThing`: a device may connect only with a client id equal to a thing
 * attached to its certificate — AWS IoT's `iot:Connection.Thing.IsAttached`
 * (https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html).
 * Off by default, as AWS behaves without such a policy.
 */
import type { Account } from '../../registry/types.js';
import type { ControlContext } from '../context.js';
import { invalid } from '../errors.js';
import type { Route } from '../router.js';
import { bodyBool } from '../validate.js';

const settingsOf = (a: Account) => ({ bindClientIdToThing: a.bindClientIdToThing });

export function accountSettingsRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'GET',
      template: '/certgate/account-settings',
      operation: 'GetAccountSettings',
      handler: async (r) => {
        const account = await ctx.registry.getAccount(r.accountId);
        if (account === null) throw invalid(`Account ${r.accountId} does not exist.`);
        return settingsOf(account);
      },
    },
    {
      method: 'PUT',
      template: '/certgate/account-settings',
      operation: 'UpdateAccountSettings',
      handler: async (r) => {
        const unknown = Object.keys(r.body).filter((k) => k !== 'bindClientIdToThing');
        if (unknown.length > 0) throw invalid(`Unknown setting ${unknown.join(', ')}; the settings are: bindClientIdToThing.`);
        const bind = bodyBool(r.body, 'bindClientIdToThing');
        if (bind === undefined) throw invalid('bindClientIdToThing (true or false) is required.');
        return settingsOf(await ctx.registry.setAccountSettings(r.accountId, { bindClientIdToThing: bind }));
      },
    },
  ];
}
