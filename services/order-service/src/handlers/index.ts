import type { EventHandler } from '@dispatch/platform';
import { type HandlerDeps, isFollowedEvent, trackProgress } from './track-progress';

export { FOLLOWED_EVENT_TYPES, type HandlerDeps } from './track-progress';

/**
 * Every event that moves an order's status goes to trackProgress (see FOLLOWED_EVENT_TYPES for which
 * and why). Anything else is ignored without recording it.
 */
export function createOrderEventHandler(deps: HandlerDeps): EventHandler {
  return async (event, ctx) => {
    if (isFollowedEvent(event)) await trackProgress(deps, event, ctx);
  };
}
