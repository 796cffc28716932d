/**
 * Real Redis servers, clusters (with or without replicas) and Sentinel groups for tests, started on free
 * loopback ports from Docker, a {@code redis-server} on the PATH or the binary inside embedded-redis, with
 * stop, kill, pause, restart and failover for fault tests. Start with
 * {@link io.streamlease.test.redis.RedisServers}, or give a test class one server with
 * {@link io.streamlease.test.redis.SharedRedisServer}.
 */
package io.streamlease.test.redis;
