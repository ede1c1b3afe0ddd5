/** A GuestPolicy as the CLI flags that give it: the policy's rows of the option table. */

import { formatOptions } from "../host/option_table.ts";
import { type GuestPolicy, POLICY_OPTIONS } from "../host/policy.ts";

export function policyToFlags(policy: GuestPolicy | undefined): string[] {
  return policy ? formatOptions(POLICY_OPTIONS, policy) : [];
}
