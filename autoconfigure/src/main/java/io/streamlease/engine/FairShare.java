package io.streamlease.engine;

/**
 * This consumer's fair share of its service's streams, as of its last renewal.
 *
 * @param enabled whether this consumer rebalances (hands off what it holds above its share)
 * @param share its share: the service's streams x its capacity / the sum of the capacities of the live consumers
 * counted (those live for the settle time); NaN before the first renewal
 * @param total the service's streams (owned or released) at the last renewal
 * @param consumers the live consumers counted, this one included
 * @param movedOff streams this consumer handed off to consumers below their share since it started
 */
public record FairShare(boolean enabled, double share, long total, int consumers, long movedOff) {
}
