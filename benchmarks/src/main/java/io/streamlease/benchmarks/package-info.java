/**
 * The benchmark harness: renewal cost, failover, handoff and dispatch of the engine against the Go library's
 * mechanism and Redisson's lock watchdog, and the report it writes ({@code docs/PERFORMANCE.md}).
 */
package io.streamlease.benchmarks;
