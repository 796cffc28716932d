/**
 * The chaos harness: several sample-app processes against a Redis of their own (a standalone server or a Sentinel
 * group), faults injected into them and into Redis, and a verification from Redis alone that no entry was lost or
 * counted twice and that fencing held, plus every instance's health through the faults. {@link
 * io.streamlease.chaos.Soak} runs the long configuration; the short one runs as a test.
 */
package io.streamlease.chaos;
