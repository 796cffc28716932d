/**
 * Spring Boot auto-configuration of Stream Lease: properties, the engine's Redis client, the handler registry,
 * health, metrics and the actuator endpoint.
 */
package io.streamlease.autoconfigure;
