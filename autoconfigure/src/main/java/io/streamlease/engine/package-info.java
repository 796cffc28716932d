/**
 * The lease-distribution engine: LBS reader, lease scripts, batch renewer, sweeper, keyspace listener, claims,
 * handoff and consumer registry. Plain Java over a {@code RedissonClient}; no Spring.
 */
package io.streamlease.engine;
