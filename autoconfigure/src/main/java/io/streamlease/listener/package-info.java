/**
 * Runs @StreamHandler methods: the endpoint registry (the one SmartLifecycle), one container per service with its
 * engine, method invocation through spring-messaging, the error policy ({@link io.streamlease.listener.StreamHandlerErrorHandler},
 * by default {@link io.streamlease.listener.DefaultStreamErrorHandler}), the handler timeout, entry-level reading and
 * cancellation.
 */
package io.streamlease.listener;
