import type { Principal } from '@dispatch/platform';

/** Who is calling, as the use cases need it. */
export interface Caller {
  /** The token subject: the customerId for customers. */
  subject: string;
  isAdmin: boolean;
}

export function callerOf(principal: Principal): Caller {
  return { subject: principal.subject, isAdmin: principal.roles.includes('admin') };
}
