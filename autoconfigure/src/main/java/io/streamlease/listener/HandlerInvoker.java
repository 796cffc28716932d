package io.streamlease.listener;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.streamlease.HandlerFailedException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessagingException;
import org.springframework.messaging.support.MessageBuilder;

/**
 * Calls a handler method through spring-messaging, and wraps what it throws in a {@link HandlerFailedException}
 * that names the method and the stream. Each invocation is observed when an {@link ObservationRegistry} is given
 * (the observation stops when a returned {@link CompletionStage} completes).
 */
final class HandlerInvoker {

	private final StreamHandlerEndpoint endpoint;

	private final ObservationRegistry observationRegistry;

	private final StreamHandlerObservationConvention observationConvention;

	HandlerInvoker(StreamHandlerEndpoint endpoint) {
		this(endpoint, ObservationRegistry.NOOP, null);
	}

	/**
	 * @param observationConvention null for the {@link DefaultStreamHandlerObservationConvention}
	 */
	HandlerInvoker(StreamHandlerEndpoint endpoint, ObservationRegistry observationRegistry,
			StreamHandlerObservationConvention observationConvention) {
		this.endpoint = endpoint;
		this.observationRegistry = observationRegistry;
		this.observationConvention = observationConvention;
	}

	Object invokeStream(LeasedStream lease) {
		return observed(lease, null, () -> invoke(
				MessageBuilder.withPayload(lease).setHeader(StreamHandlerArgumentResolvers.LEASED_STREAM, lease).build(),
				lease.name(), ""));
	}

	Object invokeEntry(LeasedStream lease, StreamEntry entry, MapStreamState state) {
		Message<StreamEntry> message = MessageBuilder.withPayload(entry)
			.copyHeaders(Map.of(StreamHandlerArgumentResolvers.LEASED_STREAM, lease, StreamHandlerArgumentResolvers.ENTRY,
					entry, StreamHandlerArgumentResolvers.STATE, state))
			.build();
		return observed(lease, entry, () -> invoke(message, lease.name(), " at entry " + entry.id()));
	}

	private Object observed(LeasedStream lease, StreamEntry entry, Supplier<Object> invocation) {
		if (this.observationRegistry.isNoop()) {
			return invocation.get();
		}
		StreamHandlerObservationContext context = new StreamHandlerObservationContext(this.endpoint, lease, entry);
		Observation observation = Observation
			.createNotStarted(this.observationConvention, DefaultStreamHandlerObservationConvention.INSTANCE,
					() -> context, this.observationRegistry)
			.start();
		Object result;
		try (Observation.Scope scope = observation.openScope()) {
			result = invocation.get();
		}
		catch (RuntimeException ex) {
			stop(observation, context, lease, ex);
			throw ex;
		}
		if (result instanceof CompletionStage<?> stage) {
			stage.whenComplete((value, failure) -> stop(observation, context, lease, failure));
		}
		else {
			stop(observation, context, lease, null);
		}
		return result;
	}

	private static void stop(Observation observation, StreamHandlerObservationContext context, LeasedStream lease,
			Throwable failure) {
		if (failure != null) {
			context.setOutcome(lease.isOwned() ? StreamHandlerObservationContext.ERROR
					: StreamHandlerObservationContext.CANCELLED);
			observation.error(failure);
		}
		observation.stop();
	}

	private Object invoke(Message<?> message, String stream, String where) {
		try {
			return this.endpoint.getInvocable().invoke(message);
		}
		catch (MessagingException ex) {
			if (ex.getFailedMessage() == message) {
				// raised while resolving or converting the arguments of this very invocation, not by the method
				throw new ArgumentsFailedException("@StreamHandler method " + this.endpoint.describe()
						+ " could not be called for stream '" + stream + "'" + where + ": " + ex.getMessage(), stream, ex);
			}
			throw wrap(ex, stream, where);
		}
		catch (Exception ex) {
			throw wrap(ex, stream, where);
		}
	}

	private HandlerFailedException wrap(Exception ex, String stream, String where) {
		return new HandlerFailedException("@StreamHandler method " + this.endpoint.describe() + " failed on stream '"
				+ stream + "'" + where + ": " + ex, stream, ex);
	}

	/**
	 * The arguments of the method could not be resolved or converted: retrying cannot help.
	 */
	static final class ArgumentsFailedException extends HandlerFailedException {

		ArgumentsFailedException(String message, String stream, Throwable cause) {
			super(message, stream, cause);
		}

	}

}
