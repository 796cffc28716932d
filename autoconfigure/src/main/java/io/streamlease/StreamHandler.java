package io.streamlease;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that processes the data streams of a service, each by exactly one consumer at a time.
 * <p>
 * The parameters choose the mode:
 * <ul>
 * <li><b>stream-level</b>: a {@link LeasedStream} parameter and no {@link StreamEntry}. The method processes the
 * whole stream as it likes; returning normally (or completing a returned {@code CompletableFuture}) finishes the
 * stream. It is cancelled (interrupted, and {@link LeasedStream#released()} completes) if the lease is lost. When
 * fair share moves the stream to another instance, {@code released()} completes with
 * {@link ReleaseReason#REBALANCE} while the lease is still held: checkpoint and return; the stream is then handed
 * off, not finished, and the new owner resumes it from the checkpoint (a method still running after
 * {@code stream-lease.rebalance.grace-period} is interrupted).</li>
 * <li><b>entry-level</b>: a {@link StreamEntry} parameter, optionally with {@link StreamState} and
 * {@link LeasedStream}. The container reads every held data stream itself and calls the method once per entry, in
 * entry order per stream, checkpointing the position and the state under the fencing token as it goes; the
 * method finishes the stream with {@link StreamState#complete()}. When fair share moves the stream, the container
 * stops between entries, checkpoints and hands it off.</li>
 * </ul>
 * A method that throws (or exceeds {@code stream-lease.handler.timeout}) is retried with back-off up to
 * {@code stream-lease.handler.max-attempts} times (the count survives a failover), then its stream is dead-lettered
 * and finished; a {@code StreamHandlerErrorHandler} bean replaces that policy.
 * <p>
 * What differs between services can be set per handler ({@link #maxAttempts()}, {@link #initialBackoff()},
 * {@link #maxBackoff()}, {@link #maxConcurrentStreams()}); an attribute left empty takes the property's value.
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface StreamHandler {

	/**
	 * The service whose data streams this method processes (names the LBS {@code <service>-input}). Supports
	 * {@code ${...}} placeholders. Empty for {@code stream-lease.service-name} (by default
	 * {@code spring.application.name}). At most one handler per service.
	 */
	String service() default "";

	/**
	 * An id for the handler, for logs and the actuator endpoint; empty for {@code <bean name>.<method name>}.
	 */
	String id() default "";

	/**
	 * Attempts per stream before it is dead-lettered, for this handler; empty for
	 * {@code stream-lease.handler.max-attempts}. Supports {@code ${...}} placeholders.
	 */
	String maxAttempts() default "";

	/**
	 * Delay before the first retry, for this handler (a duration such as {@code 2s} or {@code PT2S}); empty for
	 * {@code stream-lease.handler.initial-backoff}. Supports {@code ${...}} placeholders.
	 */
	String initialBackoff() default "";

	/**
	 * Longest delay between retries, for this handler; empty for {@code stream-lease.handler.max-backoff}. Supports
	 * {@code ${...}} placeholders.
	 */
	String maxBackoff() default "";

	/**
	 * The most streams of the service this consumer holds at once, for this handler (a cap below
	 * {@code stream-lease.max-concurrent-streams}, for example for a handler whose downstream allows only so many
	 * calls at once); empty for the property. Supports {@code ${...}} placeholders.
	 */
	String maxConcurrentStreams() default "";


	/**
	 * Whether the handler's container starts with the application: {@code "true"} (the default) or {@code "false"};
	 * supports {@code ${...}} placeholders. When false, nothing of the service runs (no engine, no reading, no
	 * claims) until it is started through {@code StreamHandlerEndpointRegistry.start(id)}.
	 */
	String autoStartup() default "true";

}
